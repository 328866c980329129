"""Alpaca's wash-trade check: an order that could trade against the account's own opposite order is
refused at submission (docs/venue-quirks.md, `wash_trade_check`).

The documented equities rule, which Alpaca applies to crypto too: a market order is refused while any
opposite-side order of the account is open in that symbol; a limit order is refused when its price
crosses an open opposite limit (a buy limit at or above an open sell limit, a sell limit at or below an
open buy limit). A new limit is checked against open opposite limits only (the rule as documented
says nothing of an open market order, which fills at once anyway). `any_opposite` is the stricter
reading an Alpaca answer on its forum gives ("reject any order where there is an existing open order
having the opposite side"): any new order, market or limit, at any price, is refused while an
opposite-side order of the account is open in that symbol. A refusal is HTTP 403 code 40310000
(`wash_trade_status=422`: 42210000, as some report it) with the text "potential wash trade detected.
use complex orders"; it creates no order and no event. It is checked after the request's own checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from adapters.sim.errors import OrderRejected
from adapters.sim.orders import Order, OrderType, Side

WASH_TRADE_MESSAGE = "potential wash trade detected. use complex orders"
WASH_TRADE_STATUSES = (403, 422)
_CODES = {403: 40310000, 422: 42210000}


def wash_trade_refusal(side: Side, order_type: OrderType, limit_price: Decimal | None, open_orders: Iterable[Order],
                       check: str, status: int) -> OrderRejected | None:
    """The refusal Alpaca answers a new order with, if it could trade against an open opposite order of
    the account in the same symbol (`open_orders`); None when it may go ahead."""
    if check == "off":
        return None
    for other in open_orders:
        if other.side is not side and _could_trade(side, order_type, limit_price, other, check):
            return OrderRejected(status, _CODES[status], WASH_TRADE_MESSAGE)
    return None


def _could_trade(side: Side, order_type: OrderType, limit_price: Decimal | None, other: Order, check: str) -> bool:
    if check == "any_opposite" or order_type is OrderType.MARKET or limit_price is None:
        return True
    if other.limit_price is None:  # an open market order: the documented rule names only limits here
        return False
    return limit_price >= other.limit_price if side is Side.BUY else limit_price <= other.limit_price
