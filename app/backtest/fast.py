"""The fast path: replay only the bars where the strategy could act, skip the rest in bulk.

Between two actions a DCA cycle mostly waits: for the price to reach a level (a safety order, the
take-profit, a price-triggered restart), for a time (the end of a cooldown, a retry wait, an order's
age limit), for a resting buy's limit to be touched, or, trailing, for a pull-back from a peak that
keeps moving. Every quote that cannot end the wait leaves the state unchanged, or (trailing) only
raises the peak to its bid. So the next bar that could end it is found with vectorised numpy over
the bars' float bounds, and everything before it is skipped without building a single Decimal:

* no order, not trailing: `dca.strategy.triggers` says where the next quote may act (property-tested
  in tests/core); the first bar whose quotes could reach a level or time is replayed;
* a resting limit buy (the exchange has matched it against at least one quote and it rests, so the
  next fill is a maker fill at its limit): the first bar whose ask could touch the limit, or whose
  quotes reach the order's age limit (`_check_order_age`; timers of the order fire no earlier);
* trailing with a peak: the running peak is bounded above by the running maximum of the bars' bid
  ceilings (`np.maximum.accumulate`), so the trailing stop is too; the first bar whose lowest bid
  could fall below that bound while its highest bid could reach the take-profit floor, or whose ask
  could reach the safety order, or whose quotes reach a retry wait's end, is replayed. Every quote
  skipped before it only raised the peak: the peak is then set, exactly, to the bid of the highest
  mid skipped (a bid is a non-decreasing function of the mid), as deciding on each would have.

The bounds are conservative: a bar is skipped only if NO quote of its path could end the wait, with
the quote path's own bounds (every quote's mid lies within the bar's [min, max] of o/h/l/c; bid =
mid × (1 − half spread) rounded down, so bid ∈ [lo × (1 − h) − tick, hi × (1 − h)]; ask = mid ×
(1 + h) rounded up, so ask ≥ lo × (1 + h)) and a relative safety margin far above float error. A
bar that might act is replayed exactly, quote by quote, through the same session as the reference
loop; the tests prove both give identical orders, fills, cycles, account timelines and final states.

What is modelled is listed in one place, `supports`: a run with anything else (a parameter another
feature adds, set away from its default) replays every bar instead.
"""

from __future__ import annotations

from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import datetime
from decimal import Decimal, DecimalTuple
from typing import Any

import numpy as np

from adapters.sim.rules import FillModel
from app.backtest.series import EPOCH, SECOND, BarSeries
from app.backtest.venue import EngineVenue
from dca.backtest.session import BacktestSession
from dca.cycle import AssetState, CycleStatus, OrderType, Side
from dca.market import QUOTE_OFFSETS, TEN_THOUSAND, Quote, bar_quote_path, quote_around
from dca.memo import per_object
from dca.params import AssetConfig
from dca.strategy import Triggers, take_profit_trigger

MARGIN = 1e-9  # relative; float error here is ~1e-16, so a level this close is treated as reachable
OFFSET_SECONDS = tuple(int(offset.total_seconds()) for offset in QUOTE_OFFSETS)
LAST_QUOTE = OFFSET_SECONDS[-1]  # the last quote of a bar comes this long after its open
FIRST_WINDOW = 512  # bars examined by the first vectorised look-ahead (then doubled up to MAX_WINDOW)
MAX_WINDOW = 1 << 16
PRESCAN = 8  # bars checked one at a time in plain floats before the first vectorised window
LIMITS_KEPT = 4096  # time limits `QuoteBounds.time_limit` remembers (a sweep meets the same few many times)

# A trigger's levels as floats widened by MARGIN (ask at or below, bid at or above, bid at or below) and
# its time in whole seconds; None where the trigger has no such level
FloatLevels = tuple[float | None, float | None, float | None, int | None]

# The strategy parameters whose every value the skipping above models. A parameter not listed here
# (one a new feature adds to `AssetParams`) is modelled only at its default, which must leave the
# strategy as it was: set to anything else, the run replays every bar (`supports`).
MODELLED_PARAMS = frozenset({
    "base_order_amount", "safety_order_amount", "max_safety_orders", "safety_order_deviation",
    "take_profit_percent", "ttp_enabled", "ttp_deviation_percent", "buy_order_price_deviation_percent",
    "cooldown_period", "safety_order_step_scale", "safety_order_volume_scale",
})
MODELLED_CONFIG = frozenset({"asset_id", "symbol", "order_namespace", "params", "rules", "fees", "timing"})


def supports(config: AssetConfig) -> bool:
    """May this run take the fast path? Only if every setting that differs from the strategy's
    defaults is one whose effect the skipping is proven for (the lists above)."""
    if any(f.name not in MODELLED_CONFIG for f in fields(config)):
        return False
    return all(f.name in MODELLED_PARAMS or getattr(config.params, f.name) == _default(f)
               for f in fields(config.params))


def _default(declared: Field[Any]) -> Any:
    if declared.default_factory is not MISSING:
        return declared.default_factory()
    return declared.default  # MISSING (a field without a default) equals no value: never modelled


@dataclass(frozen=True)
class QuoteBounds:
    """Per bar, what the quotes of its path can at most/at least be (floats, conservative)."""

    ask_floor: np.ndarray  # no quote of the bar has a lower ask
    bid_ceiling: np.ndarray  # no quote of the bar has a higher bid
    bid_floor: np.ndarray  # no quote of the bar has a lower bid
    last_quote_time: np.ndarray  # int64 seconds of each bar's last quote
    highest: np.ndarray  # the bar's highest price (float; the exact one is the series')
    _limits: dict[int, int] = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def of(cls, series: BarSeries, spread_bps: Decimal, price_increment: Decimal) -> QuoteBounds:
        half = float(spread_bps / TEN_THOUSAND / 2)
        lo, hi = series.ohlc.min(axis=1), series.ohlc.max(axis=1)  # robust to a bar whose open is outside [low, high]
        return cls(lo * (1 + half), hi * (1 - half), lo * (1 - half) - float(price_increment),
                   series.times + LAST_QUOTE, hi)

    def time_limit(self, at: datetime | None) -> int:
        """The first bar whose last quote comes at or after `at` (times are sorted); len(bars) if none."""
        return self.limit_at(None if at is None else _floor_seconds(at))

    def limit_at(self, seconds: int | None) -> int:
        """`time_limit` of a time already in whole seconds (rounded down), remembered by them (an int
        hashes faster than an aware datetime)."""
        if seconds is None:
            return len(self.ask_floor)
        limit = self._limits.get(seconds)
        if limit is None:
            if len(self._limits) >= LIMITS_KEPT:
                self._limits.clear()
            limit = self._limits[seconds] = int(self.last_quote_time.searchsorted(seconds, "left"))
        return limit

    def next_candidate(self, start: int, found: Triggers) -> int:
        """The first bar index ≥ start whose quotes could meet `found`, or len(bars) if none can."""
        return self.first_reaching(start, _float_levels(found), self.time_limit(found.at_time))

    def first_reaching(self, start: int, levels: FloatLevels, limit: int) -> int:
        """`next_candidate` with the levels already widened (`_float_levels`) and the time limit
        already found: the first bar index in [start, limit) whose bounds reach a level, else
        max(start, limit). The first PRESCAN bars are checked one by one in plain floats (most
        waits end within a few bars, and a numpy call costs more than such a check); then windows."""
        ask, bid_above, bid_below, _ = levels
        if ask is None and bid_above is None and bid_below is None:
            return max(start, limit)
        ask_floor, bid_ceiling, bid_floor = self.ask_floor, self.bid_ceiling, self.bid_floor
        end = min(start + PRESCAN, limit)
        for index in range(start, end):
            if ((ask is not None and ask_floor.item(index) <= ask)
                    or (bid_above is not None and bid_ceiling.item(index) >= bid_above)
                    or (bid_below is not None and bid_floor.item(index) <= bid_below)):
                return index
        window, lo = FIRST_WINDOW, max(start, end)
        while lo < limit:
            hi = min(lo + window, limit)
            hits = ask_floor[lo:hi] <= ask if ask is not None else None
            if bid_above is not None:
                above = bid_ceiling[lo:hi] >= bid_above
                hits = above if hits is None else hits | above
            if bid_below is not None:
                below = bid_floor[lo:hi] <= bid_below
                hits = below if hits is None else hits | below
            assert hits is not None
            first = int(hits.argmax())
            if hits[first]:
                return lo + first
            lo, window = hi, min(window * 2, MAX_WINDOW)
        return max(start, limit)

    def next_after_peaks(self, start: int, watch: PeakWatch) -> int:
        """The first bar index ≥ start where a trailing cycle could do more than raise its peak."""
        limit = self.time_limit(watch.until)
        safety = float(watch.safety) * (1 + MARGIN) if watch.safety is not None else None
        floor = float(watch.floor) * (1 - MARGIN) if watch.floor is not None else None
        stop = watch.stop_fraction * (1 + MARGIN) if watch.stop_fraction is not None else None
        selling = stop is not None and floor is not None
        if safety is None and not selling:  # nothing but the time can end the wait
            return max(start, limit)
        peak = float(watch.peak)
        ask_floor, bid_ceiling, bid_floor = self.ask_floor, self.bid_ceiling, self.bid_floor
        end = min(start + PRESCAN, limit)
        for index in range(start, end):  # the windows' arithmetic below, bar by bar in plain floats
            if safety is not None and ask_floor.item(index) <= safety:
                return index
            if selling:
                ceiling = bid_ceiling.item(index)
                if ceiling > peak or ceiling != ceiling:  # np.maximum: a NaN wins, as below
                    peak = ceiling
                if bid_floor.item(index) <= peak * stop and ceiling >= floor:  # type: ignore[operator]
                    return index
        window, lo = FIRST_WINDOW, max(start, end)
        while lo < limit:
            hi = min(lo + window, limit)
            hits = ask_floor[lo:hi] <= safety if safety is not None else None
            if selling:
                ceilings = bid_ceiling[lo:hi]
                peaks = np.maximum.accumulate(np.maximum(ceilings, peak))  # ≥ the peak at any quote of the bar
                sells = (bid_floor[lo:hi] <= peaks * stop) & (ceilings >= floor)
                hits = sells if hits is None else hits | sells
                peak = float(peaks[-1])
            assert hits is not None
            first = int(hits.argmax())
            if hits[first]:
                return lo + first
            lo, window = hi, min(window * 2, MAX_WINDOW)
        return max(start, limit)

    def highest_row(self, series: BarSeries, lo: int, hi: int) -> Decimal:
        """The highest price of bars lo..hi-1, exact. Floats order the prices they represent exactly;
        a row kept as Decimals (its floats are not its prices) is compared in Decimal."""
        part = self.highest[lo:hi]
        top = int(part.argmax())  # rows with the same highest float have the same highest price: one
        highest = part.item(top)
        if not series.exact and highest == highest:  # the highest of `series.prices(lo + top)`, built alone
            return Decimal(repr(highest))
        rows = {lo + top} if highest == highest else set()  # stands for all (a NaN maximum for none)
        if series.exact:
            rows.update(i for i in series.exact if lo <= i < hi)
        return max(max(series.prices(i)) for i in rows)


@dataclass(frozen=True)
class PeakWatch:
    """A trailing cycle with no order: quotes only raise `peak` until one could sell (bid between
    the take-profit `floor` and `peak × stop_fraction`), buy a safety order (ask ≤ `safety`), or it is
    `until` (a retry wait's end)."""

    peak: Decimal
    safety: Decimal | None
    stop_fraction: float | None  # None: the pull-back cannot sell (no deviation, or waiting out a retry)
    floor: Decimal | None
    until: datetime | None


def peak_watch(config: AssetConfig, state: AssetState, found: Triggers) -> PeakWatch | None:
    """The trailing wait `dca.strategy` is in (mirroring `_act_on_quote` and `_follow_peak`), if any."""
    cycle = state.cycle
    if cycle.order is not None or cycle.status is not CycleStatus.TRAILING or cycle.peak_price is None:
        return None
    if cycle.retry_at is not None:  # the peak still moves; nothing else happens before the wait ends
        return PeakWatch(cycle.peak_price, None, None, None, cycle.retry_at)
    if not config.params.ttp_enabled or cycle.is_flat:
        return None
    deviation = config.params.ttp_deviation_percent
    stop = None if deviation is None else 1 - float(deviation) / 100
    return PeakWatch(cycle.peak_price, found.ask_at_or_below, stop, take_profit_trigger(config, cycle), None)


_WHOLE_FILLS = FillModel()  # a limit fills whole when touched (no seeded parts drawn per opportunity)


def resting_buy(session: BacktestSession) -> Triggers | None:
    """A live limit buy resting on the exchange acts only when an ask touches its limit (a maker
    fill) or at its age limit; None unless the order is exactly that."""
    order = session.state.cycle.order
    venue = session.venue
    if (order is None or order.side is not Side.BUY or order.order_type is not OrderType.LIMIT
            or order.limit_price is None or order.cancel_requested_at is not None
            or not isinstance(venue, EngineVenue) or not venue.is_resting(order.client_order_id)):
        return None
    engine = venue.engine
    if engine.fill_model != _WHOLE_FILLS or engine.rules.gtc_expiry is not None:
        return None
    return Triggers(ask_at_or_below=order.limit_price, at_time=order.created_at + session.config.timing.stale_buy_after)


BARS_KEPT = 1 << 13  # per series (≤ 4 quotes of ~0.4 kB each); past it, a cache starts over


@per_object(kept=8)
def bounds_of(series: BarSeries, spread_bps: Decimal, price_increment: Decimal) -> QuoteBounds:
    """The series' bounds, computed once per (series, spread, increment): every point of a sweep
    replays the same bars with the same spread, only the parameters differ."""
    return QuoteBounds.of(series, spread_bps, price_increment)


@dataclass(slots=True)
class _KeptBar:
    """A replayed bar as `_Replay.replay_bar` reads it: the mids of its quote path, its open (whole
    seconds) and the quotes of the path built so far (None: not yet)."""

    mids: tuple[float, float, float, float]
    opened: int
    quotes: list[Quote | None]


def _digits(decimals: tuple[Decimal, ...]) -> tuple[DecimalTuple, ...]:
    return tuple(d.as_tuple() for d in decimals)


@per_object(kept=4, key=_digits)
def kept_bars(_series: BarSeries, _spread_bps: Decimal, _price_increment: Decimal) -> dict[int, _KeptBar]:
    """The bars of `series` already replayed with this spread and increment, by index (filled by the
    runs). The points of a sweep replay mostly the same bars (the dips and climbs where any DCA
    acts): ~85 % of a set's quotes were built by an earlier set. Kept by the spread's and the
    increment's digits, not their values: 10 == 10.0, but quotes built with them may differ in
    exponent. Quotes are immutable, so the runs share them."""
    return {}


def _float_levels(found: Triggers) -> FloatLevels:
    """`found`'s levels widened by the margin, and its time in whole seconds (rounded down)."""
    return (float(found.ask_at_or_below) * (1 + MARGIN) if found.ask_at_or_below is not None else None,
            float(found.bid_at_or_above) * (1 - MARGIN) if found.bid_at_or_above is not None else None,
            float(found.bid_at_or_below) * (1 + MARGIN) if found.bid_at_or_below is not None else None,
            _floor_seconds(found.at_time) if found.at_time is not None else None)


def _floor_seconds(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 1)


@dataclass(frozen=True, slots=True)
class FastStats:
    bars: int
    replayed: int  # bars replayed exactly, quote by quote


class _Replay:
    """One run of the fast path: where to go next from a bar boundary, and the skipped peaks."""

    def __init__(self, session: BacktestSession, series: BarSeries, spread_bps: Decimal,
                 price_increment: Decimal) -> None:
        self.session, self.series = session, series
        self.spread_bps, self.price_increment = spread_bps, price_increment
        self.bounds = bounds_of(series, spread_bps, price_increment)
        self._kept = kept_bars(series, spread_bps, price_increment)
        self._state: AssetState | None = None  # the state `_found` (and `_watch`) were worked out for
        self._found = Triggers(always=True)
        self._watch: PeakWatch | None = None
        self._levels: FloatLevels = (None, None, None, None)
        half = float(spread_bps / TEN_THOUSAND / 2)
        self._ask_factor, self._bid_factor, self._tick = 1 + half, 1 - half, float(price_increment)

    def next_bar(self, index: int) -> int:
        """The first bar ≥ index that must be replayed; the state is brought past the skipped ones."""
        found = self._waiting_for()
        if found.always:
            return index
        watch = self._watch
        if watch is None:
            return self.bounds.first_reaching(index, self._levels, self.bounds.limit_at(self._levels[3]))
        following = self.bounds.next_after_peaks(index, watch)
        if following > index:
            self._raise_peak(index, min(following, len(self.series)))
        return following

    def replay_bar(self, index: int) -> datetime | None:
        """Feed bar `index`'s quote path; the bar's time if any quote went through the session, else
        None (the account cannot have changed, and the bar needs no account record). A quote is built
        (in Decimal) only if its float bounds could meet the triggers of the moment."""
        series = self.series
        if index in series.exact:  # its floats are not its prices: no float pre-check
            bar = series.bar(index)
            fed = False
            for quote in bar_quote_path(bar, self.spread_bps, self.price_increment):
                fed |= self.feed(quote)
            return bar.time if fed else None
        kept = self._kept.get(index)
        if kept is None:
            kept = self._keep(index)
        mids, opened, quotes = kept.mids, kept.opened, kept.quotes
        fed = False
        for position in range(4):
            mid = mids[position]
            if not self._may_reach(mid, opened + OFFSET_SECONDS[position]):
                continue
            quote = quotes[position]
            if quote is None:
                quote = quotes[position] = quote_around(
                    series.symbol, Decimal(repr(mid)), EPOCH + SECOND * opened + QUOTE_OFFSETS[position],
                    self.spread_bps, self.price_increment)
            fed |= self.feed(quote)
        return EPOCH + SECOND * opened if fed else None  # `BarSeries.time`

    def _keep(self, index: int) -> _KeptBar:
        """Bar `index` (not an exact row) read once for this and the next runs."""
        if len(self._kept) >= BARS_KEPT:
            self._kept.clear()
        o, h, low, c = self.series.ohlc[index].tolist()
        path = (o, low, h, c) if c >= o else (o, h, low, c)  # `dca.market.bar_path`: floats order as the prices
        kept = self._kept[index] = _KeptBar(path, self.series.times.item(index), [None, None, None, None])
        return kept

    def _may_reach(self, mid: float, seconds: int) -> bool:
        """Could the quote around `mid` at `seconds` meet the current triggers? (float bounds of
        its bid and ask, as `QuoteBounds`, with the same margin; False only when it certainly cannot)"""
        found = self._waiting_for()
        if found.always:
            return True
        ask_at_or_below, bid_at_or_above, bid_at_or_below, at_seconds = self._levels
        return ((ask_at_or_below is not None and mid * self._ask_factor <= ask_at_or_below)
                or (bid_at_or_above is not None and mid * self._bid_factor >= bid_at_or_above)
                or (bid_at_or_below is not None and mid * self._bid_factor - self._tick <= bid_at_or_below)
                or (at_seconds is not None and seconds >= at_seconds))

    def feed(self, quote: Quote) -> bool:
        """One quote of a replayed bar: through the session, unless it provably changes nothing
        (outside the triggers, as a skipped bar's quotes) or only raises a trailing peak."""
        found = self._waiting_for()
        if not (found.always or found.may_act_on(quote)):
            return False
        if self._watch is not None and self._only_raises_peak(found, quote):
            self.session.skipped_to_peak(quote.bid)
            return False
        self.session.on_quote(quote, settle_outside_triggers=True)
        return True

    def _waiting_for(self) -> Triggers:
        """The session's triggers, kept while its state is the same object (and, for a live order,
        once the exchange has it resting: that, too, lasts until the state changes)."""
        session = self.session
        if session.state is self._state:
            return self._found
        found = session.triggers()
        waiting = resting_buy(session) if found.always else None
        if found.always and waiting is None and session.state.cycle.order is not None:
            self._state = None  # ALWAYS with an order the exchange has not matched yet: ask again next quote
            self._watch = None
            return found
        self._state, self._found = session.state, found if waiting is None else waiting
        self._watch = None if waiting is not None or found.always else peak_watch(session.config, session.state, found)
        self._levels = _float_levels(self._found)
        return self._found

    @staticmethod
    def _only_raises_peak(found: Triggers, quote: Quote) -> bool:
        """Trailing, a quote that meets no trigger but the peak's raises the peak and does nothing else
        (`_follow_peak` checks a new peak first; the stop lies below the peak, the safety order and
        the retry wait's end are not reached)."""
        return (found.bid_at_or_above is not None and quote.bid > found.bid_at_or_above
                and (found.ask_at_or_below is None or quote.ask > found.ask_at_or_below)
                and (found.at_time is None or quote.time < found.at_time))

    def _raise_peak(self, lo: int, hi: int) -> None:
        mid = self.bounds.highest_row(self.series, lo, hi)
        time = self.series.time(lo)  # the time plays no part in a quote's bid
        bid = quote_around(self.series.symbol, mid, time, self.spread_bps, self.price_increment).bid
        self.session.skipped_to_peak(bid)


def replay_fast(session: BacktestSession, series: BarSeries, spread_bps: Decimal,
                price_increment: Decimal) -> FastStats:
    """`dca.backtest.loop.replay_bars` over `series`, skipping the bars where nothing can happen."""
    replay = _Replay(session, series, spread_bps, price_increment)
    n, index, replayed = len(series), 0, 0
    while index < n:
        index = replay.next_bar(index)
        if index >= n:
            break
        bar_time = replay.replay_bar(index)
        if bar_time is not None:
            session.end_bar(index, bar_time)
        replayed += 1
        index += 1
    return FastStats(n, replayed)
