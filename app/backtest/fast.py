"""The fast path: replay only the bars where the strategy could act, skip the rest in bulk.

Between two actions a DCA cycle mostly waits for the price to reach a level (a safety order, the
take-profit, the trailing stop, a price-triggered restart) or for a time (the end of a cooldown or of
a retry wait). `dca.strategy.triggers` says which; every quote outside them leaves the state
unchanged (property-tested in tests/core). So, whenever no order is live and no quote is "always"
relevant, the next bar that could reach a trigger is found with vectorised numpy over the bars'
float low/high, and everything before it is skipped without building a single Decimal.

The skip test is conservative: a bar is skipped only if NO quote of its path could reach a level,
with the quote path's own bounds (every quote's mid lies within the bar's [min, max] of o/h/l/c;
bid = mid × (1 − half spread) rounded down, so bid ∈ [lo × (1 − h) − tick, hi × (1 − h)]; ask =
mid × (1 + h) rounded up, so ask ≥ lo × (1 + h)) and a relative safety margin far above float
error. A bar that might act is replayed exactly, quote by quote, through the same session as the
reference loop; the tests prove both give identical orders, fills, cycles and account timelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np

from app.backtest.series import EPOCH, BarSeries
from dca.backtest.session import BacktestSession
from dca.market import QUOTE_OFFSETS, TEN_THOUSAND, bar_quote_path
from dca.strategy import Triggers

MARGIN = 1e-9  # relative; float error here is ~1e-16, so a level this close is treated as reachable
LAST_QUOTE = int(QUOTE_OFFSETS[-1].total_seconds())  # the last quote of a bar comes this long after its open
FIRST_WINDOW = 512  # bars examined by the first vectorised look-ahead (then doubled up to MAX_WINDOW)
MAX_WINDOW = 1 << 16


@dataclass(frozen=True)
class QuoteBounds:
    """Per bar, what the quotes of its path can at most/at least be (floats, conservative)."""

    ask_floor: np.ndarray  # no quote of the bar has a lower ask
    bid_ceiling: np.ndarray  # no quote of the bar has a higher bid
    bid_floor: np.ndarray  # no quote of the bar has a lower bid
    last_quote_time: np.ndarray  # int64 seconds of each bar's last quote

    @classmethod
    def of(cls, series: BarSeries, spread_bps: Decimal, price_increment: Decimal) -> QuoteBounds:
        half = float(spread_bps / TEN_THOUSAND / 2)
        lo, hi = series.ohlc.min(axis=1), series.ohlc.max(axis=1)  # robust to a bar whose open is outside [low, high]
        return cls(lo * (1 + half), hi * (1 - half), lo * (1 - half) - float(price_increment),
                   series.times + LAST_QUOTE)

    def next_candidate(self, start: int, found: Triggers) -> int:
        """The first bar index ≥ start whose quotes could meet `found`, or len(bars) if none can."""
        n = len(self.ask_floor)
        limit = n
        if found.at_time is not None:  # times are sorted: the first bar whose last quote is due
            limit = int(np.searchsorted(self.last_quote_time, _floor_seconds(found.at_time), "left"))
        levels = _levels(found)
        if not levels:
            return max(start, limit)
        window, lo = FIRST_WINDOW, start
        while lo < limit:
            hi = min(lo + window, limit)
            hits = np.zeros(hi - lo, dtype=bool)
            for array, below, level in levels:
                part = getattr(self, array)[lo:hi]
                hits |= (part <= level) if below else (part >= level)
            first = int(np.argmax(hits))
            if hits[first]:
                return lo + first
            lo, window = hi, min(window * 2, MAX_WINDOW)
        return max(start, limit)


_BOUNDS: dict[tuple[int, Decimal, Decimal], tuple[BarSeries, QuoteBounds]] = {}
BOUNDS_KEPT = 8


def bounds_of(series: BarSeries, spread_bps: Decimal, price_increment: Decimal) -> QuoteBounds:
    """The series' bounds, computed once per (series, spread, increment): every point of a sweep
    replays the same bars with the same spread, only the parameters differ."""
    key = (id(series), spread_bps, price_increment)
    kept = _BOUNDS.get(key)
    if kept is not None and kept[0] is series:
        return kept[1]
    bounds = QuoteBounds.of(series, spread_bps, price_increment)
    if len(_BOUNDS) >= BOUNDS_KEPT:
        _BOUNDS.pop(next(iter(_BOUNDS)))
    _BOUNDS[key] = (series, bounds)
    return bounds


def _levels(found: Triggers) -> list[tuple[str, bool, float]]:
    """(bound array, reached when at or below?, widened level) for every price trigger."""
    levels = []
    if found.ask_at_or_below is not None:
        levels.append(("ask_floor", True, float(found.ask_at_or_below) * (1 + MARGIN)))
    if found.bid_at_or_above is not None:
        levels.append(("bid_ceiling", False, float(found.bid_at_or_above) * (1 - MARGIN)))
    if found.bid_at_or_below is not None:
        levels.append(("bid_floor", True, float(found.bid_at_or_below) * (1 + MARGIN)))
    return levels


def _floor_seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 1)


@dataclass(frozen=True, slots=True)
class FastStats:
    bars: int
    replayed: int  # bars replayed exactly, quote by quote


def replay_fast(session: BacktestSession, series: BarSeries, spread_bps: Decimal,
                price_increment: Decimal) -> FastStats:
    """`dca.backtest.loop.replay_bars` over `series`, skipping the bars where nothing can happen."""
    bounds = bounds_of(series, spread_bps, price_increment)
    n, index, replayed = len(series), 0, 0
    while index < n:
        found = session.triggers()
        if not found.always:
            index = bounds.next_candidate(index, found)
            if index >= n:
                break
        bar = series.bar(index)
        for quote in bar_quote_path(bar, spread_bps, price_increment):
            session.on_quote(quote)
        session.end_bar(index, bar.time)
        replayed += 1
        index += 1
    return FastStats(n, replayed)
