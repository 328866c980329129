"""Orders as the exchange keeps them: an immutable snapshot per state, replaced on every change.

Snapshots are what events carry and what the REST layer serialises, so a consumer can never see an
order change under its feet.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from dca.immutable import evolved, immutable

ZERO = Decimal(0)
AVG_PRICE_QUANTUM = Decimal("1e-10")


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(enum.StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_LIMIT = "stop_limit"


class TimeInForce(enum.StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(enum.StrEnum):
    PENDING_NEW = "pending_new"
    ACCEPTED = "accepted"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    PENDING_CANCEL = "pending_cancel"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"


TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED}
)


class Liquidity(enum.StrEnum):
    MAKER = "maker"
    TAKER = "taker"


@immutable
class OrderRequest:
    """What a client asks for. Enum-like fields stay strings so the engine can refuse unknown values
    with Alpaca's own error codes instead of failing to parse them."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    order_class: str = ""
    extended_hours: bool = False


@immutable
class Order:
    """One order at one moment. `qty` is the requested quantity (after truncation to the asset's
    increment) and stays None for notional orders, as on Alpaca; `target_qty` is what the engine fills."""

    id: UUID
    client_order_id: str
    symbol: str
    asset_id: UUID
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime
    sequence: int
    target_qty: Decimal | None  # None until a notional market order meets its first quote
    reserve_price: Decimal  # cash reserved per unit of a buy's remaining quantity
    reserved: Decimal = ZERO  # cash (buys) or coin (sells) this order holds back right now
    filled_qty: Decimal = ZERO
    filled_notional: Decimal = ZERO  # Σ price × qty of its executions, exact
    fees: Decimal = ZERO  # coin for buys, USD for sells
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    failed_at: datetime | None = None
    first_quote_seen: bool = False
    triggered: bool = False  # stop_limit: the stop has been touched
    extended_hours: bool = False

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES

    @property
    def remaining_qty(self) -> Decimal | None:
        """Quantity still to fill, or None while a notional market order has no quantity yet."""
        if self.target_qty is None:
            return None
        return self.target_qty - self.filled_qty

    @property
    def filled_avg_price(self) -> Decimal | None:
        if self.filled_qty == 0:
            return None
        return (self.filled_notional / self.filled_qty).quantize(AVG_PRICE_QUANTUM).normalize()

    def evolve(self, **changes: object) -> Order:
        """`dataclasses.replace(self, **changes)` at a fraction of its cost: the engine makes a new
        snapshot on every step of every order (a backtest sweep makes millions)."""
        return evolved(self, changes)


