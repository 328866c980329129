"""What an asset's driver needs from the actor that hosts it: timers that come back as messages,
the newest quote, and the pair's exchange rules (cached for all assets). Also why an order is
looked up on the exchange (`OrderLookup`), which caretakers and routers send to the host."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

from dca.market import Quote
from dca.params import ExchangeRules


class OrderLookup(enum.Enum):
    """Why the live order is read back from the exchange. A change found on the first three is an
    update the bot missed (counted as a discrepancy); on the others it is the expected answer."""

    RECOVERING = "recovering after a restart"
    RECONNECTED = "stream reconnected"
    RECONCILING = "reconciler"
    ORDER_JANITOR = "order janitor"
    UNKNOWN_SUBMIT_OUTCOME = "unknown submit outcome"
    DUPLICATE_ID = "duplicate client_order_id"
    CANCEL_REFUSED = "cancel refused"
    OPERATOR_CANCEL = "operator cancel"

    @property
    def finds_missed_updates(self) -> bool:
        return self in (OrderLookup.RECOVERING, OrderLookup.RECONNECTED, OrderLookup.RECONCILING)

    def __str__(self) -> str:
        return self.value


class AssetTimers(Protocol):
    """Timers on the host's scheduler; each comes back to the driver as a call. Delays are in real
    seconds (the host converts them to its clock's)."""

    def tick_at(self, at: datetime) -> None:
        """`on_timer()` at `at` on the trading clock."""
        ...

    def recheck_fee_in(self, real_seconds: float, client_order_id: str) -> None: ...

    def check_order_in(self, real_seconds: float, reason: OrderLookup) -> None: ...


class Quotes(Protocol):
    def latest(self, symbol: str) -> Quote | None: ...


class ExchangeRulesSource(Protocol):
    def exchange_rules(self, symbol: str) -> ExchangeRules:
        """The pair's increments and minimums, as last read."""
        ...

    def refresh_exchange_rules(self, symbol: str) -> ExchangeRules:
        """Read the pair's rules again (its minimums move with the price)."""
        ...
