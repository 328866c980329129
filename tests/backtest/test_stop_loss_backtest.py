"""The stop loss in the backtester, on the real BTC minutes of 4-6 August 2024 (tests/data/README.md):
through the crash of 5 August the stop loss sells cycles at a loss and ends them `stopped`, the next
cycle waits out the full cooldown, and the fast path (which skips bars through `dca.strategy.triggers`)
gives exactly the reference loop's result."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sim.assets import make_asset
from app.backtest.metrics import summarize
from app.backtest.runner import run
from app.bars_csv import load_series
from dca.cycle import CycleStatus, OrderKind
from tests.backtest.helpers import random_bars, series_of, setup
from tests.backtest.test_fast_path import assert_same_run

REAL_DAYS = Path(__file__).resolve().parents[1] / "data" / "btc_usdt_1m_2024-08-04_to_06.csv.gz"
CRASH_PARAMS = {"base_order_amount": "50", "safety_order_amount": "50", "max_safety_orders": 3,
                "safety_order_deviation": "1", "take_profit_percent": "1.5", "cooldown_period": 600}


@pytest.mark.parametrize("timeout", [0, 300])
def test_the_stop_loss_fires_in_the_crash_of_5_august_2024_and_the_fast_path_agrees(timeout):
    series = load_series(REAL_DAYS, "BTC/USD")
    run_setup = setup(spec=make_asset("BTC/USD"), stop_loss_percent="3", stop_loss_timeout=timeout, **CRASH_PARAMS)
    fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
    assert_same_run(fast, reference)
    log = reference.session.log
    stopped = [c for c in log.cycles if c.status is CycleStatus.STOPPED]
    assert stopped, "the crash should set off the stop loss"
    assert all(c.realized_pnl < 0 for c in stopped)
    sales = [o for o in log.orders if o.kind is OrderKind.STOP_LOSS]
    assert len(sales) >= len(stopped)
    assert not fast.fast  # the fast path's skips are not proven with a stop loss: it replays every bar


def test_the_timeout_holds_the_sale_back_until_the_bid_has_stayed_below_the_level():
    series = load_series(REAL_DAYS, "BTC/USD")
    at_once = run(setup(spec=make_asset("BTC/USD"), stop_loss_percent="3", **CRASH_PARAMS), series)
    waiting = run(setup(spec=make_asset("BTC/USD"), stop_loss_percent="3", stop_loss_timeout=300, **CRASH_PARAMS),
                  series)
    first = {name: next(o for o in outcome.session.log.orders if o.kind is OrderKind.STOP_LOSS)
             for name, outcome in (("at once", at_once), ("waiting", waiting))}
    assert first["waiting"].decided_at > first["at once"].decided_at


def test_cycles_the_stop_loss_sold_count_as_completed_losing_cycles_in_the_summary():
    series = load_series(REAL_DAYS, "BTC/USD")
    outcome = run(setup(spec=make_asset("BTC/USD"), stop_loss_percent="3", **CRASH_PARAMS), series)
    log, summary = outcome.session.log, summarize(outcome)
    ended = [c for c in log.cycles if c.status in (CycleStatus.COMPLETE, CycleStatus.STOPPED)]
    assert any(c.status is CycleStatus.STOPPED for c in ended)
    assert summary.cycles_completed == len(ended)
    assert summary.losing_cycles == sum(1 for c in ended if c.realized_pnl <= 0) > 0
    assert summary.win_rate < 1


def test_without_a_stop_loss_the_same_crash_ends_no_cycle_stopped():
    series = load_series(REAL_DAYS, "BTC/USD")
    outcome = run(setup(spec=make_asset("BTC/USD"), **CRASH_PARAMS), series, fast=True)
    assert not [c for c in outcome.session.log.cycles if c.status is CycleStatus.STOPPED]
    assert Decimal(0) <= min((c.realized_pnl for c in outcome.session.log.cycles), default=Decimal(0))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), percent=st.sampled_from(["0.5", "1.5", "4"]),
       timeout=st.sampled_from([0, 45, 600]), trailing=st.booleans(), max_safety=st.integers(0, 4))
def test_the_fast_path_matches_the_reference_with_a_stop_loss_for_any_parameters(seed, percent, timeout, trailing,
                                                                                 max_safety):
    run_setup = setup(stop_loss_percent=percent, stop_loss_timeout=timeout, ttp_enabled=trailing,
                      ttp_deviation_percent="0.3", max_safety_orders=max_safety, take_profit_percent="1")
    series = series_of(random_bars(seed, 1200, volatility=0.003, heavy_tails=seed % 2 == 0))
    assert_same_run(run(run_setup, series, fast=True), run(run_setup, series, fast=False))
