"""Do the promise tests catch one-line bugs? Each mutant below is applied alone to a temporary
copy of the repository, and the tests that guard that promise are run there (the non-slow lane's
files for it: -m "not slow and not data", browser tests included where they apply). A mutant is
killed when those tests fail; the unmutated copy must pass the same tests first.

    python devtools/mutant_check.py [--only NAME ...] [--out benchmarks/results/mutants.json]

Issue 26's four mutants come first, then the control (every answer abstains), then other one-line
bugs against the same promises on other paths."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LANE = "not slow and not data"


@dataclass(frozen=True)
class Mutant:
    name: str
    promise: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


STREAM = ("tests/test_promise_stream.py", "tests/test_llm.py")
WORDING = ("tests/test_promise_wording.py", "tests/test_answering_unit.py",
           "tests/test_app.py::test_each_tier_shows_its_label_and_claims_nothing_about_the_articles")
NAMES = ("tests/test_promise_hostile.py",
         "tests/test_app.py::test_hostile_article_text_is_shown_as_text")
PUBLISH = ("tests/test_crash_points.py", "tests/test_build.py")

MUTANTS = [
    Mutant("stream-raw-text", "streaming shows only verified text", "assistant/answer/llm.py",
           "                emit(claims.final)", '                on_text("".join(parts))',
           STREAM),
    Mutant("abstain-claims-absence", "wording", "assistant/answer/extractive.py",
           '"below: the answer may still be in them or elsewhere in the articles."',
           '"below, but the articles do not cover this topic."', WORDING),
    Mutant("source-card-raw-name", "hostile names", "assistant/ui/support.py",
           "f'<div class=\"aa-src-file\">{html_text(c.source)}</div>'",
           "f'<div class=\"aa-src-file\">{c.source}</div>'", NAMES),
    Mutant("current-written-in-place", "publish switches CURRENT by rename",
           "assistant/index/layout.py",
           '    os.replace(pointer, Path(index_dir) / "CURRENT")',
           '    (Path(index_dir) / "CURRENT").write_text(final.name + "\\n")', PUBLISH),
    Mutant("control-always-abstain", "control", "assistant/answer/extractive.py",
           '    tier = tier_of(conf, s) if chosen else "abstain"', '    tier = "abstain"',
           ("tests/test_answering_unit.py", "tests/test_answers.py")),
    # Other paths of the same promises.
    Mutant("stream-last-sentence-raw", "streaming shows only verified text",
           "assistant/answer/llm.py",
           "            emit(len(claims.claims))  # the last sentence is complete now",
           "            on_text(reading.raw)", STREAM),
    Mutant("possible-label-claims-absence", "wording", "assistant/answer/extractive.py",
           '"This may answer your question (low confidence): check the cited passage."',
           '"The articles lack a clear answer; this may answer your question."', WORDING),
    Mutant("llm-decline-claims-absence", "wording", "assistant/answer/llm_outcomes.py",
           'f"The language model found no answer in the {what} it read. The closest passages "',
           'f"The articles contain no answer; the {what} it read "', WORDING),
    Mutant("passage-card-raw-name", "hostile names", "assistant/ui/support.py",
           "f'<div class=\"aa-src-file\">{html_text(p.source)}</div>'",
           "f'<div class=\"aa-src-file\">{p.source}</div>'", NAMES),
    Mutant("article-view-raw-name", "hostile names", "assistant/ui/support.py",
           "f'<div class=\"aa-src-file\">{html_text(article.source)}</div>'",
           "f'<div class=\"aa-src-file\">{article.source}</div>'", NAMES),
    Mutant("tooltip-unescaped-title", "hostile names", "assistant/ui/support.py",
           'f\'title="{escape_html(citation_label(c))}">[{n}]</a>\'',
           'f\'title="{citation_label(c)}">[{n}]</a>\'', NAMES),
    Mutant("export-raw-name", "hostile names", "assistant/ui/support.py",
           'f"File: {escape_markdown(c.source)}  ",', 'f"File: {c.source}  ",', NAMES),
    Mutant("pointer-not-renamed", "publish switches CURRENT by rename",
           "assistant/index/layout.py",
           '    os.replace(pointer, Path(index_dir) / "CURRENT")',
           '    shutil.copyfile(pointer, Path(index_dir) / "CURRENT")', PUBLISH),
]


def _copy(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _pytest(copy: Path, tests: tuple[str, ...]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(copy), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("CI", None)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", "-p",
                           "no:cacheprovider", "-q", "-m", LANE, "--no-header", "-rf", *tests],
                          cwd=copy, env=env, capture_output=True, text=True)
    failed = sorted({line.split()[1] for line in done.stdout.splitlines()
                     if line.startswith(("FAILED ", "ERROR "))})
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    return {"returncode": done.returncode, "failed": failed, "summary": summary,
            "seconds": round(time.monotonic() - t0, 1)}


def run(mutants: list[Mutant], echo=print) -> dict:
    results = []
    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        copy = Path(tmp) / "repo"
        _copy(copy)
        tests = tuple(dict.fromkeys(t for m in mutants for t in m.tests))
        baseline = _pytest(copy, tests)
        echo(f"baseline (no mutant): {baseline['summary']}")
        if baseline["returncode"] != 0:
            raise SystemExit(f"the unmutated copy fails its tests: {baseline['failed']}")
        for m in mutants:
            target = copy / m.path
            original = target.read_text(encoding="utf-8")
            if original.count(m.old) != 1:
                raise SystemExit(f"{m.name}: the line to mutate occurs {original.count(m.old)} "
                                 f"times in {m.path}; update the mutant")
            target.write_text(original.replace(m.old, m.new), encoding="utf-8")
            try:
                r = _pytest(copy, m.tests)
            finally:
                target.write_text(original, encoding="utf-8")
            killed = r["returncode"] != 0 and bool(r["failed"])
            echo(f"{'KILLED ' if killed else 'SURVIVED'} {m.name:32} {r['summary']}")
            results.append({"name": m.name, "promise": m.promise, "file": m.path,
                            "from": m.old.strip(), "to": m.new.strip(), "tests": list(m.tests),
                            "killed": killed, **r})
    return {"lane": LANE, "baseline": baseline, "mutants": results,
            "killed": sum(r["killed"] for r in results), "total": len(results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="mutant names (default: all)")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/mutants.json")
    args = ap.parse_args()
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    result = run(chosen)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{result['killed']}/{result['total']} mutants killed; {args.out}")
    if result["killed"] != result["total"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
