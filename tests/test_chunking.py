"""Chunker invariants: chunks tile their section exactly (join-back), end on sentence boundaries,
fit the token budget, and overlap by at most one sentence."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.chunking import MODEL_MAX_TOKENS, chunk_article, join_chunks, sentence_spans
from assistant.loaders import load_article
from assistant.records import Article, Section, content_id
from assistant.text import embed_prefix
from devtools.fakes import FakeEmbedder

# ------------------------------------------------------------------------ strategies

_VOCAB = ["the", "harbour", "ships", "docked", "at", "noon", "Mr.", "U.S.", "e.g.", "No.", "café",
          "naïve", "Zürich", "中文", "日本語", "😀", "𝔘𝔫𝔦", "ـــ", "don't", "well-known", "3.14",
          "1,000", "(see", "below)", "—", "“quoted”", "…", "x", "A", "IBM", "Dr.", "etc.", "?!",
          "http://example.com/a?b=c", "naïveté", "straße", "ﬁnal", "Ωμέγα", "عربى", "हिन्दी"]
_PIECES = ["a", "b", "ab1", "中", "😀", "é", "ß0", "-", ".", "x", "Q", "𝔘", "9", "0", "A", "2", "zq"]
# "Words" far over any token budget: one repeated or mixed run of characters, no spaces.
_long_word = st.one_of(
    st.tuples(st.sampled_from(_PIECES), st.integers(10, 300)).map(lambda t: t[0] * t[1]),
    st.tuples(st.lists(st.sampled_from(_PIECES), min_size=2, max_size=8).map("".join),
              st.integers(3, 60)).map(lambda t: t[0] * t[1]),
)
# A little arbitrary Unicode (no control characters: loaders remove those).
_odd_word = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=8)
_word = st.one_of(st.sampled_from(_VOCAB), st.sampled_from(_VOCAB), st.sampled_from(_VOCAB),
                  _long_word, _odd_word)


_END = st.sampled_from([". ", ". ", "! ", "? ", "。", "… ", "?\" ", ".) "])
_PARA = object()


@st.composite
def section_texts(draw):
    """Section text as loaders produce it: stripped, paragraphs separated by a blank line, each
    paragraph a run of sentences. Some draws use single or several blank lines between
    paragraphs, tabs or no-break spaces between words (robustness). One flat list keeps
    generation cheap."""
    items = draw(st.lists(st.one_of(_word, _word, _word, _END, st.just(_PARA)),
                          min_size=1, max_size=120))
    sep = draw(st.sampled_from([" ", " ", " ", "  ", "\t", " \u00a0"]))
    para_sep = draw(st.sampled_from(["\n\n", "\n\n", "\n\n", "\n", "\n\n\n\n"]))
    out = ""
    for item in items:
        if item is _PARA:
            out = out.rstrip() + para_sep
        elif item in (". ", "! ", "? ", "。", "… ", "?\" ", ".) "):
            out = out.rstrip() + item
        else:
            out += item + sep
    out = "\n".join(line.strip() for line in out.strip().split("\n"))
    return out if out.strip() else "x."


def _article(texts: list[str], headings: list[tuple[str, ...]] | None = None, title="Test Title"):
    headings = headings or [(f"Section {i}",) if i else () for i in range(len(texts))]
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
            for (_a, b), (a2, _) in zip(c.sentences, c.sentences[1:]):
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

@pytest.mark.heavy
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(section_texts(), min_size=1, max_size=4),
       chunk_tokens=st.sampled_from([16, 24, 40, 80, 200]))
def test_join_back_and_budget_fake_counter(texts, chunk_tokens):
    count = FakeEmbedder().count_tokens
    art = _article(texts)
    chunks = chunk_article(art, count, chunk_tokens)
    check_invariants(art, chunks, count, chunk_tokens)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Found by this test: a long "word" cut by characters gave pieces over the budget, and pieces of
# one word packed together counted fewer word pieces than their joined text.
@example(texts=["0. 000021000000000000000中𝔘0A02A中0A000中0A0002A02A00𝔘."], chunk_tokens=20)
@example(texts=["0000000000000000000000000000000000000000."], chunk_tokens=20)
@given(texts=st.lists(section_texts(), min_size=1, max_size=3),
       chunk_tokens=st.sampled_from([16, 20, 32, 64, 200]))
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
