"""The exact prompts `assistant ask --llm` sends, for the realistic LLM-reply development set
(benchmarks/realistic/, issue 21).

    .venv/bin/python -m benchmarks.realistic_prompts --set seed|bbc [--data ../shared/data]
        [--work /tmp/assistant-realistic]

Builds (or reuses) an index of the set's corpus under --work, asks every question of the set
through `Assistant.ask(..., llm=True)` with a recording reader in place of the endpoint, and
writes benchmarks/realistic/prompts-<set>.jsonl: the messages exactly as the product would send
them, and the passages behind each [n] with their chunk ids (so recorded citations can be
remapped to a later index's passages). The recording reader declines every question, so nothing
is answered here; only the prompt is kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from benchmarks.common import HERE, ROOT, data_path, parser

OUT = HERE / "realistic"
SETS = {
    "seed": [("seed", ROOT / "examples" / "seed-questions-own-words.jsonl")],
    "bbc": [("bbc", HERE / "questions" / "bbc-own-words.jsonl"),
            ("bbc", HERE / "questions" / "bbc-own-words-2.jsonl")],
}


class RecordingReader:
    """Stands in for `llm.Reader`: keeps the messages it is given and declines."""

    def __init__(self, settings):
        self.settings = settings
        self.model = "recorder"
        self.messages: list[dict] | None = None

    def stream(self, messages):
        self.messages = messages
        yield "NOT_IN_ARTICLES"


def main() -> None:
    ap = parser(work="/tmp/assistant-realistic")
    ap.add_argument("--set", required=True, choices=sorted(SETS))
    args = ap.parse_args()
    from assistant.answer import llm
    from assistant.config import Settings
    from assistant.eval.questions import parse_question_file
    from assistant.index.builder import build
    from assistant.service import Assistant

    work = Path(args.work)
    if args.set == "seed":
        corpus = work / "seed-corpus"
        if corpus.exists():
            shutil.rmtree(corpus)
        shutil.copytree(ROOT / "corpus", corpus)
    else:
        corpus = data_path(args, "bbc-fulltext", "bbc", what="BBC corpus")
    settings = Settings().replace(corpus_dir=corpus, index_dir=work / f"{args.set}-index",
                                  llm_url="http://recorder.invalid/v1")
    build(settings, log=print, progress=False)
    assistant = Assistant.open(settings=settings)
    # The product's own ask path, minus the network: the reader it makes records and declines,
    # and the passages handed to `llm.read` are kept.
    readers: list[RecordingReader] = []
    seen: dict[str, list] = {}
    original_read = llm.read

    def make_reader(reader_settings):
        readers.append(RecordingReader(reader_settings))
        return readers[-1]

    def recording_read(reader_, question, passages, *a, **kw):
        seen["passages"] = list(passages)
        return original_read(reader_, question, passages, *a, **kw)

    llm.Reader = make_reader
    llm.read = recording_read
    OUT.mkdir(exist_ok=True)
    rows = []
    for prefix, path in SETS[args.set]:
        items, problems = parse_question_file(path)
        for p in problems:
            print(f"{path.name}: {p}")
        for item in items:
            seen.clear()
            for reader in readers:
                reader.messages = None
            assistant.ask(item["question"], history=item["history"], llm=True)
            sent = [r.messages for r in readers if r.messages is not None]
            if not sent:
                print(f"{path.name} line {item['line']}: no prompt was sent (no passages)")
                continue
            qid = f"{prefix}-{len(rows) + 1:03d}"
            expected = None
            if item["answerable"] and (item["section"] or item["answers"]):
                expected = {"source": item["source"], "section": item["section"],
                            "answers": item["answers"]}
            rows.append({
                "id": qid, "set": args.set, "question": item["question"],
                "history": item["history"], "answerable": item["answerable"],
                "expected": expected, "question_file": str(path.relative_to(ROOT)),
                "question_line": item["line"], "messages": sent[0],
                "passages": [{"n": n, "chunk_id": p.chunk.id, "source": p.source,
                              "article": p.article_title, "section": p.section,
                              "text": p.chunk.text.strip()}
                             for n, p in enumerate(seen["passages"], start=1)]})
    out = OUT / f"prompts-{args.set}.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    print(f"wrote {out.relative_to(ROOT)}: {len(rows)} prompts")


if __name__ == "__main__":
    main()
