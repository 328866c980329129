"""The two readers of bar files agree, keep prices exact, and name problems precisely."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.bars_csv import BarFileError, load_series, read_bar_rows
from tests.backtest.helpers import random_bars, write_csv


def test_the_fast_reader_gives_the_exact_bars_of_the_strict_one(tmp_path):
    bars = random_bars(4, 3000, price=0.00012345, volatility=0.002, decimals=10)
    path = write_csv(tmp_path / "pepe.csv.gz", bars, gzip_it=True)
    series = load_series(path, "PEPE/USD")
    assert [series.bar(i) for i in range(len(series))] == [
        b.__class__("PEPE/USD", b.time, b.open, b.high, b.low, b.close) for b in bars]


def test_prices_a_float_cannot_hold_are_kept_as_decimals(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("timestamp,open,high,low,close,volume\n"
                    "2025-01-01T00:00:00Z,1.00000000000000001,1.5,0.5,1.2,1\n"
                    "2025-01-01T00:01:00Z,1.2,1.3,1.1,1.25,1\n")
    series = load_series(path, "X/USD")
    assert series.bar(0).open == Decimal("1.00000000000000001")
    assert series.exact.keys() == {0}


def test_an_unsorted_file_is_sorted_and_a_repeated_minute_is_refused(tmp_path):
    path = tmp_path / "order.csv"
    path.write_text("timestamp,open,high,low,close,volume\n2025-01-01T00:01:00Z,2,2,2,2,1\n"
                    "2025-01-01T00:00:00Z,1,1,1,1,1\n")
    assert [b.close for b in load_series(path, "X/USD").bars()] == [1, 2]
    path.write_text(path.read_text() + "2025-01-01T00:01:00Z,3,3,3,3,1\n")
    with pytest.raises(BarFileError, match=r"order.csv:4: column timestamp: .* repeats line 2"):
        load_series(path, "X/USD")


def test_the_strict_reader_refuses_prices_the_bars_table_would_round(tmp_path):
    path = tmp_path / "fine.csv"
    path.write_text("timestamp,open,high,low,close,volume\n2025-01-01T00:00:00Z,0.00000000001,1,0.00000000001,1,1\n")
    with pytest.raises(BarFileError, match=r"column open: .*at most 10 decimal places"):
        list(read_bar_rows(path, "X/USD"))
    assert len(load_series(path, "X/USD")) == 1  # a backtest file need not fit the table
