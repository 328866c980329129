"""Adopting coins the bot did not buy: how many, and at what cost (pure)."""

from __future__ import annotations

from decimal import Decimal


class AdoptionRefused(ValueError):
    pass


def plan_adoption(position_qty: Decimal, position_avg_price: Decimal, bot_holds: Decimal,
                  quantity: Decimal | None = None, price: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(quantity, price) to adopt: by default every foreign coin (the exchange's position minus what the
    bot holds) at the exchange's average entry price. Refused when there is nothing foreign to adopt or
    more is asked for than there is."""
    foreign = position_qty - bot_holds
    if foreign <= 0:
        raise AdoptionRefused(f"no foreign coins: the exchange holds {position_qty}, the bot {bot_holds}")
    chosen = foreign if quantity is None else quantity
    if chosen <= 0 or chosen > foreign:
        raise AdoptionRefused(f"can adopt up to {foreign} (the foreign part of the position), not {chosen}")
    cost = position_avg_price if price is None else price
    if cost <= 0:
        raise AdoptionRefused("the price per coin must be positive (pass --price when the exchange has none)")
    return chosen, cost
