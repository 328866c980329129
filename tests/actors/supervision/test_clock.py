"""The wall clock, and the Clock protocol that the simulator's clocks also satisfy."""

from __future__ import annotations

from datetime import UTC

from actors.supervision.clock import Clock, SystemClock
from tests.actors.supervision.clocks import FastClock, HandClock


def test_system_clock_is_aware_utc_at_speed_one() -> None:
    clock = SystemClock()
    assert clock.now().tzinfo is UTC
    assert clock.speed == 1.0


def test_clocks_shaped_like_the_simulators_satisfy_the_protocol() -> None:
    # adapters/sim/clock.py: AcceleratedClock has `speed` (a property), ManualClock `speed = 0.0`.
    for clock in (SystemClock(), FastClock(60), HandClock()):
        assert isinstance(clock, Clock)
