"""The time source the actor runtime schedules against.

The bot runs either on the wall clock or on the simulator's clock (`adapters.sim.clock`): an
`AcceleratedClock` running `speed` simulated seconds per real second, or a `ManualClock`
(speed 0) that moves only when a test or lockstep driver moves it. Everything in `actors/` that
waits — timers, restart backoff, restart intensity — measures durations in *clock seconds* and
asks the clock for its speed, so a 120-second cooldown lasts 2 real seconds at speed 60 without
any caller converting units.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What the scheduler needs from a clock; the simulator's clocks satisfy it as they are.

    `now()` returns an aware UTC datetime on the clock's own timeline. `speed` is the number of
    clock seconds that pass per real second: 1 for the wall clock, 60 for a simulation at speed 60,
    0 for a clock that only moves when told (the scheduler then re-reads it every `max_wait_s`, or
    at once after `Scheduler.wake()`). The scheduler re-reads `speed` before every wait.
    """

    def now(self) -> datetime: ...

    @property
    def speed(self) -> float: ...


class SystemClock:
    """The wall clock: `datetime.now(UTC)` at speed 1."""

    @property
    def speed(self) -> float:
        return 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


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
