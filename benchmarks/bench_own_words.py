"""Own-words question sets, scored as `assistant eval questions` scores them: the seed article's
starter sets (examples/*.jsonl) on an index of the seed corpus, and the BBC set
(benchmarks/questions/bbc-own-words.jsonl) on an index of the BBC corpus.

    .venv/bin/python -m benchmarks.bench_own_words [--data ../shared/data] [--work /tmp/assistant-own]
        [--label NAME] [--llm]

Per set: where the expected section ranks, whether the shown answer holds an expected answer, and
how answers fall into the tiers (answer / may answer / no clear answer) for answerable and
unanswerable questions. Writes benchmarks/results/own_words[-LABEL].json.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from benchmarks.common import HERE, ROOT, data_path, parser, save_result

SETS = [
    ("seed: starter set", ROOT / "examples" / "seed-questions.jsonl", "seed"),
    ("seed: own words", ROOT / "examples" / "seed-questions-own-words.jsonl", "seed"),
    ("BBC: own words", HERE / "questions" / "bbc-own-words.jsonl", "bbc"),
]


def main() -> None:
    ap = parser(work="/tmp/assistant-own")
    ap.add_argument("--label", default="")
    ap.add_argument("--llm", action="store_true", help="answer with the configured LLM reader")
    args = ap.parse_args()
    bbc = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    from assistant.config import Settings
    from assistant.eval import run_questions
    from assistant.index.builder import build
    from assistant.service import Assistant

    work = Path(args.work)
    seed_corpus = work / "seed-corpus"
    if seed_corpus.exists():
        shutil.rmtree(seed_corpus)
    shutil.copytree(ROOT / "corpus", seed_corpus)
    corpora = {"seed": seed_corpus, "bbc": bbc}
    assistants = {}
    result = {"command": "python -m benchmarks.bench_own_words" + (f" --label {args.label}" if args.label else "")
              + (" --llm" if args.llm else ""),
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "sets": {}}
    for name, path, corpus in SETS:
        if corpus not in assistants:
            s = Settings().replace(corpus_dir=corpora[corpus], index_dir=work / f"{corpus}-index")
            build(s, log=lambda m: None, progress=False)
            assistants[corpus] = Assistant.open(settings=s)
        kwargs = {"llm": True} if args.llm else {}
        summary = run_questions(path, assistants[corpus], **kwargs)
        result["sets"][name] = {
            "file": str(path.relative_to(ROOT)),
            "questions": summary["questions"],
            "hit@1": summary["hit@1"], "hit@5": summary["hit@5"],
            "answer_contains_expected": summary["answer_contains_expected"],
            "answers_checked": summary["answers_checked"],
            "tiers": {kind: {**counts, "questions": summary[kind]}
                      for kind, counts in summary["tiers"].items()},
            "latency_ms": summary["latency_ms"],
            "results": [{k: r.get(k) for k in ("line", "question", "answerable", "rank", "tier",
                                               "abstained", "confidence", "answer", "answer_ok")}
                        for r in summary["results"]],
        }
        s = result["sets"][name]
        print(f"{name}: {s['questions']} q, hit@1 {s['hit@1']}, answer ok {s['answer_contains_expected']}, "
              f"tiers {json.dumps(s['tiers'])}")
    save_result("own_words" + (f"-{args.label}" if args.label else ""), result)


if __name__ == "__main__":
    main()
