"""Retrieval logic: section-level BM25, pseudo-relevance feedback past the head of the ranking,
and reading an index of the previous format. The fake embedder keeps these fast; the real model
runs the same code in test_answers.py and in `assistant eval beir` (BENCHMARKS.md)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from assistant.config import Settings
from assistant.index import format as index_format
from assistant.index import layout, snapshot
from assistant.index.builder import build
from assistant.retrieval import DEFAULT_FUSION, Retriever
from assistant.text import tokenize
from devtools.index_db import db_rows

WORDS = ("river stone cloud maple harbor lantern copper meadow falcon quartz orchard glacier "
         "violet timber canyon ember willow marble thunder saffron").split()


def _settings(corpus, index, **kw) -> Settings:
    return Settings().replace(corpus_dir=corpus, index_dir=index, **kw)


def _quiet(_msg: str) -> None:
    pass


def _open(index_dir, emb) -> snapshot.Snapshot:
    return snapshot.Snapshot(index_dir, emb.name, emb.dim)


LONG_SECTION = """# Field Notes

## Orchard Survey

The zanzibarite sample was found under the old orchard wall. {filler}

## Harbor Survey

The harbor boats were counted at dawn. {filler2}
"""


def _long_article(corpus):
    filler = " ".join(f"The {w} path runs past the {WORDS[(i + 3) % len(WORDS)]} gate."
                      for i, w in enumerate(WORDS))
    filler2 = " ".join(f"A {w} boat carries {WORDS[(i + 5) % len(WORDS)]} crates."
                       for i, w in enumerate(WORDS))
    (corpus / "notes.md").write_text(LONG_SECTION.format(filler=filler, filler2=filler2))


def test_section_bm25_scores_every_chunk_of_the_section(corpus_dir, index_dir, fake_embedder):
    _long_article(corpus_dir)
    build(_settings(corpus_dir, index_dir, chunk_tokens=40), embedder=fake_embedder, log=_quiet)
    b = _open(index_dir, fake_embedder)
    try:
        heads = [json.loads(r[0])[-1] for r in db_rows(
            b.path, "SELECT s.heading_path FROM chunks c JOIN sections s ON s.id = c.section_id ORDER BY c.row")]
        orchard = np.array([h == "Orchard Survey" for h in heads])
        assert orchard.sum() >= 3, "the section should span several chunks"
        toks = tokenize(["Where was the zanzibarite sample found?"], query=True)[0]

        section = Retriever(b)  # the default: section level
        _, _, by_section = section.lexical_scores(toks, None, 10)
        assert np.all(by_section[orchard] > 0)
        assert np.allclose(by_section[orchard], by_section[orchard][0])
        assert np.all(by_section[~orchard] == 0)

        chunk = Retriever(b, dataclasses.replace(DEFAULT_FUSION, lexical_level="chunk"))
        _, _, by_chunk = chunk.lexical_scores(toks, None, 10)
        # Only the chunk with the rare word scores at chunk level; the section lends its score
        # to the chunks around it.
        assert (by_chunk[orchard] > 0).sum() == 1
        # A sources filter still masks chunks of other articles at section level.
        _, _, masked = section.lexical_scores(toks, np.array([], dtype=np.int64), 10)
        assert np.all(masked < 0)
    finally:
        b.close()


def _many_sections(corpus, n_files=6, n_sections=8):
    rng = np.random.default_rng(7)
    for f in range(n_files):
        parts = [f"# Article {f}\n"]
        for s in range(n_sections):
            words = rng.choice(WORDS, size=14)
            parts.append(f"## Part {f}-{s}\n\n" + " ".join(words).capitalize() + ".\n")
        (corpus / f"a{f}.md").write_text("\n".join(parts))


def test_feedback_keeps_the_head_and_fills_the_tail(corpus_dir, index_dir, fake_embedder):
    _many_sections(corpus_dir)
    build(_settings(corpus_dir, index_dir), embedder=fake_embedder, log=_quiet)
    b = _open(index_dir, fake_embedder)
    try:
        assert b.n_chunks >= 45
        f = DEFAULT_FUSION
        assert f.feedback_weight > 0 and f.feedback_after == 20
        with_fb = Retriever(b, f)
        without = Retriever(b, dataclasses.replace(f, feedback_weight=0.0))
        q = "copper lantern near the glacier orchard"
        qv = fake_embedder.encode_queries([q])[0]
        toks = tokenize([q], query=True)[0]

        # Up to the head's length, feedback changes nothing.
        assert with_fb.search(qv, toks, k=20) == without.search(qv, toks, k=20)

        k = 40
        plain = without.search(qv, toks, k=k)
        ranked = with_fb.search(qv, toks, k=k)
        assert ranked[:20] == plain[:20]
        rows = [r for r, *_ in ranked]
        assert len(rows) == len(set(rows)) == k
        scores = [s for _, s, _, _ in ranked]
        assert all(a > b for a, b in zip(scores, scores[1:])), "score order is rank order"
        # The outcome of feedback, not its formula: the tail moves towards the head's top
        # passages (closer to their centroid on average than the tail without feedback), and
        # the head's order is untouched.
        vecs = b.dense.vectors(np.arange(b.n_chunks))
        centroid = vecs[rows[: f.feedback_passages]].mean(axis=0)
        plain_rows = [r for r, *_ in plain]
        assert set(rows[20:]).isdisjoint(rows[:20])
        assert float((vecs[rows[20:]] @ centroid).mean()) > float(
            (vecs[plain_rows[20:]] @ centroid).mean())
        _, _, all_lex = with_fb.lexical_scores(toks, None, k)
        assert rows[20:] != [r for r, *_ in plain[20:]], "feedback should reorder this tail"
        # Its reported dense score is the question's own, not the moved query's.
        for r, _, d, lx in ranked[20:]:
            assert d == pytest.approx(float(vecs[r] @ qv), abs=1e-5)
            assert lx == pytest.approx(float(all_lex[r]))
    finally:
        b.close()


def test_feedback_only_in_hybrid_mode(corpus_dir, index_dir, fake_embedder):
    _many_sections(corpus_dir)
    build(_settings(corpus_dir, index_dir), embedder=fake_embedder, log=_quiet)
    b = _open(index_dir, fake_embedder)
    try:
        q = "falcon timber canyon"
        qv = fake_embedder.encode_queries([q])[0]
        toks = tokenize([q], query=True)[0]
        with_fb = Retriever(b)
        without = Retriever(b, dataclasses.replace(DEFAULT_FUSION, feedback_weight=0.0))
        for mode in ("dense", "lexical"):
            assert with_fb.search(qv, toks, k=40, mode=mode) == without.search(qv, toks, k=40, mode=mode)
    finally:
        b.close()


def test_previous_format_is_refused_and_the_next_build_replaces_it(corpus_dir, index_dir,
                                                                   fake_embedder):
    """A build of format 2 (one JSON manifest naming every file, float32 flat vectors only) is
    refused with the one rebuild message; the next plain build rebuilds it in the new format."""
    _many_sections(corpus_dir, n_files=2)
    s = _settings(corpus_dir, index_dir)
    first = build(s, embedder=fake_embedder, log=_quiet)
    d = layout.current_build_dir(index_dir)
    m = json.loads((d / "manifest.json").read_text())
    m["format_version"] = 2
    (d / "manifest.json").write_text(json.dumps(m))
    from assistant.errors import IndexMismatch
    from assistant.index.status import index_state

    with pytest.raises(IndexMismatch, match=f"format version 2, this program reads {index_format.FORMAT_VERSION}") as err:
        _open(index_dir, fake_embedder)
    assert "rebuild it with `assistant build --full`" in str(err.value)
    assert "format version 2" in index_state(s).stale

    calls = fake_embedder.calls
    logs: list[str] = []
    again = build(s, embedder=fake_embedder, log=logs.append)
    assert not again.up_to_date, "a build of the old format is never up to date"
    assert again.embedded_chunks == first.chunks and fake_embedder.calls == calls + first.chunks
    assert any("previous index not reusable" in line for line in logs), logs
    assert layout.current_build_dir(index_dir) != d
    b = _open(index_dir, fake_embedder)
    try:
        assert b.manifest["format_version"] == index_format.FORMAT_VERSION
        assert b.n_chunks == first.chunks
        assert b.section_lexical.scores["num_docs"] == first.sections
    finally:
        b.close()
