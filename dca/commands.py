"""What `decide` asks its driver to do: the outputs besides the new state.

The live asset actor performs them against Alpaca (after writing the state to the database); the
backtester performs them against an in-process exchange. Neither adds decisions of its own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dca.cycle import OrderKind, OrderType, Side
from dca.immutable import immutable


@immutable
class SubmitOrder:
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    kind: OrderKind
    time_in_force: str = "gtc"  # Alpaca crypto accepts gtc and ioc only; never day


@immutable
class CancelOrder:
    client_order_id: str
    exchange_id: str | None
    reason: str


@immutable
class ScheduleTimer:
    """Deliver a `Tick` at `at` (a backstop: every event already checks the deadlines it carries)."""

    at: datetime
    purpose: str


Command = SubmitOrder | CancelOrder | ScheduleTimer
