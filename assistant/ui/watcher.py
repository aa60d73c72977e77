"""`assistant watch`: keep the index following the corpus folder by itself.

How changes are noticed: by polling with stat (the `CorpusWatch` walk: every folder's time at
once, every file's size and times at most every `poll` seconds), not inotify/watchdog. inotify
sees only changes made through this machine's kernel; on NFS or SMB shares, where articles are
often dropped from other hosts, it stays silent. A stat walk sees every change on every file
system, and costs one stat per file per walk (3.6 s for 383,783 files; CorpusWatch spaces long
walks out).

The loop: a change starts a quiet period (`debounce`, default 30 s); any further change restarts
it, so a file still being copied in (its size or time still moving) is not read half-written.
Then the incremental build runs under the index's build lock (a manual `assistant build`
meanwhile waits, and vice versa). One log line per build says what changed, how long it took and
which files were skipped and why. A failed build leaves the previous one serving; it is retried
with backoff, and the reason is written to the status file (`watch.json` in the index folder)
that the app and `assistant status` read. One watcher per index: a second one refuses to start.
SIGTERM or SIGINT stops the loop; during a build, the build is abandoned before it is published
(CURRENT switches by one rename, so it names the old build or the new one, never half of one)
and its partial folder is removed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..config import Settings
from ..errors import AssistantError

STATUS_FILE = "watch.json"
LOCK_FILE = ".watch.lock"
HEARTBEAT_SECONDS = 10.0  # the status file is rewritten at least this often while running
MAX_BACKOFF = 600.0


class Stopped(BaseException):
    """Raised inside a build by SIGTERM/SIGINT: not an Exception, so no handler swallows it."""


@dataclass(frozen=True)
class WatchStatus:
    """What the status file says, as the app and `assistant status` show it."""

    state: str  # "idle", "waiting" (for changes to settle), "building", "failed", "stopped"
    running: bool  # a watcher wrote its heartbeat recently
    pid: int | None = None
    last_build: dict | None = None  # {"at", "line", "build"}
    error: dict | None = None  # {"at", "reason", "retry_at"}: the last build failed
    pending: str = ""  # what changed and waits for the build

    @property
    def updating(self) -> bool:
        return self.running and self.state in ("waiting", "building")


def read_status(index_dir: Path | str, now: float | None = None) -> WatchStatus | None:
    """The watcher's status for an index, None when no watcher ever ran on it."""
    try:
        data = json.loads((Path(index_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    now = time.time() if now is None else now
    beat = data.get("heartbeat")
    running = (data.get("state") != "stopped" and isinstance(beat, (int, float))
               and now - beat < 3 * HEARTBEAT_SECONDS + float(data.get("poll") or 0))
    return WatchStatus(state=str(data.get("state", "")), running=running, pid=data.get("pid"),
                       last_build=data.get("last_build"), error=data.get("error"),
                       pending=str(data.get("pending") or ""))


def describe_changes(before: list | None, after: list) -> str:
    """Files added, changed and removed between two CorpusWatch walks, in a few words."""
    old = {f[0]: tuple(f[1:]) for f in before or ()}
    new = {f[0]: tuple(f[1:]) for f in after}
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(new) & set(old) if new[k] != old[k])
    parts = [f"{len(x)} {what}" for x, what in ((added, "added"), (changed, "changed"),
                                                 (removed, "removed")) if x]
    if not parts:
        return "no file changes"
    names = (added + changed + removed)
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    return f"{', '.join(parts)} ({shown})"


class Watcher:
    """The long-running updater of one index. `build(settings, log)` runs one incremental build
    (tests give a fake one); `clock` and `sleep` are injectable for the same reason."""

    def __init__(self, settings: Settings, debounce: float = 30.0, poll: float = 2.0,
                 log: Callable[[str], None] | None = None,
                 build: Callable | None = None, backoff: float = 10.0):
        from .watch import CorpusWatch

        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self.debounce, self.poll, self.backoff = float(debounce), float(poll), float(backoff)
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._build = build or _real_build
        self.corpus = CorpusWatch(settings.corpus_dir, interval=self.poll)
        self.stop_requested = False
        self._building = False
        self._lock_fh: TextIO | None = None
        self._status: dict = {"pid": os.getpid(), "state": "idle", "poll": self.poll,
                              "debounce": self.debounce}
        self._beat = 0.0
        self._status_lock = threading.Lock()

    # ------------------------------------------------------------------ single instance
    def acquire(self) -> None:
        """Take the index's watcher lock; AssistantError when another watcher holds it."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.index_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip() or "?"
            fh.close()
            raise AssistantError(f"Another watcher (pid {other}) is already running on "
                                 f"{self.index_dir}; stop it first (one watcher per index)."
                                 ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_fh = fh

    def release(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # ------------------------------------------------------------------ status file
    def _write_status(self, **changes) -> None:
        with self._status_lock:  # the loop and, during a build, the heartbeat thread
            self._status.update(changes, heartbeat=time.time())
            self._beat = time.monotonic()
            tmp = self.index_dir / f".{STATUS_FILE}.{os.getpid()}.tmp"
            try:
                tmp.write_text(json.dumps(self._status, ensure_ascii=False), encoding="utf-8")
                os.replace(tmp, self.index_dir / STATUS_FILE)
            except OSError as exc:  # a full disk must not stop the watcher
                self.log(f"watch: could not write the status file ({exc})")

    def _heartbeat_during_build(self, done: threading.Event) -> None:
        """A long build still shows the watcher as running (the app reads the heartbeat)."""
        while not done.wait(HEARTBEAT_SECONDS):
            self._write_status()

    # ------------------------------------------------------------------ signals
    def _on_signal(self, signum, frame) -> None:
        self.stop_requested = True
        if self._building:
            raise Stopped(signal.Signals(signum).name)

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    # ------------------------------------------------------------------ the loop
    def run(self) -> int:
        """Watch until stopped. Returns the exit code: 0 after a clean stop."""
        self.acquire()
        try:
            self._write_status(state="idle")
            return self._loop()
        finally:
            self._write_status(state="stopped")
            self.release()

    def _loop(self) -> int:
        from ..index.status import index_state

        seen = self._digest()
        built_files = list(self.corpus.files or [])  # the corpus as the last build (or start) saw
        # At start, an index that is missing or behind the corpus is brought up to date.
        stale = index_state(self.settings).stale
        changed_at = time.monotonic() - self.debounce if stale else None
        pending = stale or ""
        retry_at, failures = 0.0, 0
        while not self.stop_requested:
            digest = self._digest()
            now = time.monotonic()
            if digest != seen:
                seen, changed_at = digest, now
                pending = describe_changes(built_files, self.corpus.files or [])
                if self._status.get("state") != "failed":
                    self._write_status(state="waiting", pending=pending)
            due = (changed_at is not None and now - changed_at >= self.debounce
                   and now >= retry_at)
            if due:
                files_before = list(self.corpus.files or [])
                ok = self._one_build(pending)
                if ok:
                    built_files, changed_at, pending, failures = files_before, None, "", 0
                elif self.stop_requested:
                    break
                else:
                    failures += 1
                    wait = min(self.backoff * 2 ** (failures - 1), MAX_BACKOFF)
                    retry_at = time.monotonic() + wait
                    self._status["error"]["retry_at"] = time.time() + wait
                    self._write_status()
                    self.log(f"watch: retrying in {wait:.0f} s")
            elif time.monotonic() - self._beat >= HEARTBEAT_SECONDS:
                self._write_status()
            self._sleep(self.poll)
        self.log("watch: stopped")
        return 0

    def _digest(self) -> str:
        try:
            return self.corpus.digest()
        except OSError as exc:
            return f"unreadable: {exc}"

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stop_requested and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def _one_build(self, changes: str) -> bool:
        """One incremental build; True when it succeeded (or had nothing to do)."""
        from ..index.layout import current_name

        self._write_status(state="building", pending=changes)
        t0 = time.perf_counter()
        before = current_name(self.index_dir)
        done = threading.Event()
        threading.Thread(target=self._heartbeat_during_build, args=(done,), daemon=True,
                         name="watch-heartbeat").start()
        self._building = True
        try:
            if self.stop_requested:
                raise Stopped("stop requested")
            report = self._build(self.settings, self._build_note)
        except Stopped:
            self._building = False
            self._remove_own_partials()
            now = current_name(self.index_dir)
            self.log("watch: stopped during a build; it was not published "
                     f"({self.index_dir / 'CURRENT'} still names the previous build)"
                     if now == before else
                     f"watch: stopped just after the build {now} was published")
            self.stop_requested = True
            return False
        except Exception as exc:  # noqa: BLE001 - any failure: the old build keeps serving
            self._building = False
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            if not isinstance(exc, AssistantError):
                reason = f"{type(exc).__name__}: {reason}"
            self.log(f"watch: build failed after {time.perf_counter() - t0:.1f} s "
                     f"({changes or 'changes'}): {reason}; the previous build keeps serving")
            self._write_status(state="failed",
                               error={"at": time.time(), "reason": reason, "retry_at": None})
            return False
        finally:
            self._building = False
            done.set()
        skipped = "; ".join(f"{s['source']}: {s['reason']}" for s in report.skipped[:5])
        if len(report.skipped) > 5:
            skipped += f"; and {len(report.skipped) - 5} more"
        what = "up to date, nothing to do" if report.up_to_date else \
            f"built {Path(report.build_dir).name}"
        line = (f"watch: {what}: {changes or 'start-up check'}; {report.parsed_files} read, "
                f"{report.reused_files} reused, {report.removed_files} removed, "
                f"{report.articles} articles, {report.chunks} chunks; "
                f"{time.perf_counter() - t0:.1f} s"
                + (f"; skipped {len(report.skipped)}: {skipped}" if report.skipped else ""))
        self.log(line)
        self._write_status(state="idle", pending="", error=None,
                           last_build={"at": time.time(), "line": line,
                                       "build": Path(report.build_dir).name
                                       if report.build_dir else None})
        return True

    def _build_note(self, line: str) -> None:
        """The build's own lines: skipped files go into the build's one line; the rest (waiting
        for another build, a rebuild from scratch) are logged as they come."""
        if not line.startswith("skipped "):
            self.log(f"watch: {line}")

    def _remove_own_partials(self) -> None:
        from ..index.layout import builds_dir

        for partial in builds_dir(self.index_dir).glob(f"*-{os.getpid()}-*.partial"):
            shutil.rmtree(partial, ignore_errors=True)


_EMBEDDER = None


def _real_build(settings: Settings, log: Callable[[str], None]):
    """The incremental build, with one model kept for the watcher's lifetime."""
    global _EMBEDDER
    from ..service import build_index, make_embedder

    if _EMBEDDER is None:
        _EMBEDDER = make_embedder(settings)
    return build_index(settings, embedder=_EMBEDDER, log=log, progress=False)
