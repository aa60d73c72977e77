"""Access filter cost (issue 23): a question searched only over one collection versus the whole
index, at `--articles` synthetic articles (devtools/synthetic_corpus.py: 12 top-level folders, so
one collection is about 8% of the articles), stand-in vectors (StandInEmbedder: random, seeded;
this measures the query path, not quality).

    .venv/bin/python -m benchmarks.bench_access [--articles 100000] [--work /tmp/assistant-access]
        [--questions 40]

Times, per question, `Assistant.ask` (retrieve + extractive answer) unfiltered and with the scope
of a reader allowed one collection (access rules: default deny), interleaved, after a warm-up
that also builds the collection's row set once (cached per build and scope). Medians reported.
Writes benchmarks/results/access.json."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from assistant.access import Reader, parse_rules
from assistant.config import Settings
from assistant.service import Assistant
from devtools.synthetic_corpus import StandInEmbedder, make_site

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--work", default="/tmp/assistant-access")
    ap.add_argument("--questions", type=int, default=40)
    args = ap.parse_args()
    work = Path(args.work) / str(args.articles)
    work.mkdir(parents=True, exist_ok=True)
    corpus, index, built = make_site(work, args.articles)
    settings = Settings().replace(corpus_dir=corpus, index_dir=index, data_dir=work / "data")
    a = Assistant(settings, embedder=StandInEmbedder())
    rules = parse_rules({"default": "deny",
                         "collections": {"science": {"users": ["s@example.org"]}}}, "bench")
    scope = rules.scope(Reader.of("s@example.org"))
    pipe = a.current()
    n_rows = pipe.snapshot.n_chunks
    allowed = pipe.rows_within(scope)
    rng = random.Random(7)
    words = ["plan", "cost", "million", "critics", "decision", "council", "bridge", "school",
             "river", "hospital", "market", "summer", "budget", "years", "consulted"]
    questions = [" ".join(rng.sample(words, 4)) + "?" for _ in range(args.questions)]
    for q in questions[:5]:  # warm-up
        a.ask(q, llm=False)
        a.ask(q, llm=False, scope=scope)
    full, filtered = [], []
    for q in questions:
        t = time.perf_counter()
        a.ask(q, llm=False)
        full.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ans = a.ask(q, llm=False, scope=scope)
        filtered.append((time.perf_counter() - t) * 1000)
        assert all(p.source.startswith("science/") for p in ans.passages)
    res = {"articles": built["articles"], "chunks": n_rows, "allowed_rows": int(len(allowed)),
           "allowed_share": round(len(allowed) / n_rows, 4), "faiss": pipe.snapshot.manifest.get(
               "faiss"), "questions": len(questions),
           "ask_ms_median_unfiltered": round(statistics.median(full), 1),
           "ask_ms_median_one_collection": round(statistics.median(filtered), 1),
           "ratio_of_medians": round(statistics.median(filtered) / statistics.median(full), 3),
           "note": "2 shared cores, other work running; stand-in vectors"}
    print(json.dumps(res, indent=2))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("access.json" if args.articles == 100_000 else f"access-{args.articles}.json")
    out.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
