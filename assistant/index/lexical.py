"""BM25 (bm25s, Snowball stemming, English stop words): the stored section index and its
incremental update, and the idf table the answer step uses. Questions are tokenized by
assistant.text.tokenize, the same tokenizer written out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..text import stemmer

# Tuned on SciFact train (benchmarks/tune_fusion.py); recorded in each build's manifest.
BM25_PARAMS = {"k1": 1.5, "b": 0.4, "method": "lucene"}


def build_index(texts: Sequence[str], params: dict | None = None):
    import bm25s

    p = {**BM25_PARAMS, **(params or {})}
    retriever = bm25s.BM25(k1=p["k1"], b=p["b"], method=p["method"])
    corpus = bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer(), show_progress=False)
    retriever.index(corpus, show_progress=False)
    return retriever


def scores(retriever, query_tokens: list[str]) -> np.ndarray:
    if not query_tokens or len(retriever.scores["indptr"]) <= 1:  # (an index without terms)
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return np.asarray(retriever.get_scores(query_tokens), dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# The stored lexical index. One BM25 index over sections (bm25s files, memory-mapped when
# serving) and, beside it, what an update needs to rebuild it without reading any text again:
# each section's length in terms (doclen.npy) and in how many chunks each term occurs
# (chunk_df.npy: the idf the answer step weighs question words by). Each entry's term frequency
# follows from its score, idf and section length; it is stored (tf.npy, in the index's own
# term-major order) only in the unlikely case that inverting the scores does not give it back
# exactly, which save() checks. An update drops the entries of the sections it does
# not keep, appends those of the new sections (the only text it tokenizes), and recomputes every
# score with numpy; the chunk frequencies lose the removed chunks' terms and gain the new ones'.

TF_DTYPE = np.uint32


@dataclass
class Postings:
    """Term-major entries of a BM25 index: for term t, entries indptr[t]:indptr[t+1] name the
    documents (docs) and how often t occurs there (tf); doclen is each document's length."""

    vocab: dict[str, int]
    indptr: np.ndarray
    docs: np.ndarray
    tf: np.ndarray
    doclen: np.ndarray
    chunk_df: np.ndarray  # per term id: chunks containing it
    n_chunks: int

    @classmethod
    def empty(cls) -> "Postings":
        z = np.zeros(0, np.int64)
        return cls({}, np.zeros(1, np.int64), z, z.astype(TF_DTYPE), z, z, 0)

    @classmethod
    def load(cls, path: Path, n_chunks: int, params: dict | None = None) -> "Postings | None":
        """The entries of a stored index (memory-mapped); None when it predates them."""
        path = Path(path)
        if not (path / "doclen.npy").is_file():
            return None
        vocab = json.loads((path / "vocab.index.json").read_text(encoding="utf-8"))
        load = lambda name: np.load(path / name, mmap_mode="r")  # noqa: E731
        indptr, docs, doclen, data = (load(f"{name}.npy") for name in (
            "indptr.csc.index", "indices.csc.index", "doclen", "data.csc.index"))
        if len(data) != len(docs):
            raise ValueError(f"the lexical entries in {path} do not fit together")
        tf = (load("tf.npy") if (path / "tf.npy").is_file() else
              tf_from_scores(data, indptr, docs, doclen, {**BM25_PARAMS, **(params or {})}))
        found = cls(vocab, indptr, docs, tf, doclen, load("chunk_df.npy"), n_chunks)
        n = len(vocab)
        ids = np.fromiter(vocab.values(), np.int64, n)
        if not (len(indptr) == n + 1 == len(found.chunk_df) + 1 and int(indptr[0]) == 0
                and len(docs) == len(tf) == int(indptr[-1]) and np.all(np.diff(indptr) >= 0)
                and np.array_equal(np.sort(ids), np.arange(n))
                and int(docs.min(initial=0)) >= 0 and int(docs.max(initial=-1)) < len(doclen)
                and int(np.asarray(tf).min(initial=1)) >= 1):
            raise ValueError(f"the lexical entries in {path} do not fit together")
        return found

    def term_ids(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int64), np.diff(self.indptr))


def _idf_and_norm(indptr: np.ndarray, docs: np.ndarray, doclen: np.ndarray, params: dict):
    """Per entry: its term's Lucene idf over the documents (float32, as bm25s stores it) and
    the tf part's length normalisation k1 * (1 - b + b * length / mean length)."""
    n = len(doclen)
    df = np.diff(np.asarray(indptr))
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    k1, b = params["k1"], params["b"]
    avg = np.asarray(doclen, np.int64).mean() if n else 1.0
    norm = k1 * ((1 - b) + b * np.asarray(doclen, np.int64)[np.asarray(docs)] / avg)
    return np.repeat(idf, df), norm


def tf_from_scores(data, indptr, docs, doclen, params: dict) -> np.ndarray:
    """Each entry's term frequency recovered from its score s = idf * tf / (tf + norm)."""
    idf, norm = _idf_and_norm(indptr, docs, doclen, params)
    s = np.asarray(data, np.float64)
    return np.rint(s * norm / (idf - s)).astype(np.int64)


def _tokenized(texts: Sequence[str], vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(document of each token, global term id of each token) of `texts`, adding new terms to
    `vocab`. Tokenized in batches, so a large build never holds all token lists at once."""
    import bm25s

    docs, terms = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for lo in range(0, len(texts), 20_000):
        tok = bm25s.tokenize(list(texts[lo:lo + 20_000]), stopwords="en", stemmer=stemmer(),
                             show_progress=False)
        local = np.empty(len(tok.vocab), np.int64)
        for term, i in tok.vocab.items():
            local[i] = vocab.setdefault(term, len(vocab))
        lens = np.fromiter((len(d) for d in tok.ids), np.int64, len(tok.ids))
        flat = np.fromiter((i for d in tok.ids for i in d), np.int64, int(lens.sum()))
        docs.append(np.repeat(np.arange(lo, lo + len(tok.ids), dtype=np.int64), lens))
        terms.append(local[flat])
    return np.concatenate(docs), np.concatenate(terms)


def _counted(docs: np.ndarray, terms: np.ndarray):
    """Unique (term, doc) pairs in term-major order, with their counts."""
    width = int(docs.max(initial=0)) + 1
    key, tf = np.unique(terms * width + docs, return_counts=True)
    return key // width, key % width, tf


def _term_df(texts: Sequence[str], vocab: dict[str, int]) -> np.ndarray:
    """In how many of `texts` each term id occurs."""
    docs, terms = _tokenized(texts, vocab)
    t, _, _ = _counted(docs, terms)
    return np.bincount(t, minlength=len(vocab)).astype(np.int64)


def _grow(a: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([np.asarray(a, np.int64), np.zeros(n - len(a), np.int64)])


class LexicalIndex:
    """A BM25 index over sections and the chunk document frequencies, built from the previous
    build's entries (`old`, with the mask of its sections kept, in order) plus new text."""

    def __init__(self, old: Postings | None = None, keep_sections: np.ndarray | None = None,
                 removed_chunks: Sequence[str] = (), params: dict | None = None):
        self.params = {**BM25_PARAMS, **(params or {})}
        old = old if old is not None else Postings.empty()
        self.vocab = dict(old.vocab)
        keep = (np.asarray(keep_sections, bool) if keep_sections is not None
                else np.zeros(len(old.doclen), bool))
        new_id = np.cumsum(keep) - 1
        mask = keep[np.asarray(old.docs)] if len(old.docs) else np.zeros(0, bool)
        self._terms = [old.term_ids()[mask]]
        self._docs = [new_id[np.asarray(old.docs)[mask]]]
        self._tf = [np.asarray(old.tf)[mask].astype(np.int64)]
        self._doclen = [np.asarray(old.doclen)[keep].astype(np.int64)]
        self.n_sections = int(keep.sum())
        self.chunk_df = np.asarray(old.chunk_df, np.int64).copy()
        self.n_chunks = old.n_chunks
        if len(removed_chunks):
            gone = _term_df(removed_chunks, self.vocab)
            self.chunk_df = _grow(self.chunk_df, len(gone)) - gone
            self.n_chunks -= len(removed_chunks)

    def add_sections(self, texts: Sequence[str]) -> None:
        docs, terms = _tokenized(texts, self.vocab)
        t, d, tf = _counted(docs, terms)
        self._terms.append(t)
        self._docs.append(d + self.n_sections)
        self._tf.append(tf)
        self._doclen.append(np.bincount(docs, minlength=len(texts)).astype(np.int64))
        self.n_sections += len(texts)

    def add_chunks(self, texts: Sequence[str]) -> None:
        df = _term_df(texts, self.vocab)
        self.chunk_df = _grow(self.chunk_df, len(df)) + df
        self.n_chunks += len(texts)

    def save(self, path: Path) -> None:
        """Score every entry (bm25s's BM25 with these parameters: Lucene idf over sections,
        Robertson tf part) and write the bm25s files plus tf, doclen and chunk_df."""
        import bm25s

        if self.params["method"] != "lucene":
            raise ValueError(f"lexical method {self.params['method']!r}: only 'lucene' is stored")
        n_terms = len(self.vocab)
        terms, docs = np.concatenate(self._terms), np.concatenate(self._docs)
        tf, doclen = np.concatenate(self._tf), np.concatenate(self._doclen)
        order = np.argsort(terms, kind="stable")  # kept entries come first within each term
        terms, docs, tf = terms[order], docs[order], tf[order]
        del order
        df = np.bincount(terms, minlength=n_terms)
        del terms
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        idf, norm = _idf_and_norm(indptr, docs, doclen, self.params)
        data = (idf * (tf / (norm + tf))).astype(np.float32)  # bm25s's Lucene BM25, exactly
        del idf, norm
        retriever = bm25s.BM25(k1=self.params["k1"], b=self.params["b"], method="lucene")
        retriever.scores = {"data": data, "indices": docs.astype(np.int32), "indptr": indptr,
                            "num_docs": self.n_sections}
        retriever.vocab_dict = self.vocab
        retriever.nonoccurrence_array = None  # Lucene BM25 scores nothing for absent terms
        path = Path(path)
        retriever.save(str(path), show_progress=False)
        if not np.array_equal(tf_from_scores(data, indptr, docs, doclen, self.params), tf):
            np.save(path / "tf.npy", np.minimum(tf, np.iinfo(TF_DTYPE).max).astype(TF_DTYPE))
        np.save(path / "doclen.npy", doclen.astype(np.int32))
        np.save(path / "chunk_df.npy", _grow(self.chunk_df, n_terms).astype(np.int32))


class Idf:
    """Robertson idf over chunks of each stemmed term the index has; get() is None for a word
    the articles never use."""

    def __init__(self, vocab: dict[str, int], chunk_df: np.ndarray, n_chunks: int):
        self._vocab = vocab
        self._df = np.asarray(chunk_df, np.int64)
        self._idf = np.log(1 + (n_chunks - self._df + 0.5) / (self._df + 0.5))
        present = self._df > 0
        self.max = float(self._idf[present].max()) if present.any() else 1.0

    @classmethod
    def of(cls, values: dict[str, float]) -> "Idf":
        """A table given outright (for tests of the answer step)."""
        idf = cls({t: i for i, t in enumerate(values)}, np.ones(len(values), np.int64), 1)
        idf._idf = np.array(list(values.values()), np.float64)
        idf.max = float(idf._idf.max()) if values else 1.0
        return idf

    def get(self, term: str) -> float | None:
        i = self._vocab.get(term) if term else None
        if i is None or i >= len(self._df) or self._df[i] <= 0:
            return None
        return float(self._idf[i])
