"""Orders placed ahead of need: the safety-order ladder and the limit take-profit.

What the cycle *should* have resting on the book, worked out from its state alone (so a restarted
bot, the live driver and the backtester all agree): `dca.strategy` places and cancels orders to
match it, and `dca.triggers` asks `upkeep_due` whether a quote may have something to do.

* **The ladder** (`active_safety_orders = N > 0`): the next N safety levels not yet filled rest as
  LIMIT BUYs. The first level lies `deviation(safety_orders)` % below the last fill; each deeper
  level lies `deviation(k)` % below the previous level's limit. Sorted by limit, descending, the
  resting buys are safety orders number `safety_orders`, `safety_orders + 1`, ... so a top-up after
  a fill continues below the deepest one still resting (or from the new last fill when none rests)
  and lands where it would have been had the whole ladder been placed at once. A limit is the level
  rounded DOWN to the price grid: a buy never pays above its level.
* **The limit take-profit** (`take_profit_order_type = limit`): one LIMIT SELL of what the cycle
  holds at the take-profit trigger rounded UP to the price grid: a sale never fills below it. It is
  out of date once its limit is no longer that price (a buy, or a corrected fee, moved the average
  cost) or what it has left to sell is no longer what one placed now would sell (a buy at exactly the
  average cost moves only the quantity); its own partial fills leave it as it is, and so does the
  venue's cap on what the bot may sell, which it was sized under.
* **One side at a time.** Alpaca's wash-trade rule refuses an order that could trade against an
  open opposite order of the account; by the documented reading only a crossing one, which the
  ladder (always below the take-profit) never is; by a stricter one any order while an opposite one
  is open (docs/venue-quirks.md, `wash_trade_check`). A resting order refused as a wash trade while
  an order of the cycle's other side is live teaches the asset the stricter rule
  (`AssetState.one_side_at_a_time`; not stored, a restarted bot learns it again from one refusal).
  From then on only one side rests: while the bid is below the take-profit trigger the ladder; once
  it reaches the trigger the ladder is cancelled first and then the take-profit placed (marketable
  by then, at a limit that never sells below the trigger); it rests until the ask falls back to the
  first ladder level, where it is cancelled first and the safety order bought (`dca.strategy`),
  after which the ladder rests again. (The take-profit goes before the ladder, so right after the
  lesson it is the take-profit that rests: the next safety order is then bought at the ask.)
"""

from __future__ import annotations

from decimal import Decimal

from dca.cycle import AssetState, Cycle, CycleStatus, LiveOrder, OrderType, Side
from dca.immutable import immutable
from dca.levels import take_profit_trigger
from dca.money import percent_below, round_down, round_up
from dca.params import AssetConfig, ExchangeRules

# Where resting orders may rest: the cycle holds a position and has no acting order.
RESTING_STATUSES = (CycleStatus.WATCHING, CycleStatus.TRAILING)


@immutable
class Level:
    """A safety level of the ladder: safety order number `index`, its amount, limit and quantity."""

    index: int
    amount: Decimal
    limit: Decimal
    qty: Decimal


def buy_quantity(rules: ExchangeRules, amount: Decimal, limit: Decimal) -> Decimal | None:
    """The quantity a buy of `amount` at `limit` is sized at, on the trade grid; None when the venue's
    minimums refuse it. Close to the cost floor it is sized the margin above it, so a move before
    the venue values it cannot reject it."""
    qty = round_down(amount / limit, rules.min_trade_increment)
    if qty * limit < rules.buy_floor and rules.min_notional <= amount:
        qty = round_up(rules.buy_floor / limit, rules.min_trade_increment)
    if qty < rules.min_order_size or qty * limit < rules.min_notional or qty <= 0:
        return None
    return qty


def resting_buys(cycle: Cycle) -> list[LiveOrder]:
    """The cycle's resting buys, highest limit first (the next safety order first)."""
    buys = [o for o in cycle.resting if o.side is Side.BUY]
    return sorted(buys, key=lambda o: o.limit_price or 0, reverse=True)


def resting_sell(cycle: Cycle) -> LiveOrder | None:
    """The cycle's resting take-profit, if one rests."""
    return next((o for o in cycle.resting if o.side is Side.SELL), None)


def cancelling(cycle: Cycle) -> bool:
    """Is a resting order being cancelled (its cancel not yet confirmed)?"""
    return any(o.cancel_requested_at is not None for o in cycle.resting)


def ladder_gate_open(cycle: Cycle) -> bool:
    """May the cycle place resting orders now? It holds coin, has no acting order, watches or
    trails, no close is asked, no stop loss is pending, no failure is waited out and no resting
    order is being cancelled (a cancel first, then whatever follows it)."""
    return (not cycle.is_flat and cycle.order is None and cycle.status in RESTING_STATUSES
            and cycle.close_requested_at is None and cycle.stop_loss_since is None and cycle.retry_at is None
            and not cancelling(cycle))


def next_levels(config: AssetConfig, cycle: Cycle) -> list[Level]:
    """The levels to place to bring the ladder back to `active_safety_orders` resting buys. It stops
    at the last safety order, at a level the venue's minimums refuse, and below a resting sell's
    limit (a buy must never meet the bot's own sell). Next to a resting sell with no buy resting, one
    level goes first: should the venue refuse any order opposite an open one ("One side at a time"),
    that is one refusal, not one per level; the next quote places the rest."""
    params = config.params
    if params.active_safety_orders <= 0 or cycle.last_fill_price is None:
        return []
    buys = resting_buys(cycle)
    sell = resting_sell(cycle)
    index = cycle.safety_orders + len(buys)
    anchor = buys[-1].limit_price if buys else cycle.last_fill_price
    assert anchor is not None
    levels: list[Level] = []
    wanted = 1 if sell is not None and not buys else params.active_safety_orders - len(buys)
    for _ in range(wanted):
        if index >= params.max_safety_orders:
            break
        limit = round_down(percent_below(anchor, params.safety_deviation(index)), config.rules.price_increment)
        if limit <= 0 or (sell is not None and sell.limit_price is not None and limit >= sell.limit_price):
            break
        amount = params.safety_amount(index)
        qty = buy_quantity(config.rules, amount, limit)
        if qty is None:
            break
        levels.append(Level(index, amount, limit, qty))
        anchor, index = limit, index + 1
    return levels


def take_profit_limit(config: AssetConfig, cycle: Cycle) -> Decimal:
    """The limit of the resting take-profit: the trigger rounded UP to the price grid."""
    trigger = take_profit_trigger(config, cycle)
    return round_up(trigger, config.rules.price_increment)


def uses_limit_take_profit(config: AssetConfig) -> bool:
    return config.params.take_profit_order_type is OrderType.LIMIT and not config.params.ttp_enabled


def sellable_quantity(config: AssetConfig, state: AssetState, cap: Decimal | None = None) -> Decimal:
    """What a sale placed now sells: what the cycle holds (with its dust), at most `cap` (what the
    venue lets the bot sell; None: no cap), on the trade grid; 0 when below the minimum."""
    rules = config.rules
    wanted = state.held_quantity if cap is None else min(state.held_quantity, cap)
    qty = round_down(wanted, rules.min_trade_increment)
    return qty if qty >= rules.min_order_size and qty > 0 else Decimal(0)


def sold_out(config: AssetConfig, state: AssetState) -> bool:
    """Has the cycle nothing left to sell: flat, or a sale left less than the venue's minimum?
    (Then whatever still rests is cancelled: a cycle never ends with live orders.)"""
    return state.cycle.is_flat or (state.cycle.sold_qty > 0 and sellable_quantity(config, state) == 0)


def take_profit_out_of_date(config: AssetConfig, state: AssetState, order: LiveOrder) -> bool:
    """Does the resting take-profit need replacing? Its limit is no longer the take-profit price, or
    what it has left to sell differs from what a take-profit placed now would sell. The venue's cap
    it was placed under (`AssetState.sellable`, kept while it rests: no new reading can be taken
    then) is lowered by what it sold since, so neither the cap nor its own fills make it out of date.
    Below the minimum nothing could replace it: it stands while it sells no more than is held."""
    if order.limit_price != take_profit_limit(config, state.cycle):
        return True
    remaining = order.unfilled_qty
    cap = None if state.sellable is None else state.sellable - order.filled_qty
    wanted = sellable_quantity(config, state, cap)
    if wanted == 0:
        return remaining > round_down(state.held_quantity, config.rules.min_trade_increment)
    return remaining != wanted


def one_side_only(config: AssetConfig, state: AssetState) -> bool:
    """Must the resting orders keep to one side at a time (the asset learned the venue's stricter
    wash-trade rule, and both a ladder and a limit take-profit would rest)?"""
    return state.one_side_at_a_time and uses_limit_take_profit(config) and config.params.active_safety_orders > 0


def upkeep_due(config: AssetConfig, state: AssetState) -> bool:
    """Could a quote make the cycle place, replace or cancel a resting order now, or is a sale
    waiting for cancels? (`dca.triggers` then calls every quote.) Conservative: True whenever the
    cycle's resting orders are not exactly what it wants."""
    cycle = state.cycle
    if cycle.order is not None:
        return False
    if cancelling(cycle) or (cycle.resting and sold_out(config, state)):
        return True
    if not ladder_gate_open(cycle):
        return False
    one_side, order = one_side_only(config, state), resting_sell(cycle)
    if next_levels(config, cycle) and not (one_side and order is not None):
        return True
    if uses_limit_take_profit(config):
        if order is None:  # one side at a time: with the ladder resting, the bid's trigger places it
            return sellable_quantity(config, state) > 0 and not (one_side and resting_buys(cycle))
        return take_profit_out_of_date(config, state, order)
    return False
