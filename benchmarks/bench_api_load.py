"""Load on the HTTP API: concurrent clients asking back to back through `assistant serve`.

20 clients (--clients), each with its own token, ask the BBC questions one after another for
120 s (--duration) after a ramp-up (--ramp) in which they start one by one. The clients take
turns over the endpoints people use: /v1/ask, /v1/chat/completions not streamed, and streamed
(read to the end). The server is `assistant serve` in its own process (as deployed), its rate
limit raised out of the way (ASSISTANT_API_RATE) but still checked on every request.

Reports latency p50/p95 (all, and per endpoint), failures (any status but 200, a reply without
an answer, an exception, or no reply within --timeout), and the server's CPU seconds per reply:
psutil cpu_times (user + system) sampled every 3 s after the ramp-up, the change divided by the
replies received meanwhile, the median over 10-second windows (as benchmarks/bench_load.py does
for the Streamlit app). `--streamlit` then runs that app's b2b scenario on the same index in the
same run, for the comparison.

    .venv/bin/python -m benchmarks.bench_api_load --work /tmp/api-load-bbc [--streamlit]

Writes benchmarks/results/api-load.json (write_report.section_generic's format + raw figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import parser
from devtools.api_server import ServeProcess
from devtools.load_client import BBC_QUESTIONS, cpu_per_reply, memory_growth, prepare_site

HERE = Path(__file__).resolve().parent
KINDS = ("ask", "chat", "chat-stream")
REFERENCE = ("For reference, the Streamlit app's b2b run of 2026-12-02 on a quieter machine (load "
             "average about 2, benchmarks/results/load-b2b.json): p50 0.68 s, p95 0.78 s, server "
             "CPU 0.041 s per reply.")


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))], 3)


async def one_question(client, kind: str, question: str) -> tuple[bool, str]:
    """(answered, what went wrong or the tier)."""
    if kind == "ask":
        r = await client.post("/v1/ask", json={"question": question})
        if r.status_code != 200:
            return False, f"HTTP {r.status_code}: {r.text[:200]}"
        return ("answer" in r.json()), r.json().get("tier", "no answer field")
    body = {"model": "article-assistant", "messages": [{"role": "user", "content": question}],
            "stream": kind == "chat-stream"}
    if kind == "chat":
        r = await client.post("/v1/chat/completions", json=body)
        if r.status_code != 200:
            return False, f"HTTP {r.status_code}: {r.text[:200]}"
        extra = r.json().get("article_assistant") or {}
        return bool(r.json()["choices"][0]["message"]["content"]), extra.get("tier", "?")
    tier, done = None, False
    async with client.stream("POST", "/v1/chat/completions", json=body) as r:
        if r.status_code != 200:
            return False, f"HTTP {r.status_code}: {(await r.aread())[:200]!r}"
        async for line in r.aiter_lines():
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if "error" in chunk:
                    return False, f"stream error: {chunk['error']}"
                if chunk.get("article_assistant"):
                    tier = chunk["article_assistant"]["tier"]
    return done and tier is not None, tier or "stream ended without the answer"


async def client_loop(i: int, url: str, token: str, start: float, stop: float, timeout: float,
                      log: dict) -> None:
    import httpx

    await asyncio.sleep(max(0.0, start - time.monotonic()))
    kind = KINDS[i % len(KINDS)]
    k = i * 5  # each client starts at a different question
    async with httpx.AsyncClient(base_url=url, timeout=timeout,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        while time.monotonic() < stop:
            question = BBC_QUESTIONS[k % len(BBC_QUESTIONS)]
            k += 1
            t = time.monotonic()
            try:
                ok, what = await one_question(client, kind, question)
            except Exception as exc:  # noqa: BLE001 - a failure to count, not to stop on
                ok, what = False, f"{type(exc).__name__}: {exc}"
            took = time.monotonic() - t
            if ok:
                log["latency"].append((kind, took))
                log["tiers"][what] = log["tiers"].get(what, 0) + 1
            else:
                log["failures"].append({"client": i, "kind": kind, "question": question,
                                        "what": what[:300]})


async def sample(pid: int, log: dict, t0: float, stop: asyncio.Event) -> None:
    import psutil

    proc = psutil.Process(pid)
    while not stop.is_set():
        try:
            cpu = proc.cpu_times()
            log["samples"].append({"t": round(time.monotonic() - t0, 2),
                                   "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                                   "cpu_s": round(cpu.user + cpu.system, 3),
                                   "replies": len(log["latency"]),
                                   "threads": proc.num_threads()})
        except psutil.Error:
            pass
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=3)


async def drive(url: str, pid: int, tokens: list[str], duration: float, ramp: float,
                timeout: float) -> dict:
    log: dict = {"latency": [], "failures": [], "tiers": {}, "samples": []}
    t0 = time.monotonic()
    stop_at = t0 + ramp + duration
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(pid, log, t0, stop))
    await asyncio.gather(*(client_loop(i, url, tok, t0 + ramp * i / len(tokens), stop_at,
                                       timeout, log) for i, tok in enumerate(tokens)))
    log["elapsed_s"] = time.monotonic() - t0
    stop.set()
    await sampler
    return log


def summarize(log: dict, clients: int, duration: float, ramp: float) -> dict:
    lat = [x for _, x in log["latency"]]
    by_kind = {k: [x for kind, x in log["latency"] if kind == k] for k in KINDS}
    cpu = cpu_per_reply(log["samples"], ramp)
    return {"clients": clients, "duration_s": round(log["elapsed_s"], 1), "ramp_s": ramp,
            "load_phase_s": duration, "questions": len(lat) + len(log["failures"]),
            "answered": len(lat), "failed": len(log["failures"]), "tiers": log["tiers"],
            "latency_s": {"p50": pct(lat, 0.5), "p95": pct(lat, 0.95), "max": pct(lat, 1.0),
                          "mean": round(statistics.mean(lat), 3) if lat else None},
            "latency_by_kind_s": {k: {"p50": pct(v, 0.5), "p95": pct(v, 0.95), "n": len(v)}
                                  for k, v in by_kind.items()},
            "throughput_per_s": round(len(lat) / log["elapsed_s"], 2),
            "server_cpu_per_reply_s": cpu, "memory": memory_growth(log["samples"], ramp + 10),
            "failures": log["failures"][:20], "samples": log["samples"]}


def main() -> int:
    ap = parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/api-load-bbc",
                    help="where the BBC corpus copy and its index are kept (and reused)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--ramp", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--streamlit", action="store_true",
                    help="then run the Streamlit app's b2b load on the same index, same run")
    ap.add_argument("--out", default=str(HERE / "results" / "api-load.json"))
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    corpus_src = Path(args.data) / "bbc-fulltext" / "bbc"
    if not corpus_src.is_dir():
        print(f"{corpus_src}: no such folder (pass --data)", file=sys.stderr)
        return 2
    work = Path(args.work)
    corpus, index, data, info = prepare_site(work, corpus_src)
    from assistant.api.token_db import DbTokenStore

    store = DbTokenStore.in_data_dir(data)
    tokens = [store.create(f"client{i}@example.org", "bench_api_load")[0]
              for i in range(args.clients)]
    env = {"ASSISTANT_API_RATE": "1000000", "ASSISTANT_API_BURST": "1000"}
    with ServeProcess("--index", str(index), "--corpus", str(corpus), "--data", str(data),
                      "--secrets", str(work / "none.toml"), "--log-level", "warning",
                      env=env, cwd=work) as server:
        print(f"server up on {server.url} (pid {server.pid}); {args.clients} clients for "
              f"{args.duration:.0f} s after a {args.ramp:.0f} s ramp-up", flush=True)
        log = asyncio.run(drive(server.url, server.pid, tokens, args.duration, args.ramp,
                                args.timeout))
        alive = server.proc.poll() is None
    for t in tokens:
        store.revoke(store.lookup(t).id, by="bench_api_load")
    r = {**summarize(log, args.clients, args.duration, args.ramp), "corpus": info,
         "server_alive_at_end": alive}
    streamlit = None
    if args.streamlit:
        from devtools.load_client import run_load

        print("now the Streamlit app, b2b, on the same index", flush=True)
        streamlit = run_load(work, 20, 120, 20, 180, 8, corpus_src=corpus_src)
        streamlit["memory"].pop("samples", None)
    write(args, r, streamlit)
    return 0 if r["failed"] == 0 and alive else 1


def write(args, r: dict, streamlit: dict | None) -> None:
    lat, cpu = r["latency_s"], r["server_cpu_per_reply_s"]
    head = ["server", "clients", "questions", "failed", "latency p50", "latency p95",
            "server CPU per reply (median of 10 s windows; whole run)", "replies/s"]
    rows = [head, ["HTTP API (`assistant serve`)", r["clients"], r["questions"], r["failed"],
                   f"{lat['p50']} s", f"{lat['p95']} s", f"{cpu['median']} s; {cpu['total']} s",
                   r["throughput_per_s"]]]
    if streamlit:
        s_lat, s_cpu = streamlit["latency_s"], streamlit["server_cpu_per_reply_s"]
        rows.append(["Streamlit app, same run (`bench_load` b2b)", streamlit["sessions"],
                     streamlit["questions"], streamlit["failed"], f"{s_lat['p50']} s",
                     f"{s_lat['p95']} s", f"{s_cpu['median']} s; {s_cpu['total']} s",
                     round(streamlit["questions"] / max(1, streamlit["duration_s"]), 2)])
    else:
        rows.append(["Streamlit app (`bench_load` b2b, 2026-12-02, another run)", 20, 3804, 0,
                     "0.68 s", "0.78 s", "0.0407 s; 0.0413 s", "-"])
    kinds = "; ".join(f"{k} {v['p50']} / {v['p95']} s (n={v['n']})"
                      for k, v in r["latency_by_kind_s"].items())
    m = r["memory"]
    result = {
        "command": "python -m benchmarks.bench_api_load " + " ".join(sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "table": rows,
        "notes": [
            f"{r['clients']} clients, each with its own token, asking back to back for "
            f"{r['load_phase_s']:.0f} s after a {r['ramp_s']:.0f} s ramp-up, over the BBC "
            f"articles ({r['corpus']['articles']} articles, {r['corpus']['chunks']} chunks); "
            "the clients take turns over /v1/ask, /v1/chat/completions and the same streamed "
            "(read to [DONE]). Latency: request sent → whole reply received.",
            f"Latency p50 / p95 by endpoint: {kinds}. Tiers: {r['tiers']}.",
            "A failure is any status but 200, a reply without its answer, an exception or no "
            f"reply within {args.timeout:.0f} s. Rate limit raised out of the way but checked.",
            f"Server CPU per reply: psutil cpu_times (user + system) of the server process, "
            f"{cpu.get('cpu_s')} s over {cpu.get('replies')} replies in the "
            f"{cpu.get('stretch_s')} s after the ramp-up; median over {cpu.get('windows')} "
            "windows of about 10 s.",
            f"Server RSS after warm-up → end: {m.get('baseline_mb')} → {m.get('end_mb')} MB "
            f"(peak {m.get('peak_mb')}).",
            REFERENCE,
            f"Machine: {os.cpu_count()} cores shared by the server, the clients and other "
            "people's work (the machine was not quiet: compare with care); load average at the "
            f"end {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        ],
        "load": r, "streamlit": streamlit,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "loadavg_at_end": os.getloadavg()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{r['clients']} clients, {r['questions']} questions: {r['failed']} failed; latency "
          f"p50 {lat['p50']} s, p95 {lat['p95']} s; server CPU per reply {cpu['median']} s "
          f"(median), {cpu['total']} s (whole run); load average {os.getloadavg()[0]:.1f}")
    for f in r["failures"][:10]:
        print("  failure:", f)
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
