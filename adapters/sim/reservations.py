"""What an open order holds back until it fills or ends: cash for a buy (at its limit, or at the ask
plus `rules.market_buy_buffer_bps` for a market buy), coin for a sell. Alpaca refuses (403) an order
the free balance cannot cover, and so does the engine."""

from __future__ import annotations

from decimal import Decimal

from adapters.sim.assets import AssetSpec
from adapters.sim.errors import forbidden
from adapters.sim.orders import Order, OrderType, Side
from adapters.sim.rules import ExchangeRules
from adapters.sim.validation import text
from dca.money import ONE, round_down, round_up

ZERO = Decimal(0)
CENT = Decimal("0.01")
BPS = Decimal(10_000)


def buy_reservation(spec: AssetSpec, order_type: OrderType, qty: Decimal | None, notional: Decimal | None,
                    estimate: Decimal, rules: ExchangeRules, buying_power: Decimal, cash: Decimal
                    ) -> tuple[Decimal, Decimal]:
    """(cash reserved per unit, cash reserved now); 403 when the buying power cannot cover it."""
    if order_type is OrderType.MARKET:
        buffered = round_up(estimate * (ONE + rules.market_buy_buffer_bps / BPS), spec.price_increment)
        if notional is not None:
            reserve_price, reserved = ZERO, notional
        else:
            reserve_price, reserved = buffered, qty * buffered  # type: ignore[operator]
    else:
        reserve_price, reserved = estimate, qty * estimate  # type: ignore[operator]
    if reserved > buying_power:
        available = text(round_down(max(buying_power, ZERO), CENT))
        raise forbidden(
            f"insufficient balance for USD (requested: {text(round_up(reserved, CENT))}, available: {available})",
            available=available,
            balance=text(cash),
            symbol="USD",
        )
    return reserve_price, reserved


def sell_reservation(spec: AssetSpec, qty: Decimal | None, notional: Decimal | None, estimate: Decimal,
                     available: Decimal, position_qty: Decimal) -> tuple[Decimal, Decimal]:
    """(0, coin reserved now); 403 when the coin not held back by other sells cannot cover it."""
    wanted = qty if qty is not None else round_up(notional / estimate, spec.min_trade_increment)  # type: ignore[operator]
    if wanted > available:
        raise forbidden(
            f"insufficient balance for {spec.base} (requested: {text(wanted)}, available: {text(available)})",
            available=text(available),
            balance=text(position_qty),
            symbol=spec.base,
        )
    return ZERO, wanted


def reserved_for(order: Order) -> Decimal:
    """What the order holds back after a change: its unfilled remainder (in cash for a buy), nothing once ended."""
    if not order.is_open:
        return ZERO
    remaining = order.remaining_qty
    if remaining is None:  # a notional market order before its first fill
        return order.reserved
    return remaining * order.reserve_price if order.side is Side.BUY else remaining
