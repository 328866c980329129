"""The risk board: what the pre-trade gates need to know, shared by every asset actor.

Each asset actor posts what its cycle has committed and whether it is open; order outcomes feed the
circuit breakers; the RiskKeeper caretaker posts the kill switch and today's realized profit. The
gates themselves are the pure `dca.risk.vet`; this board only assembles their snapshot. Thread-safe.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

from dca.money import ZERO
from dca.risk import GLOBAL, RiskLimits, RiskSnapshot, global_breaker_trips


class RiskBoard:
    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._kill_switch: str | None = None
        self._committed: dict[str, Decimal] = {}
        self._reserved: dict[str, Decimal] = {}
        self._open: set[str] = set()
        self._realized_day: date | None = None
        self._realized = ZERO
        self._failures: dict[str, int] = {}  # by symbol: consecutive failures since its last success
        self._streak: dict[str, int] = {}  # by symbol: failures since the last success of any asset
        self._breakers: dict[str, datetime] = {}

    # --- written by the actors and the keeper ----------------------------------------------------

    def set_kill_switch(self, reason: str | None) -> bool:
        """Returns True when the state changed."""
        with self._lock:
            changed = (reason is None) != (self._kill_switch is None)
            self._kill_switch = reason
            return changed

    def update_asset(self, symbol: str, committed: Decimal, is_open: bool, reserved: Decimal = ZERO) -> None:
        with self._lock:
            self._committed[symbol] = committed
            self._reserved[symbol] = reserved
            (self._open.add if is_open else self._open.discard)(symbol)

    def forget_asset(self, symbol: str) -> None:
        with self._lock:
            self._committed.pop(symbol, None)
            self._reserved.pop(symbol, None)
            self._open.discard(symbol)

    def set_realized_today(self, day: date, total: Decimal) -> None:
        with self._lock:
            self._realized_day, self._realized = day, total

    def add_realized(self, at: datetime, amount: Decimal) -> None:
        """A cycle just completed: count it at once (the keeper's next read from the database agrees)."""
        with self._lock:
            if self._realized_day != at.date():
                self._realized_day, self._realized = at.date(), ZERO
            self._realized += amount

    def record_order_result(self, symbol: str, succeeded: bool, now: datetime) -> list[str]:
        """Count consecutive failures per asset, and across assets since the last success anywhere;
        returns the scopes (the symbol, GLOBAL, both or none) whose breaker this result opened.
        One asset's failures open only its own breaker (`dca.risk.global_breaker_trips`)."""
        threshold = self.limits.failure_threshold
        with self._lock:
            if succeeded:  # the venue and the account work: every streak across assets starts over
                self._failures[symbol] = 0
                self._streak.clear()
                return []
            self._failures[symbol] = self._failures.get(symbol, 0) + 1
            self._streak[symbol] = self._streak.get(symbol, 0) + 1
            opened = []
            if threshold and self._failures[symbol] >= threshold:
                self._open_breaker(symbol, now)
                self._failures[symbol] = 0
                opened.append(symbol)
            if global_breaker_trips(self.limits, self._streak):
                self._open_breaker(GLOBAL, now)
                self._streak.clear()
                opened.append(GLOBAL)
            return opened

    def _open_breaker(self, scope: str, now: datetime) -> None:
        self._breakers[scope] = now + self.limits.breaker_cooldown

    # --- read by the gates and the keeper -------------------------------------------------------

    def snapshot(self, now: datetime, buying_power: Decimal | None = None) -> RiskSnapshot:
        with self._lock:
            realized = self._realized if self._realized_day == now.date() else ZERO
            return RiskSnapshot(now, self._kill_switch, buying_power, dict(self._committed), dict(self._reserved),
                                frozenset(self._open), realized, dict(self._breakers))

    def open_breakers(self, now: datetime) -> list[str]:
        with self._lock:
            return sorted(scope for scope, until in self._breakers.items() if until > now)

    @property
    def kill_switch(self) -> str | None:
        with self._lock:
            return self._kill_switch
