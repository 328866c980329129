"""What a backtest remembers: orders, fills, finished cycles and the account over time.

These are plain values built from the core's own decisions (never recomputed by the report), so
the numbers a backtest reports are the numbers the strategy acted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from dca.cycle import CycleStatus, OrderKind, OrderType, Side
from dca.immutable import immutable
from dca.money import ZERO


@immutable
class OrderRecord:
    """One order the strategy placed, and how it ended (`outcome` "open" while it is live)."""

    client_order_id: str
    cycle_id: int
    kind: OrderKind
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    decided_at: datetime
    outcome: str = "open"  # filled, canceled, rejected, expired or open
    ended_at: datetime | None = None
    filled_qty: Decimal = ZERO
    average_price: Decimal | None = None
    fee: Decimal = ZERO  # in the asset received: the coin for a buy, the quote currency for a sell
    message: str = ""
    trigger: Decimal | None = None  # a take-profit's trigger bid when it was decided (its fill may land below)


@immutable
class FillRecord:
    """One fill as the cycle applied it (the part of a cumulative report not seen before)."""

    time: datetime
    client_order_id: str
    cycle_id: int
    kind: OrderKind
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal  # in the asset received
    fee_value: Decimal  # the fee in the quote currency (a coin fee valued at the fill price)


@immutable
class CycleRecord:
    """A finished cycle: what it bought and sold, when, and what it earned."""

    cycle_id: int
    status: CycleStatus
    started_at: datetime | None  # when its first order was decided
    completed_at: datetime | None
    safety_orders: int
    bought_qty: Decimal
    buy_fees: Decimal  # coin
    sold_qty: Decimal
    sell_notional: Decimal
    sell_fees: Decimal  # quote currency
    cost: Decimal  # what the coin it sold had cost, buy fees included
    average_price: Decimal  # cost per coin sold
    sell_price: Decimal | None
    realized_pnl: Decimal
    fees_value: Decimal  # every fee of the cycle in the quote currency


@immutable
class AccountPoint:
    """The account at the end of bar `bar_index`, recorded only when something changed."""

    bar_index: int  # -1: before the first bar
    time: datetime | None
    cash: Decimal
    position: Decimal  # the exchange's coin (the cycle's plus leftover dust)
    cycle_quantity: Decimal
    cycle_cost: Decimal
    committed: Decimal  # cycle cost plus the unfilled part of a live buy: capital the strategy has tied up


@dataclass(slots=True)
class BacktestLog:
    orders: list[OrderRecord] = field(default_factory=list)
    fills: list[FillRecord] = field(default_factory=list)
    cycles: list[CycleRecord] = field(default_factory=list)
    timeline: list[AccountPoint] = field(default_factory=list)
    notes: list[tuple[datetime, str]] = field(default_factory=list)
