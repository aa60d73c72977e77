"""Hostile and broken input, generated: every file is either indexed or skipped with a one-line
reason, and the build never crashes.

Fast: a few hundred generated files through the loader, the named worst cases (100,000 nested
<div>s, several MB on one line, odd encodings), and a build over ~60 nasty files. Slow: 1,000
generated cases through the loader and the same build with the multi-megabyte files in it.
The generators live in reliability_cases.py (benchmarks/bench_reliability.py runs them too).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from assistant.config import Settings
from assistant.errors import UnreadableSource
from assistant.index import format as index_format
from assistant.index.builder import build
from assistant.loaders import load_article
from assistant.service import Assistant
from devtools.reliability_cases import (
    account_for_build,
    check_loaded,
    fuzz_file,
    fuzz_strategy,
    nasty_files,
    write_nasty_corpus,
)

FUZZ = fuzz_strategy()
_SETTINGS = dict(deadline=None, database=None, derandomize=False,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                        HealthCheck.data_too_large, HealthCheck.large_base_example])


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


def _check(case) -> str:
    data, suffix, stem = case
    with tempfile.TemporaryDirectory(prefix="fuzz-") as d:
        path = fuzz_file(Path(d), data, suffix, stem)
        return check_loaded(path, path.name)


@settings(max_examples=200, **_SETTINGS)
@given(case=FUZZ)
def test_generated_files_load_or_are_skipped_with_a_reason(case):
    _check(case)


@pytest.mark.slow
@settings(max_examples=1000, **_SETTINGS)
@given(case=FUZZ)
def test_a_thousand_generated_files_load_or_are_skipped(case):
    _check(case)


# ------------------------------------------------------------------------------ named worst cases

def _load(tmp_path: Path, name: str, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    t = time.perf_counter()
    try:
        return load_article(p, name), time.perf_counter() - t
    except UnreadableSource as err:
        return err, time.perf_counter() - t


def test_hundred_thousand_nested_divs_are_read_in_linear_time(tmp_path):
    deep = (b"<html><head><title>Deep Page</title></head><body>" + b"<div>" * 100_000 +
            b"The deep pier is old. It was built in 1890." + b"</div>" * 100_000 +
            b"</body></html>")
    art, seconds = _load(tmp_path, "deep.html", deep)
    assert art.title == "Deep Page"
    assert art.sections[0].text == "The deep pier is old. It was built in 1890."
    assert seconds < 60, seconds  # was hours: bs4 tree edits cost time in the nesting depth


def test_unclosed_deep_nesting_and_headings_inside(tmp_path):
    data = b"<h1>Top</h1><p>Lead text. Here.</p>" + b"<span><b>" * 40_000 + \
        b"<h2>Inner</h2>Inner text. Still here."
    art, _ = _load(tmp_path, "unclosed.html", data)
    assert [s.heading_path for s in art.sections] == [(), ("Inner",)]


def test_several_megabytes_on_one_line(tmp_path):
    line = b"The pier is old and long. " * 150_000  # 3.9 MB
    art, _ = _load(tmp_path, "line.txt", b"Huge Line\n" + line + b"\n")
    assert art.title == "Huge Line" and len(art.sections[0].text) == len(line.strip())
    # a first line that long is a paragraph, not a title: it is kept as text
    art, _ = _load(tmp_path, "paragraph.txt", line)
    assert art.title == "paragraph" and len(art.sections[0].text) == len(line.strip())


def test_huge_titles_and_headings_are_cut(tmp_path):
    art, _ = _load(tmp_path, "h.md", b"# " + b"heading " * 300_000 + b"\n\nBody text. More.\n")
    assert len(art.title) <= 200 and art.title.endswith("…")
    art, _ = _load(tmp_path, "h.html", b"<title>" + b"t " * 500_000 + b"</title>"
                   b"<h2>" + b"h " * 500_000 + b"</h2><p>Body. More.</p>")
    assert len(art.title) <= 200 and all(len(h) <= 200 for h in art.sections[0].heading_path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_and_without_byte_order_mark(tmp_path, encoding):
    text = "Harbour News\nThe caf\u00e9 reopened. Boats came back.\n"
    art, _ = _load(tmp_path, "u16.txt", text.encode(encoding))
    assert art.title == "Harbour News"
    assert art.sections[0].text == "The caf\u00e9 reopened. Boats came back."


@pytest.mark.parametrize("encoding", ["shift_jis", "cp1252", "latin-1", "euc-jp"])
def test_legacy_encodings_are_read_or_skipped(tmp_path, encoding):
    text = "港のニュース\n春に港が開いた。\n" if "j" in encoding else "Caf\u00e9 News\nThe caf\u00e9 opened.\n"
    result, _ = _load(tmp_path, f"enc-{encoding}.txt", text.encode(encoding, errors="replace"))
    if isinstance(result, UnreadableSource):
        assert result.reason and "\n" not in result.reason
    else:
        assert result.sections and result.title


def test_nul_bytes_and_control_characters(tmp_path):
    err, _ = _load(tmp_path, "nul.txt", b"Title\x00\n" + b"\x00" * 100 + b"Body. More.\n")
    assert isinstance(err, UnreadableSource) and "binary" in err.reason
    art, _ = _load(tmp_path, "late-nul.txt", b"Title\n" + b"Body text. " * 900 + b"\x00 End.\n")
    assert "\x00" not in art.sections[0].text
    art, _ = _load(tmp_path, "ctl.txt", b"Harbour \x1b[31mNews\x07\nThe pier\x7f is old.\n")
    assert art.title == "Harbour [31mNews" and art.sections[0].text == "The pier is old."


# ------------------------------------------------------------------------------ whole builds

def _build_nasty(tmp_path: Path, embedder, big: bool, seed: int) -> tuple:
    corpus = tmp_path / "nasty corpus"
    corpus.mkdir()
    files = nasty_files(random.Random(seed), big=big)
    expected = write_nasty_corpus(corpus, files)
    s = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    logs: list[str] = []
    report = build(s, embedder=embedder, log=logs.append)
    return s, report, expected, files, logs


def _check_nasty_build(tmp_path, embedder, big, seed):
    s, report, expected, files, logs = _build_nasty(tmp_path, embedder, big, seed)
    assert not account_for_build(s.corpus_dir, report, expected)
    assert report.articles >= 25  # the good ones, the odd names and the decodable encodings
    sources = set(index_format.read_manifest(report.build_dir)["sources"])
    for name in ("-rf.txt", "--help.md", "with space.txt", "good.pdf", "utf16le-nobom.txt",
                 "x" * 240 + ".txt", "$(touch pwned).txt", "sub dir/nested -n.md"):
        assert name in sources, name
    assert all("\n" not in m.split(": ", 1)[-1] or "new\nline" in m for m in logs)
    # the index opens and answers, and a second build has nothing to do
    a = Assistant.open(settings=s, embedder=embedder)
    assert a.ask("How old is the pier?").build_id == report.build_dir.name
    again = build(s, embedder=embedder, log=lambda m: None)
    assert again.up_to_date
    return report


def test_build_over_a_corpus_of_nasty_files(tmp_path, fake_embedder):
    report = _check_nasty_build(tmp_path, fake_embedder, big=False, seed=3)
    reasons = {s["source"]: s["reason"] for s in report.skipped}
    assert "symbolic link loop" in reasons["loop-a.txt"]
    assert "outside the corpus" in reasons["outside-link.txt"]
    assert "not valid UTF-8" in next(r for k, r in reasons.items() if k.startswith("latin1-"))
    assert reasons["empty.txt"] == "empty file"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_build_over_nasty_files_with_the_huge_ones(tmp_path, fake_embedder, seed):
    _check_nasty_build(tmp_path, fake_embedder, big=True, seed=seed)
