"""Stage 1 of the retrieval tuning: BM25 settings and the dense/lexical fusion method, on
SciFact *train* queries only, with chunk-level BM25 and no feedback. Stage 2 (section-level BM25,
the dense weight again, feedback) is benchmarks/tune_sections.py.

    .venv/bin/python -m benchmarks.tune_fusion [--data ../shared/data] [--work /tmp/scifact-index]

Prints nDCG@10 on train for each setting tried and the best; the chosen values are then written
by hand into assistant/index/lexical.py (BM25_PARAMS) and assistant/retrieval.py (DEFAULT_FUSION), and
the test split is reported once by `assistant eval beir`. Writes benchmarks/results/tuning.json.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time

from benchmarks.common import parser, save_result, scifact_train


def main() -> None:
    args = parser(work="/tmp/assistant-scifact-index").parse_args()
    from ranx import Qrels, Run, evaluate

    from assistant.eval import beir_run
    from assistant.index import lexical
    from assistant.retrieval import Fusion, Retriever
    from assistant.text import tokenize
    from devtools.index_db import db_rows

    build, qids, queries, qrels, qvecs = scifact_train(args)
    chunk_texts = [r[0] for r in db_rows(build.path, "SELECT text FROM chunks ORDER BY row")]
    titles = [r[0] for r in db_rows(
        build.path, "SELECT a.title FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.row")]
    qtok = {flag: tokenize([queries[q] for q in qids], query=flag) for flag in (False, True)}

    def ndcg(retriever, mode, qt):
        run = beir_run(retriever, qids, qvecs, qt, mode)
        return evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100"], make_comparable=True)

    results = []
    base = Fusion(candidates=300, lexical_level="chunk", feedback_weight=0.0)
    orig_lexical = build.lexical
    for k1, b, title_rep in itertools.product((0.9, 1.2, 1.5), (0.4, 0.75, 0.9), (1,)):
        t = time.time()
        lex_texts = [(ti + "\n") * title_rep + tx for ti, tx in zip(titles, chunk_texts)]
        build.lexical = lexical.build_index(lex_texts, {"k1": k1, "b": b, "method": "lucene"})
        r = Retriever(build, base)
        for qflag in (False, True):
            m = ndcg(r, "lexical", qtok[qflag])
            results.append({"part": "lexical", "k1": k1, "b": b, "title_rep": title_rep,
                            "query_stop_plus": qflag, **m})
            print(json.dumps(results[-1]), f"{time.time() - t:.1f}s", flush=True)
    best_lex = max(results, key=lambda x: x["ndcg@10"])
    lex_texts = [(ti + "\n") * best_lex["title_rep"] + tx for ti, tx in zip(titles, chunk_texts)]
    build.lexical = lexical.build_index(lex_texts, {"k1": best_lex["k1"], "b": best_lex["b"], "method": "lucene"})
    qt = qtok[best_lex["query_stop_plus"]]
    dense = ndcg(Retriever(build, base), "dense", qt)
    results.append({"part": "dense", **dense})
    print(json.dumps(results[-1]), flush=True)
    fusions = []
    for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        for norm in ("max", "minmax"):
            fusions.append(dataclasses.replace(base, method="blend", dense_weight=w, lexical_norm=norm))
        fusions.append(dataclasses.replace(base, method="rrf", dense_weight=w, rrf_k=60))
    for f in fusions:
        m = ndcg(Retriever(build, f), "hybrid", qt)
        results.append({"part": "hybrid", **dataclasses.asdict(f), **m})
        print(json.dumps(results[-1]), flush=True)
    best_h = max((r for r in results if r["part"] == "hybrid"), key=lambda x: x["ndcg@10"])
    build.lexical = orig_lexical
    out = {"command": "python -m benchmarks.tune_fusion", "split": "train",
           "best_lexical": best_lex, "dense": dense, "best_hybrid": best_h, "all": results}
    save_result("tuning", out)
    print("BEST LEXICAL", json.dumps(best_lex))
    print("BEST HYBRID", json.dumps(best_h))


if __name__ == "__main__":
    main()
