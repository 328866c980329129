"""`supervisor.py backtest` as a user runs it: files written, parameters from dca_assets and
--params, errors that name the option (exit 2), sweeps."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from app.backtest.inputs import setup_for
from app.backtest.metrics import summarize
from app.backtest.report import money
from app.backtest.runner import run
from app.backtest.sweep import run_point
from config.settings import load_settings
from dca.params import AssetParams
from tests.backtest.helpers import random_bars, series_of, setup, write_csv
from tests.cli.helpers import ROOT, supervisor
from wiring.settings_maps import backtest_terms

REQUIRED_KEYS = ("cycles_completed", "realized_pnl", "fees", "max_drawdown", "sharpe", "bars_processed")


@pytest.fixture
def bar_file(tmp_path):
    return write_csv(tmp_path / "btc.csv", random_bars(3, 3 * 1440, price=60_000.0, volatility=0.001))


def test_a_backtest_writes_its_result_chart_and_tables_and_verifies_the_fast_path(tmp_path, bar_file):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "out",
                      "--params", "take_profit_percent=0.5", "ttp_enabled=false", "--verify")
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert all(key in result for key in REQUIRED_KEYS)
    assert result["bars_processed"] == 3 * 1440 and result["cycles_completed"] > 0
    assert isinstance(result["realized_pnl"], str) and isinstance(result["fees"], str)  # money as decimal strings
    btc = result["per_symbol"]["BTC/USD"]
    assert btc["params"]["take_profit_percent"] == "0.5" and btc["params"]["ttp_enabled"] is False
    assert btc["exchange"]["min_notional"] == "10" and btc["exchange"]["price_increment"] == "1"
    assert len(btc["cycles"]) == result["cycles_completed"]
    assert (tmp_path / "out" / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (tmp_path / "out" / "cycles.csv").open() as handle:
        assert sum(row["status"] == "complete" for row in csv.DictReader(handle)) == result["cycles_completed"]
    assert "fast path and reference loop identical" in done.stdout
    assert "realized" in done.stdout and "completed cycles" in done.stdout


def test_parameters_come_from_the_configured_asset_and_then_the_overrides(tmp_path, bar_file):
    assert supervisor(tmp_path, "assets", "add", "BTC/USD", "--take-profit-percent", "0.7",
                      "--max-safety-orders", "4").returncode == 0
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "o",
                      "--no-chart", "--params", "max_safety_orders=2")
    assert done.returncode == 0, done.stderr
    params = json.loads((tmp_path / "o" / "result.json").read_text())["per_symbol"]["BTC/USD"]["params"]
    assert (params["take_profit_percent"], params["max_safety_orders"]) == ("0.7", 2)
    assert "parameters from dca_assets with max_safety_orders=2" in done.stdout


@pytest.mark.parametrize(("args", "named"), [
    (["--params", "take_profit_percent=0"], "take_profit_percent"),
    (["--params", "no_such_thing=1"], "no_such_thing"),
    (["--params", "take_profit_percent"], "--params"),
    (["--data", "db"], "--start"),
    (["--data", "db", "--start", "2024-13-01", "--end", "2024-12-31"], "--start"),
    (["--data", "db", "--start", "2024-02-01", "--end", "2024-01-01"], "--end"),
    (["--data", "parquet:x"], "--data"),
    (["--cash", "-5"], "--cash"),
    (["--sweep", "take_profit_percent=2:1:0.5"], "--sweep"),
    (["--sweep", "take_profit_percent=1:2:0"], "--sweep"),
    (["--sweep", "take_profit_percent=-1,1"], "take_profit_percent"),
    (["--sweep", "bogus=1,2"], "bogus"),
    (["--rank-by", "luck"], "--rank-by"),
])
def test_bad_input_exits_2_naming_the_option(tmp_path, bar_file, args, named):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert named in done.stderr


def test_bad_symbols_and_files_are_named(tmp_path, bar_file):
    bad = supervisor(tmp_path, "backtest", "--symbols", "BTC-USD", "--data", f"csv:{bar_file}")
    assert bad.returncode == 2 and "--symbols" in bad.stderr
    two = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD,ETH/USD", "--data", f"csv:{bar_file}")
    assert two.returncode == 2 and "{symbol}" in two.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("timestamp,open,high,low,close,volume\n2025-01-01T00:00:00Z,1,2,0.5,1.5,1\n"
                      "2025-01-01T00:01:00Z,1,abc,0.5,1.5,1\n")
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{broken}")
    assert done.returncode == 2 and "broken.csv:3: column high" in done.stderr


@pytest.mark.parametrize(("symbol", "hint"), [
    ("ETH/USDT", "--symbols ETH/USD"),  # the name of Binance's data: the account holds dollars
    ("FOO/USD", "not a pair the exchange lists"),
])
def test_a_pair_the_venue_cannot_trade_is_refused_before_anything_runs(tmp_path, bar_file, symbol, hint):
    done = supervisor(tmp_path, "backtest", "--symbols", f"BTC/USD,{symbol}", "--data", f"csv:{tmp_path}/{{base}}.csv",
                      "--out", "o")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert symbol in done.stderr and hint in done.stderr
    assert not (tmp_path / "o").exists()


def test_refused_orders_are_counted_shown_and_written(tmp_path, bar_file):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "o",
                      "--no-chart", "--cash", "5")
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "o" / "result.json").read_text())
    btc = result["per_symbol"]["BTC/USD"]
    assert result["orders_rejected"] == btc["orders_rejected"] > 0
    assert "insufficient balance" in btc["first_rejection"]["message"]
    assert f"the exchange refused {btc['orders_rejected']} orders" in done.stdout
    assert btc["bars_replayed"] < 3 * 1440 / 10  # backing off: not every bar replayed while refused


def test_no_stored_bars_is_a_clear_failure(tmp_path):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--start", "2024-01-01", "--end", "2024-01-02")
    assert done.returncode == 1 and "no bars" in done.stderr and "bars fetch" in done.stderr


def test_a_sweep_ranks_every_grid_point_and_writes_a_csv(tmp_path, bar_file):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "s",
                      "--sweep", "take_profit_percent=0.5,1", "safety_order_deviation=0.5:1.0:0.25",
                      "--workers", "2", "--rank-by", "realized_pnl")
    assert done.returncode == 0, done.stderr
    with (tmp_path / "s" / "sweep.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert {(r["take_profit_percent"], r["safety_order_deviation"]) for r in rows} == {
        (tp, dev) for tp in ("0.5", "1") for dev in ("0.5", "0.75", "1")}
    realized = [float(r["realized_pnl"]) for r in rows]
    assert realized == sorted(realized, reverse=True) and [r["rank"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert "ranked by realized_pnl" in done.stdout


def test_a_sweep_point_reports_what_a_single_run_of_those_parameters_does():
    base = setup()
    series = series_of(random_bars(8, 2000))
    point = {"take_profit_percent": "0.6", "max_safety_orders": "2"}
    row = run_point([base], [series], point)
    single = summarize(run(base.with_params(point), series))
    assert (row["realized_pnl"], row["cycles_completed"], row["fees"]) == (
        single.realized_pnl, single.cycles_completed, single.fees)


def test_train_until_ranks_on_the_earlier_bars_and_shows_the_top_sets_on_the_later_ones(tmp_path, bar_file):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "v",
                      "--sweep", "take_profit_percent=0.3,0.6,1", "--train-until", "2025-03-03", "--top", "2",
                      "--workers", "1")
    assert done.returncode == 0, done.stderr
    with (tmp_path / "v" / "sweep.csv").open() as handle:
        ranked = list(csv.DictReader(handle))
    with (tmp_path / "v" / "validation.csv").open() as handle:
        checked = list(csv.DictReader(handle))
    assert len(ranked) == 3 and len(checked) == 2
    assert [r["take_profit_percent"] for r in checked] == [r["take_profit_percent"] for r in ranked[:2]]
    assert [r["train_total_pnl"] for r in checked] == [r["total_pnl"] for r in ranked[:2]]
    bars = random_bars(3, 3 * 1440, price=60_000.0, volatility=0.001)
    train, test = series_of(bars[:2 * 1440]), series_of(bars[2 * 1440:])
    base = setup_for("BTC/USD", AssetParams(), {}, backtest_terms(load_settings(env_file=None)), Decimal(10_000),
                     None)  # as the CLI
    for row in checked:
        point = {"take_profit_percent": row["take_profit_percent"]}
        assert row["train_total_pnl"] == money(run_point([base], [train], point)["total_pnl"])
        assert row["test_total_pnl"] == money(run_point([base], [test], point)["total_pnl"])
    assert "on the validation window" in done.stdout


@pytest.mark.parametrize(("args", "named"), [
    (["--train-until", "2025-03-03"], "only with --sweep"),
    (["--sweep", "take_profit_percent=1,2", "--train-until", "2030-01-01"], "no bars from"),
    (["--sweep", "take_profit_percent=1,2", "--train-until", "2020-01-01"], "no bars before"),
])
def test_a_training_window_that_cannot_work_is_refused(tmp_path, bar_file, args, named):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "w", *args)
    assert done.returncode == 2 and named in done.stderr and "--train-until" in done.stderr
    assert not (tmp_path / "w").exists()


def test_a_sweep_in_a_terminal_shows_a_progress_bar_with_an_eta(tmp_path, bar_file):
    import fcntl
    import os
    import pty
    import struct
    import termios

    reader, writer = pty.openpty()
    fcntl.ioctl(writer, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal 120 columns wide
    done = subprocess.run([sys.executable, str(ROOT / "supervisor.py"), "backtest", "--symbols", "BTC/USD",
                           "--data", f"csv:{bar_file}", "--out", "p", "--sweep", "take_profit_percent=0.5,1",
                           "--workers", "1"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=writer, timeout=120)
    os.close(writer)
    shown = b""
    while True:
        try:
            chunk = os.read(reader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(reader)
    assert done.returncode == 0
    assert b"2/2 sets" in shown and b"ETA" in shown


def test_two_symbols_get_one_chart_and_a_two_parameter_sweep_a_heatmap(tmp_path):
    for symbol, price in (("BTC-USD", 60_000.0), ("ETH-USD", 3000.0)):
        write_csv(tmp_path / f"{symbol}.csv", random_bars(7, 1440, price=price, volatility=0.002,
                                                          symbol=symbol.replace("-", "/")))
    data = f"csv:{tmp_path}/{{symbol}}.csv"
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD,ETH/USD", "--data", data, "--out", "c")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "c" / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    grid = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", data, "--out", "g", "--workers", "1",
                      "--sweep", "take_profit_percent=0.5,1", "safety_order_deviation=0.5,1,1.5")
    assert grid.returncode == 0, grid.stderr
    assert (tmp_path / "g" / "sweep_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    one = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", data, "--out", "h", "--workers", "1",
                     "--sweep", "take_profit_percent=0.5,1")
    assert one.returncode == 0 and not (tmp_path / "h" / "sweep_heatmap.png").exists()  # a heatmap needs two axes


def test_start_conditions_and_the_price_range_run_from_params_and_sweeps(tmp_path, bar_file):
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "c",
                      "--params", "start_condition=rsi(14, 5m) < 40 and close < sma(50)", "min_price=1000",
                      "--verify")
    assert done.returncode == 0, done.stderr
    btc = json.loads((tmp_path / "c" / "result.json").read_text())["per_symbol"]["BTC/USD"]
    assert btc["params"]["start_condition"] == "rsi(14, 5m) < 40 and close < sma(50)"
    assert btc["params"]["min_price"] == "1000"
    assert "fast path and reference loop identical" in done.stdout
    bad = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "c",
                     "--params", "start_condition=rsi(14) << 30")
    assert bad.returncode == 2 and "start_condition: unknown operator '<<'" in bad.stderr and "column 9" in bad.stderr
    swept = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bar_file}", "--out", "w",
                       "--sweep", "start_condition=rsi(14) < 30|rsi(14, 5m) < 35|none", "take_profit_percent=0.5,1",
                       "--workers", "1")
    assert swept.returncode == 0, swept.stderr
    with (tmp_path / "w" / "sweep.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["start_condition"] for r in rows} == {"rsi(14) < 30", "rsi(14, 5m) < 35", "none"} and len(rows) == 6


def test_the_take_profit_order_type_and_active_safety_orders_run_from_params_and_sweeps(tmp_path, bar_file):
    data = f"csv:{bar_file}"
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", data, "--out", "p", "--no-chart",
                      "--params", "take_profit_order_type=limit", "ttp_enabled=false", "active_safety_orders=2")
    assert done.returncode == 0, done.stderr
    params = json.loads((tmp_path / "p" / "result.json").read_text())["per_symbol"]["BTC/USD"]["params"]
    assert (params["take_profit_order_type"], params["active_safety_orders"]) == ("limit", 2)
    swept = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", data, "--out", "w", "--workers", "1",
                       "--sweep", "take_profit_order_type=MARKET,limit", "active_safety_orders=0:4:2",
                       "--params", "ttp_enabled=false")
    assert swept.returncode == 0, swept.stderr
    with (tmp_path / "w" / "sweep.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    expected = {(kind, count) for kind in ("market", "limit") for count in ("0", "2", "4")}  # one spelling
    assert {(r["take_profit_order_type"], r["active_safety_orders"]) for r in rows} == expected and len(rows) == 6
    sets = json.loads((tmp_path / "w" / "sweep.json").read_text())["sets"]
    assert {s["take_profit_order_type"] for s in sets} == {"market", "limit"}
    assert "take_profit_order_type  active_safety_orders" in swept.stdout
    assert (tmp_path / "w" / "sweep_heatmap.png").exists()  # a choice on one axis, a count on the other
    refusals = {  # exit 2, the field named, nothing run
        ("--sweep", "take_profit_order_type=market,limit"): "take_profit_order_type: limit needs ttp_enabled false",
        ("--sweep", "active_safety_orders=0:3:0.5"): "active_safety_orders: expected a whole number, got '0.5'",
        ("--params", "active_safety_orders=16"): "active_safety_orders: must be between 0 and max_safety_orders (15)",
        ("--params", "take_profit_order_type=stop"): "take_profit_order_type: expected one of limit, market",
    }
    for args, why in refusals.items():
        refused = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", data, "--out", "x", *args)
        assert refused.returncode == 2 and why in refused.stderr, (args, refused.stderr)
    assert not (tmp_path / "x").exists()
