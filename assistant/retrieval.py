"""Hybrid retrieval: dense (the build's DenseIndex, cosine) and lexical (BM25) scores, fused per
chunk.

The dense score is the chunk's own; the lexical score is its section's (a chunk shares the words
of the section around it). Past the first `feedback_after` results, the ranking continues from a
second dense pass whose query is moved towards the best first-pass chunks (pseudo-relevance
feedback), which finds more of the relevant articles further down without touching the top."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .index import lexical
from .index.snapshot import Snapshot
from .records import Passage


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical scores are combined. Chosen on SciFact *train* queries: method and
    normalization by benchmarks/tune_fusion.py, then lexical level, dense weight and feedback by
    benchmarks/tune_sections.py; see BENCHMARKS.md."""

    method: str = "blend"  # "blend": weighted sum of normalized scores; "rrf": reciprocal rank
    dense_weight: float = 0.7
    lexical_norm: str = "minmax"  # blend only: "max" (score / best) or "minmax" over the candidates
    lexical_level: str = "section"  # BM25 of the chunk's "section" or of the "chunk" itself
    rrf_k: int = 60
    candidates: int = 100  # taken from each side before fusing
    # Pseudo-relevance feedback for results past `feedback_after` (0 weight: off): the query
    # vector plus `feedback_weight` times the mean of the top `feedback_passages` chunk vectors.
    feedback_weight: float = 0.6
    feedback_passages: int = 8
    feedback_after: int = 20


DEFAULT_FUSION = Fusion()


class Retriever:
    def __init__(self, build: Snapshot, fusion: Fusion = DEFAULT_FUSION):
        self.build = build
        self.fusion = fusion
        self.n = build.n_chunks

    def allowed_rows(self, sources: Iterable[str] | None) -> np.ndarray | None:
        """Rows of chunks whose article is one of `sources` (article ids or source paths)."""
        if sources is None:
            return None
        return self.build.rows_for(sources)

    def dense_scores(self, qvec: np.ndarray, rows: np.ndarray | None, k: int):
        if rows is not None:
            if len(rows) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            scores, ids = self.build.dense.search(qvec[None, :], min(k, len(rows)), rows)
        else:
            scores, ids = self.build.dense.search(qvec[None, :], min(k, self.n))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def lexical_scores(self, tokens: list[str], rows: np.ndarray | None, k: int):
        """(top rows, their scores, the score of every chunk); -1 outside `rows`."""
        if self.fusion.lexical_level == "section":
            scores = lexical.scores(self.build.section_lexical, tokens)[self.build.chunk_section]
        else:
            scores = lexical.scores(self.build.lexical, tokens)
        if rows is not None:
            masked = np.full_like(scores, -1.0)
            masked[rows] = scores[rows]
            scores = masked
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[scores[top] > 0]
        return top, scores[top], scores

    def search(self, qvec: np.ndarray, query_tokens: list[str], k: int = 10,
               sources: Iterable[str] | None = None,
               mode: str = "hybrid",
               within: np.ndarray | None = None) -> list[tuple[int, float, float, float]]:
        """Ranked (row, fused, dense, lexical) for the top k chunks. `mode` "dense" or "lexical"
        ranks by one side alone (for evaluation). `within`: the rows the reader may read (the
        access filter); no other row is scored, on either side."""
        if self.n == 0:
            return []
        f = self.fusion
        rows = self.allowed_rows(sources)
        if within is not None:
            rows = within if rows is None else np.intersect1d(rows, within, assume_unique=True)
        n_cand = max(f.candidates, k)
        l_ids, _, all_lex = self.lexical_scores(query_tokens, rows, n_cand)
        ranked = self._fuse(qvec, l_ids, all_lex, rows, n_cand, k, mode)
        head = f.feedback_after
        if mode != "hybrid" or f.feedback_weight <= 0 or k <= head or len(ranked) <= head:
            return ranked
        top = np.asarray([r for r, *_ in ranked[: f.feedback_passages]], dtype=np.int64)
        fb = qvec + f.feedback_weight * self.build.dense.vectors(top).mean(axis=0)
        fb = (fb / max(float(np.linalg.norm(fb)), 1e-9)).astype(np.float32)
        seen = {r for r, *_ in ranked[:head]}
        tail = [t for t in self._fuse(fb, l_ids, all_lex, rows, n_cand, k + head, mode)
                if t[0] not in seen]
        tail = tail[: k - head]
        if not tail:
            return ranked[:head]
        # The tail keeps the feedback pass's order. Its scores are set just below the head's
        # last, so that score order is rank order; its dense score is against the question.
        t_rows = np.asarray([r for r, *_ in tail], dtype=np.int64)
        t_dense = self.build.dense.vectors(t_rows) @ qvec
        floor = ranked[head - 1][1]
        return ranked[:head] + [(int(r), floor - 1e-6 * (i + 1), float(d), float(all_lex[r]))
                                for i, (r, d) in enumerate(zip(t_rows, t_dense))]

    def _fuse(self, qvec, l_ids, all_lex, rows, n_cand: int, k: int, mode: str):
        f = self.fusion
        d_ids, d_scores = self.dense_scores(qvec, rows, n_cand)
        dense = dict(zip(d_ids.tolist(), d_scores.tolist()))
        cand = list(set(dense) | set(l_ids.tolist()))
        if not cand:
            return []
        missing = [r for r in cand if r not in dense]
        if missing:
            vecs = self.build.dense.vectors(np.asarray(missing, dtype=np.int64))
            for r, s in zip(missing, (vecs @ qvec).tolist()):
                dense[r] = s
        dv = np.array([dense[r] for r in cand], dtype=np.float64)
        lv = all_lex[np.asarray(cand, dtype=np.int64)].astype(np.float64)
        if mode == "dense":
            fused = dv
        elif mode == "lexical":
            fused = lv
        elif f.method == "rrf":
            fused = _rrf(dv, f.rrf_k) * f.dense_weight + _rrf(lv, f.rrf_k) * (1 - f.dense_weight)
        else:
            fused = f.dense_weight * dv + (1 - f.dense_weight) * _norm(lv, f.lexical_norm)
        order = np.argsort(-fused, kind="stable")[:k]
        return [(cand[i], float(fused[i]), float(dv[i]), float(lv[i])) for i in order]

    def passages(self, ranked: list[tuple[int, float, float, float]]) -> list[Passage]:
        chunks = self.build.chunks([r for r, *_ in ranked])
        out = []
        for row, fused, dense, lex in ranked:
            chunk, art, sent_rows = chunks[row]
            out.append(Passage(chunk=chunk, article_title=art["title"], source=art["source"],
                               score=fused, dense=dense, lexical=lex, row=row,
                               sentence_rows=sent_rows))
        return out


def _norm(v: np.ndarray, how: str) -> np.ndarray:
    if len(v) == 0:
        return v
    hi = v.max()
    if hi <= 0:
        return np.zeros_like(v)
    if how == "minmax":
        lo = v.min()
        return (v - lo) / (hi - lo) if hi > lo else np.ones_like(v)
    return v / hi


def _rrf(v: np.ndarray, k: int) -> np.ndarray:
    ranks = np.empty(len(v))
    ranks[np.argsort(-v, kind="stable")] = np.arange(1, len(v) + 1)
    return 1.0 / (k + ranks)


def rank_documents(retriever: Retriever, qvecs, qtoks, k: int = 100, chunks: int = 300,
                   mode: str = "hybrid") -> list[dict[str, float]]:
    """Per query, its `k` best article sources, each scored by its best chunk among the `chunks`
    best: retrieval evaluation, where a document is the unit judged."""
    build = retriever.build
    doc_of = [build.articles[a]["source"] for a in build.chunk_article]
    runs = []
    for qv, qt in zip(qvecs, qtoks):
        per_doc: dict[str, float] = {}
        for row, fused, _, _ in retriever.search(qv, qt, k=chunks, mode=mode):
            per_doc.setdefault(doc_of[row], fused)  # ranked best first: first hit is the max
        runs.append(dict(list(per_doc.items())[:k]))
    return runs
