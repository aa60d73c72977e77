"""Today's verifier on the realistic development set (benchmarks/realistic/): how many supported
sentences it shows, and how many of each kind of unsupported sentence it lets through.

    .venv/bin/python -m benchmarks.realistic_baseline [--set seed --set bbc]

Each reply is verified whole, as `llm.read` does after the stream ends (`verify.verify` over the
prompt's passage texts, with the real embedding model); each variant's two-sentence reply
likewise, counting only its false sentence. Passage sentence spans are not stored in the
fixtures, so the verifier finds them itself (`candidate_spans(text, None)`); the product passes
the chunker's spans, so figures can differ slightly. Writes
benchmarks/results/realistic_baseline.json.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from benchmarks.common import save_result
from devtools.realistic_fixtures import DIR, half, read_jsonl


def shown_sentences(verification) -> set[str]:
    return {" ".join(claim.text.split()) for claim, _ in verification.kept}


def bare(sentence: str) -> str:
    """The sentence as `split_claims` reports it: without its markers."""
    from assistant.answer.verify import split_claims

    claims = split_claims(sentence)
    return " ".join(claims[0].text.split()) if claims else sentence


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", choices=["seed", "bbc", "squad"])
    args = ap.parse_args()
    from assistant.answer import verify
    from assistant.embedding import Embedder

    embedder = Embedder()
    sets = args.set or [s for s in ("seed", "bbc", "squad") if (DIR / f"replies-{s}.jsonl").exists()]
    counts: Counter = Counter()
    misses: list[dict] = []
    t0 = time.perf_counter()
    for set_name in sets:
        prompts = {p["id"]: p for p in read_jsonl(DIR / f"prompts-{set_name}.jsonl")}
        texts = {pid: [q["text"] for q in p["passages"]] for pid, p in prompts.items()}
        for r in read_jsonl(DIR / f"replies-{set_name}.jsonl"):
            if r["declined"]:
                continue
            v = verify.verify(r["reply"], texts[r["id"]], embedder.encode_queries)
            shown = shown_sentences(v)
            for s in r["sentences"]:
                ok = bare(s["text"]) in shown
                key = (set_name, half(r["id"]), s["label"])
                counts[key + ("n",)] += 1
                counts[key + ("shown",)] += ok
                for style in s["style"]:
                    counts[(set_name, half(r["id"]), f"style:{style}", "n")] += 1
                    counts[(set_name, half(r["id"]), f"style:{style}", "shown")] += ok
                if s["label"] == "supported" and not ok:
                    why = [w for t, w in v.dropped if " ".join(t.split()) == bare(s["text"])]
                    misses.append({"id": r["id"], "sentence": s["text"], "style": s["style"],
                                   "why": why[0] if why else ""})
        for var in read_jsonl(DIR / f"variants-{set_name}.jsonl"):
            v = verify.verify(var["reply"], texts[var["question_id"]], embedder.encode_queries)
            ok = bare(var["sentence"]) in shown_sentences(v)
            key = (set_name, half(var["question_id"]), f"variant:{var['kind']}")
            counts[key + ("n",)] += 1
            counts[key + ("shown",)] += ok
    rows = {}
    for set_name, h, what, stat in sorted(counts):
        if stat != "n":
            continue
        n, shown = counts[(set_name, h, what, "n")], counts[(set_name, h, what, "shown")]
        rows.setdefault(what, {})[f"{set_name}/{h}"] = {"n": n, "shown": shown,
                                                         "rate": round(shown / n, 3)}
    for what, by in rows.items():
        total_n = sum(x["n"] for x in by.values())
        total_shown = sum(x["shown"] for x in by.values())
        print(f"{what:28} shown {total_shown:>3}/{total_n:<3} = {total_shown / total_n:.3f}   "
              + "  ".join(f"{k} {x['shown']}/{x['n']}" for k, x in by.items()))
    save_result("realistic_baseline", {
        "command": "python -m benchmarks.realistic_baseline",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "note": "today's verifier (DEFAULT_VERIFY_SETTINGS), spans found by the verifier",
        "seconds": round(time.perf_counter() - t0, 1), "shown": rows,
        "supported_dropped": misses})


if __name__ == "__main__":
    main()
