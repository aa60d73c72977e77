"""Load: many concurrent chat sessions against `streamlit run app.py` (devtools/load_client.py runs
them; this script picks the scenario and writes the report).

Scenarios (--scenario sets the defaults, every flag overrides):
- b2b: 20 sessions asking back to back for 120 s (after a 20 s ramp-up);
- paced: 50 sessions, each waiting a random 10-20 s between two questions, for 180 s;
- custom: the flags alone.
The corpus is the 2,225 BBC articles (--corpus bbc, from --data), the seed article (seed) or any
folder. The index is built in --work and reused by the next run with the same --work.

Besides latency and failures it reports the server's CPU seconds per reply: psutil cpu_times
(user + system) of the server process, sampled every few seconds once every session has its
page; the change over the run divided by the replies received meanwhile, and the median of that
ratio over 10-second windows.

    .venv/bin/python -m benchmarks.bench_load --scenario b2b --work /tmp/load-bbc
    .venv/bin/python -m benchmarks.bench_load --scenario paced --work /tmp/load-bbc

Writes benchmarks/results/load-<scenario>.json (format of write_report.section_generic, plus the
raw series).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import parser
from devtools.load_client import CHROMIUM, run_load

HERE = Path(__file__).resolve().parent
SCENARIOS = {
    "b2b": {"sessions": 20, "duration": 120, "ramp": 20, "think": None},
    "paced": {"sessions": 50, "duration": 180, "ramp": 20, "think": (10.0, 20.0)},
    "custom": {"sessions": 20, "duration": 150, "ramp": 20, "think": None},
}


def report_json(r: dict, command: str, corpus: str) -> dict:
    """The write_report.section_generic format, with the raw figures kept alongside."""
    m, cpu = r["memory"], r["server_cpu_per_reply_s"]
    growth = "n/a" if m["growth"] is None else f"{m['growth']:+.1%}"
    think = f"{r['think_s'][0]:g}-{r['think_s'][1]:g} s" if r["think_s"] else "none"
    return {
        "command": command,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "table": [
            ["sessions", "think time", "load phase", "questions", "failed",
             "answered / abstained", "latency p50", "latency p95",
             "server CPU per reply (median of 10 s windows; whole run)",
             "server RSS after warm-up → end", "growth"],
            [r["sessions"], think, f"{r['load_phase_s']:.0f} s (+{r['ramp_s']:.0f} s ramp)",
             r["questions"], r["failed"], f"{r['answered']} / {r['abstained']}",
             f"{r['latency_s']['p50']} s", f"{r['latency_s']['p95']} s",
             f"{cpu['median']} s; {cpu['total']} s",
             f"{m['baseline_mb']} → {m['end_mb']} MB (peak {m.get('peak_mb')})", growth],
        ],
        "notes": [
            f"{r['sessions']} concurrent sessions against {r['servers']} `streamlit run app.py` "
            f"over {corpus} ({r['corpus']['articles']} articles, {r['corpus']['chunks']} chunks): "
            f"{r['protocol_sessions']} speak Streamlit's websocket protocol (BackMsg/ForwardMsg, "
            f"as the page's JavaScript does), {r['browser_sessions']} are real pages in one "
            "headless Chromium (Playwright async).",
            "Latency p50/p95 by kind: " + "; ".join(
                f"{k} {v['p50']} / {v['p95']} s (n={v['n']})"
                for k, v in r["latency_by_kind_s"].items() if v["n"]) + ".",
            "Each session asks questions in turn (two are off the corpus: an abstention is a "
            f"correct reply), think time {think}, and starts a new chat every "
            f"{r['new_chat_every']} questions. Latency: for a page, Enter pressed → reply "
            "rendered; for a protocol client, question sent → the reply's answer (or "
            "abstention) element received.",
            f"A failure is no reply within {r['timeout_s']:.0f} s, an error box or a Streamlit "
            "exception on the page.",
            f"Server CPU per reply: psutil cpu_times (user + system) of the server process(es), "
            f"{cpu.get('cpu_s')} s over {cpu.get('replies')} replies in the "
            f"{cpu.get('stretch_s')} s after every session had its page; median over "
            f"{cpu.get('windows')} windows of about 10 s.",
            f"Memory: RSS of the server process(es) sampled every few seconds; {m.get('window')}.",
            f"Machine: {os.cpu_count()} cores shared by the server, the clients and other work; "
            f"load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        ],
        "load": r,
    }


def main() -> int:
    ap = parser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="b2b")
    ap.add_argument("--corpus", default="bbc", help="bbc, seed, or a folder of articles")
    ap.add_argument("--work", help="where the corpus copy and its index are kept (and reused); "
                                   "default: a temporary folder")
    ap.add_argument("--sessions", type=int)
    ap.add_argument("--browser-sessions", type=int, default=0,
                    help="how many of the sessions are real Chromium pages (the rest: protocol)")
    ap.add_argument("--duration", type=float, help="seconds of load after ramp-up")
    ap.add_argument("--ramp", type=float, help="seconds over which sessions start")
    ap.add_argument("--think", type=float, nargs=2, metavar=("MIN", "MAX"),
                    help="seconds each session waits between two questions (uniform)")
    ap.add_argument("--timeout", type=float, default=180, help="seconds before a question fails")
    ap.add_argument("--new-chat-every", type=int, default=8)
    ap.add_argument("--out", help="default: benchmarks/results/load-<scenario>.json")
    args = ap.parse_args()
    preset = SCENARIOS[args.scenario]
    sessions = args.sessions or preset["sessions"]
    duration = args.duration if args.duration is not None else preset["duration"]
    ramp = args.ramp if args.ramp is not None else preset["ramp"]
    think = tuple(args.think) if args.think else preset["think"]
    if args.browser_sessions and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    corpus_src = {"seed": None, "bbc": Path(args.data) / "bbc-fulltext" / "bbc"}.get(
        args.corpus, Path(args.corpus))
    if corpus_src is not None and not corpus_src.is_dir():
        print(f"{corpus_src}: no such folder (pass --data or --corpus)", file=sys.stderr)
        return 2
    corpus_name = {"seed": "the seed article", "bbc": "the BBC articles"}.get(args.corpus,
                                                                          args.corpus)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        r = run_load(work, sessions, duration, ramp, args.timeout, args.new_chat_every,
                     corpus_src=corpus_src, browser_sessions=args.browser_sessions,
                     think_s=think)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    command = "python -m benchmarks.bench_load " + " ".join(sys.argv[1:])
    result = report_json(r, command.strip(), corpus_name)
    result["saving"] = r.get("saving")
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "platform": platform.platform(), "loadavg_at_end": os.getloadavg()}
    out = Path(args.out or HERE / "results" / f"load-{args.scenario}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    lat, m, cpu = r["latency_s"], r["memory"], r["server_cpu_per_reply_s"]
    print(f"{r['sessions']} sessions, {r['questions']} questions in {r['duration_s']} s: "
          f"{r['failed']} failed; latency p50 {lat['p50']} s, p95 {lat['p95']} s; server CPU per "
          f"reply {cpu['median']} s (median), {cpu['total']} s (whole run); "
          f"RSS {m['baseline_mb']} -> {m['end_mb']} MB ({m['growth']}); "
          f"load average {os.getloadavg()[0]:.1f}")
    if r.get("saving"):
        sv = r["saving"]
        print(f"app database: {sv['saved_answers']} answers saved of {sv['answers_to_save']} "
              f"answered or abstained; {sv['failed_writes']} failed writes")
    for f in r["failures"][:10]:
        print("  failure:", f)
    print(f"wrote {out}")
    return 0 if r["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
