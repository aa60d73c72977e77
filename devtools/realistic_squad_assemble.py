"""Turn the hand-written SQuAD replies and variants (benchmarks/realistic/squad-authored.txt) into
the fixture files replies-squad.jsonl and variants-squad.jsonl (format: realistic/README.md).

    .venv/bin/python -m devtools.realistic_squad_assemble

The text file is what the writer wrote, one block per question; this script only lays it out:
it takes each sentence's [n] markers as its citations, numbers the variants of a question
(`<question id>-v1`, ...), and pairs every false sentence with a true one in an order fixed by
the variant id's hash (so about half the false sentences come first). It refuses a block for a
question not in prompts-squad.jsonl, a marker out of the prompt's passage range, a sentence
without markers and an unknown style or kind.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "realistic"  # the committed set
STYLES = {"paraphrase", "joins_passages", "echoes_question", "figures_adjacent",
          "descriptive_first_word", "verbatim"}
KINDS = ("figure", "name", "invented", "wrong_passage", "reversal")
DECLINE = "NOT_IN_ARTICLES"
MARKER = re.compile(r"\[(\d+)\]")


def cites(sentence: str) -> list[int]:
    return list(dict.fromkeys(int(m) for m in MARKER.findall(sentence)))


def _overlap(a: str, b: str) -> float:
    wa, wb = (set(MARKER.sub("", x).lower().split()) for x in (a, b))
    return len(wa & wb) / max(1, min(len(wa), len(wb)))


def parse(path: Path) -> list[dict]:
    """[{id, declined, sentences: [{text, styles, supported}], variants: [{kind, sentence, from,
    with}]}] in file order."""
    blocks: list[dict] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip()
        where = f"{path.name}:{lineno}"
        if not line.strip():
            continue
        if line.startswith("# squad-"):
            blocks.append({"id": line[2:].strip(), "declined": False, "sentences": [],
                           "variants": []})
            continue
        if line.startswith("#"):
            continue
        if not blocks:
            raise SystemExit(f"{where}: text before the first question block")
        block = blocks[-1]
        if line.strip() == "D":
            block["declined"] = True
        elif line.startswith("S"):
            head, _, text = line.partition(": ")
            styles = head[1:].lstrip("!").split(",")
            unknown = {s.strip() for s in styles} - STYLES
            if unknown or not text:
                raise SystemExit(f"{where}: unknown style {sorted(unknown)} or no sentence")
            block["sentences"].append({"text": text.strip(), "supported": not head.startswith("S!"),
                                       "styles": [s.strip() for s in styles]})
        elif line.startswith("V "):
            head, _, text = line.partition(": ")
            kind = head[2:].strip()
            if kind not in KINDS or not text:
                raise SystemExit(f"{where}: unknown variant kind {kind!r} or no sentence")
            block["variants"].append({"kind": kind, "sentence": text.strip(), "from": "",
                                      "with": ""})
        elif line.startswith(("  from: ", "  with: ")):
            if not block["variants"]:
                raise SystemExit(f"{where}: {line.strip()[:5]} without a variant")
            block["variants"][-1][line.strip()[:4]] = line.strip()[6:].strip()
        else:
            raise SystemExit(f"{where}: cannot read this line: {line[:60]}")
    return blocks


def assemble(blocks: list[dict], prompts: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    replies, variants = [], []
    for b in blocks:
        qid = b["id"]
        if qid not in prompts:
            raise SystemExit(f"{qid}: no such question in prompts-squad.jsonl")
        n = len(prompts[qid]["passages"])

        def checked(sentence: str, qid: str = qid, n: int = n) -> list[int]:
            c = cites(sentence)
            if not c or any(not 1 <= x <= n for x in c):
                raise SystemExit(f"{qid}: markers {c} out of range 1..{n}: {sentence[:60]}")
            return c

        if b["declined"] and b["sentences"]:
            raise SystemExit(f"{qid}: a declined reply has no sentences")
        sentences = [{"text": s["text"], "cites": checked(s["text"]),
                      "label": "supported" if s["supported"] else "unsupported",
                      "style": s["styles"]} for s in b["sentences"]]
        replies.append({"id": qid, "reply": DECLINE if b["declined"] else
                        " ".join(s["text"] for s in sentences),
                        "declined": b["declined"], "sentences": sentences})
        true = [s["text"] for s in sentences if s["label"] == "supported"]
        for i, v in enumerate(b["variants"], start=1):
            vid = f"{qid}-v{i}"
            # The default partner is a reply sentence that does not restate the false one
            # (a wrong-passage sentence is often the reply's own sentence with another marker).
            partner = v["with"] or next((t for t in true if t != v["from"]
                                         and _overlap(t, v["sentence"]) < 0.6), "")
            if not partner:
                raise SystemExit(f"{vid}: no true sentence to pair with: add 'with:'")
            checked(partner)
            false_first = hashlib.sha256(vid.encode()).digest()[0] % 2 == 1
            pair = [v["sentence"], partner] if false_first else [partner, v["sentence"]]
            variants.append({"id": vid, "question_id": qid, "kind": v["kind"],
                             "sentence": v["sentence"], "cites": checked(v["sentence"]),
                             "derived_from": v["from"], "companion": partner,
                             "reply": " ".join(pair)})
    return replies, variants


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main() -> None:
    prompts = {}
    for line in (DIR / "prompts-squad.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        prompts[row["id"]] = row
    replies, variants = assemble(parse(DIR / "squad-authored.txt"), prompts)
    write_jsonl(DIR / "replies-squad.jsonl", replies)
    write_jsonl(DIR / "variants-squad.jsonl", variants)
    print(f"replies-squad.jsonl: {len(replies)} of {len(prompts)} questions; "
          f"variants-squad.jsonl: {len(variants)}")


if __name__ == "__main__":
    main()
