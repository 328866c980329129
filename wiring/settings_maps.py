"""The exchange's fees and the order timing from the settings: what the live bot and a backtest
tell `decide`. Light on purpose (no actors, no vendors): the backtester imports it too."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from dca.params import FeeSchedule, OrderTiming

if TYPE_CHECKING:
    from config.settings import Settings


def fee_schedule(settings: Settings) -> FeeSchedule:
    return FeeSchedule(settings.fee_maker_bps, settings.fee_taker_bps)


def order_timing(settings: Settings) -> OrderTiming:
    return OrderTiming(retry_after_failure=timedelta(seconds=settings.order_cooldown_seconds),
                       stale_buy_after=timedelta(minutes=float(settings.stale_order_threshold_minutes)),
                       stuck_sell_after=timedelta(seconds=settings.stuck_market_sell_timeout_seconds))
