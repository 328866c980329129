"""Time ports. `Clock` is the trading timeline (the wall clock live, simulated time against the
simulator, moved by hand in tests): what events and orders are stamped with. `Stopwatch` is real
elapsed time for pacing that must not speed up with a simulation (repeat suppression, how long a
reading stays fresh): monotonic seconds, read only to take differences."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """`now()` is an aware UTC datetime on the clock's timeline; `speed` is clock seconds per real
    second (1 live, 60 for a simulation at speed 60, 0 for a clock moved only by hand: a scheduler
    then re-reads it every `max_wait_s`, or at once after `Scheduler.wake()`; it re-reads `speed`
    before every wait). The simulator's clocks satisfy it as they are."""

    def now(self) -> datetime: ...

    @property
    def speed(self) -> float: ...


class Stopwatch(Protocol):
    def seconds(self) -> float:
        """Monotonic real seconds (only differences mean anything)."""
        ...


def describe_delay(clock_s: float, clock: Clock) -> str:
    """A delay on `clock` as an operator reads it: in real seconds, with the simulated span beside it
    when the clock runs faster or slower than real time ("8 s (952 s simulated)")."""
    speed = clock.speed
    if speed == 1:
        return f"{_seconds(clock_s)} s"
    if speed <= 0:
        return f"{_seconds(clock_s)} s simulated (whenever the simulated clock gets there)"
    return f"{_seconds(clock_s / speed)} s ({_seconds(clock_s)} s simulated)"


def _seconds(value: float) -> str:
    """Three significant digits, never in exponent form: 0.5, 8, 952, 3600."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
