"""The report a DCA user reads first: buy-and-hold beside the strategy, drawdowns with dates (of
the account and of the capital deployed), the open cycle, cycle extremes, months, fees by maker/
taker and side, take-profit fills against their trigger, the equity curve."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from app.backtest.insights import drawdown, insights
from app.backtest.metrics import curves, summarize
from app.backtest.runner import run
from app.backtest.series import BarSeries
from dca.cycle import OrderKind
from tests.backtest.helpers import T0, random_bars, series_of, setup, write_csv
from tests.cli.helpers import supervisor


def crash_series(n: int = 6000) -> BarSeries:
    """Flat, then a fall to half the price, then a partial recovery (minutes, cent grid)."""
    third = n // 3
    level = np.concatenate([np.full(third, 100.0), np.linspace(100, 50, third), np.linspace(50, 80, n - 2 * third)])
    wiggle = 1 + 0.002 * np.sin(np.arange(n) / 7)
    close = np.round(level * wiggle, 2)
    opens = np.concatenate(([close[0]], close[:-1]))
    ohlc = np.column_stack([opens, np.maximum(opens, close) + 0.01, np.minimum(opens, close) - 0.01, close])
    return BarSeries("BTC/USD", (T0.timestamp() + 60 * np.arange(n)).astype(np.int64), np.round(ohlc, 2))


def test_a_crash_is_a_small_drawdown_of_the_account_but_a_large_one_of_the_capital_deployed():
    outcome = run(setup(cash="10000", max_safety_orders=3), crash_series())
    curve = curves(outcome)
    found = insights(outcome, curve, summarize(outcome, curve))
    account, deployed = found["account_drawdown"], found["strategy_drawdown"]
    assert account.fraction < 0.02  # ≤ $80 deployed of $10,000
    assert deployed.fraction > 0.3  # the cycle's coin lost a third or more of what it cost
    assert account.value == pytest.approx(deployed.value)  # the same dollars, on different bases
    assert account.peak_at < account.trough_at and account.recovered_at is None
    assert account.duration == outcome.series.time(len(outcome.series) - 1) - account.peak_at
    hold = found["buy_and_hold"]
    assert hold["return"] == pytest.approx(float(outcome.series.close[-1] / outcome.series.ohlc[0, 0] - 1))
    assert hold["max_drawdown"].fraction == pytest.approx(0.5, abs=0.01)
    still = found["open_cycle"]
    assert still["safety_orders"] == 3 and still["unrealized_pnl"] < 0 and still["status"] == "watching"


def test_drawdown_dates_and_recovery_of_a_simple_curve():
    times = np.arange(6, dtype=np.int64) * 86_400
    found = drawdown(times, np.array([100.0, 120, 90, 60, 130, 125]))
    assert found.fraction == pytest.approx(0.5) and found.value == 60
    assert (found.peak_at.day, found.trough_at.day, found.recovered_at.day) == (2, 4, 5)
    assert found.duration == timedelta(days=3)


def test_fees_split_by_maker_taker_and_side_add_up_and_take_profits_are_measured_against_their_trigger():
    outcome = run(setup(take_profit_percent="0.6"), series_of(random_bars(5, 4000)))
    curve = curves(outcome)
    summary = summarize(outcome, curve)
    found = insights(outcome, curve, summary)
    split = found["fees_split"]
    assert sum(split.values()) == summary.fees and split["taker_sell"] > 0 and split["maker_buy"] > 0
    assert split["maker_sell"] == 0  # the take-profit is a market sell: always a taker
    sells = [o for o in outcome.session.log.orders if o.kind is OrderKind.TAKE_PROFIT and o.filled_qty > 0]
    slip = found["take_profit_slippage"]
    assert slip["sells"] == len(sells) > 0
    assert slip["worst"] == max(float((o.trigger - o.average_price) / o.trigger) for o in sells)
    months = found["monthly"]
    assert sum(m["cycles_completed"] for m in months) == summary.cycles_completed
    assert sum((m["realized_pnl"] for m in months), Decimal(0)) == summary.realized_pnl
    assert months[-1]["end_equity"] == pytest.approx(float(summary.final_equity))


def test_the_files_carry_the_open_cycle_the_liquidity_and_the_equity_curve(tmp_path):
    bars = random_bars(3, 3 * 1440, price=60_000.0, volatility=0.001)
    bar_file = write_csv(tmp_path / "btc.csv", bars)
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "o",
                      "--no-chart", "--params", "take_profit_percent=0.5", "ttp_enabled=false")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "o"
    btc = json.loads((out / "result.json").read_text())["per_symbol"]["BTC/USD"]
    for key in ("buy_and_hold", "account_drawdown", "strategy_drawdown", "open_cycle", "safety_orders_total",
                "worst_cycle", "longest_cycle", "monthly", "fees_split", "take_profit_slippage"):
        assert key in btc
    assert isinstance(btc["buy_and_hold"]["pnl"], str) and btc["account_drawdown"]["peak_at"].endswith("Z")
    with (out / "cycles.csv").open() as handle:
        cycles = list(csv.DictReader(handle))
    assert len(cycles) == btc["cycles_completed"] + (btc["open_cycle"] is not None)
    assert all(float(c["take_profit_trigger"]) > 0 for c in cycles if c["status"] == "complete")
    if btc["open_cycle"] is not None:
        assert cycles[-1]["status"].startswith("open (") and cycles[-1]["unrealized_pnl"]
    with (out / "fills.csv").open() as handle:
        assert {row["liquidity"] for row in csv.DictReader(handle)} <= {"maker", "taker"}
    with (out / "equity.csv").open() as handle:
        equity = list(csv.DictReader(handle))
    assert len(equity) == 3 * 24 and equity[-1]["time"] == "2025-03-03T23:59:00Z"
    assert "against buy-and-hold" in done.stdout and "equity at end" in done.stdout
