"""From what the exchange says about one of our orders to the event `decide` understands.

The same mapping serves a trade update on the stream, an order read back over REST after a
reconnect, and the reconciler's lookups: because order events are cumulative, whichever of them
arrives first wins and the others apply nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dca.events import CloseReason, Event, OrderAccepted, OrderClosed, OrderFilled
from dca.exchange import ExchangeOrder

_CLOSED = {"canceled": CloseReason.CANCELED, "cancelled": CloseReason.CANCELED,
           "expired": CloseReason.EXPIRED, "rejected": CloseReason.REJECTED}


def event_for(order: ExchangeOrder, time: datetime, position_qty: Decimal | None = None) -> Event | None:
    """The core event describing `order`'s current state, or None for states that change nothing
    (pending_cancel, replaced, ...). `position_qty` is the exchange position after the order's
    latest fill, when known (the core learns the exact coin fee from it)."""
    if order.status == "filled":
        return OrderFilled(order.client_order_id, order.filled_qty, order.filled_avg_price or Decimal(0), time,
                           final=True, position_qty=position_qty, exchange_id=order.id)
    if order.status == "partially_filled" and order.filled_avg_price is not None:
        return OrderFilled(order.client_order_id, order.filled_qty, order.filled_avg_price, time,
                           final=False, exchange_id=order.id)
    reason = _CLOSED.get(order.status)
    if reason is not None:
        return OrderClosed(order.client_order_id, reason, time, order.filled_qty, order.filled_avg_price,
                           position_qty=position_qty)
    if order.status in ("new", "accepted", "pending_new", "partially_filled"):
        return OrderAccepted(order.client_order_id, order.id, time)
    return None


def needs_position(order: ExchangeOrder) -> bool:
    """Whether the core would use the position after this order (a finished buy with fills)."""
    return order.side == "buy" and order.filled_qty > 0 and order.status in ("filled", *_CLOSED)
