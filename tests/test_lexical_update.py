"""The lexical index is updated from the previous build's stored entries (only new and removed
text is tokenized), and comes out exactly as a build from scratch would: same BM25 scores for
every section, same idf for every word, on kept, changed, removed and added articles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.config import Settings
from assistant.index import format as index_format
from assistant.index import layout, lexical, snapshot
from assistant.index.builder import build
from assistant.text import tokenize
from devtools.index_db import as_format_3 as _as_format_3
from devtools.index_db import db_rows
from devtools.reliability_cases import article, quiet, real_named_fake_embedder

QUESTIONS = ["harbour town residents", "cod and herring fleet", "history of the town founded",
             "Quillhaven7 lighthouse", "ferry timetable islands", "zzzzunknown words only"]


def _site(tmp_path, name: str, articles: dict[str, str]) -> Settings:
    corpus = tmp_path / name / "corpus"
    corpus.mkdir(parents=True)
    for fname, text in articles.items():
        (corpus / fname).write_text(text, encoding="utf-8")
    return Settings().replace(corpus_dir=corpus, index_dir=tmp_path / name / "index")


def _by_section(b: snapshot.Snapshot) -> dict[tuple, np.ndarray]:
    """Section key (source, section ord) -> BM25 score per question."""
    keys = [(src, o) for src, o in db_rows(
        b.path, "SELECT a.source, s.ord FROM sections s JOIN articles a ON a.id = s.article_id "
        "ORDER BY s.id")]
    cols = [lexical.scores(b.section_lexical, toks) if toks else np.zeros(len(keys), np.float32)
            for toks in tokenize(QUESTIONS, query=True)]
    return {k: np.array([c[i] for c in cols]) for i, k in enumerate(keys)}


def _idf(b: snapshot.Snapshot) -> dict[str, float]:
    return {t: b.idf.get(t) for t in b.section_lexical.vocab_dict if b.idf.get(t) is not None}


def _same_as_scratch(tmp_path, updated: snapshot.Snapshot, corpus, emb) -> None:
    fresh_settings = Settings().replace(corpus_dir=corpus, index_dir=tmp_path / "scratch-index")
    build(fresh_settings, embedder=emb, log=quiet)
    fresh = snapshot.Snapshot(tmp_path / "scratch-index", emb.name, emb.dim)
    try:
        got, want = _by_section(updated), _by_section(fresh)
        assert got.keys() == want.keys()
        assert all(np.array_equal(got[k], want[k]) for k in want)
        assert _idf(updated) == _idf(fresh)
        assert updated.idf.max == fresh.idf.max
        assert sum(any(v > 0) for v in want.values()) > 10  # the questions do hit sections
    finally:
        fresh.close()


@pytest.mark.parametrize("stored_entries", [True, False])
def test_update_equals_a_build_from_scratch(tmp_path, monkeypatch, stored_entries):
    emb = real_named_fake_embedder()
    s = _site(tmp_path, "site", {f"town-{i:03d}.txt": article(i) for i in range(30)})
    build(s, embedder=emb, log=quiet)
    if not stored_entries:  # a previous build without them (as format 3 has): from text
        d = layout.current_build_dir(s.index_dir)
        (d / "lexical" / "doclen.npy").unlink()
        manifest = index_format.read_manifest(d, records=False)
        del manifest["files"]["lexical/doclen.npy"]
        (d / "manifest.json").write_text(json.dumps(manifest))
    tokenized = []
    real = lexical._tokenized
    monkeypatch.setattr(lexical, "_tokenized",
                        lambda texts, vocab: tokenized.append(len(texts)) or real(texts, vocab))
    corpus = s.corpus_dir
    for i in (3, 11, 20):  # removed
        (corpus / f"town-{i:03d}.txt").unlink()
    (corpus / "town-005.txt").write_text(article(5, " A lighthouse was built in 1901."))  # changed
    for i in range(30, 34):  # added
        (corpus / f"town-{i:03d}.txt").write_text(article(i))
    report = build(s, embedder=emb, log=quiet)
    assert report.articles == 31
    b = snapshot.Snapshot(s.index_dir, emb.name, emb.dim)
    try:
        n_new = sum(tokenized)
        if stored_entries:
            # Only the changed and added articles' sections and chunks, and the removed and
            # changed articles' old chunks, were read: far from the 31 articles' text.
            assert n_new < b.manifest["counts"]["chunks"] // 2
        else:
            assert n_new >= b.manifest["counts"]["chunks"]
        _same_as_scratch(tmp_path, b, corpus, emb)
    finally:
        b.close()


def test_stored_entries_are_checked_on_opening(tmp_path):
    emb = real_named_fake_embedder()
    s = _site(tmp_path, "site", {f"town-{i:03d}.txt": article(i) for i in range(5)})
    build(s, embedder=emb, log=quiet)
    d = layout.current_build_dir(s.index_dir)
    doclen = np.load(d / "lexical" / "doclen.npy")
    np.save(d / "lexical" / "doclen.npy", doclen[:-1])  # a consistent file of the wrong length
    manifest = index_format.read_manifest(d, records=False)
    manifest["files"]["lexical/doclen.npy"] = (d / "lexical" / "doclen.npy").stat().st_size
    (d / "manifest.json").write_text(json.dumps(manifest))
    from assistant.errors import IndexMismatch

    with pytest.raises(IndexMismatch, match="lexical index and database disagree"):
        snapshot.Snapshot(s.index_dir, emb.name, emb.dim)
    # The next build repairs it from the text.
    build(s, embedder=emb, log=quiet, full=False)
    (s.corpus_dir / "town-009.txt").write_text(article(9))
    build(s, embedder=emb, log=quiet)
    snapshot.Snapshot(s.index_dir, emb.name, emb.dim).close()


def test_lexical_index_matches_bm25s_on_real_text():
    """The numpy scoring writes what bm25s's own indexing computes, bit for bit."""
    texts = [article(i) for i in range(40)] + ["", "the and of", "Cod cod COD herring."]
    ref = lexical.build_index(texts)
    lex = lexical.LexicalIndex()
    lex.add_sections(texts)
    lex.add_chunks(texts)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        lex.save(Path(d) / "lex")
        import bm25s

        mine = bm25s.BM25.load(str(Path(d) / "lex"), mmap=False, show_progress=False)
        for toks in tokenize(QUESTIONS + ["cod"], query=True):
            if toks:
                assert np.array_equal(lexical.scores(ref, toks), lexical.scores(mine, toks))
        idf = lexical.Idf(mine.vocab_dict, np.load(Path(d) / "lex" / "chunk_df.npy"), len(texts))
    n, df = ref.scores["num_docs"], np.diff(ref.scores["indptr"])
    want = {t: float(np.log(1 + (n - df[i] + 0.5) / (df[i] + 0.5)))
            for t, i in ref.vocab_dict.items() if t}
    assert {t: idf.get(t) for t in want} == want
    assert idf.get("neverseenword") is None and idf.max == max(want.values())


def test_term_frequencies_come_back_from_the_scores(tmp_path):
    """tf.npy is written only when inverting the scores would not give every tf back exactly;
    a long section with a very frequent term is the hard case."""
    texts = [article(i) for i in range(20)] + [("herring " * 3000) + "cod " * 7, "cod"]
    lex = lexical.LexicalIndex()
    lex.add_sections(texts)
    lex.add_chunks(texts)
    lex.save(tmp_path / "lex")
    assert not (tmp_path / "lex" / "tf.npy").exists()
    p = lexical.Postings.load(tmp_path / "lex", len(texts))
    docs, terms = lexical._tokenized(texts, dict(p.vocab))
    t, d, tf = lexical._counted(docs, terms)
    want = {(int(a), int(b)): int(c) for a, b, c in zip(t, d, tf)}
    got = {(int(a), int(b)): int(c) for a, b, c in zip(p.term_ids(), p.docs, p.tf)}
    assert got == want and max(got.values()) == 3000


def test_a_format_3_index_is_updated_by_a_plain_build_reusing_its_vectors(tmp_path):
    from assistant.errors import IndexMismatch
    from assistant.index.status import index_state

    emb = real_named_fake_embedder()
    s = _site(tmp_path, "site", {f"town-{i:03d}.txt": article(i) for i in range(12)})
    first = build(s, embedder=emb, log=quiet)
    _as_format_3(s.index_dir)
    with pytest.raises(IndexMismatch, match="update it with `assistant build`") as err:
        snapshot.Snapshot(s.index_dir, emb.name, emb.dim)
    assert err.value.full is False and index_state(s).problem.full is False
    calls = emb.calls
    again = build(s, embedder=emb, log=quiet)
    assert not again.up_to_date and again.reused_files == 12
    assert again.embedded_chunks == 0 and emb.calls == calls  # no vector computed again
    b = snapshot.Snapshot(s.index_dir, emb.name, emb.dim)
    try:
        assert b.manifest["format_version"] == index_format.FORMAT_VERSION
        assert b.n_chunks == first.chunks
        _same_as_scratch(tmp_path, b, s.corpus_dir, emb)
    finally:
        b.close()


def test_a_term_more_frequent_than_65535_survives_updates(tmp_path):
    texts = ["zebra " * 70_000 + "lion", "lion tiger"]
    lex = lexical.LexicalIndex()
    lex.add_sections(texts)
    lex.add_chunks(texts)
    lex.save(tmp_path / "a")
    again = lexical.LexicalIndex(lexical.Postings.load(tmp_path / "a", 2), np.ones(2, bool))
    again.save(tmp_path / "b")
    for name in ("data.csc.index.npy", "indices.csc.index.npy", "chunk_df.npy"):
        assert np.array_equal(np.load(tmp_path / "a" / name), np.load(tmp_path / "b" / name))


def test_an_index_without_terms_answers_zero_scores(tmp_path):
    import bm25s

    lex = lexical.LexicalIndex()
    lex.add_sections(["the and of", "a"])
    lex.add_chunks(["the and of", "a"])
    lex.save(tmp_path / "lex")
    index = bm25s.BM25.load(str(tmp_path / "lex"), mmap=True, show_progress=False)
    assert lexical.scores(index, ["harbour"]).tolist() == [0.0, 0.0]
