"""Retrieval and answer quality on the shared evaluation sets, as `assistant eval` reports them.

    .venv/bin/python -m benchmarks.bench_quality [--data ../shared/data] [--work /tmp/assistant-eval]

SciFact *test* split (the fusion was tuned on train by tune_fusion.py) and SQuAD v2 dev-half.
Writes benchmarks/results/scifact.json and benchmarks/results/squad.json (with `--label L`,
scifact-L.json and squad-L.json).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.common import HERE, data_path, parser


def main() -> None:
    ap = parser(work="/tmp/assistant-eval")
    ap.add_argument("--only", choices=["scifact", "squad"])
    ap.add_argument("--label", default="",
                    help="write scifact-LABEL.json / squad-LABEL.json (re-measurements kept apart "
                         "from the committed reference files)")
    ap.add_argument("--refit", action="store_true",
                    help="SQuAD: refit from the features the last run saved in --work")
    args = ap.parse_args()
    data = data_path(args, what="evaluation data")
    from assistant.eval import run_beir, squad_features, squad_report

    (HERE / "results").mkdir(exist_ok=True)
    suffix = f"-{args.label}" if args.label else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.only in (None, "scifact"):
        t = time.perf_counter()
        res = run_beir(data / "scifact" / "beir", "test", index_dir=Path(args.work) / "scifact")
        res.update(command="python -m benchmarks.bench_quality --only scifact "
                           "(= assistant eval beir .../scifact/beir --split test)",
                   when=stamp, seconds=time.perf_counter() - t)
        (HERE / "results" / f"scifact{suffix}.json").write_text(json.dumps(res, indent=2))
        print(json.dumps(res, indent=2))
    if args.only in (None, "squad"):
        t = time.perf_counter()
        cache = Path(args.work) / "squad" / "features.json"
        if args.refit and cache.is_file():
            feats = json.loads(cache.read_text())
        else:
            feats = squad_features(data / "squad-v2.0-dev-half" / "dev-v2.0.json",
                                   work_dir=Path(args.work) / "squad")
        # The features of every question, so the abstention model and the tiers can be refitted
        # without asking again (--refit).
        cache.write_text(json.dumps(feats))
        rep = squad_report(feats)
        rep.update(command="python -m benchmarks.bench_quality --only squad "
                           "(= assistant eval squad .../dev-v2.0.json)",
                   when=stamp, seconds=time.perf_counter() - t)
        (HERE / "results" / f"squad{suffix}.json").write_text(json.dumps(rep, indent=2))
        print(json.dumps(rep, indent=2))


if __name__ == "__main__":
    main()
