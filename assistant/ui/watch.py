"""Noticing that the corpus folder changed since the build, cheaply enough to ask on every page
run of every session.

The full fingerprint (every file's name, size and modification time) walks the corpus: 30 ms for
2,225 files, seconds for 100,000, and on every script run it was a sixth of the app server's CPU.
One `CorpusWatch` per process is shared by all sessions: it stats only the folders it knows (a
file added, removed or renamed changes its folder's modification time, so those are seen at
once) and redoes the full walk at most every `interval` seconds (so a file edited in place is seen
within that time).

A large corpus takes seconds to walk (seconds for a few hundred thousand files), which must
neither hold up a page nor take a core: after the first walk, a walk longer than INLINE_SECONDS
runs in a background thread while pages get the last digest, and the full walk is repeated at
most every WALK_SHARE_INVERSE times its own duration (so it costs at most a thirtieth of a core;
an edit in place in such a corpus is seen within a few minutes, additions and removals at once).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

INLINE_SECONDS = 0.5  # a walk that took longer than this is redone in the background
WALK_SHARE_INVERSE = 30  # periodic full walks at most every 30x their duration


class CorpusWatch:
    def __init__(self, corpus_dir: Path | str, interval: float = 10.0):
        self.root = Path(corpus_dir)
        self.interval = interval
        self._lock = threading.Lock()
        self._folders: dict[str, int] = {}  # folder -> st_mtime_ns at the last walk
        self._digest = ""
        self._walked_at = float("-inf")
        self.walk_seconds = 0.0  # how long the last full walk took
        self._walker: threading.Thread | None = None
        self._error: OSError | None = None  # from a background walk, raised by the next digest()
        self.files: list | None = None  # the last walk's (relative name, size, mtime, ctime)

    def digest(self) -> str:
        """A short string that changes when the corpus does. Raises OSError when the corpus
        folder cannot be read."""
        if not self._lock.acquire(blocking=False):
            return self._digest  # another session is walking: its result comes next run
        try:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            walking = self._walker is not None and self._walker.is_alive()
            if not walking and self._due():
                if self._digest and self.walk_seconds > INLINE_SECONDS:
                    self._walker = threading.Thread(target=self._refresh, args=(True,),
                                                    name="corpus-watch", daemon=True)
                    self._walker.start()
                else:
                    self._refresh()
            return self._digest
        finally:
            self._lock.release()

    def _due(self) -> bool:
        every = self.interval
        if self.walk_seconds > INLINE_SECONDS:
            every = max(every, WALK_SHARE_INVERSE * self.walk_seconds)
        return time.monotonic() - self._walked_at >= every or self._folders_changed()

    def _refresh(self, background: bool = False) -> None:
        started = time.monotonic()
        try:
            digest, folders, files = self._walk()
        except OSError as exc:
            if not background:
                raise
            self._error = exc
            return
        self._digest, self._folders, self.files = digest, folders, files
        self._walked_at = time.monotonic()
        self.walk_seconds = self._walked_at - started

    def _folders_changed(self) -> bool:
        for folder, mtime in self._folders.items():
            try:
                if os.stat(folder).st_mtime_ns != mtime:
                    return True
            except OSError:
                return True
        return False

    def _walk(self) -> tuple[str, dict[str, int], list[tuple]]:
        """The fingerprint of the corpus (the same files a build reads, with their sizes and
        times; nothing is read), the folders seen, and the files as compact (name, size, mtime,
        ctime) tuples for the out-of-date check."""
        from ..index.scan import scan_corpus_stats

        if not self.root.is_dir():
            return "", {}, []
        # Each folder's time is read before it is listed: a file added meanwhile changes it.
        files, refused, folders = scan_corpus_stats(self.root)
        h = hashlib.blake2b(digest_size=16)
        for rel, size, mtime, ctime in files:
            h.update(f"{rel}\0{size}\0{mtime}\0{ctime}\n".encode("utf-8", "replace"))
        for r in refused:
            h.update(f"{r['source']}\0{r['reason']}\n".encode("utf-8", "replace"))
        return h.hexdigest(), folders, files
