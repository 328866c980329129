"""How a quote fills an order: whether a stop triggers, the price and liquidity of the fill, how much of
the order fills, and the fee as the venue bills it. Pure functions of the order, the quote and the rules
(the partial-fill draw takes the engine's seeded random stream)."""

from __future__ import annotations

import random
from decimal import Decimal

from adapters.sim.assets import AssetSpec
from adapters.sim.orders import Liquidity, Order, OrderStatus, OrderType, Side, TimeInForce
from adapters.sim.rules import ExchangeRules, FillModel
from dca.market import Quote
from dca.money import ONE, round_down, round_nearest, round_up

BPS = Decimal(10_000)


def stop_touched(order: Order, quote: Quote) -> bool:
    assert order.stop_price is not None
    if order.side is Side.BUY:
        return quote.ask >= order.stop_price
    return quote.bid <= order.stop_price


def fill_price(order: Order, quote: Quote, taker: bool, spec: AssetSpec, rules: ExchangeRules
               ) -> tuple[Decimal | None, Liquidity]:
    """The price this quote fills the order at, or None if it does not cross."""
    opposite = quote.ask if order.side is Side.BUY else quote.bid
    if order.type is OrderType.MARKET:
        slip = rules.slippage_bps / BPS
        if order.side is Side.BUY:
            return round_up(opposite * (ONE + slip), spec.price_increment), Liquidity.TAKER
        return round_down(opposite * (ONE - slip), spec.price_increment), Liquidity.TAKER
    assert order.limit_price is not None
    crosses = opposite <= order.limit_price if order.side is Side.BUY else opposite >= order.limit_price
    if not crosses:
        return None, Liquidity.TAKER
    if taker:
        return opposite, Liquidity.TAKER
    if rules.maker_fill_price == "quote":  # price improvement: the resting order trades at the quote
        return opposite, Liquidity.MAKER
    return order.limit_price, Liquidity.MAKER


def fill_qty(order: Order, quote: Quote, increment: Decimal, model: FillModel, rng: random.Random) -> Decimal:
    """How much of the remainder this quote fills: all of it, or a random part (`FillModel`), at most the
    quote's size when the model is bound by it; fok always all."""
    remaining = order.remaining_qty
    assert remaining is not None
    if order.time_in_force is TimeInForce.FOK:
        return remaining
    qty = remaining
    chance = float(model.partial_fill_probability)
    if chance > 0 and rng.random() < chance:
        low = int(model.partial_fill_min_fraction * 1000)
        high = max(low, int(model.partial_fill_max_fraction * 1000))
        part = round_down(remaining * rng.randint(low, high) / 1000, increment)
        if 0 < part < remaining:
            qty = part
    if model.bound_by_quote_size:
        size = round_down(quote.ask_size if order.side is Side.BUY else quote.bid_size, increment)
        if 0 < size < qty:
            qty = size
    return qty


def fee(amount: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    """One execution's fee as the venue bills it (`rules.fee_rounding`: up, half_even or exact)."""
    if rounding == "exact":
        return amount
    return round_up(amount, quantum) if rounding == "up" else round_nearest(amount, quantum)


def partly_filled_status(order: Order) -> OrderStatus:
    """A partial fill keeps a requested cancel pending."""
    if order.status is OrderStatus.PENDING_CANCEL:
        return OrderStatus.PENDING_CANCEL
    return OrderStatus.PARTIALLY_FILLED
