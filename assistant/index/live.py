"""The live index: follows CURRENT and refuses a bad build. A new build is picked up by the next
caller of `current()`, never half-written; a build that fails to open is refused (the one before
keeps serving) and not tried again for `REFUSED_RETRY_SECONDS`. Safe to share between threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Generic, TypeVar

from ..errors import AssistantError
from .layout import current_name
from .snapshot import Snapshot

REFUSED_RETRY_SECONDS = 10.0  # a build that failed to open is tried again after this long

T = TypeVar("T")


class LiveIndex(Generic[T]):
    """The current build, opened, with what its user derives from it (`prepare(snapshot)`: a
    retriever, say), swapped as one reference."""

    def __init__(self, index_dir: Path, model_name: str, dim: int,
                 prepare: Callable[[Snapshot], T]):
        self.index_dir = Path(index_dir)
        self._open = lambda: Snapshot(self.index_dir, model_name, dim)
        self._prepare = prepare
        self._lock = threading.Lock()
        snap = self._open()
        self._loaded: tuple[Snapshot, T] = (snap, prepare(snap))
        self.reload_error: str = ""
        self._refused: tuple[str, float] = ("", 0.0)  # (build name, when it failed to open)

    def current(self) -> tuple[Snapshot, T]:
        """The build to answer from: switches to a newer build when CURRENT names one."""
        loaded = self._loaded
        name = current_name(self.index_dir)
        if name and name != loaded[0].name:
            with self._lock:
                loaded = self._loaded
                refused_name, refused_at = self._refused
                if name != loaded[0].name and not (
                        name == refused_name
                        and time.monotonic() - refused_at < REFUSED_RETRY_SECONDS):
                    try:
                        snap = self._open()
                        loaded = (snap, self._prepare(snap))
                        self._loaded = loaded
                        self.reload_error = ""
                    except Exception as exc:  # noqa: BLE001
                        # Keep answering from the build we have; say why the new one is refused
                        # (and do not retry it on every question).
                        self.reload_error = str(exc) if isinstance(exc, AssistantError) else (
                            f"The new index build {name} could not be opened "
                            f"({type(exc).__name__}: {exc}); still answering from "
                            f"{loaded[0].name}.")
                        self._refused = (name, time.monotonic())
        return loaded
