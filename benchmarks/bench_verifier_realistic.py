"""The LLM reader's verifier on the realistic development set (benchmarks/realistic/, issue 21):
replies a capable model wrote to the exact prompts `assistant ask --llm` sends, and false
sentences of five kinds made from them.

    .venv/bin/python -m benchmarks.bench_verifier_realistic [--dir benchmarks/realistic]
        [--sets seed,bbc,squad] [--show-drops fit]

Every sentence is verified as the product verifies it: `verify.verify(sentence, passages,
encode, question=...)` with the prompt's passages (as sent) and the question, one sentence at a
time (the chat verifies each sentence as it completes). "Shown" = the sentence is kept.
- supported: every sentence of a non-declined reply labelled "supported" by its writer;
- unsupported, per kind (figure, name, invented, wrong_passage, reversal): the variant's false
  sentence.
Halves by question id (sha256(id)[0] % 2: 0 = fit, 1 = report), so one question's sentences and
variants are in one half. The verifier was developed looking at the fit half only; the report
half is the measure. Writes benchmarks/results/verifier-realistic.json.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from benchmarks.common import HERE, save_result

KINDS = ("figure", "name", "invented", "wrong_passage", "reversal")
SETS = ("seed", "bbc", "squad")


def half(question_id: str) -> str:
    return "fit" if hashlib.sha256(question_id.encode()).digest()[0] % 2 == 0 else "report"


def load(folder: Path, sets=SETS) -> tuple[dict, list[dict], list[dict]]:
    """Prompts by id, the labelled reply sentences, the variants (each with its set)."""
    prompts, sentences, variants = {}, [], []
    for s in sets:
        files = {k: folder / f"{k}-{s}.jsonl" for k in ("prompts", "replies", "variants")}
        if not files["prompts"].exists():
            print(f"{files['prompts']}: not there, set {s} skipped", file=sys.stderr)
            continue
        for line in files["prompts"].read_text(encoding="utf-8").splitlines():
            if line.strip():
                p = json.loads(line)
                prompts[p["id"]] = {**p, "set": s}
        if files["replies"].exists():
            for line in files["replies"].read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                r = json.loads(line)
                if r["id"] not in prompts:
                    print(f"replies-{s}.jsonl: {r['id']} has no prompt, skipped", file=sys.stderr)
                    continue
                if r.get("declined"):
                    continue
                for x in r.get("sentences", []):
                    sentences.append({**x, "question_id": r["id"], "set": s})
        if files["variants"].exists():
            for line in files["variants"].read_text(encoding="utf-8").splitlines():
                if line.strip():
                    v = json.loads(line)
                    if v["question_id"] in prompts and v.get("kind") in KINDS:
                        variants.append({**v, "set": s})
    return prompts, sentences, variants


class CachedEncoder:
    """The product's query encoder with a memory: the same passage spans recur constantly."""

    def __init__(self):
        from assistant.config import Settings
        from assistant.embedding import Embedder

        self.model = Embedder.from_settings(Settings())
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            for t, v in zip(todo, self.model.encode_queries(todo)):
                self.cache[t] = np.asarray(v, dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def shown(sentence: str, prompt: dict, encode, settings=None) -> tuple[bool, str]:
    from assistant.answer import verify

    passages = [p["text"] for p in prompt["passages"]]
    kwargs = {"settings": settings} if settings is not None else {}
    v = verify.verify(sentence, passages, encode, None, question=prompt["question"], **kwargs)
    return bool(v.kept), "; ".join(w for _, w in v.dropped)


def measure(prompts, sentences, variants, encode, settings=None) -> dict:
    out: dict = {}
    for h in ("fit", "report"):
        sup = [x for x in sentences if half(x["question_id"]) == h and x["label"] == "supported"]
        res = {"supported": {"n": len(sup)}, "kinds": {}, "drops": [], "passes": []}
        ok = 0
        by_style: dict = defaultdict(lambda: [0, 0])
        for x in sup:
            kept, why = shown(x["text"], prompts[x["question_id"]], encode, settings)
            ok += kept
            for st in x.get("style") or ["(none)"]:
                by_style[st][0] += kept
                by_style[st][1] += 1
            if not kept:
                res["drops"].append({"id": x["question_id"], "sentence": x["text"], "why": why})
        res["supported"].update(shown=ok, share=ok / len(sup) if sup else None,
                                by_style={k: {"shown": a, "n": b} for k, (a, b) in by_style.items()})
        for kind in KINDS:
            vs = [v for v in variants if half(v["question_id"]) == h and v["kind"] == kind]
            bad = 0
            for v in vs:
                kept, _ = shown(v["sentence"], prompts[v["question_id"]], encode, settings)
                bad += kept
                if kept:
                    res["passes"].append({"id": v["id"], "kind": kind, "sentence": v["sentence"]})
            res["kinds"][kind] = {"n": len(vs), "shown": bad, "share": bad / len(vs) if vs else None}
        out[h] = res
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=str(HERE / "realistic"))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--show-drops", default="", help="fit or report: print what was dropped/passed")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--sim", type=float, default=None, help="try a min_similarity (developing)")
    ap.add_argument("--overlap", type=float, default=None, help="try a min_overlap (developing)")
    ap.add_argument("--cache", default="", help="a file keeping vectors between runs (developing)")
    args = ap.parse_args()
    sets = tuple(s for s in args.sets.split(",") if s)
    prompts, sentences, variants = {}, [], []
    for folder in args.dir.split(","):  # several folders: sets from different places
        there = [s for s in sets if (Path(folder) / f"prompts-{s}.jsonl").exists()]
        p, x, v = load(Path(folder), there)
        prompts.update(p)
        sentences += x
        variants += v
    encode = CachedEncoder()
    if args.cache and Path(args.cache).exists():
        import pickle

        encode.cache = pickle.loads(Path(args.cache).read_bytes())
    t = time.perf_counter()
    from assistant.answer import verify

    settings = None
    if args.sim is not None or args.overlap is not None:
        import dataclasses

        d = verify.DEFAULT_VERIFY_SETTINGS
        settings = dataclasses.replace(d, min_similarity=d.min_similarity if args.sim is None
                                       else args.sim, min_overlap=d.min_overlap
                                       if args.overlap is None else args.overlap)
    res = measure(prompts, sentences, variants, encode, settings)
    seconds = time.perf_counter() - t
    if args.cache:
        import pickle

        Path(args.cache).write_bytes(pickle.dumps(encode.cache))
    for h in ("fit", "report"):
        r = res[h]
        s = r["supported"]
        kinds = ", ".join(f"{k} {v['shown']}/{v['n']}" for k, v in r["kinds"].items())
        print(f"{h}: supported shown {s['shown']}/{s['n']} ({(s['share'] or 0):.3f}); "
              f"unsupported shown: {kinds}")
    if args.show_drops:
        r = res[args.show_drops]
        for d in r["drops"]:
            print(f"DROP {d['id']}: {d['sentence']}\n     {d['why']}")
        for p in r["passes"]:
            print(f"PASS {p['kind']} {p['id']}: {p['sentence']}")
    if args.no_save:
        return
    counts = Counter(p["set"] for p in prompts.values())
    result = {"command": "python -m benchmarks.bench_verifier_realistic",
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "sets": dict(counts), "seconds": round(seconds, 1),
              "settings": {k: getattr(settings or verify.DEFAULT_VERIFY_SETTINGS, k) for k in (
                  "min_similarity", "min_overlap", "figures_in_span", "window",
                  "question_words", "polarity")},
              "bar": {"supported_shown_min": 0.95, "each_kind_shown_max": 0.03},
              **{h: {k: v for k, v in res[h].items()} for h in ("fit", "report")}}
    print(save_result("verifier-realistic", result))


if __name__ == "__main__":
    main()
