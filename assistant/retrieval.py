"""Hybrid retrieval: dense (FAISS, cosine) and lexical (BM25) scores, fused per chunk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from . import lexical
from .records import Passage
from .store import Build


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical scores are combined. Chosen on SciFact *train* queries
    (benchmarks/tune_fusion.py); see BENCHMARKS.md."""

    method: str = "blend"  # "blend": weighted sum of normalized scores; "rrf": reciprocal rank
    dense_weight: float = 0.6
    lexical_norm: str = "minmax"  # blend only: "max" (score / best) or "minmax" over the candidates
    rrf_k: int = 60
    candidates: int = 100  # taken from each side before fusing


DEFAULT_FUSION = Fusion()


class Retriever:
    def __init__(self, build: Build, fusion: Fusion = DEFAULT_FUSION):
        self.build = build
        self.fusion = fusion
        self.n = build.n_chunks

    def allowed_rows(self, sources: Iterable[str] | None) -> np.ndarray | None:
        """Rows of chunks whose article is one of `sources` (article ids or source paths)."""
        if sources is None:
            return None
        wanted = set(sources)
        ids = {aid for aid, a in self.build.articles.items() if aid in wanted or a["source"] in wanted}
        return np.flatnonzero(np.isin(self.build.chunk_article, list(ids)))

    def dense_scores(self, qvec: np.ndarray, rows: np.ndarray | None, k: int):
        import faiss

        index = self.build.faiss
        if rows is not None:
            if len(rows) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows.astype(np.int64)))
            scores, ids = index.search(qvec[None, :], min(k, len(rows)), params=params)
        else:
            scores, ids = index.search(qvec[None, :], min(k, self.n))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def lexical_scores(self, tokens: list[str], rows: np.ndarray | None, k: int):
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
               sources: Iterable[str] | None = None, mode: str = "hybrid") -> list[tuple[int, float, float, float]]:
        """Ranked (row, fused, dense, lexical) for the top k chunks."""
        if self.n == 0:
            return []
        f = self.fusion
        rows = self.allowed_rows(sources)
        n_cand = max(f.candidates, k)
        d_ids, d_scores = self.dense_scores(qvec, rows, n_cand)
        l_ids, l_scores, all_lex = self.lexical_scores(query_tokens, rows, n_cand)
        dense = dict(zip(d_ids.tolist(), d_scores.tolist()))
        lex = dict(zip(l_ids.tolist(), l_scores.tolist()))
        cand = set(dense) | set(lex)
        missing = [r for r in cand if r not in dense]
        if missing:
            vecs = self.build.faiss.reconstruct_batch(np.asarray(missing, dtype=np.int64))
            for r, s in zip(missing, (vecs @ qvec).tolist()):
                dense[r] = s
        for r in cand:
            if r not in lex:
                lex[r] = float(all_lex[r])
        cand_list = list(cand)
        if not cand_list:
            return []
        dv = np.array([dense[r] for r in cand_list], dtype=np.float64)
        lv = np.array([lex[r] for r in cand_list], dtype=np.float64)
        if mode == "dense":
            fused = dv
        elif mode == "lexical":
            fused = lv
        elif f.method == "rrf":
            fused = _rrf(dv, f.rrf_k) * f.dense_weight + _rrf(lv, f.rrf_k) * (1 - f.dense_weight)
        else:
            fused = f.dense_weight * dv + (1 - f.dense_weight) * _norm(lv, f.lexical_norm)
        order = np.argsort(-fused, kind="stable")[:k]
        return [(cand_list[i], float(fused[i]), float(dv[i]), float(lv[i])) for i in order]

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
