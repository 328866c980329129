"""Fees as Alpaca charges them, and what the bot knows about them.

Alpaca reports no fee on orders or fills. A crypto fee is taken in the asset received (coin on a buy,
USD on a sell), computed per execution and rounded UP: coin fees to 1e-9, USD fees to the cent
(third-party tests matched to real CFEE records, e.g. 0.1418 → 0.15; see
shared/reference/live-venue-findings.md, finding 3). What the venue really took is learned from it:

* a buy's coin fee from the position (read by `BTCUSD`) before and after the order;
* any fee from the account's CFEE/FEE activities, once the venue posts them (possibly only at the
  end of the day).

Until then the configured rates give an estimate, labelled as such. An inferred fee of 0 proves
nothing (a trade update's `position_qty` may be gross of the fee) unless fees are configured as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from dca.cycle import Cycle, Side
from dca.immutable import immutable
from dca.money import ZERO, basis_points, round_up

COIN_FEE_QUANTUM = Decimal("0.000000001")
USD_FEE_QUANTUM = Decimal("0.01")
# A position-inferred coin fee above this many times the highest configured rate is not a fee but a
# position that did not show the fill yet (positions can lag) or moved for another reason.
PLAUSIBLE_FEE_FACTOR = 2
PLAUSIBLE_FEE_FLOOR_BPS = Decimal(100)  # the venue may charge another tier than configured: up to 1 % is a fee


def execution_fee(side: Side, qty: Decimal, notional: Decimal, bps: Decimal) -> Decimal:
    """The fee of one execution at `bps`, rounded up as Alpaca does: coin (buy) or USD (sell)."""
    if side is Side.BUY:
        return round_up(basis_points(qty, bps), COIN_FEE_QUANTUM)
    return round_up(basis_points(notional, bps), USD_FEE_QUANTUM)


def largest_plausible_fee(filled_qty: Decimal, highest_bps: Decimal) -> Decimal:
    """The largest coin fee the venue may have taken on a buy of `filled_qty`: anything above this is
    not read as a fee (see `fee_from_position`), whatever tier the venue really charges."""
    return round_up(_plausible_fee_bound(filled_qty, highest_bps), COIN_FEE_QUANTUM)


def _plausible_fee_bound(filled_qty: Decimal, highest_bps: Decimal) -> Decimal:
    return basis_points(filled_qty, max(PLAUSIBLE_FEE_FACTOR * highest_bps, PLAUSIBLE_FEE_FLOOR_BPS))


@immutable
class EstimatedBuyFee:
    """A finished buy of the pair whose coin fee is still the configured-rate estimate."""

    filled_qty: Decimal
    estimated: Decimal


def certainly_ours(held: Decimal, unconfirmed: Sequence[EstimatedBuyFee], highest_bps: Decimal) -> Decimal:
    """What the bot holds for certain while buy fees are only estimated: `held` less, for each such
    buy, how much more than its estimate the venue may have taken. With foreign coins on the pair the
    venue cannot tell them apart, so a sell above this could take some of them; what is held back
    stays with the bot until the venue's fee settles it."""
    doubt = sum((max(largest_plausible_fee(b.filled_qty, highest_bps) - b.estimated, ZERO) for b in unconfirmed), ZERO)
    return max(held - doubt, ZERO)


def fee_from_position(filled_qty: Decimal, before: Decimal, after: Decimal, highest_bps: Decimal) -> Decimal | None:
    """A buy's coin fee from the position before and after it, or None when the reading proves
    nothing: a zero fee while fees are charged (the position may be gross, or not updated), a
    negative one, or one too large to be a fee (a lagging position, coins moved meanwhile)."""
    inferred = filled_qty - (after - before)
    bound = _plausible_fee_bound(filled_qty, highest_bps)
    if inferred < 0 or inferred > bound or (inferred == 0 and highest_bps > 0):
        return None
    return inferred


@immutable
class FeeRecord:
    """One fee the venue posted (a CFEE/FEE activity): the pair, day and price of its execution, and
    the amount (coin for a buy, USD for a sell, positive)."""

    symbol: str
    day: str  # ISO date of the execution
    price: Decimal
    side: Side
    amount: Decimal


@immutable
class Execution:
    """One execution of an order (a FILL activity)."""

    symbol: str
    day: str
    price: Decimal
    side: Side


def venue_fee(executions: Sequence[Execution], everyone: Sequence[Execution],
              records: Sequence[FeeRecord]) -> Decimal | None:
    """The order's fee as the venue posted it: for each of its `executions`, the fee record of the same
    pair, day, price and side. Activities do not name the order, so a record is only trusted when it is
    unambiguous: as many records as executions of the account (`everyone`) share its key, and they all
    carry the same amount. None while any execution's fee is missing or ambiguous."""
    if not executions:
        return None
    total = ZERO
    for execution in executions:
        key = (execution.symbol, execution.day, execution.price, execution.side)
        matching = [r for r in records if (r.symbol, r.day, r.price, r.side) == key]
        sharing = sum(1 for e in everyone if (e.symbol, e.day, e.price, e.side) == key)
        if not matching or len(matching) != sharing or len({r.amount for r in matching}) != 1:
            return None
        total += matching[0].amount
    return total


def corrected_cycle(cycle: Cycle, side: Side, estimated: Decimal, confirmed: Decimal) -> Cycle:
    """The cycle once an order's fee is known exactly: a buy's coin fee changes what it holds, a
    sell's USD fee what it earned."""
    change = confirmed - estimated
    if side is Side.BUY:
        return cycle.evolve(quantity=cycle.quantity - change, buy_fees=cycle.buy_fees + change)
    return cycle.evolve(sell_fees=cycle.sell_fees + change, realized_pnl=cycle.realized_pnl - change)


def ended_cycle_sold_cost(sold_cost: Decimal, coins_counted: Decimal, change: Decimal) -> Decimal:
    """The cost of what an ended cycle sold once a buy's coin fee turns out `change` larger than
    counted: the coins sold carried cost in proportion to the coins the cycle really got, so their
    share grows as those shrink. (Coins it held back meanwhile stay with the bot as dust.)"""
    really = coins_counted - change
    if coins_counted <= 0 or really <= 0:
        return sold_cost
    return sold_cost * coins_counted / really
