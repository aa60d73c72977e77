"""The HTTP API served for tests and benchmarks, on a port bound to 0 and read back:

- `ThreadedApi(app)`: a real uvicorn server in a thread of this process, over an app made with
  `assistant.api.app.create_app` (the tests' shared model, their own settings);
- `ServeProcess(...)`: `python -m assistant.cli serve --port 0` as a subprocess, exactly what
  people run; its URL is read from the line it prints when ready.

Both are context managers with `.url` (no trailing slash) and `.base_url` (…/v1, for the
`openai` client)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READY = re.compile(r"Article Assistant API on (http://\S+?) ")


class ThreadedApi:
    def __init__(self, app, host: str = "127.0.0.1"):
        import uvicorn

        from assistant.api.commands import bind

        self.sock = bind(host, 0)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)
        self.url = f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def __enter__(self) -> ThreadedApi:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


class ServeProcess:
    """`assistant serve` in a subprocess. `env` is added to this process's environment."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300,
                 cwd: Path | None = None):
        self.cmd = [sys.executable, "-m", "assistant.cli", "serve", "--port", "0", *args]
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
                    "TRANSFORMERS_OFFLINE": "1", **(env or {})}
        self.timeout = timeout
        self.cwd = cwd or REPO
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.output: deque[str] = deque(maxlen=200)  # the server's last lines (stdout+stderr)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> ServeProcess:
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        found = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.output.append(line.rstrip())
                m = READY.search(line)
                if m and not found.is_set():
                    self.url = m.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + self.timeout
        while not found.wait(0.2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("`assistant serve` did not start:\n" + "\n".join(self.output))
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
