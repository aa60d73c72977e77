"""Chunker invariants: chunks tile their section exactly (join-back), end on sentence boundaries,
fit the token budget, and overlap by at most one sentence."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.chunking import (MODEL_MAX_TOKENS, chunk_article, embed_prefix, join_chunks,
                                sentence_spans)
from assistant.loaders import load_article
from assistant.records import Article, Section, content_id
from conftest import FakeEmbedder

# ------------------------------------------------------------------------ strategies

_WORD_CHARS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789")
                              + list("éüßçñøåœæ") + list("中文字日本語") + ["😀", "𝔘", "ـ", "ß"])
_word = st.text(_WORD_CHARS, min_size=1, max_size=12)
_long_word = st.text(_WORD_CHARS, min_size=40, max_size=900)  # "words" over any budget
_punct_word = st.text(st.sampled_from(list("!?.,;:-()[]\"'“”…")), min_size=1, max_size=30)


@st.composite
def _sentence(draw):
    words = draw(st.lists(st.one_of(_word, _word, _word, _word, _long_word, _punct_word),
                          min_size=1, max_size=40))
    seps = draw(st.lists(st.sampled_from([" ", " ", " ", "  ", "\t", " \u00a0"]),
                         min_size=len(words), max_size=len(words)))
    body = "".join(w + s for w, s in zip(words, seps)).strip()
    end = draw(st.sampled_from([".", ".", "!", "?", "", "…", "。", "?\""]))
    return (body + end) if body else "x."


_paragraph = st.lists(_sentence(), min_size=1, max_size=12).map(" ".join)


@st.composite
def section_texts(draw):
    """Section text as loaders produce it: stripped, paragraphs separated by a blank line.
    Some draws contain extra blank lines and unusual spacing (a robustness bonus)."""
    paras = draw(st.lists(_paragraph, min_size=1, max_size=6))
    sep = draw(st.sampled_from(["\n\n", "\n\n", "\n\n", "\n", "\n\n\n\n"]))
    text = sep.join(p.strip() for p in paras).strip()
    return text or "x."


def _article(texts: list[str], headings: list[tuple[str, ...]] | None = None, title="Test Title"):
    headings = headings or [("Section %d" % i,) if i else () for i in range(len(texts))]
    return Article(id=content_id("t.txt"), title=title, source="t.txt",
                   sections=tuple(Section(h, t) for h, t in zip(headings, texts)))


def check_invariants(article: Article, chunks, count, budget):
    by_section: dict[int, list] = {}
    for c in chunks:
        by_section.setdefault(c.section_index, []).append(c)
    # Every non-empty section has chunks; chunks come in section order.
    assert sorted(by_section) == list(range(len(article.sections)))
    assert [c.section_index for c in chunks] == sorted(c.section_index for c in chunks)
    for si, sec_chunks in by_section.items():
        text = article.sections[si].text
        assert join_chunks(sec_chunks) == text
        assert sec_chunks[0].start == 0 and sec_chunks[-1].end == len(text)
        for c in sec_chunks:
            assert c.text == text[c.start:c.end]
            assert c.heading_path == article.sections[si].heading_path
            assert c.sentences, "a chunk without sentences"
            assert c.ntokens <= budget
            assert count([c.text])[0] <= budget, (c.ntokens, c.text[:80])
            # Sentences are ordered, non-overlapping and inside the chunk.
            for (a, b), (a2, _) in zip(c.sentences, c.sentences[1:]):
                assert b <= a2
            # Chunks end on a sentence boundary: only white space after the last sentence.
            assert not text[c.sentences[-1][1]:c.end].strip()
        for prev, nxt in zip(sec_chunks, sec_chunks[1:]):
            assert nxt.start > prev.start and nxt.end > prev.end
            assert nxt.start <= prev.end  # no gap (join-back needs it)
            shared = [s for s in nxt.sentences if s in prev.sentences]
            assert len(shared) <= 1
            inside = [s for s in nxt.sentences if s[0] < prev.end]
            assert inside == shared
            if shared:
                assert shared == [prev.sentences[-1]] == [nxt.sentences[0]]


# ------------------------------------------------------------------------ property tests

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(section_texts(), min_size=1, max_size=4),
       chunk_tokens=st.sampled_from([16, 24, 40, 80, 200]))
def test_join_back_and_budget_fake_counter(texts, chunk_tokens):
    count = FakeEmbedder().count_tokens
    art = _article(texts)
    chunks = chunk_article(art, count, chunk_tokens)
    check_invariants(art, chunks, count, chunk_tokens)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(section_texts(), min_size=1, max_size=3),
       chunk_tokens=st.sampled_from([20, 64, 200]))
def test_join_back_and_budget_real_tokenizer(embedder, texts, chunk_tokens):
    count = embedder.count_tokens
    art = _article(texts)
    chunks = chunk_article(art, count, chunk_tokens)
    check_invariants(art, chunks, count, chunk_tokens)


# ------------------------------------------------------------------------ examples

def test_sentence_spans_cover_only_sentences():
    text = "First one. Second one!\n\nThird paragraph here? Yes."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "First one.", "Second one!", "Third paragraph here?", "Yes."]


def test_overlap_is_one_sentence():
    sents = [f"Sentence number {i} has some words in it." for i in range(30)]
    art = _article([" ".join(sents)])
    count = FakeEmbedder().count_tokens
    chunks = chunk_article(art, count, 40)
    assert len(chunks) > 3
    check_invariants(art, chunks, count, 40)
    overlapping = sum(1 for p, n in zip(chunks, chunks[1:]) if n.start < p.end)
    assert overlapping >= len(chunks) // 2  # the overlap is used, not just permitted


def test_chunks_never_cross_sections():
    art = _article(["Alpha one. Alpha two.", "Beta one. Beta two.", "Gamma."])
    chunks = chunk_article(art, FakeEmbedder().count_tokens, 200)
    assert [(c.section_index, c.text) for c in chunks] == [
        (0, "Alpha one. Alpha two."), (1, "Beta one. Beta two."), (2, "Gamma.")]


def test_chunk_ids_depend_on_content_only():
    a = chunk_article(_article(["Same text here. And more."]), FakeEmbedder().count_tokens)
    b = chunk_article(_article(["Same text here. And more."]), FakeEmbedder().count_tokens)
    c = chunk_article(_article(["Other text here. And more."]), FakeEmbedder().count_tokens)
    assert [x.id for x in a] == [x.id for x in b]
    assert a[0].id != c[0].id


def test_long_heading_prefix_shrinks_the_budget(embedder):
    """A huge heading path still leaves chunk + prefix within the model limit."""
    heading = ("Word " * 200).strip()
    text = " ".join(f"Sentence {i} talks about the harbour and its ships." for i in range(80))
    art = _article([text], headings=[(heading,)])
    chunks = chunk_article(art, embedder.count_tokens, 200)
    for c in chunks:
        assert c.ntokens <= MODEL_MAX_TOKENS - 2 - 48
        assert join_chunks(chunks) == text


# ------------------------------------------------------------------------ the seed article

@pytest.fixture(scope="module")
def seed_chunks(seed_path, embedder):
    art = load_article(seed_path, seed_path.name)
    return art, chunk_article(art, embedder.count_tokens, 200)


def test_seed_chunks_fit_the_model_with_prefix(seed_chunks, embedder):
    art, chunks = seed_chunks
    assert len(chunks) >= len(art.sections)
    for c in chunks:
        embedded = embed_prefix(art.title, c.heading_path) + c.text
        ids = embedder.tokenizer(embedded, add_special_tokens=True, truncation=False)["input_ids"]
        assert len(ids) <= MODEL_MAX_TOKENS, (len(ids), c.text[:60])
        assert c.ntokens == embedder.count_tokens([c.text])[0]


def test_seed_chunks_join_back(seed_chunks, embedder):
    art, chunks = seed_chunks
    check_invariants(art, chunks, embedder.count_tokens, 200)


def test_seed_heading_prefix_not_in_chunk_text(seed_chunks):
    art, chunks = seed_chunks
    for c in chunks:
        assert not c.text.startswith(art.title)
        for h in c.heading_path:
            assert h not in c.text
        prefix = embed_prefix(art.title, c.heading_path)
        assert prefix not in c.text
        assert art.title in prefix and all(h in prefix for h in c.heading_path)
    assert chunks[0].heading_path == ()
    assert chunks[0].text.startswith("In a decisive move")
