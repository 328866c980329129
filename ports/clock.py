"""Time ports. `Clock` is the trading timeline (the wall clock live, simulated time against the
simulator, moved by hand in tests): what events and orders are stamped with. `Stopwatch` is real
elapsed time for pacing that must not speed up with a simulation (repeat suppression, how long a
reading stays fresh): monotonic seconds, read only to take differences."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """`now()` is an aware UTC datetime on the clock's timeline; `speed` is clock seconds per real
    second (1 live, 60 for a simulation at speed 60, 0 for a clock moved only by hand)."""

    def now(self) -> datetime: ...

    @property
    def speed(self) -> float: ...


class Stopwatch(Protocol):
    def seconds(self) -> float:
        """Monotonic real seconds (only differences mean anything)."""
        ...
