"""The realistic LLM-reply development set (benchmarks/realistic/, issue 21): turn the hand-written
authoring files into the committed JSON Lines fixtures, and check the fixtures.

    .venv/bin/python -m devtools.realistic_fixtures write --set seed|bbc
    .venv/bin/python -m devtools.realistic_fixtures check [--set NAME ...]

Authoring files (benchmarks/realistic/authoring/), one block per question, `@<id>` first:

    replies-<set>.txt    `@bbc-017` then `S|U styles | sentence [n]` lines (S supported, U not),
                         or `@bbc-017 DECLINE` for exactly NOT_IN_ARTICLES
    variants-<set>.txt   `@bbc-017` then `kind | false sentence [n] | true sentence it was made
                         from | companion` lines; the companion (the true sentence shown beside
                         the false one) defaults to a supported sentence of the reply other than
                         the one the variant was made from

A marker is the prompt's passage number, or (seed set) a letter naming one of the seed article's
chunks by section, mapped to that prompt's number, so a sentence can only cite a passage the
prompt holds. `check` parses every fixture, checks ids, markers in range, kinds and labels, and
prints counts per half (sha256 of the question id, first byte even = fit) and kind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "realistic"  # the committed set
DECLINE = "NOT_IN_ARTICLES"
KINDS = ("figure", "name", "invented", "wrong_passage", "reversal")
STYLES = {"paraphrase", "joins_passages", "echoes_question", "figures_adjacent",
          "descriptive_first_word", "verbatim"}
SEED_LETTERS = {"A": "Conclusion", "B": "", "C": "Context of the Partnership",
                "D": "Challenges Ahead", "E": "Details of the Joint Operations",
                "F": "Impacts on Local Communities"}
MARK = re.compile(r"\[(\w+)\]")


def half(question_id: str) -> str:
    return "fit" if hashlib.sha256(question_id.encode()).digest()[0] % 2 == 0 else "report"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def blocks(path: Path) -> list[tuple[str, str, list[str]]]:
    """(id, rest of the @ line, body lines) per block, comments and blank lines skipped."""
    out: list[tuple[str, str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            qid, _, rest = line[1:].partition(" ")
            out.append((qid, rest.strip(), []))
        else:
            out[-1][2].append(line)
    return out


def letter_map(prompt: dict) -> dict[str, int]:
    """Seed letters -> this prompt's passage numbers."""
    by_section = {}
    for p in prompt["passages"]:
        by_section["" if p["section"] == p["article"] else p["section"]] = p["n"]
    return {letter: by_section[s] for letter, s in SEED_LETTERS.items() if s in by_section}


def resolve(sentence: str, prompt: dict, where: str) -> tuple[str, list[int]]:
    """The sentence with its markers as passage numbers, and the numbers cited."""
    letters = letter_map(prompt) if prompt["set"] == "seed" else {}
    count = len(prompt["passages"])

    def number(m: re.Match) -> str:
        tag = m.group(1)
        n = letters.get(tag) if tag.isalpha() else int(tag)
        if n is None or not 1 <= n <= count:
            raise SystemExit(f"{where}: marker [{tag}] names no passage of this prompt")
        return f"[{n}]"

    text = MARK.sub(number, sentence)
    cites = [int(n) for n in MARK.findall(text)]
    if not cites:
        raise SystemExit(f"{where}: a sentence without a marker: {sentence!r}")
    return text, sorted(set(cites), key=cites.index)


def write(set_name: str) -> None:
    prompts = {p["id"]: p for p in read_jsonl(DIR / f"prompts-{set_name}.jsonl")}
    replies = []
    for qid, rest, body in blocks(DIR / "authoring" / f"replies-{set_name}.txt"):
        where = f"replies-{set_name}.txt @{qid}"
        if qid not in prompts:
            raise SystemExit(f"{where}: no such prompt")
        if rest == "DECLINE":
            replies.append({"id": qid, "reply": DECLINE, "declined": True, "sentences": []})
            continue
        sentences = []
        for line in body:
            head, _, sentence = (x.strip() for x in line.partition("|"))
            label, _, styles = head.partition(" ")
            text, cites = resolve(sentence, prompts[qid], where)
            sentences.append({"text": text, "cites": cites,
                              "label": {"S": "supported", "U": "unsupported"}[label],
                              "style": [s for s in styles.split(",") if s]})
        replies.append({"id": qid, "reply": " ".join(s["text"] for s in sentences),
                        "declined": False, "sentences": sentences})
    write_jsonl(DIR / f"replies-{set_name}.jsonl", replies)
    by_id = {r["id"]: r for r in replies}
    variants = []
    source = DIR / "authoring" / f"variants-{set_name}.txt"
    for qid, _, body in blocks(source) if source.exists() else []:
        where = f"variants-{set_name}.txt @{qid}"
        for k, line in enumerate(body, start=1):
            parts = [x.strip() for x in line.split("|")]
            kind, sentence, derived = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
            text, cites = resolve(sentence, prompts[qid], where)
            derived_text = resolve(derived, prompts[qid], where)[0] if derived else ""
            explicit = len(parts) > 3 and bool(parts[3])
            reply_texts = [s["text"] for s in by_id[qid]["sentences"]]
            if derived_text and derived_text not in reply_texts and not explicit:
                raise SystemExit(f"{where} line {k}: the true sentence is not in the reply")
            if explicit:
                companion = resolve(parts[3], prompts[qid], where)[0]
            else:
                true = [s["text"] for s in by_id[qid]["sentences"]
                        if s["label"] == "supported" and s["text"] != derived_text]
                if not true:
                    raise SystemExit(f"{where} line {k}: no companion sentence for {kind}")
                companion = true[(k - 1) % len(true)]
            vid = f"{qid}-v{k}"
            first_false = hashlib.sha256(vid.encode()).digest()[0] % 2 == 1
            reply = f"{text} {companion}" if first_false else f"{companion} {text}"
            variants.append({"id": vid, "question_id": qid, "kind": kind, "sentence": text,
                             "cites": cites, "derived_from": derived_text,
                             "companion": companion, "reply": reply})
    write_jsonl(DIR / f"variants-{set_name}.jsonl", variants)
    print(f"{set_name}: {len(replies)} replies, {len(variants)} variants written")


def check(set_names: list[str]) -> int:
    problems: list[str] = []
    for set_name in set_names:
        prompts = {p["id"]: p for p in read_jsonl(DIR / f"prompts-{set_name}.jsonl")}
        replies = read_jsonl(DIR / f"replies-{set_name}.jsonl")
        variants_path = DIR / f"variants-{set_name}.jsonl"
        variants = read_jsonl(variants_path) if variants_path.exists() else []
        counts: Counter = Counter()
        for pid, p in prompts.items():
            if [m["role"] for m in p["messages"]] != ["system", "user"]:
                problems.append(f"{pid}: messages are not system + user")
            if [q["n"] for q in p["passages"]] != list(range(1, len(p["passages"]) + 1)):
                problems.append(f"{pid}: passages are not numbered 1..N")
            for q in p["passages"]:
                if q["text"] not in p["messages"][1]["content"]:
                    problems.append(f"{pid}: passage [{q['n']}] text is not in the prompt")
        for r in replies:
            rid, h = r["id"], half(r["id"])
            if rid not in prompts:
                problems.append(f"{rid}: reply without a prompt")
                continue
            n_passages = len(prompts[rid]["passages"])
            if r["declined"]:
                if r["reply"] != DECLINE or r["sentences"]:
                    problems.append(f"{rid}: a decline must be exactly {DECLINE}")
                counts[(h, "declined")] += 1
                continue
            if " ".join(s["text"] for s in r["sentences"]) != r["reply"]:
                problems.append(f"{rid}: the sentences do not make up the reply")
            for s in r["sentences"]:
                if [int(n) for n in MARK.findall(s["text"])] == [] or \
                        any(not 1 <= n <= n_passages for n in s["cites"]) or \
                        set(s["cites"]) != {int(n) for n in MARK.findall(s["text"])}:
                    problems.append(f"{rid}: bad markers in {s['text']!r}")
                if s["label"] not in ("supported", "unsupported"):
                    problems.append(f"{rid}: bad label {s['label']!r}")
                if not set(s["style"]) <= STYLES:
                    problems.append(f"{rid}: unknown style in {s['style']}")
                counts[(h, s["label"])] += 1
                for style in s["style"]:
                    counts[(h, f"style:{style}")] += s["label"] == "supported"
        ids = Counter(r["id"] for r in replies)
        problems += [f"{rid}: {n} replies" for rid, n in ids.items() if n > 1]
        problems += [f"{pid}: no reply" for pid in prompts if pid not in ids]
        for v in variants:
            qid = v["question_id"]
            if qid not in prompts or not v["id"].startswith(qid + "-v"):
                problems.append(f"{v['id']}: bad question id")
                continue
            if v["kind"] not in KINDS:
                problems.append(f"{v['id']}: unknown kind {v['kind']!r}")
            n_passages = len(prompts[qid]["passages"])
            marks = {int(n) for n in MARK.findall(v["sentence"])}
            if not marks or marks != set(v["cites"]) or \
                    any(not 1 <= n <= n_passages for n in marks):
                problems.append(f"{v['id']}: bad markers in {v['sentence']!r}")
            if v["sentence"] not in v["reply"] or v["companion"] not in v["reply"]:
                problems.append(f"{v['id']}: the reply lacks its sentences")
            if v["sentence"] == v["derived_from"]:
                problems.append(f"{v['id']}: the variant equals its true sentence")
            counts[(half(qid), f"variant:{v['kind']}")] += 1
        vids = Counter(v["id"] for v in variants)
        problems += [f"{vid}: {n} variants" for vid, n in vids.items() if n > 1]
        print(f"== {set_name}: {len(prompts)} prompts, {len(replies)} replies, "
              f"{len(variants)} variants")
        keys = sorted({k for _, k in counts})
        print(f"{'':28}{'fit':>6}{'report':>8}{'all':>6}")
        for k in keys:
            f, r = counts[("fit", k)], counts[("report", k)]
            print(f"{k:28}{f:>6}{r:>8}{f + r:>6}")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["write", "check"])
    ap.add_argument("--set", action="append", choices=["seed", "bbc", "squad"])
    args = ap.parse_args()
    sets = args.set or [s for s in ("seed", "bbc", "squad")
                        if (DIR / f"replies-{s}.jsonl").exists()]
    if args.command == "write":
        for s in sets:
            write(s)
    else:
        sys.exit(check(sets))


if __name__ == "__main__":
    main()
