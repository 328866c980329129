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

from ports.clock import Clock, describe_delay  # one definition each, shared with the driver

__all__ = ["Clock", "SystemClock", "describe_delay"]


class SystemClock:
    """The wall clock: `datetime.now(UTC)` at speed 1."""

    @property
    def speed(self) -> float:
        return 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)
