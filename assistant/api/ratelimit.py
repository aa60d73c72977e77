"""Per-token rate limits: a token bucket per key (a token id). Each bucket holds up to `burst`
requests and refills at `rate_per_minute`; a request takes one or is told how long to wait."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Thread-safe. `rate_per_minute` 0 turns limiting off. Memory: one small entry per key seen
    (keys are token ids, so bounded by the tokens made)."""

    def __init__(self, rate_per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = rate_per_minute / 60.0  # requests per second
        self.burst = max(1, int(burst))
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> float:
        """0.0 when the request may go ahead (one request taken from the bucket), else the
        seconds until one is available (nothing taken)."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """The Retry-After header: whole seconds, rounded up (never 0 when refused)."""
    return str(max(1, math.ceil(seconds)))
