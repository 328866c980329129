"""Settings to domain values: the exchange's fees and order timing (what the live bot and a backtest
tell `decide`), the caretakers' intervals, the risk limits and the trading rules. Light on purpose (no
vendors, and `actors.runtime` imported only where its value types are built): `backtest` imports it without
opening a database or loading the actor system."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from dca.params import FeeSchedule, OrderTiming
from dca.risk import RiskLimits

if TYPE_CHECKING:
    from actors.runtime import Intervals, TradingRules
    from app.backtest.inputs import Terms
    from config.settings import Settings


def fee_schedule(settings: Settings) -> FeeSchedule:
    return FeeSchedule(settings.fee_maker_bps, settings.fee_taker_bps)


def order_timing(settings: Settings) -> OrderTiming:
    return OrderTiming(retry_after_failure=timedelta(seconds=settings.order_cooldown_seconds),
                       stale_buy_after=timedelta(minutes=float(settings.stale_order_threshold_minutes)),
                       stuck_sell_after=timedelta(seconds=settings.stuck_market_sell_timeout_seconds))


def backtest_terms(settings: Settings) -> Terms:
    """The minimum notional, fees and order timing a backtest trades under: the live bot's."""
    from app.backtest.inputs import Terms

    return Terms(settings.min_order_notional, fee_schedule(settings), order_timing(settings))


def intervals_from(settings: Settings) -> Intervals:
    from actors.runtime import Intervals

    return Intervals(
        order_janitor=settings.order_janitor_interval_seconds,
        cooldown_keeper=settings.cooldown_keeper_interval_seconds,
        reconciler=settings.reconciler_interval_seconds,
        asset_watcher=settings.asset_watcher_interval_seconds,
        order_history_sync=settings.order_history_sync_interval_seconds,
        bars_sync=settings.bars_sync_interval_seconds or 10**9,
        risk_keeper=float(settings.risk_check_interval_seconds),
    )


def risk_limits(settings: Settings) -> RiskLimits:
    return RiskLimits(capital_budget=settings.capital_budget, asset_capital_cap=settings.asset_capital_cap,
                      max_open_cycles=settings.max_open_cycles, daily_loss_limit=settings.daily_loss_limit,
                      failure_threshold=settings.circuit_breaker_failures,
                      breaker_cooldown=timedelta(seconds=settings.circuit_breaker_cooldown_seconds))


def trading_rules(settings: Settings, namespace: str) -> TradingRules:
    from actors.runtime import TradingRules

    return TradingRules(namespace, fee_schedule(settings), order_timing(settings), settings.min_order_notional,
                        settings.buy_margin_percent, settings.rules_refresh_seconds)
