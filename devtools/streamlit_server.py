"""`streamlit run app.py` on a free local port over a given corpus, index and data folder, and the
Chromium set-up that drives it: shared by the browser tests (tests/test_browser.py) and the UI and
load benchmarks (benchmarks/bench_ui.py, benchmarks/bench_load.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtools.ports import free_port

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PLACEHOLDER = "Ask a question about the articles"  # the chat input's placeholder in app.py
# The page is idle: the chat input is there and no script run (page or fragment) is going on or
# requested (Streamlit writes its run state on the app's root element).
IDLE_JS = ("() => !!document.querySelector('[data-testid=\"stChatInputTextArea\"]') && "
           "!!document.querySelector('[data-testid=\"stApp\"][data-test-script-state=\"notRunning\"]')")



def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..1); NaN for no values."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class StreamlitServer:
    """Started on construction (`t0` is that moment); `wait_healthy()` returns the seconds until
    the health endpoint answered; `stop()` terminates it. Its output goes to `log_path`.
    `port` (default: a free one), `env` (added to the environment) and `args` (more `streamlit
    run` options, e.g. `--secrets.files`) serve the sign-in tests; `warm` starts it through
    app_server.py, as `make run` does."""

    def __init__(self, corpus: Path, index: Path, data: Path, log_path: Path,
                 port: int | None = None, env: Mapping[str, str] | None = None,
                 args: Sequence[str] = (), warm: bool = False):
        self._auto_port = port is None
        self.port = port or free_port()
        self.log_path = Path(log_path)
        self._env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(corpus),
                     "ASSISTANT_INDEX_DIR": str(index), "ASSISTANT_DATA_DIR": str(data),
                     "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
        # warm: started as `make run` starts it (app_server.py loads everything first).
        self._launcher = ["app_server.py"] if warm else ["-m", "streamlit", "run", "app.py"]
        self._args = list(args)
        self.t0 = time.perf_counter()
        self._launch()

    def _launch(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, *self._launcher,
             "--server.headless", "true", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             *self._args],
            cwd=REPO, env=self._env, stdout=self.log, stderr=subprocess.STDOUT)

    def _log_tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_healthy(self, timeout: float = 300) -> float:
        deadline = time.monotonic() + timeout
        retries = 3  # the port was free when chosen; another process may have taken it since
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self._log_tail()
                if self._auto_port and retries and "already in use" in tail:
                    retries -= 1
                    self.log.close()
                    self.port = free_port()
                    self._launch()
                    continue
                raise RuntimeError(f"streamlit exited ({self.proc.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.t0
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"streamlit not healthy after {timeout:g} s:\n{self._log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def ask_in_page(page, question: str, timeout_ms: int = 180_000):
    """Type a question into the chat, wait until its reply (answer or alert) is rendered and the
    run is over; the reply element. The first question may wait for the model on a busy machine."""
    messages = page.get_by_test_id("stChatMessage")
    n = messages.count()
    box = page.get_by_placeholder(PLACEHOLDER)
    box.fill(question)
    box.press("Enter")
    reply = messages.nth(n + 1)
    reply.locator('.aa-answer, [data-testid="stAlert"]').first.wait_for(timeout=timeout_ms)
    page.wait_for_function(IDLE_JS, timeout=timeout_ms)
    return reply


def chromium():
    """Headless Debian Chromium under Playwright, closed on exit (a generator for fixtures:
    `yield from chromium()`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
