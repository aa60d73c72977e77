"""A child process that parses .pdf and .docx files under a time and memory budget, so that a
file the structural checks (limits.py) let through but that still costs minutes or gigabytes is
skipped with a reason instead of hanging or killing the build.

One worker per build, started on the first PDF or Word file and reused for the next (a process
per file would cost a Python start and the pypdf/python-docx imports each time). A file that
runs out of time or memory takes the worker with it; the next file starts a new one. Plain text,
Markdown and HTML are parsed in the build's own process: their loaders are linear in the file's
size, which the size limit bounds."""

from __future__ import annotations

import contextlib
import multiprocessing
from typing import Any

from ..errors import UnreadableSource
from .limits import Limits

STARTUP_SECONDS = 120.0  # a new worker's imports, on a busy machine


def _serve(conn, limits: Limits) -> None:  # pragma: no cover - runs in the child process
    import resource

    if limits.memory_mb > 0:
        cap = int(limits.memory_mb * 2**20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    from . import FORMATS

    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        suffix, data, source = job
        try:
            result: tuple[str, Any] = ("ok", FORMATS[suffix].parse(data, source, limits))
        except UnreadableSource as exc:
            result = ("err", exc.reason)
        except MemoryError:
            result = ("err", f"reading it needs more than {limits.memory_mb:,} MB of memory "
                             "(ASSISTANT_PARSE_MEMORY_MB)")
        except Exception as exc:
            detail = " ".join(str(exc).split())[:100]
            result = ("err", f"could not read ({type(exc).__name__}: {detail})")
        del data
        try:
            conn.send(result)
        except MemoryError:
            conn.send(("err", f"its text needs more than {limits.memory_mb:,} MB of memory "
                              "(ASSISTANT_PARSE_MEMORY_MB)"))


class ParseWorker:
    """`parse(suffix, data, source)` in the child; raises UnreadableSource with the reason when
    the file is refused, takes longer than `limits.seconds`, or exhausts the memory budget.
    Use as a context manager (the child is stopped at the end)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._proc: Any = None
        self._conn: Any = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no copy of the build's model and threads
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, self.limits), daemon=True,
                           name="assistant-parse")
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        if not parent.poll(STARTUP_SECONDS):
            self._kill()
            raise RuntimeError("the file reader process did not start")
        parent.recv()

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(5)
            except OSError:
                pass
        self._kill()

    def parse(self, suffix: str, data: bytes, source: str):
        if self._proc is None or not self._proc.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send((suffix, data, source))
            if not self._conn.poll(self.limits.seconds):
                self._kill()
                raise UnreadableSource(source, f"took longer than {self.limits.seconds:g} s to "
                                               "read (ASSISTANT_PARSE_SECONDS)")
            kind, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._proc.exitcode if self._proc is not None else None
            self._kill()
            raise UnreadableSource(source, f"the reader process died reading it (exit code "
                                           f"{code}; memory limit {self.limits.memory_mb:,} MB, "
                                           "ASSISTANT_PARSE_MEMORY_MB)") from None
        if kind == "ok":
            return payload
        raise UnreadableSource(source, payload)
