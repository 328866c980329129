"""`CooldownKeeper`: a backstop for the asset actors' own cooldown timers.

Each asset actor schedules a timer for the end of its cooldown; if that timer was lost (the actor
was down at the time), this keeper nudges every cycle whose cooldown is over. The asset actor's
core makes the transition; a nudge to a cycle that has already moved on changes nothing.
"""

from __future__ import annotations

from actors.caretakers.base import Caretaker
from actors.messages import TimerTick
from actors.runtime import Runtime
from dca.cycle import CycleStatus


class CooldownKeeper(Caretaker):
    name = "cooldown_keeper"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.cooldown_keeper)

    def run_once(self) -> None:
        now = self._rt.clock.now()
        for stored in self._rt.cycles.current_cycles():
            cycle = stored.cycle
            over = cycle.cooldown_until is None or cycle.cooldown_until <= now
            if cycle.status is CycleStatus.COOLDOWN and over and self._rt.asset_handle(stored.symbol).tell(TimerTick()):
                self._log.info("{}: cooldown of cycle {} is over", stored.symbol, cycle.id)
