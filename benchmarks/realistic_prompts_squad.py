"""The exact prompts `assistant ask --llm` sends for the realistic SQuAD development set (issue 21):
benchmarks/realistic/prompts-squad.jsonl.

    .venv/bin/python -m benchmarks.realistic_prompts_squad [--data ../shared/data]
        [--work /tmp/assistant-realistic-squad]

Only the SQuAD v2 fitting half's articles are indexed: the first 8 Wikipedia articles of the
dev-half file, every paragraph an article (as `assistant eval squad` makes them). 75 questions
are drawn with a fixed seed, spread over the 8 articles: 60 answerable and 15 of SQuAD's
unanswerable ones (is_impossible). Each is asked through the facade with the extractive reader
(`Assistant.ask(..., llm=False)`), and its top `LLMSettings.passages` passages are turned into
messages by the reader's own `build_messages`, which is what `read_with_llm` does, so the
messages are byte-identical to what an endpoint receives. Chunk ids are kept so that citations
can be remapped to another build's passages.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

from benchmarks.common import HERE, data_path, parser

ARTICLES = 8  # the fitting half: articles 0-7 in file order
ANSWERABLE = (8, 8, 8, 8, 7, 7, 7, 7)  # 60 in all
UNANSWERABLE = (2, 2, 2, 2, 2, 2, 2, 1)  # 15 in all
SEED = 21
OUT = HERE / "realistic" / "prompts-squad.jsonl"


def _llm_module():
    from assistant.answer import llm

    return llm


def pick_questions(wiki) -> list[dict]:
    """75 questions spread over the 8 articles, drawn with a fixed seed; SQuAD ids kept."""
    rng = random.Random(SEED)
    picked = []
    for ai in range(ARTICLES):
        title, paras = wiki[ai]
        qas = [(pi, qa) for pi, (_, qs) in enumerate(paras) for qa in qs]
        for impossible, count in ((False, ANSWERABLE[ai]), (True, UNANSWERABLE[ai])):
            pool = [x for x in qas if x[1]["is_impossible"] == impossible]
            seen: set[str] = set()
            for pi, qa in rng.sample(pool, len(pool)):
                key = " ".join(qa["question"].lower().split())
                if key in seen:
                    continue
                seen.add(key)
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                picked.append({"id": f"squad-{qa['id']}", "question": qa["question"],
                               "answerable": not impossible,
                               "expected": {"source": f"{title}#p{pi:03d}", "section": title,
                                            "answers": answers}})
                if len(seen) == count:
                    break
    return picked


def main() -> None:
    ap = parser(work="/tmp/assistant-realistic-squad")
    args = ap.parse_args()
    squad_file = data_path(args, "squad-v2.0-dev-half", "dev-v2.0.json", what="SQuAD v2 dev-half")
    from assistant.config import Settings
    from assistant.eval import ensure_index, load_squad, squad_articles
    from assistant.service import Assistant, make_embedder

    llm = _llm_module()
    n_passages = {f.name: f for f in dataclasses.fields(llm.LLMSettings)}["passages"].default
    wiki = load_squad(squad_file)
    settings = Settings().replace(index_dir=Path(args.work))
    embedder = make_embedder(settings)
    ensure_index(squad_articles(wiki, set(range(ARTICLES))), Path(args.work), settings, embedder)
    assistant = Assistant.open(Path(args.work), settings, embedder=embedder)
    rows = []
    for q in pick_questions(wiki):
        answer = assistant.ask(q["question"], llm=False)
        passages = answer.passages[:n_passages]
        messages = llm.build_messages(answer.question, passages, "")
        rows.append({"id": q["id"], "set": "squad", "question": answer.question, "history": [],
                     "answerable": q["answerable"], "expected": q["expected"],
                     "messages": messages,
                     "passages": [{"n": n, "chunk_id": p.chunk.id, "source": p.source,
                                   "article": p.article_title, "section": p.section,
                                   "text": p.chunk.text.strip()}
                                  for n, p in enumerate(passages, start=1)]})
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    found = sum(any(p["source"] == r["expected"]["source"] for p in r["passages"])
                for r in rows if r["answerable"])
    print(f"wrote {OUT} ({len(rows)} questions; gold paragraph among the passages for {found} of "
          f"{sum(r['answerable'] for r in rows)} answerable)")


if __name__ == "__main__":
    main()
