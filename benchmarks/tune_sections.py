"""Stage 2 of the retrieval tuning, on SciFact *train* only: which BM25 score a chunk gets (its
own or its section's), the dense weight, and pseudo-relevance feedback for the deep results.

    .venv/bin/python -m benchmarks.tune_sections [--data ../shared/data] [--work /tmp/assistant-scifact-index]

Runs the real Retriever (assistant/retrieval.py) at the depth `assistant eval beir` uses (300
chunks) for each setting and prints nDCG@10 and Recall@100 on train. Choice rule: lexical level
and dense weight by nDCG@10 without feedback; then the feedback setting with the best Recall@100
among those that keep nDCG@10 within 0.002 of no feedback. The choice is copied by hand into
DEFAULT_FUSION; the test split is reported once by `assistant eval beir` (bench_quality.py).
Stage 1 (BM25 k1/b, query stop words, fusion method) is benchmarks/tune_fusion.py.
Writes benchmarks/results/tune_sections.json.
"""

from __future__ import annotations

import dataclasses
import json
import time

from benchmarks.common import parser, save_result, scifact_train


def main() -> None:
    args = parser(work="/tmp/assistant-scifact-index").parse_args()
    from ranx import Qrels, Run, evaluate

    from assistant.eval import beir_run
    from assistant.retrieval import Fusion, Retriever
    from assistant.text import tokenize

    build, qids, queries, qrels, qvecs = scifact_train(args)
    qtoks = tokenize([queries[q] for q in qids], query=True)

    def measure(f: Fusion) -> dict:
        t = time.perf_counter()
        run = beir_run(Retriever(build, f), qids, qvecs, qtoks)
        scores = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100"], make_comparable=True)
        row = {**dataclasses.asdict(f), **{k: round(float(v), 4) for k, v in scores.items()},
               "ms_per_query": round((time.perf_counter() - t) * 1000 / len(qids), 1)}
        print(json.dumps(row), flush=True)
        return row

    base = Fusion(candidates=300, feedback_weight=0.0)
    results = [measure(dataclasses.replace(base, lexical_level=level, dense_weight=w))
               for level in ("chunk", "section") for w in (0.5, 0.6, 0.7, 0.8)]
    best = max(results, key=lambda r: r["ndcg@10"])
    chosen = dataclasses.replace(base, lexical_level=best["lexical_level"],
                                 dense_weight=best["dense_weight"])
    feedback = [measure(dataclasses.replace(chosen, feedback_weight=b, feedback_passages=m,
                                            feedback_after=h))
                for b in (0.3, 0.6, 1.0) for m in (5, 8) for h in (10, 20)]
    eligible = [r for r in feedback if r["ndcg@10"] >= best["ndcg@10"] - 0.002] or [best]
    best_fb = max(eligible, key=lambda r: (r["recall@100"], r["ndcg@10"]))
    out = {"command": "python -m benchmarks.tune_sections", "split": "train",
           "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "best_without_feedback": best, "best": best_fb, "all": results + feedback}
    save_result("tune_sections", out)
    print("BEST WITHOUT FEEDBACK", json.dumps(best))
    print("BEST", json.dumps(best_fb))


if __name__ == "__main__":
    main()
