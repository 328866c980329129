"""The fast path is the reference loop with the quiet bars left out: same orders, fills, cycles,
account timeline, equity curve and final state, on synthetic markets of many shapes, on a
real-shaped bar file written by the test, and on three real days of BTC minutes committed with the
tests (tests/data/README.md; never the benchmark data in ../shared)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sim.assets import make_asset
from app.backtest.compare import differences
from app.backtest.fast import QuoteBounds
from app.backtest.metrics import curves, summarize
from app.backtest.runner import run
from app.backtest.series import BarSeries
from app.bars_csv import load_series, read_bar_rows
from dca.market import Bar, bar_quote_path
from dca.strategy import Triggers
from tests.backtest.helpers import T0, random_bars, series_of, setup, write_csv

PARAMETER_SETS = {
    "plain take-profit": {},
    "trailing": {"ttp_enabled": True, "ttp_deviation_percent": "0.3", "take_profit_percent": "0.8"},
    "martingale, long cooldown, price restart": {
        "max_safety_orders": 8, "safety_order_step_scale": "1.3", "safety_order_volume_scale": "1.5",
        "cooldown_period": 900, "buy_order_price_deviation_percent": "0.3", "safety_order_deviation": "0.5"},
    "no cooldown": {"cooldown_period": 0, "take_profit_percent": "0.5"},
    "short of cash": {"safety_order_amount": "400", "max_safety_orders": 6},  # rejections and retry waits
}


def assert_same_run(one, other):
    assert differences(one, other) == []
    assert np.array_equal(curves(one).equity, curves(other).equity)
    strip = {"seconds": 0.0, "bars_replayed": 0}
    assert replace(summarize(one), **strip) == replace(summarize(other), **strip)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_the_fast_path_gives_the_reference_result(seed, name):
    params = PARAMETER_SETS[name]
    cash = "1500" if name == "short of cash" else "100000"
    run_setup = setup(cash=cash, **params)
    series = series_of(random_bars(seed, 3000, volatility=0.0012 if seed % 2 else 0.003, heavy_tails=seed > 2))
    fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
    assert_same_run(fast, reference)
    assert reference.session.log.cycles, "the market should complete cycles, or the comparison proves little"
    assert fast.replayed < reference.replayed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), bars=st.integers(200, 1500),
       volatility=st.sampled_from([0.0005, 0.0015, 0.004]),
       take_profit=st.sampled_from(["0.3", "1", "2.5"]), deviation=st.sampled_from(["0.3", "0.8", "2"]),
       trailing=st.sampled_from([None, "0.1", "0.5", "1.5"]), cooldown=st.sampled_from([0, 45, 120, 3600]),
       max_safety=st.integers(0, 6), restart=st.sampled_from(["0.2", "1"]),
       spread=st.sampled_from(["0", "5", "40"]))
def test_the_fast_path_matches_the_reference_for_any_parameters(seed, bars, volatility, take_profit, deviation,
                                                                trailing, cooldown, max_safety, restart, spread):
    params = {"take_profit_percent": take_profit, "safety_order_deviation": deviation,
              "ttp_enabled": trailing is not None, "ttp_deviation_percent": trailing or "1",
              "cooldown_period": cooldown, "max_safety_orders": max_safety,
              "buy_order_price_deviation_percent": restart}
    run_setup = setup(spread_bps=spread, **params)
    series = series_of(random_bars(seed, bars, volatility=volatility, heavy_tails=seed % 3 == 0))
    assert_same_run(run(run_setup, series, fast=True), run(run_setup, series, fast=False))


def test_a_real_shaped_bar_file_gives_the_same_result_both_ways(tmp_path):
    """BTC-like minutes (price ~60k on a cent grid, heavy tails, volatility clusters, gaps between
    bars) written as a gzipped file, read by the fast file reader, traded with the real BTC/USD rules
    of the simulator's catalog (whole-dollar price increment) and the default parameters."""
    bars = random_bars(11, 20_000, price=60_000.0, volatility=0.0009, heavy_tails=True)
    path = write_csv(tmp_path / "btc.csv.gz", bars, gzip_it=True)
    series = load_series(path, "BTC/USD")
    exact = [row.bar for row in read_bar_rows(path, "BTC/USD")]
    assert [series.prices(i) for i in range(len(series))] == [(b.open, b.high, b.low, b.close) for b in exact]
    btc = make_asset("BTC/USD")
    for params in ({}, {"ttp_enabled": False, "take_profit_percent": "0.7", "safety_order_deviation": "0.4"}):
        defaults = {"base_order_amount": "10", "safety_order_amount": "20", "max_safety_orders": 15,
                    "safety_order_deviation": "0.9", "take_profit_percent": "2", "ttp_enabled": True,
                    "cooldown_period": 120}
        run_setup = setup(spec=btc, **{**defaults, **params})
        fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
        assert_same_run(fast, reference)
        assert reference.session.log.cycles and fast.replayed < len(series) // 5


REAL_DAYS = Path(__file__).resolve().parents[1] / "data" / "btc_usdt_1m_2024-08-04_to_06.csv.gz"


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_real_minutes_through_the_crash_of_5_august_2024_give_the_same_result_both_ways(name):
    series = load_series(REAL_DAYS, "BTC/USD")
    assert len(series) == 3 * 1440
    params = PARAMETER_SETS[name]
    run_setup = setup(spec=make_asset("BTC/USD"), cash="1500" if name == "short of cash" else "100000", **params)
    fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
    assert_same_run(fast, reference)
    assert len(reference.session.log.fills) >= 3  # base and safety orders bought into the fall
    assert fast.replayed < reference.replayed


# --- the skip test itself ---------------------------------------------------------------------------

prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(200_000), places=4)


@settings(max_examples=400, deadline=None)
@given(o=prices, h=prices, low=prices, c=prices, spread=st.sampled_from(["0", "1", "6", "37.5", "300"]),
       increment=st.sampled_from(["1", "0.01", "0.0001", "0.000000001"]))
def test_a_bar_holding_a_quote_that_meets_a_trigger_is_never_skipped(o, h, low, c, spread, increment):
    """Even for a bar whose open/close lie outside its own high/low (bad data), and at the exact level."""
    bar = Bar("X/USD", T0, o, h, low, c)
    quotes = bar_quote_path(bar, Decimal(spread), Decimal(increment))
    bounds = QuoteBounds.of(BarSeries.from_bars("X/USD", [bar]), Decimal(spread), Decimal(increment))
    lowest_ask = min(q.ask for q in quotes)
    highest_bid, lowest_bid = max(q.bid for q in quotes), min(q.bid for q in quotes)
    assert bounds.next_candidate(0, Triggers(ask_at_or_below=lowest_ask)) == 0
    assert bounds.next_candidate(0, Triggers(bid_at_or_above=highest_bid)) == 0
    assert bounds.next_candidate(0, Triggers(bid_at_or_below=lowest_bid)) == 0


def test_bars_that_cannot_reach_any_level_or_time_are_skipped():
    bars = [Bar("X/USD", T0.replace(minute=i), Decimal(100), Decimal(101), Decimal(99), Decimal(100))
            for i in range(50)]
    bars[30] = replace(bars[30], low=Decimal(90))
    bounds = QuoteBounds.of(BarSeries.from_bars("X/USD", bars), Decimal(10), Decimal("0.01"))
    assert bounds.next_candidate(0, Triggers(ask_at_or_below=Decimal(95))) == 30
    assert bounds.next_candidate(31, Triggers(ask_at_or_below=Decimal(95))) == 50
    assert bounds.next_candidate(0, Triggers(bid_at_or_above=Decimal(110), at_time=T0.replace(minute=12))) == 12
    assert bounds.next_candidate(0, Triggers(at_time=T0.replace(minute=12, second=46))) == 13  # last quote is +45 s
