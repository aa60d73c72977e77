"""Retrieve, then read: the extractive answer to one question from one opened build. `Pipeline`
is what a live index prepares for each build it opens (see service.Assistant)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import numpy as np

from ..access import Scope
from ..index.collections import CollectionRows
from ..index.snapshot import Snapshot
from ..records import Answer, Passage
from ..retrieval import Fusion, Retriever
from ..text import tokenize
from . import extractive


class Pipeline:
    """One build's retriever and the answer step's settings."""

    def __init__(self, snapshot: Snapshot, fusion: Fusion,
                 answer_settings: extractive.AnswerSettings, top_k: int):
        self.snapshot = snapshot
        self.retriever = Retriever(snapshot, fusion)
        assert snapshot.idf is not None  # a serving build (the current format) has its idf
        self.idf = snapshot.idf
        self.answer_settings = answer_settings
        self.top_k = top_k
        self.collections = CollectionRows(snapshot)

    def rows_within(self, scope: Scope | None):
        """The rows `scope` may read (None: all rows)."""
        return None if scope is None else self.collections.rows(scope.permits)

    def search(self, query: str, vector, k: int | None = None,
               sources: Iterable[str] | None = None, scope: Scope | None = None
               ) -> list[Passage]:
        """Ranked passages for a retrieval query and its vector, only from rows of `scope`."""
        ranked = self.retriever.search(vector, tokenize([query], query=True)[0],
                                       k=k or self.top_k, sources=sources,
                                       within=self.rows_within(scope))
        return self.retriever.passages(ranked)

    def answer(self, q: str, qvec, query: str, rvec, k: int | None = None,
               sources: Iterable[str] | None = None, notice: str = "",
               t0: float | None = None, scope: Scope | None = None) -> Answer:
        """Answer from precomputed question vectors (`qvec` for the question itself, `rvec` for
        the retrieval query); evaluation batches the encoding and calls this directly."""
        t0 = time.perf_counter() if t0 is None else t0
        k = k or self.top_k
        s = self.answer_settings
        passages = self.search(query, rvec, max(k, s.passages_considered), sources, scope)
        t1 = time.perf_counter()
        vectors = self.snapshot.sentence_vectors_of(
            [p.sentence_rows for p in passages[: s.passages_considered]])
        if query != q:  # a follow-up: judge sentences against the question in its context
            qvec = qvec + rvec
            qvec = qvec / max(float(np.linalg.norm(qvec)), 1e-9)
        cands, feats = extractive.candidates(q, qvec, passages, vectors, self.idf, s)
        if query != q:  # a follow-up: judge how known its words are in its context
            feats["unknown_terms"] = extractive.question_terms(query, self.idf)[1]
        conf = extractive.confidence(feats, s)
        chosen = extractive.select(cands, s)
        t2 = time.perf_counter()
        timings = {"retrieve": (t1 - t0) * 1000, "answer": (t2 - t1) * 1000,
                   "total": (t2 - t0) * 1000}
        if scope is not None and scope.problem and not passages:
            notice = notice or scope.problem
        elif sources is not None and not passages:
            notice = notice or "None of the chosen articles has a passage for this question."
        return extractive.compose(q, chosen, passages[:k], conf, s, timings, self.snapshot.name,
                                  notice, feats)
