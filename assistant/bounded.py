"""Waiting on an untrusted endpoint with a deadline: a blocking HTTP read cannot be interrupted
from Python, and a client's timeout applies to each read, so an endpoint that trickles a byte
now and then never trips it. The reads run in a daemon thread; the caller waits on a queue
with the time that is left and walks away at the deadline (closing the stream, which wakes the
thread). Used by the LLM reader (assistant/llm.py)."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close:
        with contextlib.suppress(Exception):  # closing from another thread may race the reader
            close()


def iterate(open_stream: Callable[[], Iterable[Any]], extract: Callable[[Any], str | None],
            seconds: float) -> Generator[tuple[str, Any], None, None]:
    """("text", piece) for each non-empty `extract(item)` of the stream `open_stream()` returns,
    then nothing more; ("error", exception) when opening or reading fails; ("timeout", None)
    when `seconds` (from this call, opening included) pass first. The caller stops at
    "error"/"timeout"; closing this generator early stops the reading thread too."""
    deadline = time.monotonic() + seconds
    items: queue.Queue = queue.Queue()
    stop = threading.Event()
    opened: list = []

    def pump() -> None:
        try:
            stream = open_stream()
            opened.append(stream)
            try:
                for item in stream:
                    if stop.is_set():
                        return
                    text = extract(item)
                    if text:
                        items.put(("text", text))
            finally:
                _close(stream)
            items.put(("end", None))
        except Exception as exc:
            items.put(("error", exc))

    threading.Thread(target=pump, daemon=True, name="bounded-stream").start()
    try:
        while True:
            try:
                kind, value = items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                yield "timeout", None
                return
            if kind == "end":
                return
            yield kind, value
            if kind == "error":
                return
    finally:
        stop.set()
        for stream in opened:
            _close(stream)


def call(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn() in a thread, waited for at most `seconds` (TimeoutError after that)."""
    box: queue.Queue = queue.Queue()

    def run() -> None:
        try:
            box.put((True, fn()))
        except Exception as exc:
            box.put((False, exc))

    threading.Thread(target=run, daemon=True, name="bounded-call").start()
    try:
        ok, value = box.get(timeout=seconds)
    except queue.Empty:
        raise TimeoutError(f"no answer within {seconds:g} s") from None
    if not ok:
        raise value
    return value


def remembering(encode):
    """`encode` (texts -> vectors) that remembers the vectors of texts it has seen, for one
    reading: the passages' spans are encoded once, not again with every sentence checked."""
    import numpy as np

    seen: dict[str, Any] = {}

    def run(texts):
        texts = list(texts)
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if new:
            seen.update(zip(new, np.asarray(encode(new), dtype=np.float32)))
        if not texts:
            return np.zeros((0, 1), np.float32)
        return np.stack([seen[t] for t in texts])
    return run
