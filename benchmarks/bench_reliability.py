"""Reliability: faults injected and survived, hostile input tried, and the load test's figures,
in one summary (benchmarks/results/reliability.json, rendered by write_report.py).

    .venv/bin/python -m benchmarks.bench_reliability [--fuzz 1000] [--kills 8] [--quick]

What it runs (the same code as the slow tests in tests/test_reliability.py and tests/test_fuzz.py,
from tests/reliability_cases.py):
- the loader fuzz: generated files (random bytes, token soups in a dozen encodings, mutated and
  truncated PDFs, nested and unclosed HTML, long lines, NULs, odd names) through load_article;
- builds over corpora of nasty files (~65 each, the multi-megabyte ones included), with links out
  of the corpus, a link loop, a FIFO and a folder named like an article;
- every damaged-index case: snapshot.Snapshot, `assistant ask` (exit code 2, one line), the app (one
  error element, no exception, over three runs) and the repairing build;
- builds killed with SIGKILL at random moments (a real `python -m assistant.cli build`);
- rebuilds while four threads ask questions through one Assistant;
- hostile questions, with an audit hook recording every file opened while extractive.
The load figures come from benchmarks/results/load.json (benchmarks/bench_load.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import devtools.reliability_cases as rc  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def echo(msg: str) -> None:
    print(msg, flush=True)


def run_fuzz(n: int, work: Path) -> dict:
    from hypothesis import HealthCheck, given, settings

    counts: Counter = Counter()
    by_suffix: Counter = Counter()
    t = time.perf_counter()

    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=rc.fuzz_strategy())
    def one(case):
        data, suffix, stem = case
        d = Path(tempfile.mkdtemp(dir=work))
        try:
            path = rc.fuzz_file(d, data, suffix, stem)
            outcome = rc.check_loaded(path, path.name)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        counts[outcome] += 1
        by_suffix[(suffix, outcome)] += 1

    failure = None
    try:
        one()
    except Exception as exc:  # noqa: BLE001 - recorded: a generated input broke the loader
        failure = f"{type(exc).__name__}: {str(exc)[:500]}"
    return {"cases": sum(counts.values()), "indexed": counts["indexed"],
            "skipped_with_reason": counts["skipped"], "failure": failure,
            "by_suffix": {f"{s} {o}": c for (s, o), c in sorted(by_suffix.items())},
            "seconds": round(time.perf_counter() - t, 1)}


def run_nasty_builds(seeds: list[int], big: bool, work: Path) -> dict:
    from assistant.config import Settings
    from assistant.index.builder import build
    from assistant.service import Assistant
    from devtools.fakes import FakeEmbedder

    out = []
    for seed in seeds:
        root = work / f"nasty-{seed}"
        corpus = root / "corpus"
        corpus.mkdir(parents=True)
        expected = rc.write_nasty_corpus(corpus, rc.nasty_files(random.Random(seed), big=big))
        s = Settings().replace(corpus_dir=corpus, index_dir=root / "index")
        emb = FakeEmbedder()
        t = time.perf_counter()
        problems = []
        try:
            report = build(s, embedder=emb, log=lambda m: None)
            problems += rc.account_for_build(corpus, report, expected)
            Assistant.open(settings=s, embedder=emb).ask("How old is the pier?")
            indexed, skipped = report.articles, len(report.skipped)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"build crashed: {type(exc).__name__}: {exc}")
            indexed = skipped = 0
        out.append({"seed": seed, "entries": expected, "indexed": indexed, "skipped": skipped,
                    "seconds": round(time.perf_counter() - t, 1), "problems": problems})
        echo(f"nasty corpus {seed}: {expected} entries, {indexed} indexed, {skipped} skipped, "
             f"problems: {problems}")
        shutil.rmtree(root, ignore_errors=True)
    return {"corpora": out, "entries": sum(c["entries"] for c in out),
            "indexed": sum(c["indexed"] for c in out), "skipped": sum(c["skipped"] for c in out),
            "problems": [p for c in out for p in c["problems"]]}


def run_damages(work: Path) -> dict:
    from streamlit.testing.v1 import AppTest

    from assistant.config import Settings
    from assistant.index.builder import build

    src = work / "damage-src"
    rc.write_town_corpus(src / "corpus", 3)
    build(Settings().replace(corpus_dir=src / "corpus", index_dir=src / "index"),
          embedder=rc.real_named_fake_embedder(), log=lambda m: None)
    cases = []
    for k, damage in enumerate(sorted(rc.DAMAGES)):
        case_dir = work / f"damage-{k}"
        r = rc.check_damage_case(src / "index", case_dir, damage, src / "corpus")
        # the app, over three runs: one error element, no exception
        app_index = case_dir / "app-index"
        rc.damage_index(src / "index", app_index, damage)
        os.environ.update(ASSISTANT_CORPUS_DIR=str(src / "corpus"),
                          ASSISTANT_INDEX_DIR=str(app_index), ASSISTANT_DATA_DIR=str(case_dir))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
        for _ in range(3):
            at.run()
            if at.exception or len(at.error) != 1 or "build" not in at.error[0].value:
                r["problems"].append(f"app: {len(at.error)} errors, exception={bool(at.exception)}")
                break
        cases.append({"damage": damage, "problems": r["problems"]})
        echo(f"damage {damage!r}: problems {r['problems']}")
        shutil.rmtree(case_dir, ignore_errors=True)
    return {"cases": len(cases), "refused_cleanly": sum(not c["problems"] for c in cases),
            "detail": cases, "problems": [p for c in cases for p in c["problems"]]}


def run_questions(work: Path, embedder) -> dict:
    from assistant.answer.conversation import clean_question
    from assistant.config import Settings
    from assistant.index.builder import build
    from assistant.service import Assistant

    corpus = work / "q-corpus"
    corpus.mkdir()
    shutil.copy(rc.SEED, corpus / rc.SEED.name)
    s = Settings().replace(corpus_dir=corpus, index_dir=work / "q-index")
    build(s, embedder=embedder, log=lambda m: None)
    a = Assistant.open(settings=s, embedder=embedder)
    a.ask("warm up")
    roots = rc.allowed_roots(s.index_dir, corpus)
    problems, opened = [], 0
    for q in rc.HOSTILE_QUESTIONS:
        try:
            with rc.OpenAudit() as audit:
                ans = a.ask(q, history=[q])
            opened += len(audit.paths)
            if not clean_question(q)[0] and ans.notice != "Please type a question.":
                problems.append(f"{q[:40]!r}: no clear reply")
            if audit.outside(roots):
                problems.append(f"{q[:40]!r}: opened {audit.outside(roots)}")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{q[:40]!r}: {type(exc).__name__}: {exc}")
    return {"questions": len(rc.HOSTILE_QUESTIONS), "file_events_audited": opened,
            "problems": problems}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fuzz", type=int, default=1000, help="generated loader cases")
    ap.add_argument("--kills", type=int, default=8, help="SIGKILL trials")
    ap.add_argument("--quick", action="store_true", help="fewer cases, no multi-MB files")
    ap.add_argument("--out", default=str(RESULTS / "reliability.json"))
    args = ap.parse_args()
    if args.quick:
        args.fuzz, args.kills = min(args.fuzz, 200), min(args.kills, 2)

    from assistant.embedding import Embedder

    work = Path(tempfile.mkdtemp(prefix="bench-reliability-"))
    t0 = time.perf_counter()
    try:
        echo(f"loader fuzz: {args.fuzz} generated cases ...")
        fuzz = run_fuzz(args.fuzz, work)
        echo(f"  {fuzz}")
        nasty = run_nasty_builds([1, 2, 3], big=not args.quick, work=work)
        damages = run_damages(work)
        embedder = Embedder()
        questions = run_questions(work, embedder)
        echo(f"hostile questions: {questions}")
        echo(f"SIGKILL trials: {args.kills} ...")
        (work / "kills").mkdir()
        kills = rc.kill_trials(work / "kills", embedder, trials=args.kills, echo=echo)
        echo("rebuilds while serving ...")
        (work / "serving").mkdir()
        serving = rc.rebuild_while_serving(work / "serving", embedder, threads=4, echo=echo)
        echo(f"  {serving['questions']} questions, {serving['failed']} failed, "
             f"{serving['inconsistent']} inconsistent")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load_path = RESULTS / "load.json"
    load = json.loads(load_path.read_text()).get("load") if load_path.is_file() else None
    cmd = "python -m benchmarks.bench_reliability" + (" --quick" if args.quick else "")
    rows = [["area", "what was tried", "cases", "outcome", "reproduce"]]
    if load:
        m = load["memory"]
        rows.append([
            "load", f"{load['sessions']} concurrent chat sessions ({load['browser_sessions']} "
            f"Chromium pages, {load['protocol_sessions']} websocket-protocol clients) for "
            f"{load['load_phase_s']:.0f} s", f"{load['questions']} questions",
            f"{load['failed']} failed; latency p50 {load['latency_s']['p50']} s, p95 "
            f"{load['latency_s']['p95']} s; server RSS {m['baseline_mb']} → {m['end_mb']} MB "
            f"after warm-up ({m['growth']:+.1%})",
            "python -m benchmarks.bench_load --scenario custom --corpus seed --browser-sessions 4 "
            "--duration 150 --out benchmarks/results/load.json"])
    per_build = ", ".join(f"edition {k}: {v}" for k, v in serving["answers_per_build"].items())
    rows += [
        ["rebuild while serving", "4 threads asking through one Assistant while 3 rebuilds "
         "complete (1 full; 2 incremental with files added, changed, removed)",
         f"{serving['questions']} questions",
         f"{serving['failed']} failed, {serving['inconsistent']} inconsistent with the build "
         f"named in the answer ({per_build}); last edition's code word answered",
         "pytest -m slow tests/test_reliability.py -k rebuilds_while_serving"],
        ["SIGKILL during a build", "`python -m assistant.cli build` killed at a random moment "
         f"(phases: {', '.join(f'{k} {v}' for k, v in kills['phases'].items() if v)})",
         f"{len(kills['trials'])} kills",
         f"{len(kills['problems'])} problems: the index opened and answered every time; the next "
         f"build completed and removed {kills['leftovers_cleaned']} leftover *.partial folder(s)",
         "pytest -m slow tests/test_reliability.py -k killed_at_random"],
        ["damaged index", "truncated/missing/corrupt FAISS, SQLite, sentence vectors, lexical "
         "files; manifest for another model or format, corrupt or missing",
         f"{damages['cases']} cases",
         f"{damages['refused_cleanly']} of {damages['cases']} refused with one line saying to "
         "rebuild (snapshot.Snapshot → IndexMismatch; `assistant ask` exit 2; app: one error, no "
         "exception over 3 runs); the next build repaired each",
         "pytest tests/test_reliability.py -k damaged"],
        ["loader fuzz", "generated files: random bytes, token soups in 12 encodings, mutated and "
         "truncated PDFs, nested/unclosed HTML up to 3,000 deep, long lines, NULs, odd names",
         f"{fuzz['cases']:,} files",
         f"{fuzz['indexed']} indexed, {fuzz['skipped_with_reason']} skipped with a one-line "
         f"reason, {0 if fuzz['failure'] is None else 1} failures",
         "pytest -m slow tests/test_fuzz.py -k thousand"],
        ["builds over nasty corpora", "100,000 nested <div>s, 3.9 MB on one line, 3 MB word, "
         "UTF-16 with/without BOM, Shift-JIS, cp1252, NULs, names like `-rf.txt`, non-UTF-8 "
         "names, 244-char names, link loop, links out, FIFO",
         f"{nasty['entries']} files in {len(nasty['corpora'])} corpora",
         f"{nasty['indexed']} indexed, {nasty['skipped']} skipped with a reason, "
         f"{len(nasty['problems'])} problems; no build crashed",
         "pytest -m slow tests/test_fuzz.py -k nasty"],
        ["hostile questions", "empty, white space, control characters, 100,000 characters, "
         "paths (../../etc/passwd, file://, ~), shell and SQL injection, bidi",
         f"{questions['questions']} questions",
         f"{len(questions['problems'])} problems; {questions['file_events_audited']} file events "
         "audited, none outside the index and corpus (or the Python installation)",
         "pytest tests/test_reliability.py -k hostile"],
    ]
    result = {
        "command": cmd,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "table": rows,
        "notes": [
            "Zero failures is the bar in every row; each row's `reproduce` command runs the same "
            "code as a test (tests/reliability_cases.py).",
            f"Fuzz: {fuzz['cases']:,} generated files through load_article "
            f"({fuzz['seconds']} s); every loaded article chunks and joins back to its sections.",
            f"SIGKILL: reference build {kills['reference_build_s']} s with a writing phase of "
            f"{kills['writing_phase_s'] * 1000:.0f} ms; half the kills at a random moment of the "
            "whole run, half at a random moment of the first half of the writing phase (after "
            "the *.partial folder appears); the phase each kill landed in is in `kills`.",
            "Whole suite, slow tests included: `make test` (plain `pytest`).",
            f"This run took {time.perf_counter() - t0:.0f} s on {os.cpu_count()} cores "
            f"({platform.platform()}).",
        ],
        "fuzz": fuzz, "nasty_builds": nasty, "damaged_index": damages, "kills": kills,
        "rebuild_while_serving": serving, "hostile_questions": questions,
        "load": None if not load else {k: v for k, v in load.items() if k != "memory"}
        | {"memory": {k: v for k, v in load["memory"].items() if k != "samples"}},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    failed = (fuzz["failure"] or nasty["problems"] or damages["problems"] or kills["problems"]
              or serving["failed"] or serving["inconsistent"] or questions["problems"])
    print(f"wrote {out}; {'PROBLEMS FOUND' if failed else 'no problems'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
