"""The large-index layout (IVF over float16 codes, int8 sentence vectors), exercised on a small
corpus by lowering the size at which it is chosen: build, open, search, answer, update."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import IndexMismatch
from assistant.index import dense, layout, reuse, snapshot
from assistant.index.builder import build
from assistant.service import Assistant
from devtools.index_db import db_rows
from devtools.reliability_cases import article, quiet, real_named_fake_embedder


@pytest.fixture()
def town_site(tmp_path, monkeypatch):
    monkeypatch.setattr(dense, "FLAT_LIMIT", 100)
    corpus = tmp_path / "corpus"  # made by conftest's autouse fixture
    corpus.mkdir(exist_ok=True)
    for i in range(60):
        (corpus / f"town-{i:03d}.txt").write_text(article(i), encoding="utf-8")
    s = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    return {"settings": s, "corpus": corpus, "index": tmp_path / "index",
            "emb": real_named_fake_embedder()}


def _vectors_by_text(b: snapshot.Snapshot, emb) -> tuple[np.ndarray, np.ndarray]:
    """(stored chunk vectors, what the embedder gives for each row's text)."""
    return b.dense.vectors(np.arange(b.dense.count)), emb.encode_queries(reuse.chunk_texts(b))


def _sentence_vectors_of(b: snapshot.Snapshot, source: str) -> dict[str, np.ndarray]:
    rows = db_rows(b.path, "SELECT c.id, c.sent_lo, c.sent_hi FROM chunk_rows c JOIN articles a "
                           "ON a.id = c.article_id WHERE a.source = ?", (source,))
    return {cid: np.asarray(b.sentence_vectors[lo:hi]) for cid, lo, hi in rows}


def test_large_layout_builds_searches_and_updates(town_site):
    s, emb = town_site["settings"], town_site["emb"]
    first = build(s, embedder=emb, log=quiet)
    assert first.chunks > 100
    b = snapshot.Snapshot(town_site["index"], emb.name, emb.dim)
    try:
        m = b.manifest
        assert m["faiss"]["type"] == "IVF-SQfp16" and m["sentence_vectors"] == "int8"
        assert m["section_text"] == "zlib"
        assert {type(t) for (t,) in db_rows(b.path, "SELECT text FROM sections")} == {bytes}
        assert "sentence_scales.npy" in m["files"]
        assert m["faiss"]["nprobe"] == m["faiss"]["nlist"] == b.dense.index.nlist  # small: all lists
        stored, want = _vectors_by_text(b, emb)
        assert np.abs(stored - want).max() < 2e-3  # float16 codes of the embedder's vectors
        # Searching the IVF gives the exact top 10 (every list is probed here).
        for q in emb.encode_queries(["harbour town founded by traders", "ferry to the islands"]):
            scores, ids = b.dense.search(q[None, :], 10)
            exact = np.sort(want @ q)[::-1][:10]  # (towns tie: compare the scores, not the ids)
            assert np.allclose(scores[0], exact, atol=2e-3) and len(set(ids[0])) == 10
        sv = np.asarray(b.sentence_vectors, dtype=np.float32)
        assert sv.shape == (m["counts"]["sentences"], 384)
        assert np.allclose(np.linalg.norm(sv, axis=1), 1.0, atol=2e-2)
        before = _sentence_vectors_of(b, "town-007.txt")
    finally:
        b.close()
    a = Assistant.open(settings=s, embedder=emb)
    ans = a.ask("How many residents does Quillhaven7 have?")
    assert ans.passages[0].source == "town-007.txt" and "1259 residents" in ans.passages[0].chunk.text

    # An update: two files added, one removed. Kept codes are copied (not recomputed), new
    # chunks added, rows renumbered; every row still holds its own text's vector.
    corpus = town_site["corpus"]
    (corpus / "town-003.txt").unlink()
    for i in (60, 61):
        (corpus / f"town-{i:03d}.txt").write_text(article(i), encoding="utf-8")
    emb.calls = 0
    second = build(s, embedder=emb, log=quiet)
    assert second.reused_files == 59 and second.parsed_files == 2 and second.removed_files == 1
    assert 0 < second.embedded_chunks == emb.calls < 10
    b = snapshot.Snapshot(town_site["index"], emb.name, emb.dim)
    try:
        assert b.dense.count == second.chunks == first.chunks + second.embedded_chunks - (
            first.chunks // 60)
        stored, want = _vectors_by_text(b, emb)
        assert np.abs(stored - want).max() < 2e-3
        assert "town-003.txt" not in b.sources() and "town-061.txt" in b.sources()
        after = _sentence_vectors_of(b, "town-007.txt")  # copied codes: the very same values
        assert before.keys() == after.keys() and all(
            np.array_equal(before[k], after[k]) for k in before)
    finally:
        b.close()
    ans = a.ask("How many residents does Quillhaven61 have?")  # the open Assistant follows
    assert ans.passages[0].source == "town-061.txt" and "3257 residents" in ans.passages[0].chunk.text
    assert a.ask("How many residents does Quillhaven7 have?").passages[0].source == "town-007.txt"


def test_large_layout_damage_is_refused(town_site):
    s, emb = town_site["settings"], town_site["emb"]
    build(s, embedder=emb, log=quiet)
    d = layout.current_build_dir(town_site["index"])
    scales = d / "sentence_scales.npy"
    scales.write_bytes(scales.read_bytes()[:-8])
    with pytest.raises(IndexMismatch, match="sentence_scales.npy is damaged"):
        snapshot.Snapshot(town_site["index"], emb.name, emb.dim)
    logs: list[str] = []
    build(s, embedder=emb, log=logs.append)  # the next build replaces it
    assert any("not reusable" in line for line in logs)
    snapshot.Snapshot(town_site["index"], emb.name, emb.dim).close()


@pytest.mark.heavy
def test_the_question_path_reads_the_database_by_index_only(town_site):
    """Every statement the ask path sends to SQLite (chunks, sentences, sections, articles, the
    article filter) is answered through an index: no full scan, whatever the archive's size."""
    s, emb = town_site["settings"], town_site["emb"]
    build(s, embedder=emb, log=quiet)
    a = Assistant.open(settings=s, embedder=emb)
    b = a.current().snapshot
    statements: list[str] = []
    b.db.set_trace_callback(statements.append)
    a.ask("How many residents does Quillhaven7 have?")
    a.ask("When was it founded?", history=["How many residents does Quillhaven7 have?"])
    a.ask("Which town has a ferry?", sources=["town-007.txt", "town-008.txt"])
    a.article(b.chunks([5])[5][1]["id"])
    b.db.set_trace_callback(None)
    selects = {x for x in statements if x.lstrip().upper().startswith("SELECT")}
    assert len(selects) >= 4
    for sql in selects:
        plan = " | ".join(r[3] for r in b.db.execute("EXPLAIN QUERY PLAN " + sql))
        scans = [p for p in plan.split(" | ") if p.startswith("SCAN") and "USING" not in p
                 and "LIST SUBQUERY" not in p and "CONSTANT ROW" not in p]
        assert not scans, (sql, plan)


def test_section_text_is_repacked_when_a_build_crosses_the_limit(town_site, monkeypatch):
    """Small builds store section text as text (with the `chunks` view), large ones compressed;
    an update that crosses the limit converts the kept sections, either way."""
    s, emb, corpus = town_site["settings"], town_site["emb"], town_site["corpus"]
    monkeypatch.setattr(dense, "FLAT_LIMIT", 10_000)
    build(s, embedder=emb, log=quiet)

    def check(packing: str) -> None:
        b = snapshot.Snapshot(town_site["index"], emb.name, emb.dim)
        try:
            assert b.manifest["section_text"] == packing
            kinds = {type(t) for (t,) in db_rows(b.path, "SELECT text FROM sections")}
            assert kinds == ({str} if packing == "text" else {bytes})
            has_view = bool(db_rows(
                b.path, "SELECT 1 FROM sqlite_master WHERE name = 'chunks'"))
            assert has_view == (packing == "text")
            _, sections = b.article(
                next(a["id"] for a in b.articles.values() if a["source"] == "town-007.txt"))
            assert "1259 residents" in sections[0].text
            assert any("Quillhaven7 " in t for t in reuse.chunk_texts(b))
        finally:
            b.close()

    check("text")
    monkeypatch.setattr(dense, "FLAT_LIMIT", 100)
    (corpus / "town-060.txt").write_text(article(60), encoding="utf-8")
    build(s, embedder=emb, log=quiet)
    check("zlib")
    ans = Assistant.open(settings=s, embedder=emb).ask("How many residents does Quillhaven7 have?")
    assert ans.passages[0].source == "town-007.txt" and "1259 residents" in ans.passages[0].chunk.text
    monkeypatch.setattr(dense, "FLAT_LIMIT", 10_000)
    (corpus / "town-061.txt").write_text(article(61), encoding="utf-8")
    build(s, embedder=emb, log=quiet)
    check("text")
