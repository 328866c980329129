"""The clock of a separately running simulator, read from its `/v2/clock`.

A simulator may run faster than real time (`--speed 60`). Two readings a moment apart give its
speed; between readings its time is extrapolated from the local monotonic clock, and it is read
again now and then so drift cannot build up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

RESYNC_SECONDS = 60.0


class ExchangeClock:
    def __init__(self, read: Callable[[], datetime], sample_gap: float = 0.5,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._read, self._monotonic = read, monotonic
        first, first_at = read(), monotonic()
        time.sleep(sample_gap)
        second, second_at = read(), monotonic()
        measured = (second - first).total_seconds() / max(second_at - first_at, 1e-6)
        self._speed = _round_speed(measured)
        self._anchor, self._anchor_at = second, second_at
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        with self._lock:
            elapsed = self._monotonic() - self._anchor_at
            if elapsed > RESYNC_SECONDS:
                try:
                    self._anchor, self._anchor_at, elapsed = self._read(), self._monotonic(), 0.0
                except Exception:  # the venue is briefly unreachable: keep extrapolating
                    pass
            return self._anchor + timedelta(seconds=elapsed * self._speed)


def _round_speed(measured: float) -> float:
    """Network jitter blurs the measurement; simulators run at whole-number speeds."""
    return float(max(1, round(measured))) if measured > 1.5 else 1.0
