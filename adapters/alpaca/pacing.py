"""A token bucket that keeps REST calls under Alpaca's per-key rate limit (200 requests/minute).

alpaca-py answers a 429 by sleeping 3 s and retrying three times; pacing ourselves below the limit
avoids those stalls (and the retried POSTs they cause) in the first place.
"""

from __future__ import annotations

import threading
import time


class RequestPacer:
    def __init__(self, per_minute: float, burst: int | None = None) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(burst if burst is not None else max(1, int(per_minute // 6)))
        self._tokens = self._capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait
