"""Choose the sentence-scoring weights of the extractive answer on the *fitting* half of SQuAD v2
dev-half answerable questions; report the first-sentence hit rate on both halves.

    .venv/bin/python -m benchmarks.tune_sentences [--data ../shared/data] [--work /tmp/assistant-eval]

A question counts when the top-scored sentence contains a gold answer text. Writes
benchmarks/results/sentences.json; the chosen weights go into answer/extractive.py's AnswerSettings by hand.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from benchmarks.common import HERE, data_path, parser


def main() -> None:
    args = parser(work="/tmp/assistant-eval").parse_args()
    path = data_path(args, "squad-v2.0-dev-half", "dev-v2.0.json", what="SQuAD")
    from assistant.answer import extractive
    from assistant.config import Settings
    from assistant.eval import contains_answer, ensure_index, load_squad, squad_articles
    from assistant.eval import half as half_of
    from assistant.service import Assistant

    wiki = load_squad(path)
    settings = Settings()
    index = Path(args.work) / "squad" / "full"
    ensure_index(squad_articles(wiki), index, settings)
    assistant = Assistant.open(index, settings)
    loaded = assistant.current()
    qs = [(qa["question"], [a["text"] for a in qa["answers"]], half_of(qa["id"]))
          for _, paras in wiki for _, qas in paras for qa in qas if not qa["is_impossible"]]
    vecs = assistant.encode([q for q, _, _ in qs])
    feats = {0: [], 1: []}
    kept = {0: [], 1: []}  # (candidates, answers) for choosing how many sentences to keep
    for (q, answers, half), v in zip(qs, vecs):
        passages = loaded.search(q, v, 5, None)
        vectors = loaded.snapshot.sentence_vectors_of([p.sentence_rows for p in passages[:4]])
        cands, _ = extractive.candidates(q, v, passages, vectors, loaded.idf)
        kept[half].append((cands, answers))
        feats[half].append(np.array([[c.dense, c.overlap, c.with_prev, c.window, c.passage_share,
                                      float(c.typed), float(contains_answer(c.text, answers))]
                                     for c in cands]).reshape(-1, 7))

    def hit_rate(items, w):
        return float(np.mean([c[int(np.argmax(c[:, :6] @ w)), 6] if len(c) else 0.0 for c in items]))

    grid = []
    for w in itertools.product((1.0,), (0.0, 0.3, 0.6, 1.0), (0.0, 0.2, 0.4, 0.8), (0.0, 0.2, 0.4),
                               (0.2, 0.5, 0.8), (0.0, 0.1, 0.2)):
        grid.append((hit_rate(feats[0], np.array(w)), w))
    grid.sort(key=lambda g: -g[0])
    best = np.array(grid[0][1])
    shipped = extractive.DEFAULT_ANSWER_SETTINGS
    current = np.array([shipped.w_dense, shipped.w_overlap, shipped.w_prev, shipped.w_window,
                        shipped.w_passage, shipped.w_type])
    import dataclasses

    def whole(items, ratio):
        st = dataclasses.replace(shipped, keep_ratio=ratio)
        return float(np.mean([any(contains_answer(c.text, a) for c in extractive.select(cs, st))
                              for cs, a in items]))

    def length(items, ratio):
        st = dataclasses.replace(shipped, keep_ratio=ratio)
        return float(np.mean([len(extractive.select(cs, st)) for cs, _ in items]))

    ratios = {r: {"fit": whole(kept[0], r), "report": whole(kept[1], r),
                  "mean_sentences": length(kept[0], r)} for r in (0.6, 0.7, 0.75, 0.8, 0.9)}
    out = {"command": "python -m benchmarks.tune_sentences",
           "keep_ratio": ratios,
           "weights_order": ["dense", "overlap", "with_prev", "window", "passage", "type"],
           "best_on_fit_half": {"weights": list(grid[0][1]), "fit": grid[0][0],
                                "report": hit_rate(feats[1], best)},
           "dense_only": {"fit": hit_rate(feats[0], np.array([1, 0, 0, 0, 0, 0])),
                          "report": hit_rate(feats[1], np.array([1, 0, 0, 0, 0, 0]))},
           "shipped": {"weights": current.tolist(), "fit": hit_rate(feats[0], current),
                       "report": hit_rate(feats[1], current)},
           "top10": grid[:10]}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "sentences.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
