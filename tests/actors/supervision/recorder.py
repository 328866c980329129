"""A thread-safe event recorder: tests wait on events with a timeout instead of sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

WAIT_S = 5.0  # generous upper bound for anything a test waits on; passing tests never reach it


class Recorder:
    """Collects events from any thread; tests block on `wait_for` instead of sleeping."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._events: list[tuple[Any, ...]] = []
        self._times: list[float] = []  # time.monotonic() of each event

    def add(self, *event: Any) -> None:
        with self._changed:
            self._events.append(event)
            self._times.append(time.monotonic())
            self._changed.notify_all()

    @property
    def events(self) -> list[tuple[Any, ...]]:
        with self._changed:
            return list(self._events)

    def of_kind(self, kind: str) -> list[tuple[Any, ...]]:
        return [event for event in self.events if event[0] == kind]

    def times_of(self, *kinds: str) -> list[float]:
        """When each event of these kinds was recorded, in real (monotonic) seconds."""
        with self._changed:
            return [t for event, t in zip(self._events, self._times, strict=True) if event[0] in kinds]

    def wait_for(self, predicate: Callable[[list[tuple[Any, ...]]], bool], timeout: float = WAIT_S) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._events), timeout):
                raise AssertionError(f"timed out; events so far: {self._events}")

    def wait_count(self, kind: str, count: int, timeout: float = WAIT_S) -> list[tuple[Any, ...]]:
        self.wait_for(lambda events: sum(e[0] == kind for e in events) >= count, timeout)
        return self.of_kind(kind)
