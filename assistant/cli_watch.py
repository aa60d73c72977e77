"""`assistant watch`: the long-running updater (see assistant/ui/watcher.py)."""

from __future__ import annotations

import os
from pathlib import Path

from .config import Settings
from .errors import SettingError


def _seconds(name: str, value, default: float) -> float:
    raw = value if value is not None else os.environ.get(name) or default
    try:
        seconds = float(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a number of seconds.") from None
    if seconds < 0:
        raise SettingError(f"{name}={raw!r} must not be negative.")
    return seconds


def cmd_watch(args) -> int:
    from .ui.watcher import Watcher

    settings = Settings().replace(
        corpus_dir=Path(args.corpus) if args.corpus else None,
        index_dir=Path(args.index) if args.index else None)
    debounce = _seconds("ASSISTANT_WATCH_DEBOUNCE", args.debounce, 30.0)
    poll = _seconds("ASSISTANT_WATCH_POLL", args.poll, 2.0)
    watcher = Watcher(settings, debounce=debounce, poll=max(poll, 0.05))
    watcher.install_signals()
    watcher.log(f"watch: watching {settings.corpus_dir} for {settings.index_dir} "
                f"(stat poll every {poll:g} s, changes settle for {debounce:g} s); "
                f"pid {os.getpid()}")
    return watcher.run()


def register(sub) -> None:
    p = sub.add_parser("watch", help="keep the index following the corpus folder (runs until "
                                     "stopped with SIGTERM or Ctrl-C)")
    p.add_argument("--corpus", help="corpus folder (default: ./corpus or $ASSISTANT_CORPUS_DIR)")
    p.add_argument("--index", help="index folder (default: ./index or $ASSISTANT_INDEX_DIR)")
    p.add_argument("--debounce", type=float, metavar="SECONDS",
                   help="quiet time after the last change before building (default 30, or "
                        "$ASSISTANT_WATCH_DEBOUNCE)")
    p.add_argument("--poll", type=float, metavar="SECONDS",
                   help="how often the corpus is checked (default 2, or $ASSISTANT_WATCH_POLL)")
    p.set_defaults(func=cmd_watch)
