"""Liveness and readiness, for process managers and orchestrators (`/healthz`, `/readyz`).

Alive: the shared timer thread still turns (every caretaker, cooldown and order timeout hangs on it)
and the asset supervisor has not given up. Ready: both streams are connected and the reconciler has
compared the books with the exchange at least once since the start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

SCHEDULER_FROZEN_AFTER_S = 30.0  # its loop turns at least once a second while any timer is set
STREAMS = ("market_data", "trade_updates")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reasons: tuple[str, ...]  # why not (empty when ok)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "reasons": list(self.reasons)}


def _verdict(reasons: list[str]) -> Verdict:
    return Verdict(not reasons, tuple(reasons))


@dataclass
class Health:
    _streams: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(STREAMS, False))
    _reconciled: bool = False
    _gave_up: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stream(self, name: str, connected: bool) -> None:
        with self._lock:
            self._streams[name] = connected

    def reconciled(self) -> None:
        self._reconciled = True

    def gave_up(self, supervisor: str) -> None:
        with self._lock:
            self._gave_up.add(supervisor)

    def liveness(self, scheduler_idle_s: float, asset_supervisor: str) -> Verdict:
        reasons = []
        if scheduler_idle_s > SCHEDULER_FROZEN_AFTER_S:
            reasons.append(f"the scheduler has not turned for {scheduler_idle_s:.0f} s")
        with self._lock:
            if asset_supervisor in self._gave_up:
                reasons.append("the asset supervisor gave up")
        return _verdict(reasons)

    def readiness(self) -> Verdict:
        with self._lock:
            reasons = [f"the {name} stream is not connected" for name, up in self._streams.items() if not up]
        if not self._reconciled:
            reasons.append("the books have not been reconciled with the exchange yet")
        return _verdict(reasons)
