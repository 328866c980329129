"""The market the exchange sees: synthetic pairs and replayed pairs, quote by quote, plus the trades
and minute bars derived from them.

Two ways to move it:
* `quotes_until(moment)`: every tick (and replay quote) up to `moment`, for the real-time pacer;
* `next_quotes(symbol)`: the next quote of one pair (or of every pair), for lockstep tests. Each
  pair's quote sequence is the same however the calls interleave (quotes are buffered per pair).

A replayed pair continues synthetically from its last replayed price once its bars run out.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.sim.assets import AssetCatalog
from adapters.sim.history import SyntheticHistory
from adapters.sim.market import SyntheticMarket
from adapters.sim.replay import ReplaySource
from dca.market import Quote

TWO = Decimal(2)
MAX_CATCHUP_QUOTES = 20_000


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    price: Decimal
    size: Decimal
    time: datetime
    id: int
    taker_side: str  # "B" or "S"


@dataclass(slots=True)
class MinuteBar:
    symbol: str
    time: datetime  # the minute it opens
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int
    vwap: float

    def add(self, price: float, size: float) -> None:
        self.high, self.low, self.close = max(self.high, price), min(self.low, price), price
        total = self.volume + size
        if total > 0:
            self.vwap = (self.vwap * self.volume + price * size) / total
        self.volume, self.trade_count = total, self.trade_count + 1


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class BarRecorder:
    """Minute bars built from the live trades, kept for `retention` minutes per pair."""

    def __init__(self, retention: int) -> None:
        self._open: dict[str, MinuteBar] = {}
        self._done: dict[str, deque[MinuteBar]] = {}
        self._retention = retention

    def record(self, trade: Trade) -> MinuteBar | None:
        """Add a trade; returns the previous minute's bar when this trade opens a new minute."""
        minute, price, size = minute_of(trade.time), float(trade.price), float(trade.size)
        current = self._open.get(trade.symbol)
        if current is not None and current.time == minute:
            current.add(price, size)
            return None
        self._open[trade.symbol] = MinuteBar(trade.symbol, minute, price, price, price, price, size, 1, price)
        if current is not None:
            self.append(current)
        return current

    def append(self, bar: MinuteBar) -> None:
        self._done.setdefault(bar.symbol, deque(maxlen=self._retention)).append(bar)

    def latest(self, symbol: str) -> MinuteBar | None:
        done = self._done.get(symbol)
        return done[-1] if done else self._open.get(symbol)

    def completed(self, symbol: str, start: datetime, end: datetime) -> list[MinuteBar]:
        done = list(self._done.get(symbol, ()))
        times = [bar.time for bar in done]
        return done[bisect.bisect_left(times, start) : bisect.bisect_right(times, end)]

    def first_time(self, symbol: str) -> datetime | None:
        done = self._done.get(symbol)
        return done[0].time if done else None


class MarketFeed:
    def __init__(
        self,
        catalog: AssetCatalog,
        history: SyntheticHistory,
        seed: int,
        start: datetime,
        tick: timedelta,
        replays: dict[str, ReplaySource] | None = None,
        bar_retention_minutes: int = 10_080,
        max_catchup_ticks: int = 600,
    ) -> None:
        self.catalog, self.history, self.tick = catalog, history, tick
        self.start = start
        self.replays = dict(replays or {})  # the pairs still replaying
        self.replay_sources = dict(self.replays)  # every replayed pair, also after its bars ran out
        for source in self.replays.values():
            source.skip_to(start)
        start_prices = {spec.symbol: history.price_at(spec, start) for spec in catalog}
        for symbol, source in self.replays.items():
            if source.peek_time() is not None:
                start_prices[symbol] = float(source.bars[0].open)
        self.market = SyntheticMarket(list(catalog), seed, start_prices)
        self.recorder = BarRecorder(bar_retention_minutes)
        self.latest_quotes: dict[str, Quote] = {}
        self.latest_trades: dict[str, Trade] = {}
        self._next_tick = start  # the first tick is the start itself
        self._buffers: dict[str, deque[Quote]] = {symbol: deque() for symbol in catalog.symbols}
        self._trade_ids = itertools.count(1)
        # bound the work of one pacer round, so a lagging pacer never starves the server's event loop
        self._max_catchup = max(1, min(max_catchup_ticks, MAX_CATCHUP_QUOTES // max(1, len(catalog))))

    @property
    def next_tick(self) -> datetime:
        return self._next_tick

    def replaying(self, symbol: str) -> bool:
        source = self.replays.get(symbol)
        if source is None:
            return False
        if source.exhausted:  # hand the pair over to the synthetic market at its last replayed mid
            last = self.latest_quotes.get(symbol)
            if last is not None:
                self.market.set_mid(symbol, float((last.bid + last.ask) / TWO))
                self._next_tick = max(self._next_tick, last.time + self.tick)
            del self.replays[symbol]
            return False
        return True

    # ------------------------------------------------------------------ real-time pacing

    def quotes_until(self, moment: datetime) -> list[Quote]:
        """Every quote due up to `moment`, in time order. When the pacer has fallen more than
        `max_catchup_ticks` behind, the gap is bridged with one long step instead of many short ones."""
        quotes: list[Quote] = []
        behind = (moment - self._next_tick) / self.tick
        if behind > self._max_catchup:
            gap = (moment - self._next_tick).total_seconds() + self.tick.total_seconds()
            quotes.extend(self._synthetic(moment, gap))
            self._next_tick = moment + self.tick
        while self._next_tick <= moment:
            quotes.extend(self._synthetic(self._next_tick, self.tick.total_seconds()))
            self._next_tick += self.tick
        for symbol, source in list(self.replays.items()):
            quotes.extend(source.quotes_through(moment))
            self.replaying(symbol)
        quotes.sort(key=lambda quote: quote.time)
        return quotes

    def _synthetic(self, moment: datetime, dt: float) -> list[Quote]:
        return [quote for quote in self.market.step(moment, dt) if not self.replaying(quote.symbol)]

    # ------------------------------------------------------------------ lockstep pacing

    def next_quotes(self, symbol: str | None = None, not_before: datetime | None = None) -> list[Quote]:
        """The next quote of `symbol` (canonical), or of every pair. Synthetic quotes are never stamped
        before `not_before` (the simulated now), so time only moves forward for the engine."""
        symbols = [symbol] if symbol is not None else self.catalog.symbols
        if not_before is not None and self._next_tick <= not_before:
            self._next_tick = not_before + self.tick
        quotes = []
        for name in symbols:
            source = self.replays.get(name)
            if source is not None and self.replaying(name):
                quote = source.next_quote()
                self.replaying(name)
                if quote is not None:
                    quotes.append(quote)
                    continue
            if not self._buffers[name]:
                for fresh in self.market.step(self._next_tick, self.tick.total_seconds()):
                    if not self.replaying(fresh.symbol):
                        self._buffers[fresh.symbol].append(fresh)
                self._next_tick += self.tick
            if self._buffers[name]:
                quote = self._buffers[name].popleft()
                if not_before is not None and quote.time < not_before:  # buffered while others moved on
                    quote = replace(quote, time=not_before)
                quotes.append(quote)
        return quotes

    # ------------------------------------------------------------------ derived data

    def observe(self, quote: Quote) -> tuple[Trade, MinuteBar | None]:
        """Record `quote` as current; returns the trade it implies and any minute bar it completes."""
        previous = self.latest_quotes.get(quote.symbol)
        self.latest_quotes[quote.symbol] = quote
        rising = previous is None or quote.bid + quote.ask >= previous.bid + previous.ask
        size = min(quote.bid_size, quote.ask_size) / 10 or Decimal("0.001")
        trade = Trade(
            quote.symbol,
            quote.ask if rising else quote.bid,
            Decimal(f"{size:.6g}"),
            quote.time,
            next(self._trade_ids),
            "B" if rising else "S",
        )
        self.latest_trades[quote.symbol] = trade
        completed = self.recorder.record(trade)
        source = self.replay_sources.get(quote.symbol)
        if completed is not None and source is not None:
            completed = self._replayed_bar(source, completed)
        return trade, completed

    def _replayed_bar(self, source: ReplaySource, recorded: MinuteBar) -> MinuteBar:
        """A replayed pair's completed minute is the stored bar itself, not one rebuilt from quotes."""
        bars = source.bars_between(recorded.time, recorded.time)
        if not bars:
            return recorded
        bar = bars[0]
        extras = source.extras.get(bar.time)
        recorded.open, recorded.high, recorded.low = float(bar.open), float(bar.high), float(bar.low)
        recorded.close, recorded.volume = float(bar.close), float(bar.volume)
        if extras is not None:
            recorded.trade_count = extras.trade_count or recorded.trade_count
            recorded.vwap = extras.vwap or recorded.vwap
        return recorded

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        return {"market": self.market.export_state(), "next_tick": self._next_tick.isoformat()}

    def import_state(self, state: dict[str, Any]) -> None:
        self.market.import_state(state["market"])
        self._next_tick = datetime.fromisoformat(state["next_tick"])
