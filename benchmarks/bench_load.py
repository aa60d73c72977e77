"""Load: many concurrent chat sessions against `streamlit run app.py`.

Two kinds of session, mixed freely (--browser-sessions of the --sessions are browser pages):
- a real browser page: one headless Chromium (Playwright, async API) with one context and page
  per session, typing into the chat input and reading the rendered reply;
- a protocol client: speaks Streamlit's own websocket protocol (`/_stcore/stream`, BackMsg /
  ForwardMsg protobufs) exactly as the page's JavaScript does: a rerun with the chat input's
  widget state carries the question; the deltas of the run carry the reply.
Every session asks questions about the seed article one after another (each session starts at a
different place in the list) until the time is up, and starts a new chat every few questions
like a person would. Meanwhile the Streamlit server's memory (RSS, psutil) is sampled every few
seconds.

A question fails when no answer, abstention or notice appears within the timeout, when the reply
is an error box, or when a Streamlit exception element appears.

Why protocol clients: on this 2-core machine, 20 Chromium pages cannot keep up (each page's
React app re-renders the chat on every run); measured with --browser-sessions 20, the pages
themselves were the bottleneck while the server idled. The protocol clients put the same load on
the server (same websocket messages, same script runs) without the rendering cost.

    .venv/bin/python -m benchmarks.bench_load [--sessions 20] [--browser-sessions 4]
                                              [--duration 150]

Writes benchmarks/results/load.json (format of write_report.section_generic, plus the raw series).
tests/test_reliability.py runs a shorter version (`run_load`) in the slow suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from devtools.streamlit_server import CHROMIUM, PLACEHOLDER, StreamlitServer, percentile  # noqa: E402
from devtools.streamlit_server import CHROMIUM_ARGS as _BASE_ARGS  # noqa: E402
from devtools.ui_samples import BENCH_QUESTIONS  # noqa: E402

# Many pages in one browser: keep hidden pages running at full speed.
CHROMIUM_ARGS = [*_BASE_ARGS, "--disable-renderer-backgrounding",
                 "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows", "--disable-dev-shm-usage"]

SEED = REPO / "corpus" / "mexico-us-cross-border-crime-cooperation.txt"
# The first 18 of the UI benchmark's questions (the last of them off the corpus: an abstention is a
# good reply).
QUESTIONS = BENCH_QUESTIONS[:18]
# The reply to message n (0-based count before asking) is message n + 1: it is done when it holds
# an answer, an alert (abstention warning, notice, error) or an exception.
REPLY_JS = """([n]) => {
  const m = document.querySelectorAll('[data-testid="stChatMessage"]');
  if (document.querySelector('[data-testid="stException"]')) return 'exception';
  if (m.length <= n + 1) return false;
  const r = m[n + 1];
  if (r.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]'))
    return 'error';
  if (r.querySelector('.aa-answer')) return 'answer';
  if (r.querySelector('[data-testid="stAlertContentWarning"]')) return 'abstained';
  if (r.querySelector('[data-testid="stAlertContentInfo"]')) return 'notice';
  return false;
}"""
IDLE_JS = """() => { const t = document.querySelector('[data-testid="stChatInputTextArea"]');
                     return !!t && !t.disabled; }"""


@dataclass
class SessionLog:
    index: int
    kind: str = "protocol"
    latencies_s: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    ready_s: float | None = None
    new_chats: int = 0


async def _session(browser, url: str, i: int, log: SessionLog, start_at: float, stop_at: float,
                   t0: float, timeout_s: float, new_chat_every: int) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    try:
        await page.goto(url)
        box = page.get_by_placeholder(PLACEHOLDER)
        await box.wait_for()
        await page.wait_for_function(IDLE_JS, polling=100)
        log.ready_s = time.monotonic() - t0
        k = i * 7  # sessions start at different questions
        in_chat = 0
        while time.monotonic() < stop_at:
            if new_chat_every and in_chat >= new_chat_every:
                await page.get_by_role("button", name="New chat").click()
                await page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stChatMessage\"]')",
                    polling=100)
                await page.wait_for_function(IDLE_JS, polling=100)
                in_chat = 0
                log.new_chats += 1
            question = QUESTIONS[k % len(QUESTIONS)]
            k += 1
            n = await page.locator('[data-testid="stChatMessage"]').count()
            await box.fill(question)
            t = time.monotonic()
            await box.press("Enter")
            try:
                handle = await page.wait_for_function(REPLY_JS, arg=[n], polling=100,
                                                      timeout=timeout_s * 1000)
                outcome = await handle.json_value()
                latency = time.monotonic() - t
                await page.wait_for_function(IDLE_JS, polling=100, timeout=timeout_s * 1000)
            except Exception as exc:  # noqa: BLE001 - a timeout is a failed question
                outcome, latency = "timeout", time.monotonic() - t
                log.failures.append({"t": round(t - t0, 1), "question": question,
                                     "what": f"{type(exc).__name__}: {str(exc)[:200]}"})
                log.outcomes[outcome] = log.outcomes.get(outcome, 0) + 1
                # Start over in a fresh page state rather than stacking up on a stuck one.
                await page.reload()
                await box.wait_for()
                await page.wait_for_function(IDLE_JS, polling=100)
                in_chat = 0
                continue
            log.outcomes[outcome] = log.outcomes.get(outcome, 0) + 1
            if outcome in ("error", "exception"):
                text = await page.locator('[data-testid="stChatMessage"]').nth(n + 1).inner_text()
                log.failures.append({"t": round(t - t0, 1), "question": question,
                                     "what": outcome, "text": text[:300]})
            else:
                log.latencies_s.append(latency)
            in_chat += 1
    except Exception as exc:  # noqa: BLE001 - the session itself broke: count it, keep the rest
        log.failures.append({"t": round(time.monotonic() - t0, 1), "question": None,
                             "what": f"session broke: {type(exc).__name__}: {str(exc)[:300]}"})
    finally:
        await context.close()


class ProtocolClient:
    """One Streamlit session over the websocket protocol."""

    def __init__(self, ws):
        self.ws = ws
        self.page_hash = ""
        self.widget_ids: dict[str, str] = {}  # key -> widget id ("question", "new_chat", ...)

    async def run(self, widgets=(), timeout_s: float = 180) -> dict:
        """Request a script run with these widget states; the run's outcome once it finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.query_string = ""
        for set_state in widgets:
            set_state(msg.rerun_script.widget_states.widgets.add())
        t = time.monotonic()
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._read_run(t), timeout_s)

    async def _read_run(self, t: float) -> dict:
        """Read the run's messages. Every run re-sends the whole page, earlier chat turns
        included, so the reply is what arrives inside the *last* chat message of the run."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        rank = {"notice": 1, "answer": 2, "abstained": 2, "error": 3}
        out = {"reply": None, "reply_s": None, "chat_messages": 0, "exception": None,
               "status": None, "error_text": None}
        blocks: dict[tuple, dict] = {}  # chat message path -> {"kind": (rank, seconds)}
        last: tuple | None = None
        while True:
            m = ForwardMsg()
            m.ParseFromString(await self.ws.recv())
            kind = m.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = m.new_session.page_script_hash
            elif kind == "script_finished":
                out["status"] = int(m.script_finished)
                out["done_s"] = time.monotonic() - t
                if out["status"] == m.FINISHED_EARLY_FOR_RERUN:
                    continue
                if last is not None and blocks[last]:
                    what = max(blocks[last], key=lambda w: (rank[w], -blocks[last][w]))
                    out["reply"] = what
                    # the moment the answer (or abstention, or error) itself arrived
                    out["reply_s"] = blocks[last][what]
                return out
            elif kind == "session_event" and m.session_event.WhichOneof("type") == \
                    "script_compilation_exception":
                out["exception"] = "script compilation exception"
            elif kind == "delta":
                d = m.delta
                path = tuple(m.metadata.delta_path)
                dtype = d.WhichOneof("type")
                if dtype == "add_block" and d.add_block.WhichOneof("type") == "chat_message" \
                        and path[:1] == (0,):
                    out["chat_messages"] += 1
                    last = path
                    blocks[last] = {}
                elif dtype == "new_element":
                    el = d.new_element
                    etype = el.WhichOneof("type")
                    widget_id = getattr(getattr(el, etype), "id", "")
                    if widget_id:
                        self.widget_ids[widget_id.rsplit("-", 1)[-1]] = widget_id
                    what = None
                    if etype == "exception":
                        out["exception"] = f"{el.exception.type}: {el.exception.message}"[:300]
                        what = "error"
                    elif etype == "html" and el.html.body.startswith('<div class="aa-answer"'):
                        what = "answer"
                    elif etype == "alert":
                        what = {1: "error", 2: "abstained", 3: "notice"}.get(el.alert.format)
                        if what == "error":
                            out["error_text"] = el.alert.body[:300]
                    if what and last is not None and path[: len(last)] == last:
                        blocks[last].setdefault(what, time.monotonic() - t)

    async def ask(self, question: str, timeout_s: float) -> dict:
        wid = self.widget_ids["question"]

        def state(w):
            w.id = wid
            w.chat_input_value.data = question
        return await self.run([state], timeout_s)

    async def click(self, key: str, timeout_s: float) -> dict:
        wid = self.widget_ids[key]

        def state(w):
            w.id = wid
            w.trigger_value = True
        return await self.run([state], timeout_s)


async def _protocol_session(url: str, i: int, log: SessionLog, start_at: float, stop_at: float,
                            t0: float, timeout_s: float, new_chat_every: int) -> None:
    import websockets

    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=timeout_s, ping_timeout=None) as ws:
            client = ProtocolClient(ws)
            first = await client.run(timeout_s=timeout_s)
            if first["exception"] or "question" not in client.widget_ids:
                raise RuntimeError(f"the first run did not show the chat: {first}")
            log.ready_s = time.monotonic() - t0
            k = i * 7
            in_chat = 0
            while time.monotonic() < stop_at:
                if new_chat_every and in_chat >= new_chat_every:
                    r = await client.click("new_chat", timeout_s)
                    if r["chat_messages"] or r["exception"]:
                        log.failures.append({"t": round(time.monotonic() - t0, 1),
                                             "question": None, "what": f"new chat: {r}"})
                    in_chat = 0
                    log.new_chats += 1
                question = QUESTIONS[k % len(QUESTIONS)]
                k += 1
                t = time.monotonic()
                try:
                    r = await client.ask(question, timeout_s)
                except asyncio.TimeoutError:
                    log.outcomes["timeout"] = log.outcomes.get("timeout", 0) + 1
                    log.failures.append({"t": round(t - t0, 1), "question": question,
                                         "what": f"no reply within {timeout_s:.0f} s"})
                    break  # the connection is in an unknown state: this session stops
                outcome = r["reply"] or "none"
                if r["exception"]:
                    outcome = "exception"
                log.outcomes[outcome] = log.outcomes.get(outcome, 0) + 1
                if outcome in ("answer", "abstained", "notice") and r["status"] == 0:
                    log.latencies_s.append(r["reply_s"])
                else:
                    log.failures.append({"t": round(t - t0, 1), "question": question,
                                         "what": outcome, "status": r["status"],
                                         "text": r.get("error_text") or r["exception"]})
                in_chat += 1
    except Exception as exc:  # noqa: BLE001 - the session itself broke: count it, keep the rest
        log.failures.append({"t": round(time.monotonic() - t0, 1), "question": None,
                             "what": f"session broke: {type(exc).__name__}: {str(exc)[:300]}"})


async def _sample_memory(pid: int, samples: list[dict], t0: float, every_s: float,
                         stop: asyncio.Event) -> None:
    import psutil

    proc = psutil.Process(pid)
    proc.cpu_percent(None)
    while not stop.is_set():
        try:
            procs = [proc] + proc.children(recursive=True)
            rss = sum(p.memory_info().rss for p in procs)
            samples.append({"t": round(time.monotonic() - t0, 1), "rss_mb": round(rss / 2**20, 1),
                            "cpu_percent": proc.cpu_percent(None),
                            "threads": proc.num_threads()})
        except psutil.Error:
            pass
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except asyncio.TimeoutError:
            pass


async def _drive(url: str, pid: int, sessions: int, browser_sessions: int, duration_s: float,
                 ramp_s: float, timeout_s: float, new_chat_every: int,
                 sample_every_s: float) -> dict:
    """Browser sessions are spread evenly among the protocol sessions."""
    from contextlib import AsyncExitStack

    kinds = ["protocol"] * sessions
    for j in range(min(browser_sessions, sessions)):
        kinds[j * sessions // max(1, browser_sessions)] = "browser"
    logs = [SessionLog(i, kinds[i]) for i in range(sessions)]
    samples: list[dict] = []
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        browser = None
        if "browser" in kinds:
            from playwright.async_api import async_playwright

            pw = await stack.enter_async_context(async_playwright())
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                               headless=True)
            stack.push_async_callback(browser.close)
        t0 = time.monotonic()
        sampler = asyncio.create_task(_sample_memory(pid, samples, t0, sample_every_s, stop))
        stop_at = t0 + ramp_s + duration_s
        runs = []
        for i in range(sessions):
            start = t0 + ramp_s * i / max(1, sessions)
            if kinds[i] == "browser":
                runs.append(_session(browser, url, i, logs[i], start, stop_at, t0, timeout_s,
                                     new_chat_every))
            else:
                runs.append(_protocol_session(url, i, logs[i], start, stop_at, t0, timeout_s,
                                              new_chat_every))
        await asyncio.gather(*runs)
        elapsed = time.monotonic() - t0
        stop.set()
        await sampler
    return {"logs": logs, "samples": samples, "elapsed_s": elapsed}


def memory_growth(samples: list[dict], warmup_s: float) -> dict:
    """RSS after warm-up: the first samples after `warmup_s` against the last ones."""
    after = [s for s in samples if s["t"] >= warmup_s]
    if len(after) < 4:
        return {"baseline_mb": None, "end_mb": None, "growth": None}
    k = max(2, len(after) // 6)
    base = statistics.median(s["rss_mb"] for s in after[:k])
    end = statistics.median(s["rss_mb"] for s in after[-k:])
    peak = max(s["rss_mb"] for s in after)
    return {"baseline_mb": round(base, 1), "end_mb": round(end, 1), "peak_mb": round(peak, 1),
            "growth": round((end - base) / base, 4), "peak_growth": round((peak - base) / base, 4),
            "window": f"median of the first {k} vs the last {k} samples after {warmup_s:.0f} s"}


def prepare_site(work: Path, corpus_src: Path | None = None) -> tuple[Path, Path, Path, dict]:
    """A corpus (the seed article, or a copy of `corpus_src`) and its index, built here."""
    from assistant.config import Settings
    from assistant.indexing import build

    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    if corpus_src is not None:
        shutil.copytree(corpus_src, corpus)
    else:
        corpus.mkdir(parents=True)
        shutil.copy(SEED, corpus / SEED.name)
    settings = Settings().replace(corpus_dir=corpus, index_dir=work / "index",
                                  data_dir=work / "data")
    report = build(settings, log=lambda m: None)
    return corpus, settings.index_dir, settings.data_dir, {"articles": report.articles,
                                                          "chunks": report.chunks}


def run_load(work: Path, sessions: int = 20, duration_s: float = 120, ramp_s: float = 20,
             timeout_s: float = 180, new_chat_every: int = 8, sample_every_s: float = 3,
             warmup_s: float | None = None, corpus_src: Path | None = None,
             browser_sessions: int = 0, echo=print) -> dict:
    """Build an index in `work`, start the app, run the sessions; the results as a dict."""
    corpus, index, data, corpus_info = prepare_site(work, corpus_src)
    server = StreamlitServer(corpus, index, data, work / "streamlit.log")
    try:
        server.wait_healthy()
        echo(f"server up on {server.url} (pid {server.proc.pid}); {sessions} sessions for "
             f"{duration_s:.0f} s after a {ramp_s:.0f} s ramp-up")
        out = asyncio.run(_drive(server.url, server.proc.pid, sessions, browser_sessions,
                                 duration_s, ramp_s, timeout_s, new_chat_every, sample_every_s))
        server_alive = server.proc.poll() is None
    finally:
        server.stop()
    logs: list[SessionLog] = out["logs"]
    lat = [x for lg in logs for x in lg.latencies_s]
    outcomes: dict[str, int] = {}
    for lg in logs:
        for k, v in lg.outcomes.items():
            outcomes[k] = outcomes.get(k, 0) + v
    failures = [dict(f, session=lg.index) for lg in logs for f in lg.failures]
    asked = sum(outcomes.values())
    # Warm-up: until every session has its page up (the first run loads the model) plus 30 s.
    ready = [lg.ready_s for lg in logs if lg.ready_s is not None]
    if warmup_s is None:
        warmup_s = (max(ready) if ready else ramp_s) + 30
    mem = memory_growth(out["samples"], warmup_s)

    def lat_of(kind: str) -> dict:
        xs = [x for lg in logs if lg.kind == kind for x in lg.latencies_s]
        return {"n": len(xs), "p50": round(percentile(xs, 0.5), 2) if xs else None,
                "p95": round(percentile(xs, 0.95), 2) if xs else None}

    return {
        "sessions": sessions, "browser_sessions": sum(lg.kind == "browser" for lg in logs),
        "protocol_sessions": sum(lg.kind == "protocol" for lg in logs),
        "latency_by_kind_s": {"browser": lat_of("browser"), "protocol": lat_of("protocol")},
        "duration_s": round(out["elapsed_s"], 1),
        "load_phase_s": duration_s, "ramp_s": ramp_s, "timeout_s": timeout_s,
        "new_chat_every": new_chat_every, "corpus": corpus_info,
        "questions": asked, "answered": outcomes.get("answer", 0),
        "abstained": outcomes.get("abstained", 0), "notices": outcomes.get("notice", 0),
        "failed": len(failures), "outcomes": outcomes, "failures": failures[:50],
        "sessions_that_asked": sum(1 for lg in logs if lg.outcomes),
        "per_session_questions": [sum(lg.outcomes.values()) for lg in logs],
        "latency_s": {"n": len(lat), "p50": round(percentile(lat, 0.5), 2),
                      "p95": round(percentile(lat, 0.95), 2),
                      "mean": round(statistics.mean(lat), 2) if lat else None,
                      "max": round(max(lat), 2) if lat else None},
        "throughput_qps": round(asked / max(duration_s, 1e-9), 2),
        "memory": {**mem, "warmup_s": round(warmup_s, 1), "samples": out["samples"]},
        "server_alive_at_end": server_alive,
        "page_ready_s": {"first": round(min(ready), 1) if ready else None,
                         "last": round(max(ready), 1) if ready else None},
    }


def _all_browser_note(r: dict) -> list[str]:
    """What the all-Chromium run (results/load-browser20.json) showed, next to a mixed run."""
    path = REPO / "benchmarks" / "results" / "load-browser20.json"
    if r["protocol_sessions"] == 0 or not path.is_file():
        return []
    b = json.loads(path.read_text())["load"]
    return [f"Why protocol clients: with all {b['sessions']} sessions as Chromium pages "
            f"(`--browser-sessions {b['browser_sessions']}`, results/load-browser20.json) the "
            f"pages took until {b['page_ready_s']['last']} s to load and rendered only "
            f"{b['questions']} replies in {b['load_phase_s']:.0f} s (p50 "
            f"{b['latency_s']['p50']} s, {b['failed']} failed) while the server's CPU stayed mostly idle: on 2 cores the "
            "browser, not the app, was the bottleneck."]


def report_json(r: dict, command: str) -> dict:
    """The write_report.section_generic format, with the raw figures kept alongside."""
    m = r["memory"]
    growth = "n/a" if m["growth"] is None else f"{m['growth']:+.1%}"
    return {
        "command": command,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "table": [
            ["sessions", "load phase", "questions", "failed", "answered / abstained",
             "latency p50", "latency p95", "server RSS after warm-up → end", "growth"],
            [r["sessions"], f"{r['load_phase_s']:.0f} s (+{r['ramp_s']:.0f} s ramp)",
             r["questions"], r["failed"], f"{r['answered']} / {r['abstained']}",
             f"{r['latency_s']['p50']} s", f"{r['latency_s']['p95']} s",
             f"{m['baseline_mb']} → {m['end_mb']} MB (peak {m.get('peak_mb')})", growth],
        ],
        "notes": [
            f"{r['sessions']} concurrent sessions against one `streamlit run app.py` over the seed "
            f"article ({r['corpus']['chunks']} chunks): {r['protocol_sessions']} speak Streamlit's "
            "websocket protocol (BackMsg/ForwardMsg, as the page's JavaScript does), "
            f"{r['browser_sessions']} are real pages in one headless Chromium (Playwright async).",
            "Latency p50/p95 by kind: " + "; ".join(
                f"{k} {v['p50']} / {v['p95']} s (n={v['n']})"
                for k, v in r["latency_by_kind_s"].items() if v["n"]) + ".",
            "Each session asks seed-article questions in turn (two are unanswerable: an "
            f"abstention is a correct reply) and starts a new chat every {r['new_chat_every']} "
            "questions. Latency, under load: for a page, Enter pressed → reply rendered; for a "
            "protocol client, question sent → the reply's answer (or abstention) element received.",
            f"A failure is no reply within {r['timeout_s']:.0f} s, an error box or a Streamlit "
            "exception on the page.",
            f"Memory: RSS of the streamlit process sampled every few seconds; {m.get('window')}.",
            f"Machine: {os.cpu_count()} cores shared by the server, Chromium and the driver; load "
            f"average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        ] + _all_browser_note(r),
        "load": r,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--browser-sessions", type=int, default=4,
                    help="how many of the sessions are real Chromium pages (the rest: protocol)")
    ap.add_argument("--duration", type=float, default=150, help="seconds of load after ramp-up")
    ap.add_argument("--ramp", type=float, default=20, help="seconds over which sessions start")
    ap.add_argument("--timeout", type=float, default=180, help="seconds before a question fails")
    ap.add_argument("--new-chat-every", type=int, default=8)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "load.json"))
    args = ap.parse_args()
    if args.browser_sessions and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        r = run_load(work, args.sessions, args.duration, args.ramp, args.timeout,
                     args.new_chat_every, browser_sessions=args.browser_sessions)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python -m benchmarks.bench_load " + " ".join(sys.argv[1:])
    result = report_json(r, command.strip())
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "platform": platform.platform()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    lat, m = r["latency_s"], r["memory"]
    print(f"{r['sessions']} sessions, {r['questions']} questions in {r['duration_s']} s: "
          f"{r['failed']} failed; latency p50 {lat['p50']} s, p95 {lat['p95']} s; "
          f"RSS {m['baseline_mb']} -> {m['end_mb']} MB ({m['growth']})")
    for f in r["failures"][:10]:
        print("  failure:", f)
    print(f"wrote {out}")
    return 0 if r["failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
