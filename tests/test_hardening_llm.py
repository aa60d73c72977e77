"""Issue 27, the LLM path: a hostile or broken endpoint cannot hold an answer past the deadline,
a huge reply is cut at the caps, and the verifier's splitting and figure regexes stay linear."""

from __future__ import annotations

import socket
import threading
import time

import openai  # noqa: F401 - a test dependency: never skipped
import pytest

from assistant.answer.verify.claims import ClaimStream, split_claims
from assistant.service import Assistant
from devtools.llm_servers import Reply, ScriptedServer, prompt_passages

QUESTION = "Who is in charge of the joint efforts?"
DEA = "Drug Enforcement Administration"
SENTENCE = "The DEA and Mexico's Federal Police will lead the efforts [{n}]. "


pytestmark = pytest.mark.heavy  # servers, subprocesses, the real model or AppTest: not in make test-fast


@pytest.fixture(scope="module")
def seed_settings(seed_index):
    return seed_index.settings()


def make(settings, embedder, url: str, timeout: float = 5.0, **caps) -> Assistant:
    s = settings.replace(llm_url=url, llm_model="scripted-model", llm_timeout=timeout, **caps)
    return Assistant.open(settings=s, embedder=embedder)


def ask_within(assistant: Assistant, seconds: float):
    """assistant.ask in a thread; None when it has not returned after `seconds` (a liveness
    bound far above the deadline, not a timing measurement)."""
    box = []
    t = threading.Thread(target=lambda: box.append(assistant.ask(QUESTION, llm=True)),
                         daemon=True)
    t.start()
    t.join(seconds)
    return box[0] if box else None


class TricklingServer:
    """An OpenAI-compatible endpoint from hell: it answers the chat request with SSE headers and
    then sends one event a byte at a time, a byte every `gap` seconds, forever. Every read
    succeeds within any per-read timeout; no chunk is ever complete."""

    def __init__(self, gap: float = 0.3):
        self.gap = gap
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.stop = threading.Event()
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            payload = b'data: {"id":"x","object":"chat.completion.chunk","created":0,' \
                      b'"model":"m","choices":[{"index":0,"delta":{"content":"The DEA' + \
                      b" and" * 100000
            for byte in payload:
                if self.stop.wait(self.gap):
                    break
                conn.sendall(b"1\r\n" + bytes([byte]) + b"\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


def test_a_trickling_endpoint_cannot_hold_the_answer_past_the_deadline(seed_settings, embedder):
    srv = TricklingServer()
    try:
        ans = ask_within(make(seed_settings, embedder, srv.base_url, timeout=2.0), 60)
    finally:
        srv.close()
    assert ans is not None, "the answer waited on the endpoint past the deadline"
    assert ans.mode == "extractive" and "in time" in ans.llm["fallback"]


def test_a_60000_character_reply_is_cut_at_the_cap(seed_settings, embedder):
    def script(body):
        n = next(k for k, t in prompt_passages(body).items() if DEA in t)
        text = SENTENCE.format(n=n) + "x" * 60_000
        return Reply(text, piece_chars=50)

    with ScriptedServer(script) as srv:
        a = make(seed_settings, embedder, srv.base_url, timeout=30.0, llm_max_chars=2000)
        ans = ask_within(a, 120)
    assert ans is not None
    assert ans.llm.get("cut") == "the reply was cut at 2,000 characters"
    assert "cut" in ans.notice


@pytest.mark.parametrize("streaming", [True, False])
def test_3000_cited_sentences_in_one_chunk_are_capped(seed_settings, embedder, streaming):
    """The review's 3,000 sentences in one chunk took 109 s under the encode lock: now at most
    `llm_max_sentences` are verified, and the passages' spans are encoded once."""
    def script(body):
        n = next(k for k, t in prompt_passages(body).items() if DEA in t)
        return Reply(SENTENCE.format(n=n) * 3000, pieces=[SENTENCE.format(n=n) * 3000])

    with ScriptedServer(script) as srv:
        a = make(seed_settings, embedder, srv.base_url, timeout=60.0, llm_max_chars=10**6,
                 llm_max_sentences=5)
        calls = []
        encode = a.encode
        a.encode = lambda texts: (calls.append(len(texts)), encode(texts))[1]
        shown = []
        ans = a.ask(QUESTION, llm=True, on_text=shown.append if streaming else None)
    assert ans.llm.get("cut") == "the reply was cut after 5 sentences", ans.llm
    assert ans.mode == "llm" and len(ans.text.split("[")) - 1 <= 5
    # Question encoding, then at most one call per sentence after the first (spans remembered).
    assert sum(calls) < 200, calls


def test_the_model_listing_is_bounded_too(seed_settings, embedder):
    srv = TricklingServer()
    try:
        s = seed_settings.replace(llm_url=srv.base_url, llm_model="", llm_timeout=2.0)
        ans = ask_within(Assistant.open(settings=s, embedder=embedder), 60)
    finally:
        srv.close()
    assert ans is not None and ans.mode == "extractive"
    assert "lists no model" in ans.llm["fallback"]


# ------------------------------------------------------------------------------ splitting

ADVERSARIAL = ["-" * 20_000, "." * 60_000 + "x", "!" * 60_000, " " * 60_000 + "x",
               "a" * 60_000 + ". B", "[1," * 20_000, "Dr. " * 15_000, "e.g." * 15_000,
               ("word " * 9 + "end. ") * 1200, "A. " * 20_000, "1" * 60_000,
               " ".join(["hundred"] * 20_000), "a1-" * 20_000, "[1]" * 20_000,
               "x." + "[1]" * 20_000 + " Y", "NOT_IN" + " !" * 30_000]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:12]))
def test_splitting_and_checking_long_adversarial_text_finishes(text, fake_embedder):
    """Each of these took seconds to minutes with the quadratic patterns (20,000 dashes: 3.4 s
    in _CODE alone). Liveness: each must finish within a generous bound in a thread."""
    from assistant.answer.verify import figures, is_declined, words

    def work():
        split_claims(text)
        cs = ClaimStream()
        for i in range(0, len(text), 7):
            cs.feed(text[i:i + 7])
        cs.close()
        figures._figures(text, claim=True)
        figures._passage_keys(text)
        words._names(text, figures._figures(text, claim=True))
        is_declined(text)

    done = threading.Event()
    t = threading.Thread(target=lambda: (work(), done.set()), daemon=True)
    t0 = time.perf_counter()
    t.start()
    t.join(30)
    assert done.is_set(), f"not finished after {time.perf_counter() - t0:.0f} s"


def test_the_stream_splitter_matches_the_whole_text_splitter():
    text = ("1. The harbour grew [1].\n- Dr. Smith said so, e.g. in 2019 [2]! Next?\n"
            "It was U.S. policy [3][4].\n[5]\nThe end \u2028 of it. [passage 6]")
    for size in (1, 2, 3, 5, 8, 13, len(text)):
        cs = ClaimStream()
        for i in range(0, len(text), size):
            cs.feed(text[i:i + size])
            assert cs.claims[:cs.final] == split_claims(text)[:cs.final]
        assert cs.close() == split_claims(text)
