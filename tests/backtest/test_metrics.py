"""Report figures: drawdown from the per-bar equity curve, Sharpe/Sortino on daily returns (24/7,
√365), P/L and capital from the account that actually traded."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from app.backtest.metrics import curves, daily_returns, max_drawdown, portfolio, sharpe, sortino, summarize
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
