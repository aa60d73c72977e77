"""`assistant build`: the index folder it writes, incremental rebuilds, atomicity, bad input."""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from assistant import cli
from assistant.chunking import sentence_spans
from assistant.config import Settings
from assistant.errors import AssistantError, EmptyCorpus, IndexMismatch
from assistant.index import builder, layout, snapshot, writer
from assistant.index import format as index_format
from assistant.index.builder import build
from assistant.text import embed_prefix
from devtools.index_db import db_rows
from devtools.samples_pdf import (
    binary_bytes,
    make_corrupt_pdf,
    make_encrypted_pdf,
    make_pdf,
    make_textless_pdf,
)

SEED_NAME = "mexico-us-cross-border-crime-cooperation.txt"

TIDES_MD = """# Tides and Moons

The tides rise and fall twice a day along most coasts.

## Why Tides Happen

The moon pulls on the oceans. The sun adds a smaller pull of its own.

## Spring Tides

Spring tides are the largest tides of the month. They come near the new and full moon.
"""

BAKERY_HTML = """<html><head><title>Village Bakery Reopens</title>
<style>.promo { color: gold } /* zebrastyle */</style>
<script>var trackingPixel = "xylophonescript";</script></head>
<body><nav>quokkanav Home | quokkanav Menu</nav>
<h1>Village Bakery Reopens</h1>
<p>The village bakery reopened on Saturday after a long renovation.</p>
<h2>New Oven</h2><p>A wood-fired oven now bakes sourdough loaves every morning.</p>
<h2>Opening Hours</h2><p>The bakery opens at seven and closes when the bread runs out.</p>
<script>document.write("xylophonescript again")</script>
</body></html>
"""

NEVER_INDEXED = ["zebrastyle", "xylophonescript", "quokkanav", "trackingPixel", "color: gold"]


def settings_for(corpus: Path, index: Path, **kw) -> Settings:
    return Settings().replace(corpus_dir=corpus, index_dir=index, **kw)


def quiet(_msg: str) -> None:
    pass


def current(index: Path) -> str:
    return (index / "CURRENT").read_text().strip()


def open_build(index: Path, emb) -> snapshot.Snapshot:
    return snapshot.Snapshot(index, emb.name, emb.dim)


# ------------------------------------------------------------------------ real model, one build

@pytest.fixture(scope="module")
def real_build(tmp_path_factory, embedder, seed_path):
    """The seed article plus two tiny files, indexed once with the real model."""
    root = tmp_path_factory.mktemp("real")
    corpus, index = root / "corpus", root / "index"
    (corpus / "sub").mkdir(parents=True)
    (corpus / SEED_NAME).write_bytes(seed_path.read_bytes())
    (corpus / "sub" / "tides.md").write_text(TIDES_MD)
    (corpus / "bakery.html").write_text(BAKERY_HTML)
    (corpus / "notes.csv").write_text("not,an,article\n")  # unsupported: ignored, not skipped
    logs: list[str] = []
    t0 = time.time()
    report = build(settings_for(corpus, index), embedder=embedder, log=logs.append)
    return {"corpus": corpus, "index": index, "report": report, "logs": logs,
            "t0": t0, "dir": layout.current_build_dir(index)}


def test_build_writes_the_index_folder(real_build):
    d = real_build["dir"]
    assert d.parent == real_build["index"] / "builds"
    assert current(real_build["index"]) == d.name
    for name in ("manifest.json", "vectors.faiss", "meta.sqlite", "sentences.npy"):
        assert (d / name).is_file() and (d / name).stat().st_size > 0, name
    assert not list((real_build["index"] / "builds").glob("*.partial"))
    assert real_build["logs"] == []  # nothing skipped, nothing to say


def test_manifest_describes_the_build(real_build, embedder):
    m = json.loads((real_build["dir"] / "manifest.json").read_text())
    corpus = real_build["corpus"]
    assert m["format_version"] == index_format.FORMAT_VERSION
    assert m["model"] == {"name": embedder.name, "dim": 384}
    assert m["chunking"]["chunk_tokens"] == Settings().chunk_tokens
    assert m["chunking"]["overlap_sentences"] == 1
    assert "package_version" in m
    built = calendar.timegm(time.strptime(m["built_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(built - real_build["t0"]) < 600
    expected = {rel: hashlib.sha256((corpus / rel).read_bytes()).hexdigest()
                for rel in (SEED_NAME, "sub/tides.md", "bakery.html")}
    # The per-file records live in the database, not in manifest.json (read at every open).
    assert "sources" not in m and "skipped" not in m
    full = index_format.read_manifest(real_build["dir"])
    assert full["sources"] == expected
    assert full["skipped"] == []
    assert m["faiss"] == {"type": "FlatIP"} and m["sentence_vectors"] == "float16"
    d = real_build["dir"]
    counts = m["counts"]
    assert counts["articles"] == 3 == db_rows(d, "SELECT count(*) FROM articles")[0][0]
    assert counts["sections"] == db_rows(d, "SELECT count(*) FROM sections")[0][0]
    assert counts["chunks"] == db_rows(d, "SELECT count(*) FROM chunks")[0][0]
    assert counts["sentences"] == db_rows(d, "SELECT count(*) FROM sentences")[0][0]
    report = real_build["report"]
    assert (report.articles, report.chunks) == (3, counts["chunks"])
    assert report.embedded_chunks == counts["chunks"]


def test_database_tables_and_articles(real_build):
    d = real_build["dir"]
    tables = {r[0] for r in db_rows(d, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert {"articles", "sections", "chunks", "chunk_rows", "sentences", "skipped"} <= tables
    arts = dict(db_rows(d, "SELECT source, title FROM articles"))
    assert arts == {
        SEED_NAME: "Mexico and US Strengthen Cooperation on Cross-Border Crime",
        "sub/tides.md": "Tides and Moons",
        "bakery.html": "Village Bakery Reopens",
    }
    headings = [json.loads(h) for (h,) in db_rows(
        d, "SELECT s.heading_path FROM sections s JOIN articles a ON a.id = s.article_id "
           "WHERE a.source = ? ORDER BY s.ord", (SEED_NAME,))]
    assert headings == [[], ["Details of the Joint Operations"], ["Context of the Partnership"],
                        ["Challenges Ahead"], ["Impacts on Local Communities"], ["Conclusion"]]


def test_sentence_offsets_slice_the_section_text(real_build):
    d = real_build["dir"]
    rows = db_rows(d, """
        SELECT se.start, se.end, s.text, c.start, c.end, c.text, se.chunk_row, c.sent_lo, c.sent_hi,
               se.row
        FROM sentences se JOIN chunks c ON c.row = se.chunk_row
        JOIN sections s ON s.id = c.section_id ORDER BY se.row""")
    assert rows
    spans_cache: dict[str, set] = {}
    seen = set()
    for s, e, sec_text, cs, ce, ctext, _, lo, hi, srow in rows:
        assert lo <= srow < hi
        sentence = sec_text[s:e]
        assert sentence and sentence == sentence.strip()
        assert cs <= s < e <= ce
        assert ctext[s - cs:e - cs] == sentence
        spans = spans_cache.setdefault(sec_text, set(sentence_spans(sec_text)))
        assert (s, e) in spans  # a whole sentence, as the splitter sees it
        seen.add(sentence)
    dea = ("The U.S. Drug Enforcement Administration (DEA) and Mexico’s Federal Police will lead "
           "the coordinated efforts, reinforcing their commitment to combating drug cartels that "
           "have long plagued the region.")
    assert dea in seen
    assert "The moon pulls on the oceans." in seen
    # Chunk offsets slice their section text too.
    for start, end, ctext, stext in db_rows(
            d, "SELECT c.start, c.end, c.text, s.text FROM chunks c "
               "JOIN sections s ON s.id = c.section_id"):
        assert stext[start:end] == ctext


def test_build_opens_and_is_searchable(real_build, embedder):
    b = open_build(real_build["index"], embedder)
    try:
        m = b.manifest
        assert b.n_chunks == m["counts"]["chunks"] == b.dense.count
        assert b.sentence_vectors.shape == (m["counts"]["sentences"], 384)
        assert {a["source"] for a in b.articles.values()} == set(b.sources())
        vecs = b.dense.vectors(np.arange(b.dense.count))
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
        sv = np.asarray(b.sentence_vectors, dtype=np.float32)
        assert np.allclose(np.linalg.norm(sv, axis=1), 1.0, atol=1e-2)
        q = embedder.encode_queries(["When does the bakery open and close?"])
        _, ids = b.dense.search(q, 1)
        (row,) = ids[0]
        chunk, art, _ = b.chunks([row])[row]
        assert art["source"] == "bakery.html"
        assert chunk.heading_path == ("Opening Hours",)
        q = embedder.encode_queries(["Which agencies lead the efforts against drug cartels?"])
        _, ids = b.dense.search(q, 3)
        hits = b.chunks(ids[0])
        details = ("Details of the Joint Operations",)
        assert any(c.heading_path == details for c, _, _ in hits.values())
        aid = next(a["id"] for a in b.articles.values() if a["source"] == "sub/tides.md")
        _, sections = b.article(aid)
        assert [s.heading_path for s in sections] == [(), ("Why Tides Happen",), ("Spring Tides",)]
    finally:
        b.close()


def test_opening_with_another_model_is_a_clear_error(real_build):
    with pytest.raises(IndexMismatch, match="rebuild"):
        snapshot.Snapshot(real_build["index"], "some/other-model", 384)


def test_html_script_style_nav_never_reach_the_index(real_build, embedder):
    d = real_build["dir"]
    texts = [t for (t,) in db_rows(d, "SELECT text FROM chunks")]
    texts += [t for (t,) in db_rows(d, "SELECT text FROM sections")]
    texts += [t for (t,) in db_rows(d, "SELECT title FROM articles")]
    blob = "\n".join(texts)
    assert "wood-fired oven" in blob  # the page itself is indexed
    for token in NEVER_INDEXED:
        assert token not in blob
    b = open_build(real_build["index"], embedder)
    try:
        vocab = set(b.section_lexical.vocab_dict)
        assert "oven" in vocab
        assert not vocab & {"zebrastyl", "zebrastyle", "xylophonescript", "quokkanav",
                            "trackingpixel"}
    finally:
        b.close()


# ------------------------------------------------------------------------ incremental (fake model)

ALPHA = """# Alpha Article

Alpha opens with a lead paragraph. It has two sentences.

## First Part

The first part talks about apples. Apples grow on trees.

## Second Part

The second part talks about pears. Pears are sweet.
"""
BETA = """# Beta Article

## Rivers

Rivers flow downhill to the sea. They carve valleys.

## Mountains

Mountains rise above the clouds. Snow covers their peaks.

## Deserts

Deserts get little rain. Cacti store water.
"""
GAMMA = "<html><head><title>Gamma Page</title></head><body><p>Gamma is a short page. " \
        "It has one paragraph.</p></body></html>"
DELTA = "Delta Notes\n\nDelta is a plain text file. It arrived last.\n"


def _chunk_count(build_dir: Path, source: str) -> int:
    return db_rows(build_dir, "SELECT count(*) FROM chunks c JOIN articles a "
                              "ON a.id = c.article_id WHERE a.source = ?", (source,))[0][0]


def test_incremental_builds(corpus_dir, index_dir, fake_embedder):
    (corpus_dir / "alpha.md").write_text(ALPHA)
    (corpus_dir / "beta.md").write_text(BETA)
    (corpus_dir / "gamma.html").write_text(GAMMA)
    s = settings_for(corpus_dir, index_dir)

    first = build(s, embedder=fake_embedder, log=quiet)
    d1 = layout.current_build_dir(index_dir)
    assert first.embedded_chunks == first.chunks == fake_embedder.calls > 0
    assert first.parsed_files == 3 and first.reused_files == 0
    beta_chunks = _chunk_count(d1, "beta.md")
    assert beta_chunks >= 3

    # Nothing changed: nothing embedded, the same build stays current.
    again = build(s, embedder=fake_embedder, log=quiet)
    assert again.up_to_date and again.embedded_chunks == 0
    assert fake_embedder.calls == first.chunks
    assert current(index_dir) == d1.name
    assert (again.articles, again.chunks) == (first.articles, first.chunks)

    # One section of one file edited: only that section's chunks are embedded again.
    (corpus_dir / "beta.md").write_text(BETA.replace("Cacti store water.",
                                                     "Cacti store water in their stems."))
    fake_embedder.encoded_texts.clear()
    edited = build(s, embedder=fake_embedder, log=quiet)
    d2 = layout.current_build_dir(index_dir)
    assert d2 != d1 and not edited.up_to_date
    assert 0 < edited.embedded_chunks < beta_chunks
    assert edited.parsed_files == 1 and edited.reused_files == 2
    assert fake_embedder.encoded_texts and all(
        t.startswith("Beta Article") and "Cacti store water in their stems." in t
        for t in fake_embedder.encoded_texts)
    b = open_build(index_dir, fake_embedder)
    try:
        assert b.n_chunks == edited.chunks == first.chunks
        text = "\n".join(t for (t,) in db_rows(b.path, "SELECT text FROM chunks"))
        assert "Cacti store water in their stems." in text
        assert "Cacti store water." not in text
    finally:
        b.close()

    # A file deleted: its article is gone, nothing embedded.
    gamma_chunks = _chunk_count(d2, "gamma.html")
    (corpus_dir / "gamma.html").unlink()
    removed = build(s, embedder=fake_embedder, log=quiet)
    d3 = layout.current_build_dir(index_dir)
    assert removed.embedded_chunks == 0 and removed.removed_files == 1
    assert removed.chunks == edited.chunks - gamma_chunks
    assert [r[0] for r in db_rows(d3, "SELECT source FROM articles ORDER BY source")] == [
        "alpha.md", "beta.md"]
    assert not db_rows(d3, "SELECT 1 FROM chunks WHERE text LIKE '%Gamma is a short page%'")
    assert "gamma.html" not in index_format.read_manifest(d3)["sources"]

    # A file added: only its chunks are embedded.
    (corpus_dir / "delta.txt").write_text(DELTA)
    fake_embedder.encoded_texts.clear()
    added = build(s, embedder=fake_embedder, log=quiet)
    d4 = layout.current_build_dir(index_dir)
    assert added.embedded_chunks == _chunk_count(d4, "delta.txt") > 0
    assert added.parsed_files == 1 and added.reused_files == 2
    assert all(t.startswith("Delta Notes") for t in fake_embedder.encoded_texts)
    assert added.articles == 3

    # Reused vectors are the same vectors.
    b = open_build(index_dir, fake_embedder)
    try:
        vecs = b.dense.vectors(np.arange(b.dense.count))
        rows = db_rows(b.path, "SELECT c.row, a.title, s.heading_path, c.text FROM chunks c "
                               "JOIN articles a ON a.id = c.article_id "
                               "JOIN sections s ON s.id = c.section_id")
        for row, title, hp, text in rows:
            prefix = embed_prefix(title, tuple(json.loads(hp)))
            want = fake_embedder.encode_queries([prefix + text])[0]
            assert np.allclose(vecs[row], want, atol=1e-6)
    finally:
        b.close()

    # Old builds are collected; the current one and `keep_builds` others remain.
    kept = [p for p in (index_dir / "builds").iterdir() if p.is_dir()]
    assert len(kept) == 1 + s.keep_builds


def test_full_rebuild_embeds_everything(corpus_dir, index_dir, fake_embedder):
    (corpus_dir / "alpha.md").write_text(ALPHA)
    s = settings_for(corpus_dir, index_dir)
    first = build(s, embedder=fake_embedder, log=quiet)
    full = build(s, full=True, embedder=fake_embedder, log=quiet)
    assert not full.up_to_date and full.embedded_chunks == first.chunks


def test_changed_chunk_size_rebuilds_everything(corpus_dir, index_dir, fake_embedder):
    (corpus_dir / "alpha.md").write_text(ALPHA)
    build(settings_for(corpus_dir, index_dir), embedder=fake_embedder, log=quiet)
    logs: list[str] = []
    report = build(settings_for(corpus_dir, index_dir, chunk_tokens=64), embedder=fake_embedder,
                   log=logs.append)
    assert not report.up_to_date and report.embedded_chunks == report.chunks
    assert any("chunking changed" in m for m in logs)
    m = json.loads((layout.current_build_dir(index_dir) / "manifest.json").read_text())
    assert m["chunking"]["chunk_tokens"] == 64


# ------------------------------------------------------------------------ atomicity

class _ExplodingLexical:
    """Stands in for the lexical index at the end of write_build: the database, vectors and
    sentence vectors are already written when saving it fails."""

    def __init__(self, exc):
        self.exc = exc

    def save(self, path):
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "half-written").write_text("x")
        raise self.exc


def _snapshot(build_dir: Path) -> dict[str, str]:
    return {p.relative_to(build_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(build_dir.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_build_leaves_the_previous_one_current(corpus_dir, index_dir, fake_embedder,
                                                      monkeypatch, exc):
    (corpus_dir / "alpha.md").write_text(ALPHA)
    (corpus_dir / "beta.md").write_text(BETA)
    s = settings_for(corpus_dir, index_dir)
    first = build(s, embedder=fake_embedder, log=quiet)
    before = current(index_dir)
    snap = _snapshot(layout.current_build_dir(index_dir))

    (corpus_dir / "gamma.html").write_text(GAMMA)
    real_write = writer.write_build
    reached = []

    def write_then_fail(tmp_dir, content, manifest, lexical):
        reached.append(tmp_dir)
        assert tmp_dir.name.endswith(".partial")
        real_write(tmp_dir, content, manifest, _ExplodingLexical(exc))

    monkeypatch.setattr(writer, "write_build", write_then_fail)
    with pytest.raises(type(exc)):
        build(s, embedder=fake_embedder, log=quiet)
    assert reached, "the failure was not injected midway through writing"

    assert current(index_dir) == before
    assert _snapshot(layout.current_build_dir(index_dir)) == snap
    assert not list((index_dir / "builds").glob("*.partial"))
    assert not reached[0].exists()
    b = open_build(index_dir, fake_embedder)
    try:
        assert b.n_chunks == first.chunks
        assert {a["source"] for a in b.articles.values()} == {"alpha.md", "beta.md"}
    finally:
        b.close()

    # The next build (nothing failing) succeeds and includes the new file.
    monkeypatch.setattr(writer, "write_build", real_write)
    report = build(s, embedder=fake_embedder, log=quiet)
    assert report.articles == 3 and current(index_dir) != before


def test_failure_in_lexical_indexing_leaves_previous_build(corpus_dir, index_dir, fake_embedder,
                                                           monkeypatch):
    (corpus_dir / "alpha.md").write_text(ALPHA)
    s = settings_for(corpus_dir, index_dir)
    build(s, embedder=fake_embedder, log=quiet)
    before = current(index_dir)
    (corpus_dir / "beta.md").write_text(BETA)

    def boom(self, texts):
        raise MemoryError("out of memory while indexing")

    monkeypatch.setattr(builder.lexical.LexicalIndex, "add_sections", boom)
    with pytest.raises(MemoryError):
        build(s, embedder=fake_embedder, log=quiet)
    assert current(index_dir) == before
    assert not list((index_dir / "builds").glob("*.partial"))
    assert [p.name for p in (index_dir / "builds").iterdir()] == [before]


@pytest.mark.heavy
def test_all_bad_corpus_raises_and_keeps_previous_index(corpus_dir, index_dir, fake_embedder):
    (corpus_dir / "alpha.md").write_text(ALPHA)
    s = settings_for(corpus_dir, index_dir)
    first = build(s, embedder=fake_embedder, log=quiet)
    before = current(index_dir)
    build_dir = layout.current_build_dir(index_dir)
    snap = _snapshot(build_dir)
    mtimes = {p: p.stat().st_mtime_ns for p in index_dir.rglob("*") if p.is_file()
              and p.name != ".build.lock"}

    (corpus_dir / "alpha.md").unlink()
    (corpus_dir / "empty.txt").write_bytes(b"")
    (corpus_dir / "blob.txt").write_bytes(binary_bytes())
    (corpus_dir / "broken.pdf").write_bytes(make_corrupt_pdf())
    logs: list[str] = []
    with pytest.raises(EmptyCorpus) as info:
        build(s, embedder=fake_embedder, log=logs.append)
    assert "unchanged" in str(info.value) and "3 file(s) skipped" in str(info.value)
    assert current(index_dir) == before
    assert _snapshot(build_dir) == snap
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert not list((index_dir / "builds").glob("*.partial"))
    b = open_build(index_dir, fake_embedder)
    try:
        assert b.n_chunks == first.chunks
    finally:
        b.close()


def test_empty_corpus_without_previous_index(corpus_dir, index_dir, fake_embedder):
    with pytest.raises(EmptyCorpus):
        build(settings_for(corpus_dir, index_dir), embedder=fake_embedder, log=quiet)
    assert not (index_dir / "CURRENT").exists()


def test_missing_corpus_folder_is_a_clear_error(tmp_path, index_dir, fake_embedder):
    with pytest.raises(AssistantError, match="does not exist"):
        build(settings_for(tmp_path / "nowhere", index_dir), embedder=fake_embedder, log=quiet)


# ------------------------------------------------------------------------ bad input in a corpus

@pytest.mark.heavy
def test_bad_files_are_skipped_with_reasons(corpus_dir, index_dir, fake_embedder):
    (corpus_dir / "good.md").write_text(ALPHA)
    bad = {
        "empty.txt": (b"", "empty"),
        "blank.md": (b"   \n\n \t\n", "empty"),
        "binary.txt": (binary_bytes(), "binary"),
        "corrupt.pdf": (make_corrupt_pdf(), "corrupt"),
        "encrypted.pdf": (make_encrypted_pdf(), "encrypted"),
        "notext.pdf": (make_textless_pdf(), "no extractable text"),
        "huge.txt": (("A long line of words. " * 4000).encode(), "too large"),
    }
    (corpus_dir / "nested").mkdir()
    for name, (data, _) in bad.items():
        (corpus_dir / name).write_bytes(data)
    (corpus_dir / "nested" / "also-empty.html").write_bytes(b"")
    bad["nested/also-empty.html"] = (b"", "empty")
    logs: list[str] = []
    # 50 kB: above every small file here (PDFs included), below huge.txt (88 kB).
    s = settings_for(corpus_dir, index_dir, max_file_mb=0.05)
    report = build(s, embedder=fake_embedder, log=logs.append)

    assert report.articles == 1
    m = index_format.read_manifest(layout.current_build_dir(index_dir))
    assert list(m["sources"]) == ["good.md"]
    skipped = {item["source"]: item["reason"] for item in m["skipped"]}
    assert set(skipped) == set(bad)
    for name, (_, why) in bad.items():
        assert why in skipped[name], (name, skipped[name])
        mentions = [line for line in logs if name in line]
        assert len(mentions) == 1, (name, logs)
        assert why in mentions[0]
    assert len(logs) == len(bad)
    assert {item["source"] for item in report.skipped} == set(bad)

    # Unchanged bad files do not force a rebuild.
    again = build(s, embedder=fake_embedder, log=quiet)
    assert again.up_to_date


def test_symlink_outside_corpus_is_skipped(tmp_path, corpus_dir, index_dir, fake_embedder):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.md"
    secret.write_text("# Private Diary\n\nThe platypuspassword is kept here. Do not index it.\n")
    (corpus_dir / "good.md").write_text(ALPHA)
    (corpus_dir / "link.md").symlink_to(secret)
    (corpus_dir / "inside-link.md").symlink_to(corpus_dir / "good.md")  # inside: allowed
    logs: list[str] = []
    build(settings_for(corpus_dir, index_dir), embedder=fake_embedder, log=logs.append)
    d = layout.current_build_dir(index_dir)
    m = index_format.read_manifest(d)
    skipped = {item["source"]: item["reason"] for item in m["skipped"]}
    assert "symbolic link" in skipped["link.md"] and "outside" in skipped["link.md"]
    assert set(m["sources"]) == {"good.md", "inside-link.md"}
    assert len(logs) == 1 and "link.md" in logs[0] and "inside-link.md" not in logs[0]
    blob = "\n".join(t for (t,) in db_rows(d, "SELECT text FROM chunks"))
    blob += "\n".join(t for (t,) in db_rows(d, "SELECT title FROM articles"))
    assert "platypuspassword" not in blob and "Private Diary" not in blob


@pytest.mark.heavy
def test_pdf_pages_reach_the_database(corpus_dir, index_dir, fake_embedder):
    pages = [["Harbour Report", "The harbour opened in spring. Boats returned quickly."],
             ["Fishing", "Fishing boats landed cod and haddock. Prices fell at the market."],
             ["Weather", "Storms closed the harbour twice in winter. Repairs took a week."]]
    (corpus_dir / "harbour.pdf").write_bytes(make_pdf(pages))
    build(settings_for(corpus_dir, index_dir), embedder=fake_embedder, log=quiet)
    d = layout.current_build_dir(index_dir)
    rows = db_rows(d, "SELECT page, text FROM chunks")
    assert {p for p, _ in rows} == {1, 2, 3}
    assert [p for p, t in rows if "haddock" in t] == [2]


# ------------------------------------------------------------------------ CLI

def test_cli_build_prints_a_summary(corpus_dir, index_dir, seed_path, embedder, monkeypatch,
                                    capsys):
    (corpus_dir / SEED_NAME).write_bytes(seed_path.read_bytes())
    (corpus_dir / "tides.md").write_text(TIDES_MD)
    monkeypatch.setattr(builder.Embedder, "from_settings", lambda s: embedder)  # the loaded model
    code = cli.main(["build", "--corpus", str(corpus_dir), "--index", str(index_dir)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "articles" in out and "chunks" in out
    assert "2 articles" in out
    assert (index_dir / "CURRENT").is_file()
    assert "Traceback" not in err

    code = cli.main(["build", "--corpus", str(corpus_dir), "--index", str(index_dir)])
    out, _ = capsys.readouterr()
    assert code == 0 and "up to date" in out


def test_cli_build_on_empty_corpus_is_one_clear_line(corpus_dir, index_dir, fake_embedder,
                                                     monkeypatch, capsys):
    monkeypatch.setattr(builder.Embedder, "from_settings", lambda s: fake_embedder)
    code = cli.main(["build", "--corpus", str(corpus_dir), "--index", str(index_dir)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Nothing to index" in lines[0] and str(corpus_dir) in lines[0]
    assert "Traceback" not in err
    assert not (index_dir / "CURRENT").exists()


def test_cli_build_uses_environment_paths(corpus_dir, index_dir, fake_embedder, monkeypatch,
                                          capsys):
    """Without flags the CLI uses ASSISTANT_CORPUS_DIR / ASSISTANT_INDEX_DIR (set by conftest)."""
    assert Path(os.environ["ASSISTANT_CORPUS_DIR"]) == corpus_dir
    (corpus_dir / "alpha.md").write_text(ALPHA)
    monkeypatch.setattr(builder.Embedder, "from_settings", lambda s: fake_embedder)
    assert cli.main(["build"]) == 0
    assert "1 articles" in capsys.readouterr().out
    assert (index_dir / "CURRENT").is_file()
