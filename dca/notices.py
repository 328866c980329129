"""What a trader is told about the bot's deals (pure: the notifier actor sends them).

A notice carries figures the books already hold (symbol, cycle, quantities, prices, P/L) and never a
key, a URL or an order id beyond the cycle number, so that whatever service relays it learns nothing
that could be used against the account.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from decimal import Decimal

from dca.cycle import Cycle, CycleStatus, LiveOrder, OrderKind
from dca.immutable import immutable
from dca.money import cents, plain, readable


class NoticeKind(enum.StrEnum):
    CYCLE_STARTED = "cycle_started"  # the base order filled: the cycle holds coin
    SAFETY_FILLED = "safety_filled"
    TAKE_PROFIT = "take_profit"  # the take-profit (or trailing) sale filled
    CYCLE_COMPLETED = "cycle_completed"  # with its realized P/L
    KILL_SWITCH = "kill_switch"
    BREAKER_OPEN = "breaker_open"
    ASSET_STOPPED = "asset_stopped"  # an asset ended a cycle in error, or its actor was given up on
    STOP_LOSS = "stop_loss"  # the stop loss sold a cycle at market, with its realized loss
    CYCLE_CLOSED = "cycle_closed"  # the operator closed a cycle (`supervisor.py close`)


@immutable
class Notice:
    kind: NoticeKind
    title: str
    body: str
    warning: bool = False  # sent as a warning where the service distinguishes (colour, priority)


def _n(value: Decimal | None, places: int = 8) -> str:
    return plain(None if value is None else value.quantize(Decimal(1).scaleb(-places)))


def _price(value: Decimal | None) -> str:
    return "-" if value is None else readable(value)


def _money(value: Decimal | None, currency: str, signed: bool = False) -> str:
    """Cents and the currency: '1.20 USD' (never '1.2'), '+1.20 USD' for a P/L."""
    if value is None:
        return "-"
    return f"{cents(value):{'+' if signed else ''}f} {currency}"


def _coins(symbol: str) -> tuple[str, str]:
    """('BTC', 'USD') for 'BTC/USD': quantities are labelled with the coin, prices with the currency."""
    coin, _, currency = symbol.partition("/")
    return coin, currency or "USD"


def order_filled(symbol: str, cycle: Cycle, order: LiveOrder) -> Notice | None:
    """The notice for an order that ended filled, or None for a kind nobody is told about."""
    coin, currency = _coins(symbol)
    price = f"{_price(order.average_price)} {currency}"
    qty, notional = f"{_n(order.filled_qty)} {coin}", _money(order.filled_notional, currency)
    if order.kind is OrderKind.BASE:
        return Notice(NoticeKind.CYCLE_STARTED, f"{symbol}: cycle {cycle.id} started",
                      f"Bought {qty} at {price} ({notional}).")
    if order.kind is OrderKind.SAFETY:
        return Notice(NoticeKind.SAFETY_FILLED, f"{symbol}: safety order {cycle.safety_orders} filled",
                      f"Cycle {cycle.id} bought {qty} at {price}; it now holds "
                      f"{_n(cycle.quantity)} {coin} at an average cost of {_price(cycle.average_price)} {currency}.")
    if order.kind is OrderKind.TAKE_PROFIT:
        return Notice(NoticeKind.TAKE_PROFIT, f"{symbol}: take-profit sale filled",
                      f"Cycle {cycle.id} sold {qty} at {price} ({notional}).")
    return None


def cycle_ended(symbol: str, cycle: Cycle) -> Notice:
    if cycle.status.value == "error":
        return Notice(NoticeKind.ASSET_STOPPED, f"{symbol}: cycle {cycle.id} ended in error",
                      "The exchange no longer holds the position this cycle bought; see `supervisor.py cycle "
                      f"{cycle.id}`.", warning=True)
    currency = _coins(symbol)[1]
    pnl = _money(cycle.realized_pnl, currency, signed=True)
    sold = f"sold {_n(cycle.sold_qty)} {_coins(symbol)[0]} at {_price(cycle.sell_price)} {currency}"
    if cycle.status is CycleStatus.STOPPED:
        return Notice(NoticeKind.STOP_LOSS, f"{symbol}: stop loss, cycle {cycle.id} stopped, P/L {pnl}",
                      f"The bid stayed below the stop-loss level: {sold}. Realized {pnl} on a cost of "
                      f"{_money(cycle.cost, currency)} with {cycle.safety_orders} safety order(s).", warning=True)
    if cycle.status is CycleStatus.CLOSED:
        return Notice(NoticeKind.CYCLE_CLOSED, f"{symbol}: cycle {cycle.id} closed by the operator, P/L {pnl}",
                      f"`supervisor.py close`: {sold}. Realized {pnl} on a cost of {_money(cycle.cost, currency)}.")
    return Notice(NoticeKind.CYCLE_COMPLETED, f"{symbol}: cycle {cycle.id} completed, P/L {pnl}",
                  f"Realized {pnl} on a cost of {_money(cycle.cost, currency)} "
                  f"with {cycle.safety_orders} safety order(s).")


def kill_switch_engaged(reason: str) -> Notice:
    return Notice(NoticeKind.KILL_SWITCH, "Kill switch engaged",
                  f"{reason}: no new orders and no cancels until it is released.", warning=True)


def breaker_opened(scope: str, cooldown: timedelta) -> Notice:
    which = "every asset" if scope == "global" else scope
    return Notice(NoticeKind.BREAKER_OPEN, f"Circuit breaker open for {which}",
                  f"Orders failed too often in a row: none for {which} for {cooldown // timedelta(seconds=1)} s.",
                  warning=True)


def asset_given_up(name: str, reason: str) -> Notice:
    return Notice(NoticeKind.ASSET_STOPPED, f"{name} stopped", f"Its supervisor gave up on it: {reason}.",
                  warning=True)
