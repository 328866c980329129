"""The trigger prices: the one definition of the prices at which a quote changes a cycle.

`dca.triggers` turns them into the bounds a driver may skip quotes outside of, `dca.strategy` acts
at them, `dca.resting` places its limit take-profit at one, and the reports show them.
"""

from __future__ import annotations

from decimal import Decimal

from dca.cycle import AssetState, Cycle
from dca.money import percent_above, percent_below
from dca.params import AssetConfig


def safety_trigger(config: AssetConfig, cycle: Cycle) -> Decimal | None:
    """The ask at or below which the next safety order is placed (None when none is left)."""
    if cycle.last_fill_price is None or cycle.safety_orders >= config.params.max_safety_orders:
        return None
    return percent_below(cycle.last_fill_price, config.params.safety_deviation(cycle.safety_orders))


def take_profit_trigger(config: AssetConfig, cycle: Cycle) -> Decimal:
    """The bid at which the cycle takes profit (the floor of a trailing take-profit); reports use it."""
    return percent_above(cycle.average_price, config.params.take_profit_percent)


def trailing_stop(config: AssetConfig, cycle: Cycle) -> Decimal | None:
    """The bid below which a trailing cycle sells (if that is still above the take-profit floor)."""
    deviation = config.params.ttp_deviation_percent
    if cycle.peak_price is None or deviation is None:
        return None
    return percent_below(cycle.peak_price, deviation)


def stop_loss_level(config: AssetConfig, cycle: Cycle) -> Decimal | None:
    """The bid at or below which the stop loss counts (None when it is off or the cycle holds nothing);
    reports show it."""
    percent = config.params.stop_loss_percent
    if percent is None or cycle.is_flat:
        return None
    return percent_below(cycle.average_price, percent)


def restart_trigger(config: AssetConfig, state: AssetState) -> Decimal | None:
    """The ask at or below which a cooldown ends early (the price-triggered restart)."""
    if state.last_sell_price is None:
        return None
    return percent_below(state.last_sell_price, config.params.buy_order_price_deviation_percent)
