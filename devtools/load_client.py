"""Many concurrent chat sessions against `streamlit run app.py`: the load benchmark
(benchmarks/bench_load.py) and the slow load test (tests/test_reliability.py) both run this.

Two kinds of session, mixed freely:
- a real browser page: one headless Chromium (Playwright, async API) with one context and page
  per session, typing into the chat input and reading the rendered reply;
- a protocol client: speaks Streamlit's own websocket protocol (`/_stcore/stream`, BackMsg /
  ForwardMsg protobufs) as the page's JavaScript does: a rerun with the chat input's widget
  state carries the question, sent as a rerun of the fragment that holds the input (as the page
  sends it); the deltas of the run carry the reply.
Every session asks questions one after another (each session starts at a different place in the
list), back to back or after a random think time, until the time is up, and starts a new chat
every few questions like a person would. Meanwhile the server's memory (RSS) and CPU time
(psutil `cpu_times`, user + system, of every server process) are sampled every few seconds.

A question fails when no answer, abstention or notice appears within the timeout, when the reply
is an error box, or when a Streamlit exception element appears.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devtools.streamlit_server import CHROMIUM, IDLE_JS, PLACEHOLDER, StreamlitServer, percentile
from devtools.streamlit_server import CHROMIUM_ARGS as _BASE_ARGS
from devtools.ui_samples import BENCH_QUESTIONS, SEED

# Many pages in one browser: keep hidden pages running at full speed.
CHROMIUM_ARGS = [*_BASE_ARGS, "--disable-renderer-backgrounding",
                 "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows", "--disable-dev-shm-usage"]

# The first 18 of the UI benchmark's questions about the seed article (the last of them off the
# corpus: an abstention is a good reply).
SEED_QUESTIONS = BENCH_QUESTIONS[:18]
# Questions about the BBC articles (business, entertainment, politics, sport, tech), the last two
# off the corpus.
BBC_QUESTIONS = [
    "How much did Time Warner's quarterly profits rise?",
    "Why did Uganda ban The Vagina Monologues?",
    "What did the Tomlinson report propose for secondary schools?",
    "How did Irish athletes do at the Athens Olympics?",
    "How much music can the new iPod mini hold?",
    "Did Bernie Ebbers know about the accounting fraud at WorldCom?",
    "What is the World Community Grid?",
    "Why could Duncan Bell not play for Wales?",
    "Who kidnapped Margaret Hassan in Iraq?",
    "How much did Prince earn in 2004?",
    "Which share of Google does Time Warner own?",
    "Who was expelled from the Labour party?",
    "What will replace GCSEs and A-levels?",
    "Who broke his arm before the Six Nations?",
    "What does Seti@home search for?",
    "Who came second in the Rolling Stone list of top earners?",
    "How does photosynthesis work?",
    "What is the capital of France?",
]
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


@dataclass
class SessionLog:
    index: int
    kind: str = "protocol"
    latencies_s: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    ready_s: float | None = None
    new_chats: int = 0


@dataclass(frozen=True)
class Plan:
    """What every session does: the questions in turn, the think time drawn between two
    questions (None: back to back), a new chat every `new_chat_every` questions."""

    questions: Sequence[str]
    timeout_s: float = 180
    new_chat_every: int = 8
    think_s: tuple[float, float] | None = None
    seed: int = 13

    def pause(self, rng: random.Random) -> float:
        return rng.uniform(*self.think_s) if self.think_s else 0.0


class _Turns:
    """The questions one session asks: from its own place in the list (sessions start at
    different questions), with the think time before each but the first."""

    def __init__(self, plan: Plan, i: int):
        self.plan, self.k, self.asked = plan, i * 7, 0
        self.rng = random.Random(plan.seed * 1000 + i)

    async def next(self, stop_at: float) -> str | None:
        """The next question, or None when the load phase ended during the think time."""
        pause = self.plan.pause(self.rng) if self.asked else 0.0
        if pause:
            await asyncio.sleep(min(pause, max(0.0, stop_at - time.monotonic())))
        if time.monotonic() >= stop_at:
            return None
        self.asked += 1
        self.k += 1
        return self.plan.questions[(self.k - 1) % len(self.plan.questions)]


async def _page_state(page, n: int) -> dict:
    """What the page showed when a reply did not come: for the failure record."""
    try:
        return await page.evaluate("""([n]) => {
          const m = [...document.querySelectorAll('[data-testid="stChatMessage"]')];
          const t = document.querySelector('[data-testid="stChatInputTextArea"]');
          return {messages_before: n, messages_now: m.length,
                  last: m.length ? m[m.length - 1].innerText.slice(0, 300) : null,
                  input_disabled: t ? t.disabled : null, input_value: t ? t.value : null,
                  status: (document.querySelector('[data-testid="stStatusWidget"]') || {}).innerText
                          || null};
        }""", [n])
    except Exception as exc:  # noqa: BLE001 - the page itself may be gone
        return {"unreadable": f"{type(exc).__name__}: {str(exc)[:120]}"}


async def _session(browser, url: str, i: int, log: SessionLog, start_at: float, stop_at: float,
                   t0: float, plan: Plan) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    turns, timeout_s = _Turns(plan, i), plan.timeout_s
    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    page = await context.new_page()
    page.set_default_timeout(timeout_s * 1000)
    try:
        await page.goto(url)
        box = page.get_by_placeholder(PLACEHOLDER)
        await box.wait_for()
        await page.wait_for_function(IDLE_JS, polling=100)
        log.ready_s = time.monotonic() - t0
        in_chat = 0
        while time.monotonic() < stop_at:
            if plan.new_chat_every and in_chat >= plan.new_chat_every:
                await page.get_by_role("button", name="New chat").click()
                await page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stChatMessage\"]')",
                    polling=100)
                await page.wait_for_function(IDLE_JS, polling=100)
                in_chat = 0
                log.new_chats += 1
            question = await turns.next(stop_at)
            if question is None:
                break
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
                                     "what": f"{type(exc).__name__}: {str(exc)[:200]}",
                                     "page": await _page_state(page, n)})
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
        self.fragments: dict[str, str] = {}  # widget id -> the fragment that renders it

    async def run(self, widgets=(), timeout_s: float = 180, fragment: str = "") -> dict:
        """Request a script run (of one fragment, if given) with these widget states; the run's
        outcome once it finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.rerun_script.page_script_hash = self.page_hash
        msg.rerun_script.query_string = ""
        if fragment:
            msg.rerun_script.fragment_id = fragment
        for set_state in widgets:
            set_state(msg.rerun_script.widget_states.widgets.add())
        t = time.monotonic()
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._read_run(t), timeout_s)

    async def _read_run(self, t: float) -> dict:
        """Read the run's messages. A run re-sends what it reruns, earlier chat turns included,
        so the reply is what arrives inside the *last* chat message of the run."""
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
                status = int(m.script_finished)
                out["status"] = 0 if status == m.FINISHED_FRAGMENT_RUN_SUCCESSFULLY else status
                out["done_s"] = time.monotonic() - t
                if status == m.FINISHED_EARLY_FOR_RERUN:
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
                        self.fragments[widget_id] = d.fragment_id
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
        return await self.run([state], timeout_s, self.fragments.get(wid, ""))

    async def click(self, key: str, timeout_s: float) -> dict:
        wid = self.widget_ids[key]

        def state(w):
            w.id = wid
            w.trigger_value = True
        return await self.run([state], timeout_s, self.fragments.get(wid, ""))


async def _protocol_session(url: str, i: int, log: SessionLog, start_at: float, stop_at: float,
                            t0: float, plan: Plan) -> None:
    import websockets

    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    turns, timeout_s = _Turns(plan, i), plan.timeout_s
    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    try:
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=timeout_s, ping_timeout=None) as ws:
            client = ProtocolClient(ws)
            first = await client.run(timeout_s=timeout_s)
            if first["exception"] or "question" not in client.widget_ids:
                raise RuntimeError(f"the first run did not show the chat: {first}")
            log.ready_s = time.monotonic() - t0
            in_chat = 0
            while time.monotonic() < stop_at:
                if plan.new_chat_every and in_chat >= plan.new_chat_every:
                    r = await client.click("new_chat", timeout_s)
                    if r["chat_messages"] or r["exception"]:
                        log.failures.append({"t": round(time.monotonic() - t0, 1),
                                             "question": None, "what": f"new chat: {r}"})
                    in_chat = 0
                    log.new_chats += 1
                question = await turns.next(stop_at)
                if question is None:
                    break
                t = time.monotonic()
                try:
                    r = await client.ask(question, timeout_s)
                except TimeoutError:
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


async def _sample(pids: Sequence[int], logs: list[SessionLog], samples: list[dict], t0: float,
                  every_s: float, stop: asyncio.Event) -> None:
    """RSS, CPU seconds (user + system) of the server processes and their children, and the
    replies received so far, every `every_s` seconds."""
    import psutil

    procs = [psutil.Process(pid) for pid in pids]
    while not stop.is_set():
        try:
            tree = [q for p in procs for q in [p, *p.children(recursive=True)]]
            rss = sum(q.memory_info().rss for q in tree)
            cpu = sum(q.cpu_times().user + q.cpu_times().system for q in tree)
            samples.append({"t": round(time.monotonic() - t0, 2), "rss_mb": round(rss / 2**20, 1),
                            "cpu_s": round(cpu, 3),
                            "replies": sum(len(lg.latencies_s) for lg in logs),
                            "threads": sum(p.num_threads() for p in procs)})
        except psutil.Error:
            pass
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except TimeoutError:
            pass


async def drive(url: str, pids: Sequence[int], sessions: int, browser_sessions: int,
                duration_s: float, ramp_s: float, plan: Plan, sample_every_s: float) -> dict:
    """Run the sessions against `url` (browser sessions spread evenly among the protocol ones)
    while sampling the server processes `pids`."""
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
        sampler = asyncio.create_task(_sample(pids, logs, samples, t0, sample_every_s, stop))
        stop_at = t0 + ramp_s + duration_s
        runs = []
        for i in range(sessions):
            start = t0 + ramp_s * i / max(1, sessions)
            session = _session if kinds[i] == "browser" else _protocol_session
            runs.append(session(*([browser] if kinds[i] == "browser" else []), url, i, logs[i],
                                start, stop_at, t0, plan))
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


def cpu_per_reply(samples: list[dict], start_s: float, window_s: float = 10.0) -> dict:
    """Server CPU seconds per reply after `start_s` (when every session had its page): over the
    whole stretch, and the median over windows of about `window_s` seconds (each window's CPU
    delta over the replies received in it)."""
    after = [s for s in samples if s["t"] >= start_s]
    if len(after) < 2 or after[-1]["replies"] == after[0]["replies"]:
        return {"total": None, "median": None, "windows": 0}
    first, last = after[0], after[-1]
    total = (last["cpu_s"] - first["cpu_s"]) / (last["replies"] - first["replies"])
    ratios, prev = [], first
    for s in after[1:]:
        if s["t"] - prev["t"] >= window_s or s is last:
            if s["replies"] > prev["replies"]:
                ratios.append((s["cpu_s"] - prev["cpu_s"]) / (s["replies"] - prev["replies"]))
            prev = s
    return {"total": round(total, 4), "median": round(statistics.median(ratios), 4),
            "windows": len(ratios), "cpu_s": round(last["cpu_s"] - first["cpu_s"], 1),
            "replies": last["replies"] - first["replies"],
            "stretch_s": round(last["t"] - first["t"], 1)}


def prepare_site(work: Path, corpus_src: Path | None = None) -> tuple[Path, Path, Path, dict]:
    """A corpus (the seed article, or a copy of the .txt files of `corpus_src`) and its index in
    `work`. A second run with the same `work` reuses both (the build then reuses every vector)."""
    from assistant.config import Settings
    from assistant.service import build_index

    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus"
    if not corpus.is_dir():
        if corpus_src is not None:
            shutil.copytree(corpus_src, corpus.with_suffix(".partial"),
                            ignore=shutil.ignore_patterns("*.TXT", "README*"))
            corpus.with_suffix(".partial").rename(corpus)
        else:
            corpus.mkdir(parents=True)
            shutil.copy(SEED, corpus / SEED.name)
    settings = Settings().replace(corpus_dir=corpus, index_dir=work / "index",
                                  data_dir=work / "data")
    report = build_index(settings, log=lambda m: None)
    return corpus, settings.index_dir, settings.data_dir, {"articles": report.articles,
                                                          "chunks": report.chunks}


def summarize(out: dict, sessions: int, duration_s: float, ramp_s: float, plan: Plan,
              warmup_s: float | None = None) -> dict:
    """The figures of a run (`drive`'s result) as one dict."""
    logs: list[SessionLog] = out["logs"]
    lat = [x for lg in logs for x in lg.latencies_s]
    outcomes: dict[str, int] = {}
    for lg in logs:
        for k, v in lg.outcomes.items():
            outcomes[k] = outcomes.get(k, 0) + v
    failures = [dict(f, session=lg.index) for lg in logs for f in lg.failures]
    asked = sum(outcomes.values())
    ready = [lg.ready_s for lg in logs if lg.ready_s is not None]
    all_ready = max(ready) if ready else ramp_s
    # Memory warm-up: until every session has its page up (the first run loads the model) + 30 s.
    if warmup_s is None:
        warmup_s = all_ready + 30
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
        "load_phase_s": duration_s, "ramp_s": ramp_s, "timeout_s": plan.timeout_s,
        "new_chat_every": plan.new_chat_every,
        "think_s": list(plan.think_s) if plan.think_s else None,
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
        "server_cpu_per_reply_s": cpu_per_reply(out["samples"], all_ready),
        "memory": {**mem, "warmup_s": round(warmup_s, 1), "samples": out["samples"]},
        "page_ready_s": {"first": round(min(ready), 1) if ready else None,
                         "last": round(all_ready, 1) if ready else None},
    }


def run_load(work: Path, sessions: int = 20, duration_s: float = 120, ramp_s: float = 20,
             timeout_s: float = 180, new_chat_every: int = 8, sample_every_s: float = 3,
             warmup_s: float | None = None, corpus_src: Path | None = None,
             browser_sessions: int = 0, think_s: tuple[float, float] | None = None,
             questions: Sequence[str] | None = None, echo=print) -> dict:
    """Build (or reuse) an index in `work`, start the app, run the sessions; the results."""
    corpus, index, data, corpus_info = prepare_site(work, corpus_src)
    plan = Plan(questions or (BBC_QUESTIONS if corpus_src else SEED_QUESTIONS), timeout_s,
                new_chat_every, think_s)
    saved_before = saved_answers(data)
    server = StreamlitServer(corpus, index, data, work / "streamlit.log")
    try:
        server.wait_healthy()
        echo(f"server up on {server.url} (pid {server.proc.pid}); {sessions} sessions for "
             f"{duration_s:.0f} s after a {ramp_s:.0f} s ramp-up")
        out = asyncio.run(drive(server.url, [server.proc.pid], sessions, browser_sessions,
                                duration_s, ramp_s, plan, sample_every_s))
        server_alive = server.proc.poll() is None
    finally:
        server.stop()
    r = summarize(out, sessions, duration_s, ramp_s, plan, warmup_s)
    log_text = (work / "streamlit.log").read_text(errors="replace")
    saving = {"saved_answers": saved_answers(data) - saved_before,
              "answers_to_save": r["answered"] + r["abstained"],
              "failed_writes": log_text.count("This answer was not saved")}
    return {**r, "corpus": corpus_info, "server_alive_at_end": server_alive, "servers": 1,
            "saving": saving}


def saved_answers(data: Path) -> int:
    """Answers in the app database of a data folder (its SQLite file; 0 when there is none)."""
    import sqlite3

    path = Path(data) / "assistant.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
