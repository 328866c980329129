"""Clocks for the actor runtime tests, shaped like the simulator's (`now()` and `speed`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class FastClock:
    """Runs `speed` clock seconds per real second, from `start` (default: now)."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        self._speed = float(speed)
        self._start = start or datetime.now(UTC)
        self._origin = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._origin) * self._speed)


class HandClock:
    """Moves only when the test moves it (speed 0), like the simulator's ManualClock."""

    speed = 0.0

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
