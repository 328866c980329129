"""The exchange's view of orders and positions, as plain values (no vendor types).

`adapters/alpaca` turns alpaca-py models into these; the store mirrors them into `dca_orders`; the
caretakers reason about them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from dca.immutable import immutable
from dca.money import ZERO

OPEN_STATUSES = frozenset({
    "new", "accepted", "pending_new", "partially_filled", "accepted_for_bidding", "pending_cancel",
    "pending_replace", "pending_review", "held", "calculated", "stopped", "suspended",
})
TERMINAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected", "replaced", "done_for_day"})


class ExchangeStatus(enum.StrEnum):
    """Alpaca's order statuses that the bot acts on (others are treated as open)."""

    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


@immutable
class ExchangeOrder:
    """One order as the exchange reports it (Alpaca's order object, decimals exact)."""

    id: str
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    status: str
    created_at: datetime
    qty: Decimal | None = None
    notional: Decimal | None = None
    filled_qty: Decimal = ZERO
    filled_avg_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    updated_at: datetime | None = None
    submitted_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    expires_at: datetime | None = None
    failed_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    asset_id: str | None = None
    asset_class: str | None = None
    order_class: str = ""
    position_intent: str | None = None
    extended_hours: bool = False
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    ratio_qty: Decimal | None = None
    legs: str | None = None  # JSON text

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES


@immutable
class Position:
    """The account's holding of one coin (`symbol` in our `BTC/USD` form)."""

    symbol: str
    qty: Decimal
    avg_entry_price: Decimal
    qty_available: Decimal | None = None


def sellable_for_bot(position: Position | None, held: Decimal, available: Decimal | None = None) -> Decimal:
    """What the bot may sell of a pair: the venue's `qty_available` (or `available` from its answer,
    whichever is less) less the coins beyond what the bot holds, which are somebody else's."""
    if position is None:
        return ZERO
    free = position.qty_available if position.qty_available is not None else position.qty
    if available is not None:
        free = min(free, available)
    foreign = max(position.qty - held, ZERO)
    return max(free - foreign, ZERO)
