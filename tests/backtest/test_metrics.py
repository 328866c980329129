"""Report figures: drawdown from the per-bar equity curve, Sharpe/Sortino on daily returns (24/7,
√365), P/L and capital from the account that actually traded."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.backtest.metrics import (
    curves,
    daily_returns,
    max_drawdown,
    piecewise_drawdown,
    portfolio,
    sharpe,
    sortino,
    summarize,
)
from app.backtest.runner import run
from dca.market import Bar
from tests.backtest.helpers import SYMBOL, T0, random_bars, series_of, setup

DAY = 86_400


def test_max_drawdown_is_the_largest_fall_from_a_running_peak():
    share, value = max_drawdown(np.array([100.0, 110, 99, 120, 90, 130]))
    assert value == 30 and share == pytest.approx(0.25)
    assert max_drawdown(np.array([1.0, 2, 3])) == (0.0, 0.0)


def test_daily_returns_use_each_utc_days_last_bar_and_start_from_the_starting_cash():
    times = np.array([0, 60, DAY - 60, DAY, 2 * DAY + 30])
    equity = np.array([100.0, 101, 102, 99, 104.94])
    returns = daily_returns(times, equity, 100.0)
    assert returns == pytest.approx([0.02, 99 / 102 - 1, 104.94 / 99 - 1])


def test_sharpe_and_sortino_are_annualised_for_a_market_that_never_closes():
    r = np.array([0.01, -0.01, 0.02])
    mean = r.mean()
    assert sharpe(r) == pytest.approx(mean / r.std(ddof=1) * math.sqrt(365))
    assert sortino(r) == pytest.approx(mean / math.sqrt(0.0001 / 3) * math.sqrt(365))
    assert sharpe(np.array([0.01])) is None and sharpe(np.array([0.01, 0.01])) is None
    assert sortino(np.array([0.01, 0.02])) is None  # no downside at all


def _one_cycle_bars() -> list[Bar]:
    """Flat at 100, a dip to 98.9 (safety order), a rise to 101 (take-profit), flat again."""
    path = [100] * 5 + [98.9] * 5 + [101] * 5 + [100.5] * 5
    return [Bar(SYMBOL, T0 + timedelta(minutes=i), Decimal(str(p)), Decimal(str(p)), Decimal(str(p)),
                Decimal(str(p))) for i, p in enumerate(path)]


def test_the_summary_comes_from_the_records_of_the_run():
    outcome = run(setup(cooldown_period=86_400), series_of(_one_cycle_bars()))
    summary = summarize(outcome)
    (cycle,) = outcome.session.log.cycles
    assert summary.cycles_completed == 1 and summary.realized_pnl == cycle.realized_pnl > 0
    assert summary.unrealized_pnl == 0 and summary.open_cycle_quantity == 0
    assert summary.fees == sum(f.fee_value for f in outcome.session.log.fills)
    assert summary.final_equity == summary.starting_cash + summary.realized_pnl
    assert summary.max_committed == max(p.committed for p in outcome.session.log.timeline)
    assert summary.return_on_capital == summary.total_pnl / summary.max_committed
    assert summary.max_safety_orders_used == 1
    assert summary.time_in_market == pytest.approx(10 / 20)  # bought in bar 0, sold at +15 s of bar 10


def test_equity_follows_cash_and_coin_at_each_bars_close():
    outcome = run(setup(), series_of(random_bars(5, 400)))
    curve = curves(outcome)
    last = outcome.session.log.timeline[-1]
    assert curve.equity[-1] == pytest.approx(float(last.cash) + float(last.position) * outcome.series.close[-1])
    assert curve.equity[0] <= float(outcome.session.start.cash)  # the first buy paid a fee


def test_several_accounts_add_up_on_the_union_of_their_bar_times():
    one = run(setup(), series_of(random_bars(1, 100)))
    other = run(setup(), series_of(random_bars(2, 100, start=T0 + timedelta(minutes=50))))
    book = portfolio([one, other], [curves(one), curves(other)])
    assert len(book.times) == 150 and book.starting_cash == 200_000
    assert book.equity[0] == pytest.approx(curves(one).equity[0] + 100_000)  # the second has not started yet
    assert book.equity[-1] == pytest.approx(curves(one).equity[-1] + curves(other).equity[-1])


def test_win_rate_counts_completed_cycles_that_made_money():
    """Reference §8 scenario 49: +100, +75, −10 → 2 wins, 1 loss, 66.67 %; no cycles → 0."""
    from dataclasses import replace

    outcome = run(setup(cooldown_period=86_400), series_of(_one_cycle_bars()))
    (cycle,) = outcome.session.log.cycles
    outcome.session.log.cycles[:] = [replace(cycle, realized_pnl=Decimal(p)) for p in ("100", "75", "-10")]
    summary = summarize(outcome)
    assert (summary.winning_cycles, summary.losing_cycles) == (2, 1)
    assert round(summary.win_rate * 100, 2) == 66.67
    empty = summarize(run(setup(), series_of(_one_cycle_bars()[:2])))
    assert (empty.winning_cycles, empty.losing_cycles, empty.win_rate) == (0, 0, 0.0)


def test_a_cycle_still_open_at_the_end_reports_its_safety_orders_apart_from_the_completed_ones():
    bars = _one_cycle_bars()[:10]  # the dip buys a safety order; the take-profit never comes
    summary = summarize(run(setup(cooldown_period=86_400), series_of(bars)))
    assert summary.cycles_completed == 0 and summary.max_safety_orders_used == 0
    assert summary.open_cycle_safety_orders == 1 and summary.open_cycle_quantity > 0


def test_one_account_is_its_own_portfolio_exactly_as_the_general_sum_would_give():
    outcome = run(setup(), series_of(random_bars(9, 1500)))
    curve = curves(outcome)
    shortcut = portfolio([outcome], [curve])
    times = outcome.series.times
    which = np.searchsorted(times, times, "right") - 1
    general = np.zeros(len(times)) + np.where(which >= 0, curve.equity[np.maximum(which, 0)], 0.0)
    assert np.array_equal(shortcut.times, times) and np.array_equal(shortcut.equity, general)
    assert shortcut.starting_cash == float(outcome.session.start.cash)


def _piecewise_account(seed: int, bars: int, records: int, price_levels: int) -> tuple[np.ndarray, ...]:
    """Records in force from sorted bars (some for no bar at all), coin or none, and closes that are
    a random walk, waves (falls of about the same depth in many pieces, each piece's bound loose in
    its own way) or, with few price levels, full of ties (equal falls in many pieces)."""
    rng = np.random.default_rng(seed)
    first_bars = np.concatenate(([0], np.sort(rng.integers(0, bars + 1, records - 1))))
    cash = rng.uniform(0, 2_000, records).round(2)
    position = np.where(rng.random(records) < 0.3, 0.0, rng.uniform(0, 20, records).round(6))
    if price_levels:
        close = rng.integers(1, price_levels + 1, bars).astype(np.float64) * 10
    elif seed % 2:
        waves = np.sin(np.arange(bars) * rng.uniform(0.05, 2) + rng.uniform(0, 6))
        close = 100 * (1 + 0.1 * waves) + rng.normal(0, 0.3, bars)
    else:
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    return first_bars, cash, position, close


def _per_bar_equity(first_bars: np.ndarray, cash: np.ndarray, position: np.ndarray, close: np.ndarray) -> np.ndarray:
    """The curve as `Curves.equity` builds it: record values repeated over their bars."""
    counts = np.diff(np.append(first_bars, len(close)))
    return np.repeat(cash, counts) + np.repeat(position, counts) * close


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), bars=st.integers(1, 700), records=st.integers(1, 40),
       price_levels=st.sampled_from([0, 0, 2, 5]), piece_bars=st.sampled_from([1, 3, 16, 512]))
def test_the_piecewise_drawdown_is_the_per_bar_one_bit_for_bit(seed, bars, records, price_levels, piece_bars):
    first_bars, cash, position, close = _piecewise_account(seed, bars, records, price_levels)
    equity = _per_bar_equity(first_bars, cash, position, close)
    figures = piecewise_drawdown(first_bars, cash, position, close, piece_bars)
    if equity[0] > 0:
        assert figures == max_drawdown(equity)
    else:
        assert figures is None  # the per-bar curve decides what a start at or below zero means


def test_the_piecewise_drawdown_evaluates_a_piece_whose_share_bound_is_below_the_first_pieces():
    """Pieces of 4 bars: the deepest share (30 % from 100) comes before the largest fall (290 from 1000,
    29 %), whose piece has by far the highest bounds and is evaluated first: the earlier piece must
    still be, for its share bound (30 %, exact) is above the 29 % found."""
    close = np.array([100.0, 100, 100, 100, 90, 80, 70, 75, 100, 1000, 800, 710, 1000, 1000, 1000, 1000])
    figures = piecewise_drawdown(np.array([0]), np.array([0.0]), np.array([1.0]), close, piece_bars=4)
    assert figures == max_drawdown(close) == (0.3, 290.0)


def test_the_piecewise_drawdown_leaves_what_it_does_not_model_to_the_per_bar_curve():
    first_bars, close = np.array([0, 2]), np.array([10.0, 11, 9, 12])
    assert piecewise_drawdown(first_bars, np.array([5.0, 5]), np.array([1.0, -1]), close) is None  # short coin
    assert piecewise_drawdown(first_bars, np.array([5.0, np.nan]), np.array([1.0, 1]), close) is None
    assert piecewise_drawdown(first_bars, np.array([5.0, 5]), np.array([1.0, 1]), np.array([10, np.inf, 9, 1])) is None
    assert piecewise_drawdown(first_bars, np.array([0.0, 5]), np.array([0.0, 1]), close) is None  # nothing at first
    assert piecewise_drawdown(np.array([0]), np.array([1.0]), np.array([1.0]), np.empty(0)) is None


@pytest.mark.parametrize("seed", [3, 9, 21])
def test_a_runs_figures_without_the_per_bar_curve_are_those_of_the_curve(seed):
    outcome = run(setup(), series_of(random_bars(seed, 3000, volatility=0.003)))
    quick, full = curves(outcome), curves(outcome)
    start = float(outcome.session.start.cash)
    assert quick.max_drawdown() == max_drawdown(full.equity) and quick.max_drawdown()[0] > 0
    assert np.array_equal(quick.daily_returns(outcome.series.times, start),
                          daily_returns(outcome.series.times, full.equity, start))
    bars = np.arange(len(outcome.series))
    assert np.array_equal(quick.equity_at(bars), full.equity)
    assert "equity" not in vars(quick)  # none of it built the per-bar curve
