"""Replay of stored 1-minute bars as a quote path, through `dca.market.bar_quote_path` (the same
derivation the backtester uses, so a replayed market and a backtest see the same prices).

Sources: a CSV file (`timestamp,open,high,low,close,volume[,trade_count,vwap]`, ISO-8601 UTC,
optionally gzipped) or any iterable of `dca.market.Bar` (the hook for the `historical_1min_bars`
table once its repository exists).
"""

from __future__ import annotations

import bisect
import csv
import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from dca.market import Bar, Quote, bar_quote_path
from dca.money import to_decimal

REQUIRED_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class BarExtras:
    trade_count: int | None
    vwap: float | None


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def load_bars_csv(path: str | Path, symbol: str) -> tuple[list[Bar], dict[datetime, BarExtras]]:
    """The bars of a CSV file in time order, plus trade_count/vwap where the file has them."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        bars: list[Bar] = []
        extras: dict[datetime, BarExtras] = {}
        for line, row in enumerate(reader, start=2):
            try:
                bar = Bar(
                    symbol,
                    parse_time(row["timestamp"]),
                    *(to_decimal(row[column]) for column in ("open", "high", "low", "close", "volume")),
                )
            except (ValueError, TypeError) as error:
                raise ValueError(f"{path}:{line}: {error}") from None
            bars.append(bar)
            if row.get("trade_count") or row.get("vwap"):
                count = int(float(row["trade_count"])) if row.get("trade_count") else None
                vwap = float(row["vwap"]) if row.get("vwap") else None
                extras[bar.time] = BarExtras(count, vwap)
    bars.sort(key=lambda bar: bar.time)
    return bars, extras


class ReplaySource:
    """The quotes of one symbol's bars, four per bar, in time order."""

    def __init__(
        self,
        symbol: str,
        bars: Iterable[Bar],
        spread_bps: Decimal,
        price_increment: Decimal,
        extras: dict[datetime, BarExtras] | None = None,
    ) -> None:
        self.symbol = symbol
        self.bars = sorted(
            (bar if bar.symbol == symbol else _renamed(bar, symbol) for bar in bars), key=lambda bar: bar.time
        )
        if not self.bars:
            raise ValueError(f"replay for {symbol} has no bars")
        self.extras = extras or {}
        self._times = [bar.time for bar in self.bars]
        self._spread_bps, self._increment = spread_bps, price_increment
        self._bar_index = 0
        self._pending: list[Quote] = []

    @property
    def first_time(self) -> datetime:
        return self.bars[0].time

    @property
    def last_time(self) -> datetime:
        return self.bars[-1].time

    @property
    def exhausted(self) -> bool:
        return not self._pending and self._bar_index >= len(self.bars)

    @property
    def position(self) -> int:
        """Bars fully or partly consumed (for the state file)."""
        return self._bar_index

    def skip_to(self, moment: datetime) -> None:
        """Drop the quotes before `moment` (a restart or a later start)."""
        while not self.exhausted and (time := self.peek_time()) is not None and time < moment:
            self.next_quote()

    def peek_time(self) -> datetime | None:
        self._fill()
        return self._pending[0].time if self._pending else None

    def next_quote(self) -> Quote | None:
        self._fill()
        return self._pending.pop(0) if self._pending else None

    def quotes_through(self, moment: datetime) -> Iterator[Quote]:
        while (time := self.peek_time()) is not None and time <= moment:
            quote = self.next_quote()
            assert quote is not None
            yield quote

    def bars_between(self, start: datetime, end: datetime) -> list[Bar]:
        """Bars whose minute opens in [start, end]."""
        return self.bars[bisect.bisect_left(self._times, start) : bisect.bisect_right(self._times, end)]

    def _fill(self) -> None:
        if not self._pending and self._bar_index < len(self.bars):
            self._pending = bar_quote_path(self.bars[self._bar_index], self._spread_bps, self._increment)
            self._bar_index += 1


def _renamed(bar: Bar, symbol: str) -> Bar:
    return Bar(symbol, bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume)
