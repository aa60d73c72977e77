"""Issue 27 in the real app (Streamlit + Chromium): a hostile endpoint whose model id is a
Markdown beacon and whose reply is 60,000 characters, 3,000 cited sentences in one chunk. The
server stays healthy, the answer is bounded, another session keeps answering, Chromium fetches
no beacon and renders no link, and the sidebar shows no credentials."""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.streamlit_server import CHROMIUM, IDLE_JS, PLACEHOLDER, StreamlitServer, chromium

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing; browser tests skipped", allow_module_level=True)
import openai  # noqa: E402,F401 - a test dependency: never skipped
from playwright.sync_api import expect  # noqa: E402

from devtools.llm_servers import Reply, ScriptedServer, prompt_passages  # noqa: E402

WAIT_MS = 240_000
DEA = "Drug Enforcement Administration"


class Beacon:
    """A local web server that records every request: the beacon a rendered image would hit."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def submit(page, question: str):
    messages = page.get_by_test_id("stChatMessage")
    n = messages.count()
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(question)
    box.press("Enter")
    return messages.nth(n + 1)


def finished(page, reply):
    reply.locator('.aa-answer, [data-testid="stAlert"]').first.wait_for(timeout=WAIT_MS)
    page.wait_for_function(IDLE_JS, timeout=WAIT_MS)
    return reply


def test_hostile_endpoint_in_the_browser(tmp_path, app_index):
    beacon = Beacon()
    model = f"m![m]({beacon.url}/beacon.png) www.evil.com boss@evil.com :red[alarm]"
    sentence = "The DEA and Mexico's Federal Police will lead the efforts [{n}]. "
    calls = []

    def script(body):
        n = next(k for k, t in prompt_passages(body).items() if DEA in t)
        calls.append(n)
        # the first page's question gets the huge reply, whichever request arrives first
        if "in charge" in body["messages"][-1]["content"]:  # 3,000 cited sentences, one chunk
            huge = (sentence.format(n=n) * 3000)[:60_000]
            return Reply(huge, pieces=[huge])
        return Reply(sentence.format(n=n), piece_chars=8)

    health_failures: list[str] = []
    stop = threading.Event()
    with ScriptedServer(script, model=model) as llm:
        url = llm.base_url.replace("http://", "http://user:s3cret@")
        server = StreamlitServer(app_index.corpus, app_index.index, tmp_path / "data",
                                 tmp_path / "streamlit.log",
                                 env={"ASSISTANT_LLM_URL": url, "ASSISTANT_LLM_MODEL": ""})
        try:
            server.wait_healthy(timeout=240)

            def poll():
                while not stop.is_set():
                    try:
                        with urllib.request.urlopen(f"{server.url}/_stcore/health",
                                                    timeout=5) as r:
                            if r.status != 200:
                                health_failures.append(f"HTTP {r.status}")
                    except OSError as exc:
                        health_failures.append(repr(exc))
                    stop.wait(0.25)

            for browser in chromium():
                pages = []
                for _ in range(2):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    page.set_default_timeout(60_000)
                    page.goto(server.url)
                    page.get_by_placeholder(PLACEHOLDER).wait_for(timeout=WAIT_MS)
                    expect(page.get_by_text("Answer with the language model")).to_be_visible(
                        timeout=WAIT_MS)
                    pages.append(page)
                poller = threading.Thread(target=poll, daemon=True)
                poller.start()
                first = submit(pages[0], "Who is in charge of the joint efforts?")
                second = submit(pages[1], "Who leads the joint efforts?")
                finished(pages[1], second)  # the other session answers meanwhile
                finished(pages[0], first)
                stop.set()
                poller.join(10)

                expect(second.locator(".aa-answer")).to_contain_text("Federal Police")
                expect(first).to_contain_text("longer than allowed")
                caption = first.get_by_text("written by")
                expect(caption).to_contain_text("beacon.png")  # the name, as text
                html = first.inner_html()
                assert "<img" not in html, html
                links = [a.get_attribute("href") for a in first.locator("a").all()]
                assert all(h and h.startswith("#") for h in links), links  # citations only
                assert "s3cret" not in pages[0].content()
                assert not beacon.hits, beacon.hits
                assert len(calls) == 2
        finally:
            stop.set()
            server.stop()
            beacon.close()
    assert not health_failures, health_failures[:5]
