"""`supervisor.py bars import FILE --symbol SYM`: offline data, checked before anything is written."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from tests.bars.helpers import stored
from tests.cli.helpers import supervisor

HEADER = "timestamp,open,high,low,close,volume,trade_count,vwap\n"
ROWS = [
    "2024-05-01T00:00:00Z,60000.5,60010,59990,60005.25,1.5,12,60001.1\n",
    "2024-05-01T00:01:00+00:00,60005.25,60020,60000,60015,0.75,,\n",
    "2024-05-01T00:02:00,60015,60015,59950.75,59960,2,3,59980\n",  # no offset: UTC
]


def test_a_file_is_imported_and_a_second_import_adds_no_duplicates(tmp_path):
    path = tmp_path / "btc.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "".join(ROWS)).encode()))
    first = supervisor(tmp_path, "bars", "import", str(path), "--symbol", "btc/usd")
    assert first.returncode == 0, first.stderr
    assert "added to dca_assets DISABLED" in first.stdout
    assert stored(tmp_path, "BTC/USD") == (3, datetime(2024, 5, 1, 0, 2, tzinfo=UTC))
    again = supervisor(tmp_path, "bars", "import", str(path), "--symbol", "BTC/USD")
    assert again.returncode == 0 and stored(tmp_path, "BTC/USD")[0] == 3
    row = next(line for line in again.stdout.splitlines() if line.startswith("BTC/USD"))
    assert row.split()[-3:] == ["3", "0", "3"]  # bars, new, updated


@pytest.mark.parametrize(("bad_row", "where"), [
    ("2024-05-01T00:03:00Z,60000,abc,59990,60005,1\n", ":5: column high: 'abc' is not a number"),
    ("2024-05-01 00:03:30Z,60000,60010,59990,60005,1\n", ":5: column timestamp"),
    ("yesterday,60000,60010,59990,60005,1\n", ":5: column timestamp"),
    ("2024-05-01T00:03:00Z,60000,60010,60001,60005,1\n", ":5: column low"),
    ("2024-05-01T00:03:00Z,60000,59999,59990,60005,1\n", ":5: column high"),
    ("2024-05-01T00:03:00Z,-1,60010,59990,60005,1\n", ":5: column open"),
    ("2024-05-01T00:03:00Z,60000,60010,59990,60005,-2\n", ":5: column volume"),
    ("2024-05-01T00:03:00Z,60000,60010,59990,60005.123456789012,1\n", ":5: column close"),
    ("2024-05-01T00:01:00Z,60000,60010,59990,60005,1\n", ":5: column timestamp: 2024-05-01T00:01:00+00:00 repeats "
                                                         "line 3"),
    ("2024-05-01T00:03:00Z,60000,60010,59990\n", ":5: column close: missing value"),
])
def test_a_bad_row_is_named_by_line_and_column_and_nothing_is_written(tmp_path, bad_row, where):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(ROWS) + bad_row)
    done = supervisor(tmp_path, "bars", "import", str(path), "--symbol", "BTC/USD")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"bad.csv{where}" in done.stderr and "nothing was written" in done.stderr
    assert stored(tmp_path, "BTC/USD")[0] == 0


def test_a_missing_column_file_or_symbol_is_named(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("timestamp,open,high,low,close\n2024-05-01T00:00:00Z,1,1,1,1\n")
    done = supervisor(tmp_path, "bars", "import", str(path), "--symbol", "BTC/USD")
    assert done.returncode == 2 and "short.csv:1: column volume: missing" in done.stderr
    assert "FILE" in supervisor(tmp_path, "bars", "import", "nope.csv", "--symbol", "BTC/USD").stderr
    bad = supervisor(tmp_path, "bars", "import", str(path), "--symbol", "BTCUSD")
    assert bad.returncode == 2 and "--symbol" in bad.stderr
