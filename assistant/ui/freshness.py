"""How current the index is, for the app's sidebar and `assistant status`, and the app's
*Update now*: the watcher's incremental build, run in the background of the app server.

`watch_line` turns the watcher's status file into one line; `UpdateNow` runs one build at a
time per process (the build lock serialises it with the watcher and with `assistant build` in
other processes)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from .watcher import WatchStatus, read_status

LANGUAGE_CACHE = "languages.json"  # in the index folder: article id -> detected language


def ago(when: float | None, now: float | None = None) -> str:
    """'12 s ago', '5 min ago', '3 h ago', '2 days ago'."""
    if not isinstance(when, (int, float)):
        return "?"
    seconds = max(0.0, (time.time() if now is None else now) - when)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def watch_line(status: WatchStatus | None) -> str:
    """One line about the watcher: running or not, what it is doing, the last failure."""
    if status is None:
        return "no watcher has run on this index (start one with `assistant watch`)"
    if not status.running:
        return "the watcher is not running (start it with `assistant watch`)"
    if status.state == "building":
        return f"the watcher is updating the index ({status.pending or 'changes'})"
    if status.state == "waiting":
        return f"the watcher saw changes ({status.pending}) and waits for them to settle"
    if status.state == "failed" and status.error:
        return (f"the watcher's last build failed ({status.error.get('reason')}); it retries "
                f"{_retry(status.error.get('retry_at'))}; the previous build keeps serving")
    last = status.last_build or {}
    return "the watcher is running" + (f"; last check {ago(last.get('at'))}" if last else "")


def _retry(at) -> str:
    if not isinstance(at, (int, float)):
        return "soon"
    return f"in {max(0, at - time.time()):.0f} s"


def status_fields(settings: Settings, build=None) -> dict:
    """What `assistant status` adds: the watcher's state and the articles detected as mostly
    non-English (`build`: an open index Snapshot, else none are listed)."""
    from ..answer.language import non_english_articles

    index_dir = Path(settings.index_dir)
    watch = read_status(index_dir)
    out: dict = {"watcher": None if watch is None else {
        "running": watch.running, "state": watch.state, "pid": watch.pid,
        "last_build": watch.last_build, "error": watch.error, "pending": watch.pending,
        "summary": watch_line(watch)}}
    if build is not None:
        out["non_english_articles"] = non_english_articles(build, index_dir / LANGUAGE_CACHE)
    return out


@dataclass
class UpdateState:
    running: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    result: str = ""  # the build's summary line
    error: str = ""


class UpdateNow:
    """One background build at a time for this process (an app server): the *Update now*
    button. `start()` returns False when one is already running; `state` says how it went."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self.state = UpdateState()

    def start(self) -> bool:
        with self._lock:
            if self.state.running:
                return False
            self.state = UpdateState(running=True, started_at=time.time())
        threading.Thread(target=self._run, name="update-now", daemon=True).start()
        return True

    def _run(self) -> None:
        from ..errors import AssistantError
        from ..service import build_index, make_embedder

        result, error = "", ""
        try:
            report = build_index(self.settings, embedder=make_embedder(self.settings),
                                 log=lambda line: None, progress=False)
            result = report.summary()
        except AssistantError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - shown to the admin; the old build serves
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.state = UpdateState(running=False, started_at=self.state.started_at,
                                     finished_at=time.time(), result=result, error=error)


def may_update(access, secrets: dict | None = None, environ=None) -> bool:
    """May this visitor press *Update now*? Anyone when sign-in is off; when it is on, the
    signed-in administrators: named in `admins = [...]` in the [assistant] section of
    secrets.toml (beside `allowed_users`), in ASSISTANT_ADMINS (comma-separated), or in the
    access rules' `admins` (access.toml): one list, wherever the name is written."""
    from .. import access as accesslib
    from .auth import named_admins

    if access is None:
        return False
    if access.kind == "open":
        return True
    email = getattr(access.user, "email", None) if access.user is not None else None
    if access.kind != "allowed" or not email:
        return False
    return accesslib.is_admin(accesslib.Reader.of(email), admins=named_admins(secrets, environ))


def built_ago(built_at: str | None, now: float | None = None) -> str:
    """A build's time (manifest built_at, UTC ISO) and how long ago: '2026-12-03 09:40 UTC
    (5 min ago)'."""
    import calendar

    if not built_at:
        return "?"
    try:
        when = calendar.timegm(time.strptime(built_at, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return built_at
    return f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(when))} ({ago(when, now)})"


def refresh_seconds() -> float:
    """How often an open page checks whether the index changed (ASSISTANT_REFRESH_SECONDS,
    default 10): a fragment run of a few folder stats, not a page run."""
    import os
    import sys

    raw = os.environ.get("ASSISTANT_REFRESH_SECONDS") or "10"
    try:
        return max(1.0, float(raw))
    except ValueError:  # read when the app module loads: one line, then the default
        print(f"ASSISTANT_REFRESH_SECONDS={raw!r} is not a number; using 10 s", file=sys.stderr)
        return 10.0
