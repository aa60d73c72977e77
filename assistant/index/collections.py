"""Collection membership of a build's rows, for the access row filter (assistant/access.py).

A collection is the top-level folder of an article's source path, so membership comes from the
build itself and rules can change without a rebuild. Per build: one code per chunk row (an int
array, made on first use from the articles table), and the rows of each scope asked for, cached
(a few distinct scopes serve everyone)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from .snapshot import Snapshot


def _collection(source: str) -> str:
    parts = str(source).replace("\\", "/").lstrip("/").split("/")
    return parts[0] if len(parts) > 1 else ""


class CollectionRows:
    def __init__(self, snapshot: Snapshot, cached: int = 64):
        self.snapshot = snapshot
        self._lock = threading.Lock()
        self._codes: np.ndarray | None = None
        self._article_codes: np.ndarray | None = None
        self.names: list[str] = []
        self._rows: OrderedDict[frozenset[str], np.ndarray] = OrderedDict()
        self._cached = cached

    def _load(self) -> None:
        if self._codes is not None:
            return
        index: dict[str, int] = {}
        per_article = np.fromiter(
            (index.setdefault(_collection(s), len(index)) for (s,) in self.snapshot.db.execute(
                "SELECT source FROM articles ORDER BY ord")), np.int32)
        self.names = list(index)
        self._article_codes = per_article
        self._codes = (per_article[np.asarray(self.snapshot.chunk_article_ord)]
                       if len(per_article) else np.zeros(0, np.int32))

    def collections(self) -> list[str]:
        with self._lock:
            self._load()
            return list(self.names)

    def rows(self, permits: Callable[[str], bool]) -> np.ndarray | None:
        """Chunk rows of the collections `permits` admits; None when that is every row."""
        with self._lock:
            self._load()
            assert self._codes is not None
            allowed = frozenset(n for n in self.names if permits(n))
            if len(allowed) == len(self.names):
                return None
            hit = self._rows.get(allowed)
            if hit is None:
                codes = np.asarray([i for i, n in enumerate(self.names) if n in allowed], np.int32)
                hit = np.flatnonzero(np.isin(self._codes, codes)).astype(np.int64)
                self._rows[allowed] = hit
                while len(self._rows) > self._cached:
                    self._rows.popitem(last=False)
            else:
                self._rows.move_to_end(allowed)
            return hit
