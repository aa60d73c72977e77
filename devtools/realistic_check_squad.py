"""Check the realistic development set's files and print their counts per half (issue 21).

    .venv/bin/python -m devtools.realistic_check_squad [--set squad] [--set bbc] ...

For each set (default: squad): every line of prompts-, replies- and variants-<set>.jsonl parses
and has its fields; every reply and variant belongs to a prompt; every [n] marker is within the
prompt's passages; a declined reply is exactly NOT_IN_ARTICLES with no sentences; a non-declined
reply is its sentences joined; labels, styles and kinds are the allowed ones; a variant's reply
holds its false sentence. Prints counts per half (fit/report) and kind, and exits 1 on any
problem, naming the file, line and reason.

`--verify` also runs today's verifier (assistant.verify.verify with the real embedder) over every
reply and variant, exactly as the reader checks a reply (passage text only; the product also
passes the passages' sentence offsets), and prints per half the share of true sentences shown
and of each false kind shown: a first look, not the benchmark of issue 21.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from devtools.realistic_squad_assemble import DECLINE, DIR, KINDS, MARKER, STYLES


def half(question_id: str) -> str:
    return "report" if hashlib.sha256(question_id.encode()).digest()[0] % 2 else "fit"


def read(path: Path, problems: list[str]) -> list[dict]:
    rows = []
    if not path.is_file():
        problems.append(f"{path.name}: missing")
        return rows
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}:{i}: not JSON ({exc.msg})")
            continue
        row["_where"] = f"{path.name}:{i}"
        rows.append(row)
    return rows


def check_set(name: str, directory: Path = DIR) -> tuple[list[str], dict]:
    """(problems, counts) for one set."""
    problems: list[str] = []
    prompts = read(directory / f"prompts-{name}.jsonl", problems)
    replies = read(directory / f"replies-{name}.jsonl", problems)
    variants = read(directory / f"variants-{name}.jsonl", problems)
    by_id = {}
    for p in prompts:
        w = p["_where"]
        if p.get("id") in by_id:
            problems.append(f"{w}: duplicate id {p.get('id')}")
        by_id[p.get("id")] = p
        ns = [x.get("n") for x in p.get("passages", [])]
        if ns != list(range(1, len(ns) + 1)) or not ns:
            problems.append(f"{w}: passages not numbered 1..n")
        user = next((m["content"] for m in p.get("messages", []) if m.get("role") == "user"), "")
        for x in p.get("passages", []):
            if x.get("text", "\0") not in user or not x.get("chunk_id"):
                problems.append(f"{w}: passage {x.get('n')} not in the user message or no chunk id")
        if not p.get("question") or f"Question: {p['question']}" not in user:
            problems.append(f"{w}: the question is not the one in the user message")

    def in_range(where: str, qid: str, text: str, cites: list[int]) -> None:
        n = len(by_id[qid]["passages"])
        found = list(dict.fromkeys(int(m) for m in MARKER.findall(text)))
        if not found:
            problems.append(f"{where}: no [n] marker in {text[:50]!r}")
        if sorted(found) != sorted(cites):
            problems.append(f"{where}: cites {cites} but markers {found}")
        if any(not 1 <= c <= n for c in found):
            problems.append(f"{where}: marker out of range 1..{n} in {text[:50]!r}")

    counts: dict = {"questions": Counter(), "declined": Counter(), "sentences": Counter(),
                    "styles": Counter(), "variants": Counter()}
    seen_replies = set()
    for r in replies:
        w, qid = r["_where"], r.get("id")
        if qid not in by_id:
            problems.append(f"{w}: reply for unknown question {qid}")
            continue
        seen_replies.add(qid)
        h = half(qid)
        counts["questions"][h] += 1
        sentences = r.get("sentences", [])
        if r.get("declined"):
            counts["declined"][h] += 1
            if r.get("reply") != DECLINE or sentences:
                problems.append(f"{w}: a declined reply must be exactly {DECLINE}, no sentences")
            continue
        if r.get("reply") != " ".join(s.get("text", "") for s in sentences) or not sentences:
            problems.append(f"{w}: the reply is not its sentences joined")
        for s in sentences:
            in_range(w, qid, s.get("text", ""), s.get("cites", []))
            if s.get("label") not in ("supported", "unsupported"):
                problems.append(f"{w}: label {s.get('label')!r}")
            if not s.get("style") or set(s["style"]) - STYLES:
                problems.append(f"{w}: style {s.get('style')}")
            counts["sentences"][(h, s.get("label"))] += 1
            for st in s.get("style", []):
                counts["styles"][st] += 1
    for qid in set(by_id) - seen_replies:
        problems.append(f"replies-{name}.jsonl: no reply for {qid}")
    ids = set()
    for v in variants:
        w, qid = v["_where"], v.get("question_id")
        if qid not in by_id:
            problems.append(f"{w}: variant of unknown question {qid}")
            continue
        if v.get("id") in ids or not str(v.get("id", "")).startswith(qid + "-v"):
            problems.append(f"{w}: duplicate or badly formed id {v.get('id')}")
        ids.add(v.get("id"))
        if v.get("kind") not in KINDS:
            problems.append(f"{w}: kind {v.get('kind')!r} is not one of {KINDS}")
        in_range(w, qid, v.get("sentence", ""), v.get("cites", []))
        reply = v.get("reply", "")
        if v.get("sentence", "\0") not in reply or len(MARKER.split(reply)) < 3:
            problems.append(f"{w}: the variant's reply does not hold its sentence and a true one")
        rest = reply.replace(v.get("sentence", ""), "").strip()
        if rest:
            in_range(w, qid, rest, list(dict.fromkeys(int(m) for m in MARKER.findall(rest))))
        counts["variants"][(half(qid), v.get("kind"))] += 1
    return problems, counts


def shown_rates(name: str, directory: Path = DIR) -> dict:
    """{half: {"supported": (shown, n), kind: (shown, n)}} under today's verifier."""
    from assistant.answer.verify import verify
    from assistant.answer.verify.claims import split_claims
    from assistant.config import Settings
    from assistant.service import make_embedder

    encode = make_embedder(Settings()).encode_queries
    prompts = {p["id"]: p for p in read(directory / f"prompts-{name}.jsonl", [])}
    out: dict = {}

    def shown(reply: str, qid: str) -> set[str]:
        texts = [x["text"] for x in prompts[qid]["passages"]]
        return {c.text for c, _ in verify(reply, texts, encode).kept}

    def add(h: str, key: str, ok: bool) -> None:
        a, n = out.setdefault(h, {}).get(key, (0, 0))
        out[h][key] = (a + int(ok), n + 1)

    for r in read(directory / f"replies-{name}.jsonl", []):
        if r["declined"]:
            continue
        kept = shown(r["reply"], r["id"])
        for s in r["sentences"]:
            if s["label"] == "supported":
                add(half(r["id"]), "supported", split_claims(s["text"])[0].text in kept)
    for v in read(directory / f"variants-{name}.jsonl", []):
        kept = shown(v["reply"], v["question_id"])
        add(half(v["question_id"]), v["kind"], split_claims(v["sentence"])[0].text in kept)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", dest="sets")
    ap.add_argument("--verify", action="store_true",
                    help="also print the shares today's verifier shows")
    args = ap.parse_args()
    failed = False
    for name in args.sets or ["squad"]:
        problems, c = check_set(name)
        print(f"== {name}")
        for h in ("fit", "report"):
            print(f"  {h:6}: questions {c['questions'][h]}, declined {c['declined'][h]}, "
                  f"sentences supported {c['sentences'][(h, 'supported')]} / unsupported "
                  f"{c['sentences'][(h, 'unsupported')]}; variants " +
                  ", ".join(f"{k} {c['variants'][(h, k)]}" for k in KINDS))
        print("  all   : variants " + ", ".join(
            f"{k} {c['variants'][('fit', k)] + c['variants'][('report', k)]}" for k in KINDS))
        print("  styles: " + ", ".join(f"{k} {v}" for k, v in sorted(c["styles"].items())))
        for p in problems:
            print(f"  PROBLEM {p}")
        if args.verify and not problems:
            for h, rates in sorted(shown_rates(name).items()):
                print(f"  shown by today's verifier, {h}: " + ", ".join(
                    f"{k} {a}/{n} = {a / n:.2f}" for k, (a, n) in rates.items()))
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
