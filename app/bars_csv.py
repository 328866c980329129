"""Bar files: `timestamp,open,high,low,close,volume[,trade_count,vwap]`, ISO-8601 UTC, `.csv` or `.csv.gz`.

Two readers of one format:

* `read_bar_rows` checks every row and names the line and column of the first problem
  (`supervisor.py bars import`, and the explanation when the fast reader refuses a file);
* `load_series` reads a whole file into a `BarSeries` with pyarrow's CSV reader and numpy (a year
  of minutes in a few tenths of a second, then from a cache file in milliseconds), for backtests.
  It checks the same things in bulk and, when anything is wrong, re-reads the file with
  `read_bar_rows` to say exactly where.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import numpy as np

from app.backtest.series import BarSeries
from dca.market import Bar
from dca.money import ZERO, to_decimal

REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")
OPTIONAL = ("trade_count", "vwap")
PRICE_SCALE = 10  # historical_1min_bars keeps DECIMAL(20,10)
SAFE_TEXT_LENGTH = 15  # a price written in ≤ 15 characters has ≤ 15 significant digits: its float is exact


class BarFileError(ValueError):
    """A problem in a bar file, naming the line (1 = the header) and the column."""

    def __init__(self, path: Path | str, line: int, column: str | None, message: str) -> None:
        self.path, self.line, self.column = Path(path), line, column
        where = f"{path}:{line}" + (f": column {column}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class BarRow:
    line: int
    bar: Bar
    trade_count: Decimal | None = None
    vwap: Decimal | None = None


def open_text(path: Path | str) -> TextIO:
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="", encoding="utf-8")
    return path.open("r", newline="", encoding="utf-8")


def read_bar_rows(path: Path | str, symbol: str, price_scale: int | None = PRICE_SCALE) -> Iterator[BarRow]:
    """Every row of the file, checked; raises `BarFileError` at the first bad one. With a
    `price_scale`, prices must also fit the bars table without rounding."""
    import csv

    seen: dict[datetime, int] = {}
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        columns = _columns(path, header)
        for line, cells in enumerate(reader, start=2):
            if not cells or cells == [""]:
                continue
            row = _row(path, line, symbol, columns, cells, price_scale)
            earlier = seen.setdefault(row.bar.time, line)
            if earlier != line:
                raise BarFileError(path, line, "timestamp", f"{row.bar.time.isoformat()} repeats line {earlier}")
            yield row


def _columns(path: Path | str, header: list[str] | None) -> dict[str, int]:
    if not header:
        raise BarFileError(path, 1, None, f"empty file; expected a header {','.join(REQUIRED)}")
    names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise BarFileError(path, 1, missing[0], f"missing (the header needs {','.join(REQUIRED)}"
                                                f"[,{','.join(OPTIONAL)}])")
    return {name: names.index(name) for name in (*REQUIRED, *OPTIONAL) if name in names}


def _row(path: Path | str, line: int, symbol: str, columns: dict[str, int], cells: list[str],
         scale: int | None) -> BarRow:
    def cell(name: str) -> str:
        index = columns[name]
        if index >= len(cells):
            if name in OPTIONAL:  # a short row simply leaves the optional columns empty
                return ""
            raise BarFileError(path, line, name, "missing value")
        return cells[index].strip()

    time = _time(path, line, cell("timestamp"))
    o, h, low, c = (_price(path, line, name, cell(name), scale) for name in ("open", "high", "low", "close"))
    volume = _number(path, line, "volume", cell("volume"))
    if volume < 0:
        raise BarFileError(path, line, "volume", f"must be ≥ 0, got {volume}")
    if h < max(o, c, low):
        raise BarFileError(path, line, "high", f"{h} is below the bar's open, low or close")
    if low > min(o, c):
        raise BarFileError(path, line, "low", f"{low} is above the bar's open or close")
    trade_count = vwap = None
    if "trade_count" in columns and cell("trade_count"):
        trade_count = _number(path, line, "trade_count", cell("trade_count"))
        if trade_count < 0 or trade_count != trade_count.to_integral_value():
            raise BarFileError(path, line, "trade_count", f"must be a whole number ≥ 0, got {trade_count}")
    if "vwap" in columns and cell("vwap"):
        vwap = _price(path, line, "vwap", cell("vwap"), scale)
    return BarRow(line, Bar(symbol, time, o, h, low, c, volume), trade_count, vwap)


def _time(path: Path | str, line: int, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BarFileError(path, line, "timestamp", f"{text!r} is not an ISO-8601 time") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment.second or moment.microsecond:
        raise BarFileError(path, line, "timestamp", f"{text!r} is not on a minute boundary (bars open at :00)")
    return moment


def _number(path: Path | str, line: int, column: str, text: str) -> Decimal:
    try:
        return to_decimal(text)
    except (TypeError, ValueError):
        raise BarFileError(path, line, column, f"{text!r} is not a number") from None


def _price(path: Path | str, line: int, column: str, text: str, scale: int | None) -> Decimal:
    value = _number(path, line, column, text)
    if value <= 0:
        raise BarFileError(path, line, column, f"must be > 0, got {text}")
    if scale is not None and (value != round(value, scale) or value >= Decimal(10) ** (20 - scale)):
        raise BarFileError(path, line, column, f"{text} does not fit the bars table's DECIMAL(20,{scale}) "
                                               f"(at most {scale} decimal places)")
    return value


# --- the fast reader ------------------------------------------------------------------------------


def load_series(path: Path | str, symbol: str) -> BarSeries:
    """The whole file as a `BarSeries` (sorted by time); `BarFileError` names the first bad cell.

    The first read parses the file with pyarrow's CSV reader and keeps the columns in a cache file
    (`bar_cache`); later reads of the unchanged file (same size and modification time) load that."""
    from app import bar_cache

    path = Path(path)
    cached = bar_cache.load(path, symbol)
    if cached is not None:
        return cached
    try:
        series = _load_fast(path, symbol)
    except BarFileError:
        raise
    except Exception:  # pyarrow or numpy refused something: let the strict reader say what and where
        series = None
    if series is None:
        rows = list(read_bar_rows(path, symbol, price_scale=None))  # raises with the line and column
        series = BarSeries.from_bars(symbol, (row.bar for row in rows))
    bar_cache.store(path, series)
    return series


def _load_fast(path: Path, symbol: str) -> BarSeries | None:
    """None when the bulk checks find a problem (the strict reader then names it)."""
    import pyarrow as pa
    from pyarrow import compute

    with open_text(path) as handle:
        header = handle.readline().rstrip("\r\n").split(",")
    found = _columns(path, header)
    raw = {name: header[found[name]] for name in REQUIRED}  # the file's own spelling of each column
    table = _arrow_table(path, raw, pa.timestamp("s", "UTC"))
    if table is None:
        table = _arrow_table(path, raw, pa.timestamp("s"))  # no offset at all: UTC
    if table is None:
        return None
    if table.num_rows == 0:
        return BarSeries(symbol, np.empty(0, np.int64), np.empty((0, 4)))
    if any(table[raw[name]].null_count for name in REQUIRED):
        return None
    texts = [table[raw[name]] for name in ("open", "high", "low", "close")]
    ohlc = np.column_stack([compute.cast(text, pa.float64()).to_numpy() for text in texts])
    long = np.column_stack([compute.utf8_length(text).to_numpy() for text in texts]) > SAFE_TEXT_LENGTH
    volume = table[raw["volume"]].to_numpy()
    times = compute.cast(table[raw["timestamp"]], pa.int64()).to_numpy()
    if not _consistent(ohlc, volume) or not _minutes(times):
        return None
    exact = _exact_rows(texts, ohlc, np.flatnonzero(long.any(axis=1)))
    if exact is None:
        return None
    if len(times) > 1 and not bool(np.all(np.diff(times) > 0)):  # out of order (or a repeated minute)
        order = np.argsort(times, kind="stable")
        times, ohlc = times[order], ohlc[order]
        if not bool(np.all(np.diff(times) > 0)):
            return None  # a repeated minute
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        exact = {int(position[index]): prices for index, prices in exact.items()}
    return BarSeries(symbol, times, ohlc, exact)


def _arrow_table(path: Path, raw: dict[str, str], time_type: object) -> object | None:
    """The required columns, prices as text (their length tells which floats may be inexact)."""
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    types = {raw["timestamp"]: time_type, raw["volume"]: pa.float64(),
             **{raw[name]: pa.string() for name in ("open", "high", "low", "close")}}
    try:
        return arrow_csv.read_csv(path, convert_options=arrow_csv.ConvertOptions(
            column_types=types, include_columns=list(raw.values()), strings_can_be_null=False))
    except pa.ArrowInvalid:
        return None


def _consistent(ohlc: np.ndarray, volume: np.ndarray) -> bool:
    o, h, low, c = ohlc.T
    finite = bool(np.isfinite(ohlc).all() and np.isfinite(volume).all())
    return finite and bool((low > 0).all() and (h >= np.maximum(np.maximum(o, c), low)).all()
                           and (low <= np.minimum(o, c)).all() and (volume >= 0).all())


def _minutes(times: np.ndarray) -> bool:
    return bool((times % 60 == 0).all())


def _exact_rows(texts: list, ohlc: np.ndarray, candidates: np.ndarray) -> dict[int, tuple] | None:
    """Rows whose float prices are not exactly the file's decimals, with the exact values. Short
    texts are exact by construction; only the long ones (`candidates`) are compared one by one."""
    exact: dict[int, tuple] = {}
    for index in candidates.tolist():
        try:
            prices = tuple(to_decimal(text[index].as_py()) for text in texts)
        except (TypeError, ValueError):
            return None
        if any(Decimal(repr(value)) != price for value, price in zip(ohlc[index].tolist(), prices, strict=True)):
            exact[index] = prices
    if any(price <= ZERO for prices in exact.values() for price in prices):
        return None
    return exact
