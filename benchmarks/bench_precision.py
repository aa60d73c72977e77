"""bfloat16 against float32 in one run: SciFact test retrieval, SQuAD v2 dev-half answer and
abstention figures, and warm `ask` latency on the BBC index.

    .venv/bin/python -m benchmarks.bench_precision [--data ../shared/data] [--work /tmp/assistant-precision]

Each precision gets its own evaluation indexes (under --work/fp32 and --work/bf16), so no vector
is shared between the two. SQuAD figures use the shipped abstention model (the product's
behaviour), with its threshold. Ask latency: one BBC index (built in the default precision), the
same questions asked by an fp32 and a bf16 Assistant, interleaved in rounds. Writes
benchmarks/results/precision.json.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from benchmarks.common import data_path, parser, save_result

PRECISIONS = ("fp32", "bf16")


def quality(data: Path, work: Path, precision: str) -> dict:
    from assistant.answer.extractive import DEFAULT_ANSWER_SETTINGS
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.eval import run_beir, squad_features, squad_report

    settings = Settings().replace(precision=precision)
    emb = Embedder.from_settings(settings)
    t = time.perf_counter()
    sci = run_beir(data / "scifact" / "beir", "test", settings, index_dir=work / "scifact",
                   embedder=emb)
    sci_s = time.perf_counter() - t
    feats = squad_features(data / "squad-v2.0-dev-half" / "dev-v2.0.json", settings, emb,
                           work_dir=work / "squad")
    shipped = DEFAULT_ANSWER_SETTINGS
    rep = squad_report(feats, coef=shipped.coef)
    # Apply the shipped threshold too (squad_report picks one from the fitting half).
    import numpy as np

    from assistant.answer.extractive import FEATURES

    def shipped_prob(r, key):
        x = np.array([r[key]["features"].get(f, 0.0) for f in FEATURES])
        return 1 / (1 + np.exp(-(shipped.coef[0] + x @ np.asarray(shipped.coef[1:]))))

    rep1 = [r for r in feats["rows"] if "ooc" in r and r["half"] == 1]
    answered = [shipped_prob(r, "ooc") >= shipped.threshold for r in rep1 if r["ooc"]["should_answer"]]
    abstained = [shipped_prob(r, "ooc") < shipped.threshold for r in rep1 if not r["ooc"]["should_answer"]]
    return {
        "scifact_test": {"ndcg@10": sci["hybrid"]["ndcg@10"], "recall@100": sci["hybrid"]["recall@100"],
                         "dense_ndcg@10": sci["dense"]["ndcg@10"], "seconds_with_index": sci_s},
        "squad": {
            "gold_paragraph_recall@5": rep["answerable"]["gold_paragraph_recall@5"],
            "first_sentence_has_answer": rep["answerable"]["first_sentence_has_answer"],
            "answer_has_answer": rep["answerable"]["answer_has_answer"],
            "out_of_corpus_auroc": rep["out_of_corpus"]["auroc"],
            "in_paragraph_auroc": rep["in_paragraph"]["auroc"],
            "out_of_corpus_answered_share_shipped": float(np.mean(answered)),
            "out_of_corpus_abstained_share_shipped": float(np.mean(abstained)),
        },
    }


def ask_latency(bbc: Path, index: Path, rounds: int, questions: int) -> dict:
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.index.builder import build
    from assistant.service import Assistant
    from benchmarks.bench_ask import OFF_CORPUS, questions_from_headlines

    settings = Settings().replace(corpus_dir=bbc, index_dir=index)
    build(settings, log=lambda m: None)
    assistants = {p: Assistant.open(settings=settings, embedder=Embedder(precision=p))
                  for p in PRECISIONS}
    qs = questions_from_headlines(bbc, questions) + OFF_CORPUS * 2
    for a in assistants.values():
        for q in qs[:10]:
            a.ask(q)  # warm-up
    lat = {p: [] for p in PRECISIONS}
    for r in range(rounds):
        order = PRECISIONS if r % 2 == 0 else PRECISIONS[::-1]
        for q in qs:
            for p in order:
                t = time.perf_counter()
                assistants[p].ask(q)
                lat[p].append((time.perf_counter() - t) * 1000)
    out = {p: {"p50": statistics.median(v), "p95": statistics.quantiles(v, n=100)[94]}
           for p, v in lat.items()}
    out["chunks"] = assistants["fp32"].status().counts.get("chunks")
    out["questions"] = len(qs) * rounds
    return out


def main() -> None:
    ap = parser(work="/tmp/assistant-precision")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--latency-only", action="store_true",
                    help="re-measure only ask latency, keeping the quality figures of the last "
                         "run (results/precision.json); both runs' times are recorded")
    args = ap.parse_args()
    data = data_path(args, what="evaluation data")
    bbc = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    work = Path(args.work)
    result = {"command": "python -m benchmarks.bench_precision",
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.latency_only:
        import json

        previous = json.loads((Path(__file__).parent / "results" / "precision.json").read_text())
        result = {**previous, "command": previous["command"] + " ; python -m benchmarks.bench_precision --latency-only",
                  "when": previous["when"] + "; latency " + result["when"],
                  "ask_ms_earlier_runs": previous.get("ask_ms_earlier_runs", []) + [previous["ask_ms"]]}
    elif not args.skip_quality:
        for p in PRECISIONS:
            result[p] = quality(data, work / p, p)
        diffs = {}
        for part in ("scifact_test", "squad"):
            for k, v in result["fp32"][part].items():
                if k != "seconds_with_index":
                    diffs[f"{part}.{k}"] = result["bf16"][part][k] - v
        result["bf16_minus_fp32"] = diffs
        result["max_abs_difference"] = max(abs(v) for v in diffs.values())
    result["ask_ms"] = ask_latency(bbc, work / "bbc-index", args.rounds, args.questions)
    save_result("precision", result)
    import json

    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
