"""Probe (not shipped): fusion variants aimed at SciFact Recall@100, on SciFact *train* only.

    .venv/bin/python benchmarks/probe_fusion.py [--data ../shared/data] [--work /tmp/assistant-scifact-index]

Compares, at the same candidate depth as `assistant eval beir` (300 chunks a side):
- shipped: dense cosine of the chunk + min-max BM25 of the chunk (DEFAULT_FUSION);
- docmean: the chunk's dense score maxed with its document's mean chunk vector;
- doclex: the chunk's BM25 replaced by its whole document's BM25 (a document-level lexical index,
  built here in memory), at several dense weights.
Prints nDCG@10 and Recall@100 per variant and writes benchmarks/results/probe_fusion.json.
Session 2 found doclex at dense weight 0.7 ahead on train (nDCG@10 0.7485 vs 0.7419, R@100
0.9559 vs 0.9539): a lead for a section-level lexical index, not yet built into the store.
"""

from __future__ import annotations

import json
import time

import numpy as np

from common import HERE, parser, scifact_train


def main() -> None:
    args = parser(work="/tmp/assistant-scifact-index").parse_args()
    from ranx import Qrels, Run, evaluate

    from assistant import lexical
    from assistant.retrieval import DEFAULT_FUSION, Retriever, _norm

    build, qids, queries, qrels, qvecs = scifact_train(args)
    retriever = Retriever(build)
    qtoks = lexical.tokenize([queries[q] for q in qids], query=True)
    doc_of = np.array([build.articles[a]["source"] for a in build.chunk_article])
    chunk_vecs = build.faiss.reconstruct_n(0, build.n_chunks)
    names, chunk_doc = np.unique(doc_of, return_inverse=True)
    doc_mean = np.zeros((len(names), chunk_vecs.shape[1]), np.float32)
    np.add.at(doc_mean, chunk_doc, chunk_vecs)
    doc_mean /= np.linalg.norm(doc_mean, axis=1, keepdims=True)
    doc_text = {}
    for aid, art in build.articles.items():
        _, sections = build.article(aid)
        doc_text[art["source"]] = art["title"] + "\n" + "\n".join(s.text for s in sections)
    doc_lex = lexical.build_index([doc_text[n] for n in names])

    def evaluate_variant(variant: str, dense_weight: float) -> dict:
        run = {}
        for qid, qv, qt in zip(qids, qvecs, qtoks):
            d_ids, _ = retriever.dense_scores(qv, None, 300)
            l_ids, _, chunk_lex = retriever.lexical_scores(qt, None, 300)
            parts = [d_ids, l_ids]
            if variant == "doclex":
                dl = lexical.scores(doc_lex, qt)
                parts.append(np.flatnonzero(np.isin(chunk_doc, np.argsort(-dl)[:300])))
            cand = np.unique(np.concatenate(parts).astype(np.int64))
            dense = chunk_vecs[cand] @ qv
            if variant == "docmean":
                dense = np.maximum(dense, doc_mean[chunk_doc[cand]] @ qv)
            lex = dl[chunk_doc[cand]] if variant == "doclex" else chunk_lex[cand]
            fused = dense_weight * dense + (1 - dense_weight) * _norm(lex.astype(np.float64), "minmax")
            per: dict[str, float] = {}
            for i in np.argsort(-fused, kind="stable"):
                per.setdefault(doc_of[cand[i]], float(fused[i]))
                if len(per) == 100:
                    break
            run[qid] = per
        scores = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100"], make_comparable=True)
        return {"variant": variant, "dense_weight": dense_weight,
                **{k: float(v) for k, v in scores.items()}}

    results = []
    grid = [("shipped", DEFAULT_FUSION.dense_weight), ("docmean", 0.6), ("docmean", 0.7),
            ("doclex", 0.5), ("doclex", 0.6), ("doclex", 0.7), ("doclex", 0.8)]
    for variant, w in grid:
        results.append(evaluate_variant(variant, w))
        print(json.dumps(results[-1]), flush=True)
    out = {"command": "python benchmarks/probe_fusion.py", "split": "train",
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "probe_fusion.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
