"""The optional model check (`ASSISTANT_LLM_VERIFY=model`, issue 21 item 4) on the realistic
development set's reporting half, with recorded verdicts of a capable model.

    .venv/bin/python -m benchmarks.bench_model_check export   # the check requests, for writers
    .venv/bin/python -m benchmarks.bench_model_check          # measure with the recorded verdicts

Each reply of the set (and each variant: the reply with one false sentence in it) goes through
what `assistant/answer/llm_judge.py` does: the deterministic gates (figures, names, citation
range: `verify.verify` with `llm_judge.GATES_ONLY`), then one check request for all sentences
left, built by `model_check.check_messages` exactly as the product sends it. The verdicts were
written once per request, by a capable model reading only that request (see
benchmarks/realistic/judge/README.md), and are read back by the request's sha256 key. "Shown" =
kept by the gates and judged supported by `model_check.parse_verdicts` (anything it cannot
read counts as unsupported, as in the product). Writes benchmarks/results/model-check.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.bench_verifier_realistic import KINDS, SETS, CachedEncoder, half, load
from benchmarks.common import HERE, save_result

FOLDER = HERE / "realistic"
JUDGE = FOLDER / "judge"
HALF = "report"


def request_key(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:16]


def gated(reply: str, prompt: dict, encode):
    """The sentences the gates keep (claim text, cited numbers) and the check request for them
    (None when no sentence is left)."""
    from assistant.answer import verify
    from assistant.answer.llm_judge import GATES_ONLY
    from assistant.answer.verify.model_check import check_messages

    texts = [p["text"] for p in prompt["passages"]]
    v = verify.verify(reply, texts, encode, None, settings=GATES_ONLY,
                      question=prompt["question"])
    sentences = [(claim.text, sorted(supports)) for claim, supports in v.kept]
    if not sentences:
        return sentences, None
    return sentences, check_messages(prompt["question"], texts, sentences)


def claim_text(sentence: str) -> str:
    from assistant.answer.verify.claims import split_claims

    claims = split_claims(sentence)
    return claims[0].text if claims else sentence


def items(folder: Path = FOLDER, sets=SETS, which: str = HALF):
    """(kind, id, reply, prompt, [target sentences]) for the half: kind "supported" for a reply
    (targets: its sentences labelled supported), else the variant's kind (target: its false
    sentence)."""
    prompts, sentences, variants = load(folder, sets)
    by_reply: dict[str, list[str]] = defaultdict(list)
    for x in sentences:
        if half(x["question_id"]) == which and x["label"] == "supported":
            by_reply[x["question_id"]].append(x["text"])
    replies = {}
    for s in sets:
        f = folder / f"replies-{s}.jsonl"
        if f.exists():
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    r = json.loads(line)
                    replies[r["id"]] = r["reply"]
    out = []
    for qid, targets in sorted(by_reply.items()):
        out.append(("supported", qid, replies[qid], prompts[qid], targets))
    for v in variants:
        if half(v["question_id"]) == which:
            out.append((v["kind"], v["id"], v["reply"], prompts[v["question_id"]],
                        [v["sentence"]]))
    return out


def export(encode, which: str, per_file: int) -> None:
    """Every check request of the half into requests-<half>.jsonl; those without a recorded
    verdict into batch files for the writers (numbered after the verdict files there are)."""
    JUDGE.mkdir(parents=True, exist_ok=True)
    seen: dict[str, list[dict]] = {}
    for _kind, _id, reply, prompt, _targets in items(which=which):
        _, messages = gated(reply, prompt, encode)
        if messages is not None:
            seen.setdefault(request_key(messages), messages)
    with (JUDGE / f"requests-{which}.jsonl").open("w", encoding="utf-8") as f:
        for k in sorted(seen):
            f.write(json.dumps({"key": k, "messages": seen[k]}, ensure_ascii=False) + "\n")
    done = read_verdicts(which)
    todo = {k: m for k, m in seen.items() if k not in done}
    write_batches(todo, which, per_file)
    print(f"{len(seen)} check requests for the {which} half, {len(todo)} of them without a "
          f"verdict, in {JUDGE}")


def write_batches(requests: dict[str, list[dict]], which: str, per_file: int) -> None:
    """The requests, as the writers read them, in batch-<which>-NN.txt files numbered after the
    verdict files there are."""
    JUDGE.mkdir(parents=True, exist_ok=True)
    keys = sorted(requests)
    first = len(list(JUDGE.glob(f"verdicts-{which}-*.jsonl")))
    for b in range(0, len(keys), per_file):
        parts = []
        for k in keys[b:b + per_file]:
            m = requests[k]
            parts.append(f"=== REQUEST {k}\n--- system\n{m[0]['content']}\n--- user\n"
                         f"{m[1]['content']}\n=== END {k}\n")
        (JUDGE / f"batch-{which}-{first + b // per_file + 1:02d}.txt").write_text(
            "\n".join(parts), encoding="utf-8")


def read_verdicts(which: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in sorted(JUDGE.glob(f"verdicts-{which}-*.jsonl")):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                out[r["key"]] = r["reply"]
            except (ValueError, KeyError, TypeError) as exc:
                print(f"{f.name}:{n}: not a verdict line ({exc}), skipped", file=sys.stderr)
    return out


def measure(encode, which: str) -> dict:
    from assistant.answer.verify.model_check import parse_verdicts

    verdicts = read_verdicts(which)
    res: dict = {"supported": {"n": 0, "shown": 0, "gated": 0}, "kinds": {},
                 "missing_requests": 0, "drops": [], "passes": []}
    kinds = {k: {"n": 0, "shown": 0, "gated": 0} for k in KINDS}
    for kind, item_id, reply, prompt, targets in items(which=which):
        sentences, messages = gated(reply, prompt, encode)
        ok: list[bool] = []
        if messages is not None:
            key = request_key(messages)
            if key not in verdicts:
                res["missing_requests"] += 1
                print(f"{item_id}: no recorded verdict for request {key}", file=sys.stderr)
            ok, _problem = parse_verdicts(verdicts.get(key, ""), len(sentences))
        kept = {text: good for (text, _), good in zip(sentences, ok)}
        bucket = res["supported"] if kind == "supported" else kinds[kind]
        for t in targets:
            c = claim_text(t)
            bucket["n"] += 1
            bucket["gated"] += c not in kept  # dropped by the deterministic gates
            shown = kept.get(c, False)
            bucket["shown"] += shown
            if kind == "supported" and not shown:
                res["drops"].append({"id": item_id, "sentence": t,
                                     "by": "gates" if c not in kept else "model"})
            if kind != "supported" and shown:
                res["passes"].append({"id": item_id, "kind": kind, "sentence": t})
    for b in (res["supported"], *kinds.values()):
        b["share"] = b["shown"] / b["n"] if b["n"] else None
    res["kinds"] = kinds
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", default="measure", choices=("measure", "export"))
    ap.add_argument("--half", default=HALF, choices=("fit", "report"))
    ap.add_argument("--per-file", type=int, default=40)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    encode = CachedEncoder()
    if args.what == "export":
        export(encode, args.half, args.per_file)
        return
    t = time.perf_counter()
    r = measure(encode, args.half)
    s = r["supported"]
    print(f"{args.half}: supported shown {s['shown']}/{s['n']} ({(s['share'] or 0):.3f}, "
          f"{s['gated']} stopped by the gates); unsupported shown: "
          + ", ".join(f"{k} {v['shown']}/{v['n']}" for k, v in r["kinds"].items())
          + f"; requests without a verdict: {r['missing_requests']}")
    if args.no_save:
        return
    result = {"command": "python -m benchmarks.bench_model_check",
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "half": args.half, "seconds": round(time.perf_counter() - t, 1),
              "bar": {"supported_shown_min": 0.95, "each_kind_shown_max": 0.03}, **r}
    print(save_result("model-check", result))


if __name__ == "__main__":
    main()
