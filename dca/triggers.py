"""Where a quote can change a cycle: `Triggers`, built from the trigger prices of `dca.levels`.

`decide` (dca/strategy.py) acts on a quote at these prices; `triggers(config, state)` turns them
into the bounds a driver may use to skip quotes without deciding: the quote board settles a quote
outside them on arrival, the backtester's fast path jumps over bars outside them. Both read the
same functions below, so the bounds and the decisions cannot drift apart; the property test in
tests/core/test_triggers.py checks that no quote `decide` acts on falls outside them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dca.cycle import AssetState, CycleStatus
from dca.immutable import immutable
from dca.levels import restart_trigger, safety_trigger, stop_loss_level, take_profit_trigger, trailing_stop
from dca.market import Quote
from dca.params import AssetConfig
from dca.resting import one_side_only, resting_sell, upkeep_due, uses_limit_take_profit

# --- bounds for drivers --------------------------------------------------------------------------


@immutable
class Triggers:
    """Where `decide` may act on the next quote. A quote with ask above `ask_at_or_below`, bid below
    `bid_at_or_above` and above `bid_at_or_below`, at a time before `at_time`, leaves the state
    unchanged, so a driver may skip it (the backtester's fast path). `always` means every quote may
    matter (an order is live, a base order is due, or the cycle is waiting out a failure)."""

    always: bool = False
    ask_at_or_below: Decimal | None = None
    bid_at_or_above: Decimal | None = None
    bid_at_or_below: Decimal | None = None
    at_time: datetime | None = None

    def may_act_on(self, quote: Quote) -> bool:
        """False when `decide` certainly changes nothing on this quote (so a driver may skip it)."""
        return (
            self.always
            or (self.ask_at_or_below is not None and quote.ask <= self.ask_at_or_below)
            or (self.bid_at_or_above is not None and quote.bid >= self.bid_at_or_above)
            or (self.bid_at_or_below is not None and quote.bid <= self.bid_at_or_below)
            or (self.at_time is not None and quote.time >= self.at_time)
        )


ALWAYS = Triggers(always=True)


def triggers(config: AssetConfig, state: AssetState) -> Triggers:
    """The bounds outside which `decide` changes nothing on the next quote (see `Triggers`)."""
    cycle = state.cycle
    if cycle.order is not None:
        return ALWAYS
    if upkeep_due(config, state):  # a resting order to place, replace or cancel, or a sale waiting for cancels
        return ALWAYS
    if cycle.close_requested_at is not None or cycle.stop_loss_since is not None:  # each quote may sell or reset
        return ALWAYS
    if cycle.status is CycleStatus.TRAILING and cycle.peak_price is None:  # any bid becomes the peak
        return ALWAYS
    # in the order `decide` looks (dca.strategy._on_quote): the cooldown before a retry wait
    if cycle.status is CycleStatus.COOLDOWN:
        if cycle.cooldown_until is None:  # a cooldown without an end is over at the next quote
            return ALWAYS
        return Triggers(ask_at_or_below=restart_trigger(config, state), at_time=cycle.cooldown_until)
    if cycle.retry_at is not None:  # the peak still moves while waiting (whatever ttp_enabled says now)
        following = cycle.status is CycleStatus.TRAILING
        return Triggers(bid_at_or_above=cycle.peak_price if following else None, at_time=cycle.retry_at)
    if cycle.is_flat:
        return ALWAYS
    safety = safety_trigger(config, cycle)
    stop_loss = stop_loss_level(config, cycle)
    if cycle.status is CycleStatus.TRAILING and config.params.ttp_enabled:
        stop = trailing_stop(config, cycle)
        if stop is not None and stop <= take_profit_trigger(config, cycle):
            stop = None  # a pull-back sells only between the floor and the stop: here no bid can do both
        # a trailing stop lies above the take-profit floor, so above the stop-loss level: it covers both
        return Triggers(ask_at_or_below=safety, bid_at_or_above=cycle.peak_price,
                        bid_at_or_below=stop if stop is not None else stop_loss)
    # a limit take-profit rests on the book: its fills come as order events, not from quotes; but
    # while the ladder rests alone (one side at a time), the bid's trigger swaps it for the take-profit
    swaps_on_bid = one_side_only(config, state) and resting_sell(cycle) is None
    take_profit = None if uses_limit_take_profit(config) and not swaps_on_bid else take_profit_trigger(config, cycle)
    return Triggers(ask_at_or_below=safety, bid_at_or_above=take_profit, bid_at_or_below=stop_loss)
