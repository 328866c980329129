"""`BarSeries`: one symbol's 1-minute bars as numpy arrays, with exact Decimal bars on demand.

The fast path scans a year of bars with vectorised float comparisons and turns only the bars it
actually replays into `dca.market.Bar` (Decimal). Floats are exact enough for that only because
every price is checked when the series is built: a price whose float does not give back the same
decimal (`Decimal(repr(float))`, true for any price of at most 15 significant digits) is kept as
a Decimal beside the arrays. `bar(i)` is therefore always the exact bar of the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from dca.market import Bar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)
Prices = tuple[Decimal, Decimal, Decimal, Decimal]


@dataclass
class BarSeries:
    symbol: str
    times: np.ndarray  # int64 seconds since the epoch (UTC) of each bar's open, ascending
    ohlc: np.ndarray  # float64 (n, 4): open, high, low, close
    exact: dict[int, Prices] = field(default_factory=dict)  # rows whose floats are not the exact prices

    def __post_init__(self) -> None:
        if len(self.times) != len(self.ohlc):
            raise ValueError("times and prices differ in length")
        if len(self.times) > 1 and not bool(np.all(np.diff(self.times) > 0)):
            raise ValueError(f"{self.symbol}: bar times must be strictly increasing")

    def __len__(self) -> int:
        return len(self.times)

    @property
    def close(self) -> np.ndarray:
        return self.ohlc[:, 3]

    def time(self, index: int) -> datetime:
        # the same datetime as EPOCH + timedelta(seconds=...), half the cost (the fast path asks per bar)
        return EPOCH + SECOND * self.times.item(index)

    def prices(self, index: int) -> Prices:
        exact = self.exact.get(index)
        if exact is not None:
            return exact
        o, h, low, c = self.ohlc[index].tolist()
        return Decimal(repr(o)), Decimal(repr(h)), Decimal(repr(low)), Decimal(repr(c))

    def bar(self, index: int) -> Bar:
        return Bar(self.symbol, self.time(index), *self.prices(index))

    def bars(self) -> Iterator[Bar]:
        return (self.bar(i) for i in range(len(self)))

    def between(self, start: datetime | None, end: datetime | None) -> BarSeries:
        """The bars with start ≤ time < end (either bound may be open)."""
        lo = 0 if start is None else int(np.searchsorted(self.times, _seconds(start), "left"))
        hi = len(self) if end is None else int(np.searchsorted(self.times, _seconds(end), "left"))
        exact = {i - lo: prices for i, prices in self.exact.items() if lo <= i < hi}
        return BarSeries(self.symbol, self.times[lo:hi], self.ohlc[lo:hi], exact)

    @classmethod
    def from_bars(cls, symbol: str, bars: Iterable[Bar]) -> BarSeries:
        """From Decimal bars (tests, the strict file reader)."""
        return cls.from_prices(symbol, ((bar.time, bar.open, bar.high, bar.low, bar.close) for bar in bars))

    @classmethod
    def from_prices(cls, symbol: str, rows: Iterable[tuple[datetime, Decimal, Decimal, Decimal, Decimal]]
                    ) -> BarSeries:
        """From (time, open, high, low, close) rows in any order; each price is checked for exactness."""
        ordered = sorted(rows, key=lambda row: row[0])
        times = np.fromiter((_seconds(row[0]) for row in ordered), dtype=np.int64, count=len(ordered))
        ohlc = np.empty((len(ordered), 4), dtype=np.float64)
        exact: dict[int, Prices] = {}
        for index, row in enumerate(ordered):
            prices = row[1:]
            floats = [float(price) for price in prices]
            ohlc[index] = floats
            if any(Decimal(repr(value)) != price for value, price in zip(floats, prices, strict=True)):
                exact[index] = prices  # type: ignore[assignment]
        return cls(symbol, times, ohlc, exact)

    def renamed(self, symbol: str) -> BarSeries:
        return BarSeries(symbol, self.times, self.ohlc, self.exact)


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment}: bar times are UTC")
    return int((moment - EPOCH) // timedelta(seconds=1))
