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


def test_an_exact_price_follows_its_row_when_the_file_is_sorted(tmp_path):
    path = tmp_path / "late.csv"
    path.write_text("timestamp,open,high,low,close,volume\n"
                    "2025-01-01T00:02:00Z,1.2,1.3,1.1,1.25,1\n"
                    "2025-01-01T00:01:00+00:00,1.00000000000000001,1.5,0.5,1.2,1\n"
                    "2025-01-01T00:00:00Z,1,1,1,1,1\n")
    series = load_series(path, "X/USD")
    assert series.exact.keys() == {1} and series.bar(1).open == Decimal("1.00000000000000001")
    assert [b.close for b in series.bars()] == [1, Decimal("1.2"), Decimal("1.25")]


def test_times_without_an_offset_are_utc_and_other_offsets_are_converted(tmp_path):
    naive = tmp_path / "naive.csv"
    naive.write_text("timestamp,open,high,low,close,volume\n2025-01-01T00:00:00,1,1,1,1,1\n")
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("timestamp,open,high,low,close,volume\n2025-01-01T02:00:00+02:00,1,1,1,1,1\n")
    assert load_series(naive, "X/USD").time(0) == load_series(shifted, "X/USD").time(0)
    assert load_series(naive, "X/USD").time(0).isoformat() == "2025-01-01T00:00:00+00:00"


def series_values(series):
    return series.times.tolist(), series.ohlc.tolist(), series.exact


def test_a_second_read_comes_from_the_cache_copy_until_the_file_changes(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text("timestamp,open,high,low,close,volume\n"
                    "2025-01-01T00:00:00Z,1.00000000000000001,1.5,0.5,1.2,1\n")
    first = load_series(path, "X/USD")
    copy = tmp_path / "bars.csv.cache.npz"
    assert copy.exists()
    again = load_series(path, "Y/USD")
    assert series_values(again) == series_values(first) and again.symbol == "Y/USD"
    assert again.bar(0).open == Decimal("1.00000000000000001")
    path.write_text(path.read_text() + "2025-01-01T00:01:00Z,2,2,2,2,1\n")  # another file now
    assert len(load_series(path, "X/USD")) == 2


def test_a_folder_that_cannot_hold_the_copy_sends_it_to_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = write_csv(tmp_path / "bars.csv", random_bars(1, 20))
    (tmp_path / "bars.csv.cache.npz").mkdir()  # the place beside the file is taken
    first = load_series(path, "X/USD")
    (copy,) = (tmp_path / "cache" / "dca-bot" / "bars").iterdir()
    assert copy.name.endswith("-bars.csv.cache.npz")
    assert series_values(load_series(path, "X/USD")) == series_values(first)


def test_a_broken_cache_copy_is_read_past(tmp_path):
    path = write_csv(tmp_path / "bars.csv", random_bars(1, 20))
    first = load_series(path, "X/USD")
    (tmp_path / "bars.csv.cache.npz").write_bytes(b"not a numpy file")
    assert series_values(load_series(path, "X/USD")) == series_values(first)
