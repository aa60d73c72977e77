"""Fault injection and hostile input shared by tests/test_reliability.py, tests/test_fuzz.py and
benchmarks/bench_reliability.py: damaged-index cases, nasty corpus files, builds killed with
SIGKILL, rebuilds while questions are being answered, and hostile questions.

Every function here returns plain data (counts, lists of problems); the tests assert on it and the
benchmark records it.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"
SEED_QUESTION = "Who will lead the coordinated efforts?"


def quiet(_msg: str) -> None:
    pass


# ------------------------------------------------------------------------------ small corpora

def article(i: int, extra: str = "") -> str:
    """A small plain-text article about a made-up town (distinct words per i)."""
    town = f"Quillhaven{i}"
    return (f"The Town of {town}\n"
            f"{town} is a harbour town on the northern coast with {1000 + 37 * i} residents. "
            f"Its fishing fleet lands cod and herring every morning.{extra}\n"
            f"History\n"
            f"{town} was founded in {1700 + i} by traders from the south. The old customs house "
            f"still stands near the pier and now holds a small museum.\n"
            f"Economy\n"
            f"Tourism and fishing employ most people in {town}. A ferry connects it to the "
            f"islands twice a day in summer.\n")


def write_town_corpus(corpus: Path, n: int) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, corpus / SEED.name)
    for i in range(n):
        (corpus / f"town-{i:03d}.txt").write_text(article(i), encoding="utf-8")


# ------------------------------------------------------------------------------ damaged index

def _truncate(rel: str, keep: float = 0.5):
    def damage(build_dir: Path) -> None:
        p = build_dir / rel
        data = p.read_bytes()
        p.write_bytes(data[: int(len(data) * keep)])
    return damage


def _remove(rel: str):
    def damage(build_dir: Path) -> None:
        p = build_dir / rel
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return damage


def _garbage(rel: str):
    def damage(build_dir: Path) -> None:
        p = build_dir / rel
        p.write_bytes(random.Random(5).randbytes(p.stat().st_size))
    return damage


def _manifest(edit: Callable[[dict], object]):
    def damage(build_dir: Path) -> None:
        p = build_dir / "manifest.json"
        m = json.loads(p.read_text())
        p.write_text(json.dumps(edit(m)))
    return damage


def _raw_manifest(text: bytes):
    def damage(build_dir: Path) -> None:
        (build_dir / "manifest.json").write_bytes(text)
    return damage


def _sql(statement: str):
    """An edit inside meta.sqlite that leaves its size as written (only consistency checks can
    catch it)."""
    def damage(build_dir: Path) -> None:
        import sqlite3

        db = sqlite3.connect(build_dir / "meta.sqlite")
        with db:
            db.execute(statement)
        db.close()
    return damage


def _rows_edit(build_dir: Path) -> None:
    """rows.npy rewritten with the same size, its first chunk naming a section that is not there."""
    import numpy as np

    rows = np.load(build_dir / "rows.npy")
    rows[0, 1] = 10 ** 6
    np.save(build_dir / "rows.npy", rows)


DAMAGES: dict[str, Callable[[Path], None]] = {
    "vectors.faiss random bytes": _garbage("vectors.faiss"),
    "rows.npy truncated": _truncate("rows.npy"),
    "rows.npy missing": _remove("rows.npy"),
    "rows.npy random bytes": _garbage("rows.npy"),
    "rows.npy names a missing section": _rows_edit,
    "meta.sqlite lost its last chunk row": _sql(
        "DELETE FROM chunk_rows WHERE row = (SELECT max(row) FROM chunk_rows)"),
    "meta.sqlite lost its sentences": _sql("DELETE FROM sentences"),
    "manifest without file sizes": _manifest(lambda m: {k: v for k, v in m.items() if k != "files"}),
    "vectors.faiss truncated": _truncate("vectors.faiss"),
    "vectors.faiss cut by 1 byte": _truncate("vectors.faiss", keep=0.9999),
    "vectors.faiss missing": _remove("vectors.faiss"),
    "meta.sqlite missing": _remove("meta.sqlite"),
    "meta.sqlite corrupt (random bytes)": _garbage("meta.sqlite"),
    "meta.sqlite truncated": _truncate("meta.sqlite", keep=0.5),
    "meta.sqlite cut short at the end": _truncate("meta.sqlite", keep=0.99),
    "meta.sqlite empty": _truncate("meta.sqlite", keep=0.0),
    "sentences.npy truncated": _truncate("sentences.npy"),
    "sentences.npy missing": _remove("sentences.npy"),
    "lexical vocabulary truncated": _truncate("lexical/vocab.index.json"),
    "lexical matrix truncated": _truncate("lexical/data.csc.index.npy"),
    "lexical folder missing": _remove("lexical"),
    "lexical section lengths truncated": _truncate("lexical/doclen.npy"),
    "lexical chunk frequencies missing": _remove("lexical/chunk_df.npy"),
    "lexical section lengths corrupt": _garbage("lexical/doclen.npy"),
    "manifest for another model": _manifest(
        lambda m: {**m, "model": {"name": "sentence-transformers/all-mpnet-base-v2", "dim": 768}}),
    "manifest for another format version": _manifest(lambda m: {**m, "format_version": 999}),
    "manifest without a format version": _manifest(
        lambda m: {k: v for k, v in m.items() if k != "format_version"}),
    "manifest not JSON": _raw_manifest(b"{\"format_version\": 1, \"mod"),
    "manifest not an object": _raw_manifest(b"[1, 2, 3]"),
    "manifest missing": _remove("manifest.json"),
}


def real_named_fake_embedder():
    """The fast fake embedder under the real model's name and size: builds it writes are accepted
    by the app and the CLI (which use the real model), so damage tests need no model."""
    from assistant.embedding import MODEL_DIM, MODEL_NAME
    from devtools.fakes import FakeEmbedder

    class RealNamedFake(FakeEmbedder):
        name = MODEL_NAME
        dim = MODEL_DIM

    return RealNamedFake()


def damage_index(src_index: Path, dst_index: Path, damage: str) -> Path:
    """A copy of src_index with its current build damaged; the damaged build folder."""
    from assistant.index import layout

    shutil.copytree(src_index, dst_index)
    build_dir = layout.current_build_dir(dst_index)
    DAMAGES[damage](build_dir)
    return build_dir


def check_damage_case(src_index: Path, work: Path, damage: str, corpus: Path) -> dict:
    """One damage: snapshot.Snapshot refuses it with IndexMismatch, `assistant ask` exits 2 with one
    line that says to rebuild, and `assistant build` (incremental) repairs it. Problems listed."""
    import contextlib

    from assistant import cli
    from assistant.config import Settings
    from assistant.errors import IndexMismatch
    from assistant.index import snapshot
    from assistant.index.builder import build

    problems: list[str] = []
    index = work / "index"
    damage_index(src_index, index, damage)
    emb = real_named_fake_embedder()
    try:
        snapshot.Snapshot(index, emb.name, emb.dim)
        problems.append("snapshot.Snapshot opened the damaged build")
    except IndexMismatch as exc:
        if "assistant build" not in str(exc):
            problems.append(f"IndexMismatch does not say to rebuild: {exc}")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"snapshot.Snapshot raised {type(exc).__name__}: {exc}")

    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = cli.main(["ask", SEED_QUESTION, "--index", str(index)])
        except SystemExit as exc:  # argparse
            code = exc.code
        except Exception as exc:  # noqa: BLE001
            code = f"crashed: {type(exc).__name__}: {exc}"
    lines = [x for x in err.getvalue().splitlines() if x.strip()]
    if code != 2:
        problems.append(f"`assistant ask` returned {code!r}, not 2 (stderr: {err.getvalue()!r})")
    elif len(lines) != 1 or "rebuild" not in lines[0] or "Traceback" in err.getvalue():
        problems.append(f"`assistant ask` did not print one line saying to rebuild: {lines!r}")

    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    try:
        report = build(settings, embedder=emb, log=quiet)
        b = snapshot.Snapshot(index, emb.name, emb.dim)
        if b.n_chunks != report.chunks or report.up_to_date:
            problems.append("the repairing build did not write a complete new build")
        b.close()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"the next build failed: {type(exc).__name__}: {exc}")
    return {"damage": damage, "problems": problems, "cli_stderr": err.getvalue().strip()}


# ------------------------------------------------------------------------------ nasty files

def _pdf_samples() -> list[bytes]:
    from devtools.samples_pdf import make_encrypted_pdf, make_pdf, make_textless_pdf

    good = make_pdf([["Harbour Report", "The harbour opened in spring. Boats came back."],
                     ["Fishing", "Boats landed cod and haddock. Prices fell."]],
                    outline=[(1, "Fishing", 0)], title="Harbour")
    return [good, make_encrypted_pdf(), make_textless_pdf()]


def nasty_files(rng: random.Random, big: bool = True) -> list[tuple[bytes, bytes]]:
    """(file name as bytes, content) pairs: broken, hostile and oddly named input for a build.
    `big` adds the multi-megabyte ones (100,000 nested <div>s, several MB on one line)."""
    good, encrypted, textless = _pdf_samples()
    files: list[tuple[bytes, bytes]] = []
    body = "The harbour opened in spring. Boats came back to the old pier.\n"
    text = f"Harbour News\n{body}Fishing Season\nCod and haddock were landed. Prices fell.\n"

    def add(name: str | bytes, data: bytes) -> None:
        files.append((name.encode("utf-8") if isinstance(name, str) else name, data))

    # random bytes under every extension
    for ext in (".txt", ".md", ".html", ".pdf", ".htm", ".markdown"):
        add(f"random{ext}", rng.randbytes(rng.randint(1, 5000)))
    # PDFs: truncated, mutated, encrypted, without text, header only
    for k in range(4):
        add(f"truncated-{k}.pdf", good[: rng.randint(9, len(good) - 1)])
    for k in range(4):
        data = bytearray(good)
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        add(f"mutated-{k}.pdf", bytes(data))
    add("encrypted.pdf", encrypted)
    add("no-text.pdf", textless)
    add("header-only.pdf", b"%PDF-1.7\n")
    add("good.pdf", good)
    # HTML: malformed, unclosed, deep
    add("malformed.html", b"<html><h1>Harbour</h2><p>Unclosed <b>bold <i>italic</p></div></span>"
                          b"<h2>Fish<p>Cod was landed. Prices fell.<table><tr><td>x")
    add("comment-only.html", b"<!-- nothing here --><script>var x = 1;</script>")
    add("cdata.html", b"<p><![CDATA[ Hidden? ]]> The pier is old. It was built in 1890.</p>")
    add("entities.html", b"<h1>&amp;&lt;&#0;&#x1F600;&#xD800;&bogus;</h1><p>Text &#30; here.</p>")
    add("deep-1000.html", b"<div>" * 1000 + b"The deep pier. It is old." + b"</div>" * 1000)
    if big:
        add("deep-100000.html",
            b"<html><body>" + b"<div>" * 100_000 + b"Deep text. The pier is old." +
            b"</div>" * 100_000 + b"</body></html>")
        add("deep-unclosed.html", b"<span><b>" * 50_000 + b"Unclosed deep text. Really.")
        add("one-huge-line.txt", b"Huge Line\n" + b"The pier is old and long. " * 150_000 + b"\n")
        add("huge-word.md", b"# Huge Word\n\n" + b"x" * 3_000_000 + b"\n")
        add("huge-heading.md", b"# " + b"heading " * 300_000 + b"\n\nBody text. More text.\n")
    # encodings and control characters
    add("utf16-bom.txt", text.encode("utf-16"))
    add("utf16le-nobom.txt", text.encode("utf-16-le"))
    add("utf16be-nobom.md", ("# Harbour\n\n" + body).encode("utf-16-be"))
    add("utf16-bad.txt", b"\xff\xfe" + b"\x00\xd8" + b"A\x00")
    add("shift-jis.txt", "港のニュース\n春に港が開いた。船が戻ってきた。\n".encode("shift_jis"))
    add("cp1252.txt", "Caf\u00e9 News\nThe caf\u00e9 \u201cHarbour\u201d opened \u2013 at last.\n"
        .encode("cp1252"))
    add("latin1.md",
        "# Stra\u00dfe\n\nDie Stra\u00dfe ist alt. Sie ist sch\u00f6n.\n".encode("latin-1"))
    add("nul-bytes.txt", b"Harbour\x00 News\n" + b"\x00" * 50 + body.encode())
    add("nul-late.txt", text.encode() * 200 + b"\x00\x00 tail. End.\n")
    add("control-chars.txt", b"Harbour \x1b[31mNews\x07\n\x0c" + body.encode() + b"\x1e\x1f\x7f")
    add("bidi.txt", "Harbour \u202enews\u202c\nThe \u200bpier is old. Zero\u200dwidth here.\n"
        .encode())
    add("empty.txt", b"")
    add("whitespace.md", b" \n\t\r\n   \n")
    add("bom-only.txt", b"\xef\xbb\xbf")
    add("crlf.txt", text.replace("\n", "\r\n").encode())
    add("mixed-newlines.md", b"# A\r\rBody one.\r\nBody two.\n\r")
    # odd names (content is fine)
    for name in ("with space.txt", "-rf.txt", "--help.md", "-.txt", "\u00fcn\u00efc\u00f8d\u00e9 "
                 "\u65e5\u672c\u8a9e.txt", "emoji-\U0001f600.md", "semi;colon&amp.txt",
                 "quote'\"name.txt", "back\\slash.txt", "tab\tname.txt", "new\nline.txt",
                 "UPPER.TXT", "dots...txt", "x" * 240 + ".txt", "$(touch pwned).txt"):
        add(name, text.encode())
    add(b"latin1-\xe9t\xe9.txt", text.encode())  # a name that is not UTF-8
    add(b"sub dir/nested -n.md", b"# Nested\n\nThe nested file. It is fine.\n")
    return files


def write_nasty_corpus(corpus: Path, files: list[tuple[bytes, bytes]]) -> int:
    """Write the files (names as bytes, so non-UTF-8 names work), plus a FIFO and links that
    must not hang or escape the build. The number of entries the build should account for."""
    root = os.fsencode(corpus)
    for name, data in files:
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    n = len(files)
    os.mkfifo(corpus / "a-fifo.txt")  # reading it would block forever: must be ignored
    (corpus / "folder.txt").mkdir()  # a folder with an article's name
    (corpus / "outside-link.txt").symlink_to("/etc/passwd")  # refused with a reason
    (corpus / "dangling-link.md").symlink_to(corpus / "nowhere.md")  # refused with a reason
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    (corpus / "notes.csv").write_text("ignored,unsupported\n")
    return n + 4  # the two links out, the dangling link and the loop pair (counted as two)


def account_for_build(corpus: Path, report, expected: int) -> list[str]:
    """Every supported file is indexed or skipped with a one-line reason: the problems."""
    from assistant.index import format as index_format

    problems = []
    manifest = index_format.read_manifest(report.build_dir)
    indexed = set(manifest["sources"])
    skipped = {s["source"]: s["reason"] for s in manifest["skipped"]}
    for source, reason in skipped.items():
        if not reason or "\n" in reason or len(reason) > 300:
            problems.append(f"skip reason for {source!r} is not one short line: {reason!r}")
    if indexed & set(skipped):
        problems.append(f"both indexed and skipped: {sorted(indexed & set(skipped))}")
    total = len(indexed) + len(skipped)
    # Loop links are refused one by one; a FIFO and a folder are not files and are ignored.
    if total != expected:
        problems.append(f"{expected} entries expected, {len(indexed)} indexed + "
                        f"{len(skipped)} skipped = {total}")
    return problems


# ------------------------------------------------------------------------------ SIGKILL trials

def _cli_build(corpus: Path, index: Path, log_path: Path) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "assistant.cli", "build", "--corpus",
                                 str(corpus), "--index", str(index)],
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def _change_corpus(corpus: Path, trial: int, rng: random.Random) -> dict:
    """Add two files, change two, remove one: what the next build has to do."""
    towns = sorted(corpus.glob("town-*.txt"))
    added = []
    for k in range(2):
        p = corpus / f"added-{trial}-{k}.txt"
        p.write_text(article(500 + trial * 10 + k), encoding="utf-8")
        added.append(p.name)
    changed = [p.name for p in rng.sample(towns, 2)]
    for name in changed:
        p = corpus / name
        p.write_text(p.read_text() + f"In trial {trial} the pier was painted green.\n")
    removed = rng.choice([p for p in towns if p.name not in changed])
    removed.unlink()
    return {"added": added, "changed": changed, "removed": removed.name}


def kill_trials(work: Path, embedder, trials: int = 6, seed: int = 11, n_articles: int = 40,
                echo: Callable[[str], None] = quiet) -> dict:
    """Builds killed with SIGKILL at random moments. Each trial changes the corpus, starts
    `python -m assistant.cli build`, kills it after a random delay (half of the trials: a random
    delay over the whole run; the other half: a random delay within the first half of the
    writing phase, after its *.partial folder appears), then checks that the index opens and answers and that the
    next build completes and removes the leftovers."""
    from assistant.config import Settings
    from assistant.index import format as index_format
    from assistant.index import layout, snapshot
    from assistant.index.builder import build
    from assistant.service import Assistant

    rng = random.Random(seed)
    corpus, index = work / "corpus", work / "index"
    write_town_corpus(corpus, n_articles)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    build(settings, embedder=embedder, log=quiet)

    # One unkilled run of the same kind of build: how long a run takes, and how long its
    # *.partial folder exists (the writing phase) before CURRENT switches.
    _change_corpus(corpus, 0, rng)
    before = layout.current_name(index)
    t = time.monotonic()
    ref = _cli_build(corpus, index, work / "cli.log")
    seen_partial = switched_at = None
    while ref.poll() is None:
        now = time.monotonic()
        if seen_partial is None and list((index / "builds").glob("*.partial")):
            seen_partial = now
        if switched_at is None and layout.current_name(index) != before:
            switched_at = now
        time.sleep(0.001)
    if ref.returncode != 0:
        raise RuntimeError(f"reference build failed: {(work / 'cli.log').read_text()[-2000:]}")
    run_s = time.monotonic() - t
    write_s = (switched_at - seen_partial) if seen_partial and switched_at else 0.05
    echo(f"reference CLI build: {run_s:.1f} s, writing phase {write_s * 1000:.0f} ms")

    results = []
    for trial in range(1, trials + 1):
        change = _change_corpus(corpus, trial, rng)
        before = layout.current_name(index)
        proc = _cli_build(corpus, index, work / "cli.log")
        t = time.monotonic()
        if trial % 2:
            mode = "random delay over the run"
            delay = rng.uniform(0.3, run_s * 1.05)
            while time.monotonic() - t < delay and proc.poll() is None:
                time.sleep(0.01)
        else:
            mode = "random moment of the writing phase"
            while proc.poll() is None and not list((index / "builds").glob("*.partial")):
                time.sleep(0.0005)
            delay = rng.uniform(0.0, write_s / 2)  # its length varies with the machine's load
            end = time.monotonic() + delay
            while time.monotonic() < end and proc.poll() is None:
                pass
        finished_first = proc.poll() is not None
        partial_at_kill = [p.name for p in (index / "builds").glob("*.partial")]
        if not finished_first:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
        killed_at = time.monotonic() - t
        after = layout.current_name(index)
        problems = []
        leftovers = [p.name for p in (index / "builds").glob("*.partial")]
        # The index opens and answers, from the old build or (killed after the switch) the new.
        try:
            a = Assistant.open(settings=settings, embedder=embedder)
            ans = a.ask(SEED_QUESTION)
            if ans.build_id != after:
                problems.append(f"answer from {ans.build_id}, CURRENT is {after}")
            if not (ans.citations or ans.passages):
                problems.append("the answer has neither citations nor passages")
            a.current().snapshot.close()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"the index did not open or answer: {type(exc).__name__}: {exc}")
        # The next build completes, cleans the leftovers and holds the changed corpus.
        try:
            report = build(settings, embedder=embedder, log=quiet)
            still = [p.name for p in (index / "builds").glob("*.partial")]
            if still:
                problems.append(f"*.partial folders left after the next build: {still}")
            manifest = index_format.read_manifest(layout.current_build_dir(index))
            on_disk = {p.name for p in corpus.iterdir()}
            if set(manifest["sources"]) != on_disk:
                problems.append("the next build does not hold the corpus as it is")
            b = snapshot.Snapshot(index, embedder.name, embedder.dim)
            b.close()
            next_ok = True
        except Exception as exc:  # noqa: BLE001
            next_ok = False
            report = None
            problems.append(f"the next build failed: {type(exc).__name__}: {exc}")
        phase = ("finished" if finished_first else "writing" if partial_at_kill
                 else "after the switch" if after != before else "before writing")
        results.append({
            "trial": trial, "mode": mode, "phase": phase, "killed_after_s": round(killed_at, 3),
            "finished_before_kill": finished_first, "switched": after != before,
            "partial_at_kill": bool(partial_at_kill), "leftover_partials": len(leftovers),
            "next_build_ok": next_ok,
            "next_build": None if report is None else
            {"up_to_date": report.up_to_date, "parsed": report.parsed_files,
             "reused": report.reused_files, "removed": report.removed_files},
            "change": change, "problems": problems})
        echo(f"trial {trial}: {mode}, killed after {killed_at:.3f}s ({phase}); "
             f"switched={after != before}; "
             f"leftover partials={len(leftovers)}; problems={problems}")
    return {"reference_build_s": round(run_s, 1), "writing_phase_s": round(write_s, 3),
            "trials": results,
            "phases": {p: sum(r["phase"] == p for r in results)
                       for p in ("before writing", "writing", "after the switch", "finished")},
            "killed": sum(not r["finished_before_kill"] for r in results),
            "leftovers_cleaned": sum(r["leftover_partials"] for r in results),
            "problems": [p for r in results for p in r["problems"]]}


# ------------------------------------------------------------------------------ rebuilds, serving

CODE_WORDS = ["amberfox", "bluecrane", "copperowl", "duskmoth"]
LEDGER_QUESTION = "What is the code word of the harbour ledger?"


def ledger(version: int) -> str:
    word = CODE_WORDS[version - 1]
    return ("Harbour Ledger\n"
            "The harbour ledger records the night shipments of the port of Velmora.\n"
            "Code Word\n"
            f"The code word of the harbour ledger is {word}. Harbour master Idris Valcourt "
            f"chose the code word {word} for edition {version} of the ledger.\n")


TIDES = ("# Tides and Moons\n\nThe tides rise and fall twice a day along most coasts.\n\n"
         "## Spring Tides\n\nSpring tides are the largest tides of the month.{extra}\n")
BAKERY = ("<html><head><title>Village Bakery</title></head><body><h1>Village Bakery</h1>"
          "<p>The village bakery reopened on Saturday after a long renovation.</p>"
          "<h2>New Oven</h2><p>A wood-fired oven now bakes sourdough loaves every morning.</p>"
          "</body></html>")
LIGHTHOUSE = ("The Lighthouse of Orrin Point\nThe lighthouse of Orrin Point was lit again in "
              "March by keeper Tamsin Greaves. Its lamp can be seen forty kilometres out.\n")
ORCHARD = ("# The Pellham Orchard\n\nThe Pellham orchard grows forty kinds of apples. Its oldest "
           "tree was planted by Oswin Pellham in 1821.\n")

# (questions asked by the serving threads)
SERVING_QUESTIONS = [LEDGER_QUESTION, SEED_QUESTION, "When do spring tides come?",
                     "Who lit the lighthouse of Orrin Point?", "Who planted the oldest apple tree?",
                     "What does the bakery oven bake?", "Who chose the code word?",
                     "Who won the 2022 World Cup?"]


def _corpus_version(corpus: Path, v: int, towns: int = 20) -> tuple[bool, str]:
    """Write corpus version v (1..4); (full rebuild?, what changed). The town articles are
    ballast that makes builds take a while; a few of them change in every version."""
    if v == 1:
        write_town_corpus(corpus, towns)
        (corpus / "ledger.txt").write_text(ledger(1))
        (corpus / "tides.md").write_text(TIDES.format(extra=""))
        (corpus / "bakery.html").write_text(BAKERY)
        return False, "initial build"
    (corpus / "ledger.txt").write_text(ledger(v))
    for i in range(v, towns, 4):
        (corpus / f"town-{i:03d}.txt").write_text(article(i, f" Edition {v} of the town notes."))
    if v == 2:
        (corpus / "tides.md").write_text(TIDES.format(extra=" They come near the full moon."))
        return True, "full rebuild; ledger.txt, tides.md and 5 town articles changed"
    if v == 3:
        (corpus / "lighthouse.txt").write_text(LIGHTHOUSE)
        (corpus / "tides.md").unlink()
        return False, ("incremental; lighthouse.txt added, tides.md removed, ledger.txt and "
                       "5 town articles changed")
    (corpus / "orchard.md").write_text(ORCHARD)
    (corpus / "bakery.html").unlink()
    return False, ("incremental; orchard.md added, bakery.html removed, ledger.txt and 4 town "
                   "articles changed")


def _build_contents(index: Path, name: str) -> dict:
    import sqlite3

    from assistant.index import layout

    db = sqlite3.connect(f"file:{layout.builds_dir(index) / name / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        chunks = dict(db.execute("SELECT id, text FROM chunks"))
        sources = {s for (s,) in db.execute("SELECT source FROM articles")}
    finally:
        db.close()
    return {"chunks": chunks, "sources": sources}


def check_answer_against_build(ans, contents: dict, version: int) -> list[str]:
    """An answer is consistent with the build it names: cited chunks and quotes are that build's
    text, sources are in that build, and no other version's code word appears."""
    problems = []
    chunks = contents["chunks"]
    for c in ans.citations:
        text = chunks.get(c.chunk_id)
        if text is None:
            problems.append(f"citation [{c.n}] chunk {c.chunk_id} is not in build {ans.build_id}")
        elif c.quote not in text:
            problems.append(f"citation [{c.n}] quote is not in its chunk in {ans.build_id}")
        if c.source not in contents["sources"]:
            problems.append(f"citation [{c.n}] source {c.source} not in {ans.build_id}")
    for p in ans.passages:
        if chunks.get(p.chunk.id) != p.chunk.text:
            problems.append(f"passage {p.chunk.id} is not {ans.build_id}'s text")
    words = {w for w in CODE_WORDS if w in ans.text.lower()}
    if words - {CODE_WORDS[version - 1]}:
        problems.append(f"answer from edition {version} mentions {sorted(words)}")
    return problems


def rebuild_while_serving(work: Path, serve_embedder, build_embedder=None, threads: int = 4,
                          echo: Callable[[str], None] = quiet) -> dict:
    """Questions from `threads` threads through one Assistant while three rebuilds complete
    (one full, two incremental with files added, changed and removed)."""
    from assistant.config import Settings
    from assistant.index import layout
    from assistant.index.builder import build
    from assistant.service import Assistant

    build_embedder = build_embedder or serve_embedder
    corpus, index = work / "corpus", work / "index"
    settings = Settings().replace(corpus_dir=corpus, index_dir=index)
    versions: dict[str, int] = {}
    contents: dict[str, dict] = {}

    def do_build(v: int) -> dict:
        full, what = _corpus_version(corpus, v)
        t = time.monotonic()
        report = build(settings, full=full, embedder=build_embedder, log=quiet)
        name = layout.current_name(index)
        versions[name] = v
        contents[name] = _build_contents(index, name)
        return {"version": v, "build": name, "what": what,
                "seconds": round(time.monotonic() - t, 1),
                "embedded_chunks": report.embedded_chunks, "reused_files": report.reused_files,
                "removed_files": report.removed_files, "articles": report.articles}

    builds = [do_build(1)]
    assistant = Assistant.open(settings=settings, embedder=serve_embedder)
    answers: list[tuple[float, str, object]] = []
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def serve(k: int) -> None:
        i = k
        while not stop.is_set():
            q = SERVING_QUESTIONS[i % len(SERVING_QUESTIONS)]
            i += 1
            try:
                ans = assistant.ask(q, history=[SEED_QUESTION] if i % 5 == 0 else ())
                with lock:
                    answers.append((time.monotonic(), q, ans))
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"{q!r}: {type(exc).__name__}: {exc}")

    pool = [threading.Thread(target=serve, args=(k,), daemon=True) for k in range(threads)]
    for th in pool:
        th.start()
    try:
        time.sleep(1.0)
        for v in (2, 3, 4):
            builds.append(do_build(v))
            echo(f"rebuild {v - 1}: {builds[-1]}")
            time.sleep(1.0)  # questions keep coming between builds too
        last = layout.current_name(index)
        # Questions until every thread has answered from the last build at least once.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                n_last = sum(1 for _, _, a in answers if a.build_id == last)
            if n_last >= threads * 2:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for th in pool:
            th.join(120)

    problems: list[str] = []
    used = {}
    for _t, q, ans in answers:
        if ans.build_id not in versions:
            problems.append(f"{q!r} answered from unknown build {ans.build_id!r}")
            continue
        used[ans.build_id] = used.get(ans.build_id, 0) + 1
        problems += [f"{q!r}: {p}" for p in check_answer_against_build(
            ans, contents[ans.build_id], versions[ans.build_id])]
    # After the last rebuild: the new corpus answers.
    final = assistant.ask(LEDGER_QUESTION)
    if final.build_id != last or CODE_WORDS[-1] not in final.text.lower():
        problems.append(f"after the last rebuild the ledger answer is {final.text!r} "
                        f"from {final.build_id}")
    orchard = assistant.ask("Who planted the oldest apple tree in the Pellham orchard?")
    if not any(c.source == "orchard.md" for c in orchard.citations):
        problems.append("the added orchard.md is not cited after the last rebuild")
    gone = [p.source for p in assistant.ask("What does the bakery oven bake?").passages
            if p.source in ("bakery.html", "tides.md")]
    if gone:
        problems.append(f"removed files still answer: {gone}")
    return {"threads": threads, "rebuilds": len(builds) - 1, "builds": builds,
            "questions": len(answers), "failed": len(errors), "errors": errors[:20],
            "answers_per_build": {str(versions[k]): v for k, v in
                                  sorted(used.items(), key=lambda x: versions[x[0]])},
            "inconsistent": len(problems), "problems": problems[:20],
            "final_answer": final.text}


# ------------------------------------------------------------------------------ hostile questions

HOSTILE_QUESTIONS = [
    "",
    "   \n\t  ",
    "\x00\x01\x02\x1b\x7f\u200b\u2028",
    "\x1b[31mred\x1b[0m\x07 question?",
    "x" * 100_000,
    "What " * 20_000 + "is the code word?",
    "\ud800\udfff lone surrogates \udc80?",
    "\u202eevil bidi\u202c and zero\u200bwidth?",
    "../../etc/passwd",
    "/etc/passwd",
    "file:///etc/shadow",
    "~/.ssh/id_rsa",
    "../../../../../../../../proc/self/environ",
    "C:\\Windows\\System32\\config\\SAM",
    "$(cat /etc/passwd)",
    "`rm -rf /`",
    "'; DROP TABLE chunks; --",
    "\" OR 1=1 --",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "<script>alert(1)</script>",
    "{{7*7}} ${7*7} %s %n",
    "Who will lead the coordinated efforts?\x00/etc/passwd",
    "corpus/../../../etc/hosts",
]


class OpenAudit:
    """Records the paths Python opens (audit events) while active. The hook is installed once
    per process and costs nothing while inactive."""

    _installed = False
    _active: OpenAudit | None = None

    EVENTS = {"open", "os.listdir", "os.scandir", "os.chdir", "shutil.copyfile", "shutil.rmtree",
              "sqlite3.connect", "os.remove", "os.rename", "os.symlink", "glob.glob"}

    def __init__(self):
        self.paths: list[tuple[str, str]] = []

    @classmethod
    def _hook(cls, event, args):
        audit = cls._active
        if audit is None or event not in cls.EVENTS:
            return
        path = args[0] if args else None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, (str, os.PathLike)):
            audit.paths.append((event, os.fspath(path)))
        elif isinstance(path, int):  # an open file descriptor
            return

    def __enter__(self) -> OpenAudit:
        if not OpenAudit._installed:
            sys.addaudithook(OpenAudit._hook)
            OpenAudit._installed = True
        OpenAudit._active = self
        return self

    def __exit__(self, *exc) -> None:
        OpenAudit._active = None

    def outside(self, allowed: list[Path]) -> list[tuple[str, str]]:
        roots = [os.path.realpath(p) for p in allowed]
        out = []
        for event, path in self.paths:
            if path in (":memory:", "") or path.startswith("file:") and "mode=ro" in path and \
                    any(os.path.realpath(path[5:].split("?")[0]).startswith(r) for r in roots):
                continue
            real = os.path.realpath(path)
            if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
                out.append((event, path))
        return out


def allowed_roots(*dirs: Path) -> list[Path]:
    """Where answering may read: the given folders, the venv and the Python installation."""
    import sysconfig

    roots = [Path(d) for d in dirs]
    roots += [Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)]
    roots += [Path(p) for p in sysconfig.get_paths().values()]
    return roots


# ------------------------------------------------------------------------------ fuzzing the loaders

_TOKENS = [
    "# ", "## ", "###### ", "\n", "\n\n", "```", "~~~", "<h1>", "</h1>", "<h2>", "</h2>", "<h6>",
    "<p>", "</p>", "<div>", "</div>", "<br>", "<script>", "</script>", "<style>", "<title>",
    "</title>", "<head>", "<nav>", "<!--", "-->", "<![CDATA[", "]]>", "<table><tr><td>", "<li>",
    "&amp;", "&#0;", "&#x110000;", "&#xD800;", "\x1e", "\x00", "\r", "\t", "\x0c", "\u2028",
    "\ufeff", "\u202e", "Title", "Harbour News", "Body text. ", "Short Heading", "The pier is old.",
    "- item", "1. first", "> quote", "* * *", "|a|b|", "\\", "\"", "'", "…", "日本語。", "ß",
]
_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "shift_jis", "cp1252",
              "latin-1", "euc-jp", "gb18030", "koi8-r", "utf-32"]
SUFFIXES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf"]


def fuzz_strategy():
    """(bytes, suffix, file stem) triples: random bytes, token soups in many encodings,
    mutated and truncated PDFs, deeply nested or unclosed HTML, long lines, NULs, odd names."""
    from hypothesis import strategies as st

    good_pdf = _pdf_samples()[0]
    soup = st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join)
    text = st.one_of(soup, st.text(max_size=400))
    encoded = st.tuples(text, st.sampled_from(_ENCODINGS)).map(
        lambda te: te[0].encode(te[1], errors="replace"))

    def mutate(args):
        edits, cut = args
        data = bytearray(good_pdf)
        for pos, value in edits:
            data[pos % len(data)] = value
        return bytes(data[:cut])

    edit = st.tuples(st.integers(0, len(good_pdf) - 1), st.integers(0, 255))
    pdf = st.one_of(
        st.tuples(st.lists(edit, max_size=3), st.none()),  # a few bytes changed
        st.tuples(st.lists(edit, max_size=25), st.integers(0, len(good_pdf))),  # and truncated
    ).map(mutate)

    def nest(args):
        tag, depth, closed, inner = args
        body = f"<{tag}>" * depth + inner + (f"</{tag}>" * depth if closed else "")
        return body.encode("utf-8", "surrogatepass")

    deep = st.tuples(st.sampled_from(["div", "span", "b", "table", "ul", "li", "h2", "p", "a",
                                      "td", "section", "script", "nav", "h1"]),
                     st.integers(1, 3000), st.booleans(), soup).map(nest)
    long_line = st.tuples(st.sampled_from([b"word ", b"x", b"\xe9", b"<b>", b"Body text. ",
                                           b"\x00", b"# "]),
                          st.integers(1_000, 60_000), st.binary(max_size=50)).map(
        lambda a: a[2] + a[0] * (a[1] // len(a[0])))
    spliced = st.tuples(encoded, st.binary(max_size=200), st.integers(0, 400)).map(
        lambda a: a[0][: a[2]] + a[1] + a[0][a[2]:])
    anything = st.one_of(st.binary(max_size=3000), encoded, pdf, deep, long_line, spliced)
    stem = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
                   min_size=1, max_size=50).filter(lambda s: s not in (".", ".."))
    # PDFs mostly under their own name; everything under every name now and then
    return st.one_of(st.tuples(pdf, st.just(".pdf")),
                     st.tuples(anything, st.sampled_from(SUFFIXES))).flatmap(
        lambda ds: stem.map(lambda name: (ds[0], ds[1], name)))


def check_loaded(path: Path, source: str, counter=None) -> str:
    """load_article either returns a well-formed article (which chunks and joins back) or
    raises UnreadableSource with a one-line reason; anything else is a bug. The outcome."""
    from assistant.chunking import chunk_article, join_chunks
    from assistant.errors import UnreadableSource
    from assistant.loaders import load_article
    from devtools.fakes import FakeEmbedder

    try:
        art = load_article(path, source)
    except UnreadableSource as err:
        assert err.reason and "\n" not in err.reason and len(err.reason) < 300, err.reason
        return "skipped"
    assert art.title.strip() and len(art.title) <= 200, art.title[:300]
    assert art.sections
    for sec in art.sections:
        assert sec.text.strip() and "\x00" not in sec.text
        sec.text.encode("utf-8")  # storable
        assert all(len(h) <= 200 for h in sec.heading_path)
    chunks = chunk_article(art, FakeEmbedder().count_tokens)
    assert chunks
    for si, sec in enumerate(art.sections):
        assert join_chunks([c for c in chunks if c.section_index == si]) == sec.text
    return "indexed"


def fuzz_file(tmp_dir: Path, data: bytes, suffix: str, stem: str) -> Path:
    name = (stem + suffix).encode("utf-8", "surrogatepass")[:250]
    path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_dir), name)))
    path.write_bytes(data)
    return path
