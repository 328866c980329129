"""The risk port: the process-wide figures every asset's orders are vetted against (exposure,
circuit breakers, the day's realized P/L, the kill switch). actors/risk_board.py implements it,
shared by all asset actors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from dca.risk import RiskLimits, RiskSnapshot


class RiskGate(Protocol):
    @property
    def limits(self) -> RiskLimits: ...

    def snapshot(self, now: datetime, buying_power: Decimal | None = None) -> RiskSnapshot: ...

    def update_asset(self, symbol: str, committed: Decimal, is_open: bool, reserved: Decimal = ...) -> None: ...

    def add_realized(self, at: datetime, amount: Decimal) -> None: ...

    def record_order_result(self, symbol: str, succeeded: bool, now: datetime) -> list[str]:
        """Count an order's success or failure; the scopes whose breaker this opened."""
        ...
