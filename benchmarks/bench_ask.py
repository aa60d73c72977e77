"""`ask` latency on an index of the BBC corpus (2,225 articles), model warm, one question at a time,
and a new process's time from start to printed answer.

    .venv/bin/python -m benchmarks.bench_ask [--data ../shared/data] [--index /tmp/bbc-index]

The questions are made from BBC headlines (as a user would ask about a story) plus questions the
corpus cannot answer. Writes benchmarks/results/ask.json.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import HERE, data_path, parser

OFF_CORPUS = ["Who won the 2022 World Cup?", "How do I bake sourdough bread?",
              "What is the boiling point of water at sea level?", "When was the Eiffel Tower built?"]


def questions_from_headlines(bbc: Path, n: int, seed: int = 7) -> list[str]:
    files = sorted(bbc.rglob("*.txt"))
    random.Random(seed).shuffle(files)
    out = []
    templates = ["What happened: {}?", "What is the story about {}?", "Tell me about {}",
                 "Why {}?"]
    for i, f in enumerate(files[:n]):
        title = f.read_text(encoding="latin-1").strip().splitlines()[0].strip()
        out.append(templates[i % len(templates)].format(title[0].lower() + title[1:]))
    return out


def main() -> None:
    ap = parser()
    ap.add_argument("--index", default="/tmp/assistant-bbc-index")
    ap.add_argument("--questions", type=int, default=200)
    args = ap.parse_args()
    bbc = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    from assistant.config import Settings
    from assistant.index.builder import build
    from assistant.service import Assistant

    settings = Settings().replace(corpus_dir=bbc, index_dir=Path(args.index))
    build(settings, log=lambda m: None)  # incremental: nothing to do when already built
    assistant = Assistant.open(settings=settings)
    qs = questions_from_headlines(bbc, args.questions) + OFF_CORPUS * 5
    for q in qs[:10]:
        assistant.ask(q)  # warm-up
    lat, parts = [], {"retrieve": [], "answer": []}
    abstained = 0
    for q in qs:
        t = time.perf_counter()
        a = assistant.ask(q)
        lat.append((time.perf_counter() - t) * 1000)
        abstained += a.abstained
        for k in parts:
            parts[k].append(a.timings_ms[k])
    cold = []
    for q in qs[:5]:
        t = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).parent / "assistant"), "ask", q,
                               "--index", args.index], capture_output=True, text=True)
        cold.append(time.perf_counter() - t)
        assert proc.returncode == 0, proc.stderr
    q = statistics.quantiles(lat, n=100)
    result = {
        "command": "python -m benchmarks.bench_ask",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "chunks": assistant.status().counts.get("chunks"),
        "questions": len(qs), "abstained": abstained,
        "latency_ms": {"p50": statistics.median(lat), "p95": q[94], "max": max(lat)},
        "retrieve_ms_p50": statistics.median(parts["retrieve"]),
        "answer_ms_p50": statistics.median(parts["answer"]),
        "new_process_seconds": {"median": statistics.median(cold), "runs": cold},
    }
    Path(HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "ask.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
