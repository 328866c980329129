"""How often a supervisor may restart children (intensity) and how long it waits first (backoff).

Both are measured in clock seconds on the clock of the supervisor's restart scheduler, so they speed
up with an accelerated simulation clock exactly like every other timer on it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RestartIntensity:
    """More than `max_restarts` restarts within `within_s` makes the supervisor give up.

    Counted across all children of one supervisor, as in Erlang. `max_restarts=0` gives up on the
    first exit that would need a restart.
    """

    max_restarts: int = 5
    within_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_restarts < 0 or self.within_s <= 0:
            raise ValueError(f"invalid restart intensity {self}")


class RestartWindow:
    """The sliding window of recent restart times that a `RestartIntensity` is checked against."""

    def __init__(self, intensity: RestartIntensity) -> None:
        self.intensity = intensity
        self._restart_times_s: deque[float] = deque()

    def record(self, at_s: float) -> bool:
        """Record a restart at clock time `at_s`; return True if that exceeds the intensity."""
        self._restart_times_s.append(at_s)
        horizon_s = at_s - self.intensity.within_s
        while self._restart_times_s and self._restart_times_s[0] <= horizon_s:
            self._restart_times_s.popleft()
        return len(self._restart_times_s) > self.intensity.max_restarts


@dataclass(frozen=True)
class Backoff:
    """Exponential delay before restarting the same child again.

    The n-th consecutive restart of a child (n = 0, 1, 2, ...) waits
    `min(initial_s * factor**n, max_s)`. A child that ran for `reset_after_s` before exiting starts
    again from n = 0. `Backoff.none()` restarts at once.
    """

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 30.0
    reset_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.initial_s < 0 or self.factor < 1 or self.max_s < 0 or self.reset_after_s < 0:
            raise ValueError(f"invalid backoff {self}")

    @classmethod
    def none(cls) -> Backoff:
        return cls(initial_s=0.0, max_s=0.0)

    def delay_s(self, consecutive_restarts: int) -> float:
        # Cap the exponent: factor**n overflows a float long before any sane restart count.
        exponent = min(consecutive_restarts, 64)
        return min(self.initial_s * self.factor**exponent, self.max_s)
