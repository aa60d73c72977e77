"""assistant.text writes out bm25s's tokenizer (so that only the index imports bm25s): the two
must give the same terms, or questions would stop matching the index's vocabulary."""

from __future__ import annotations

import bm25s
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_EN_PLUS
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import text

SAMPLES = [
    "What did the Mexican government say about cross-border crime in 2009?",
    "The quick brown fox's jumped, over 12 lazy dogs; Ärger über Zölle, naïve café owners.",
    "", "a an the", "Running runners ran; U.S. officials' meetings (1990s) — e.g. x2 and X-ray",
]


def _bm25s(texts, query):
    stop = sorted(text.QUERY_STOPWORDS) if query else "en"
    return bm25s.tokenize(list(texts), stopwords=stop, stemmer=text.stemmer(),
                          return_ids=False, show_progress=False)


def test_stop_word_lists_are_bm25s_own():
    assert set(STOPWORDS_EN) == text.STOPWORDS_EN
    assert set(STOPWORDS_EN_PLUS) == text.STOPWORDS_EN_PLUS
    assert text.QUERY_STOPWORDS > text.STOPWORDS_EN_PLUS


def test_tokenize_matches_bm25s_on_samples():
    for query in (False, True):
        assert text.tokenize(SAMPLES, query=query) == _bm25s(SAMPLES, query)
    assert text.tokenize(["What did they say?"], query=True) == [[]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=6), st.booleans())
def test_tokenize_matches_bm25s_on_any_text(texts, query):
    assert text.tokenize(texts, query=query) == _bm25s(texts, query)
