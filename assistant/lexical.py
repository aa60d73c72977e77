"""BM25 over chunks (bm25s, Snowball stemming, English stop words) and the idf table it implies."""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

# Tuned on SciFact train (benchmarks/tune_fusion.py); recorded in each build's manifest.
BM25_PARAMS = {"k1": 1.5, "b": 0.4, "method": "lucene"}


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _query_stopwords() -> list[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return sorted(set(STOPWORDS_EN_PLUS) | {"tell", "say", "said", "says", "according"})


def tokenize(texts: Sequence[str], query: bool = False) -> list[list[str]]:
    """Stemmed terms. Documents drop the short Lucene stop list; questions drop a longer one
    ("what", "did", "who", ...), whose words say what is asked, not what it is about."""
    import bm25s

    stop = _query_stopwords() if query else "en"
    return bm25s.tokenize(list(texts), stopwords=stop, stemmer=_stemmer(), return_ids=False,
                          show_progress=False)


def build_index(texts: Sequence[str], params: dict | None = None):
    import bm25s

    p = {**BM25_PARAMS, **(params or {})}
    retriever = bm25s.BM25(k1=p["k1"], b=p["b"], method=p["method"])
    corpus = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
    retriever.index(corpus, show_progress=False)
    return retriever


def idf_table(retriever) -> dict[str, float]:
    """Robertson idf per stemmed term, from the document frequencies in the BM25 matrix."""
    n = retriever.scores["num_docs"]
    df = np.diff(retriever.scores["indptr"])
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    return {t: float(idf[i]) for t, i in retriever.vocab_dict.items() if i < len(idf) and t}


def scores(retriever, query_tokens: list[str]) -> np.ndarray:
    if not query_tokens:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return np.asarray(retriever.get_scores(query_tokens), dtype=np.float32)
