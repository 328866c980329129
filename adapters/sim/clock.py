"""Simulated time. The exchange and the bot (in embedded mode) read the same clock.

`AcceleratedClock` runs `speed` simulated seconds per real second (`--speed 60`: an hour a minute);
`ManualClock` only moves when a test (or the lockstep pacer) moves it. Both return aware UTC datetimes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class SimClock(Protocol):
    def now(self) -> datetime: ...


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("simulated time must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


class AcceleratedClock:
    """Simulated time = start + real seconds elapsed × speed."""

    def __init__(
        self, start: datetime, speed: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self._start = _aware(start)
        self._speed = float(speed)
        self._monotonic = monotonic
        self._origin = monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic() - self._origin) * self._speed)

    def real_seconds_until(self, moment: datetime) -> float:
        """How long to sleep (real seconds) until the simulated clock reaches `moment`."""
        return max(0.0, (moment - self.now()).total_seconds() / self._speed)


class ManualClock:
    """A clock that only moves forward when told to (lockstep tests, backtests)."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._lock = threading.Lock()

    speed = 0.0

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        """Move to `moment`; the clock never goes backwards."""
        with self._lock:
            self._now = max(self._now, _aware(moment))

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now


def utc_now_second() -> datetime:
    """The real time, to the second: the default start of a simulation."""
    return datetime.now(UTC).replace(microsecond=0)
