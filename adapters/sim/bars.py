"""Historical bars for `/v1beta3/crypto/us/bars`: any timeframe, any past range, paginated.

Minute bars come from three places, in this order of preference:
* minutes since the simulation started: the bars recorded from the live quotes (`BarRecorder`);
* a replayed pair's stored bars, where they cover the minute;
* everything else: `SyntheticHistory`, deterministic in (seed, pair, day).
Bars never reach past the simulated now (no look-ahead). Longer timeframes aggregate minute bars,
aligned to UTC: minutes/hours to multiples since midnight, days at 00:00, weeks on Monday, months on
the 1st (2-, 3-, 6- and 12-month bars start in January).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adapters.sim.assets import AssetSpec, make_asset
from adapters.sim.exchange import Exchange
from adapters.sim.history import MINUTES_PER_DAY, day_start
from adapters.sim.wire import rfc3339

ONE_MINUTE = timedelta(minutes=1)
MAX_LIMIT = 10_000
Row = tuple[datetime, float, float, float, float, float, int, float]  # t o h l c v n vw

_TIMEFRAME = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")
_UNITS = {"T": "Min", "H": "Hour", "D": "Day", "W": "Week", "M": "Month"}
_ALLOWED = {"Min": range(1, 60), "Hour": range(1, 24), "Day": (1,), "Week": (1,), "Month": (1, 2, 3, 6, 12)}


class BadRequest(ValueError):
    """A market-data 400; the message is the whole error body (`{"message": ...}`)."""


@dataclass(frozen=True, slots=True)
class TimeFrame:
    amount: int
    unit: str

    def bucket(self, moment: datetime) -> datetime:
        """The start of the bar containing `moment`."""
        if self.unit in ("Min", "Hour"):
            size = self.amount * (60 if self.unit == "Hour" else 1)
            minute = moment.hour * 60 + moment.minute
            return day_start(moment.date()) + timedelta(minutes=minute - minute % size)
        day = moment.date()
        if self.unit == "Day":
            return day_start(day)
        if self.unit == "Week":
            return day_start(day - timedelta(days=day.weekday()))
        month = (moment.month - 1) // self.amount * self.amount + 1
        return datetime(moment.year, month, 1, tzinfo=UTC)


def parse_timeframe(text: str) -> TimeFrame:
    match = _TIMEFRAME.match(text or "")
    if not match:
        raise BadRequest(f"invalid timeframe: {text}")
    amount, unit = int(match.group(1)), _UNITS.get(match.group(2), match.group(2))
    if amount not in _ALLOWED[unit]:
        raise BadRequest(f"invalid timeframe: {text}")
    return TimeFrame(amount, unit)


def parse_rfc3339(name: str, text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        # an unencoded "+00:00" arrives as " 00:00" in a query string
        moment = datetime.fromisoformat(text.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid format for parameter {name}: error parsing '{text}' as RFC3339") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def encode_token(symbol: str, moment: datetime) -> str:
    return base64.urlsafe_b64encode(json.dumps([symbol, moment.isoformat()]).encode()).decode()


def decode_token(token: str) -> tuple[str, datetime]:
    try:
        symbol, moment = json.loads(base64.urlsafe_b64decode(token.encode()))
        return symbol, datetime.fromisoformat(moment)
    except (ValueError, TypeError):
        raise BadRequest("invalid page_token") from None


def bar_json(row: Row, decimals: int) -> dict[str, Any]:
    t, o, h, low, c, v, n, vw = row
    decimals += 4  # clean float noise of synthetic prices; keep replayed prices as they were
    return {
        "t": rfc3339(t).replace(".000000Z", "Z"),  # type: ignore[union-attr]
        "o": round(o, decimals),
        "h": round(h, decimals),
        "l": round(low, decimals),
        "c": round(c, decimals),
        "v": round(v, 9),
        "n": int(n),
        "vw": round(vw, decimals + 4),
    }


def price_decimals(spec: AssetSpec) -> int:
    exponent = spec.price_increment.normalize().as_tuple().exponent
    return max(0, -int(exponent))


class BarQuery:
    """Answers bar requests for one exchange."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def page(
        self,
        symbols: list[str],
        timeframe: TimeFrame,
        start: datetime,
        end: datetime,
        limit: int,
        descending: bool,
        page_token: str | None,
    ) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
        """One page: at most `limit` bars across all symbols (in symbol order), and the token of the next."""
        resume_symbol, resume_time = decode_token(page_token) if page_token else (None, None)
        ordered = sorted(symbols)
        if resume_symbol is not None:
            ordered = [symbol for symbol in ordered if symbol >= resume_symbol]
        result: dict[str, list[dict[str, Any]]] = {}
        taken = 0
        for symbol in ordered:
            spec = self.exchange.catalog.find(symbol) or make_asset(symbol)  # history for any pair
            low, high = start, end
            if symbol == resume_symbol and resume_time is not None:
                low, high = (low, resume_time) if descending else (resume_time, high)
            decimals = price_decimals(spec)
            for row in self._rows(spec, timeframe, low, high, descending):
                if taken == limit:
                    return result, encode_token(symbol, row[0])
                result.setdefault(symbol, []).append(bar_json(row, decimals))
                taken += 1
        return result, None

    def _rows(
        self, spec: AssetSpec, timeframe: TimeFrame, start: datetime, end: datetime, descending: bool
    ) -> Iterator[Row]:
        rows = self._aggregated(spec, timeframe, start, end, self.exchange.clock.now() - ONE_MINUTE)
        return reversed(list(rows)) if descending else rows

    def _aggregated(
        self, spec: AssetSpec, timeframe: TimeFrame, start: datetime, end: datetime, cap: datetime
    ) -> Iterator[Row]:
        """Bars that begin in [start, end], each built from its minutes up to `cap` (the last
        completed minute), so the bar in progress is partial, as on Alpaca."""
        if timeframe == TimeFrame(1, "Min"):
            yield from self._minutes(spec, start, min(end, cap))
            return
        first = timeframe.bucket(start)
        if first < start:
            first = first + _bucket_length(timeframe, first)
        last = timeframe.bucket(end)
        until = min(last + _bucket_length(timeframe, last) - ONE_MINUTE, cap)
        if until < first:
            return
        daily = timeframe.unit in ("Day", "Week", "Month") and spec.symbol not in self.exchange.replay_sources
        rows = self._day_rows(spec, first, until) if daily else self._minutes(spec, first, until)
        current: list[Row] = []
        for row in rows:
            if current and timeframe.bucket(row[0]) != timeframe.bucket(current[0][0]):
                yield _combine(timeframe.bucket(current[0][0]), current)
                current = []
            current.append(row)
        if current:
            yield _combine(timeframe.bucket(current[0][0]), current)

    def _synthetic_until(self, spec: AssetSpec) -> datetime:
        """Minutes before this come from history (or replay); from here on from the live recorder."""
        first = self.exchange.feed.recorder.first_time(spec.symbol)
        return first if first is not None else self.exchange.live_start

    def _minutes(self, spec: AssetSpec, start: datetime, end: datetime) -> Iterator[Row]:
        boundary = self._synthetic_until(spec)
        replay = self.exchange.replay_sources.get(spec.symbol)
        day = start.date()
        while day_start(day) <= min(end, boundary - ONE_MINUTE):
            low = max(start, day_start(day))
            high = min(end, boundary - ONE_MINUTE, day_start(day) + timedelta(minutes=MINUTES_PER_DAY - 1))
            yield from self._history_minutes(spec, day, low, high, replay)
            day += timedelta(days=1)
        for bar in self.exchange.feed.recorder.completed(spec.symbol, max(start, boundary), end):
            yield (bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trade_count, bar.vwap)

    def _history_minutes(
        self, spec: AssetSpec, day: date, low: datetime, high: datetime, replay: Any
    ) -> Iterator[Row]:
        replayed = {}
        if replay is not None:
            for bar in replay.bars_between(low, high):
                extras = replay.extras.get(bar.time)
                price = float(bar.close)
                replayed[bar.time] = (
                    bar.time,
                    float(bar.open),
                    float(bar.high),
                    float(bar.low),
                    price,
                    float(bar.volume),
                    (extras.trade_count if extras and extras.trade_count else 1),
                    (extras.vwap if extras and extras.vwap else price),
                )
        bars = self.exchange.history.day_bars(spec, day)
        base = day_start(day)
        first = int((low - base).total_seconds() // 60)
        last = int((high - base).total_seconds() // 60)
        columns = [
            getattr(bars, name)[first : last + 1].tolist()
            for name in ("open", "high", "low", "close", "volume", "trade_count", "vwap")
        ]
        for offset, values in enumerate(zip(*columns, strict=True)):
            moment = base + timedelta(minutes=first + offset)
            yield replayed.get(moment) or (moment, *values)  # type: ignore[misc]

    def _day_rows(self, spec: AssetSpec, start: datetime, end: datetime) -> Iterator[Row]:
        """Whole synthetic days as one row each (the fast path for daily and longer bars)."""
        boundary = self._synthetic_until(spec)
        day = start.date()
        while day_start(day) <= end:
            begin = day_start(day)
            if begin + timedelta(days=1) <= boundary:
                bars = self.exchange.history.day_bars(spec, day)
                volume = float(bars.volume.sum())
                vwap = float((bars.vwap * bars.volume).sum() / volume) if volume else float(bars.close[-1])
                yield (
                    begin,
                    float(bars.open[0]),
                    float(bars.high.max()),
                    float(bars.low.min()),
                    float(bars.close[-1]),
                    volume,
                    int(bars.trade_count.sum()),
                    vwap,
                )
            else:
                rows = list(self._minutes(spec, begin, min(end, begin + timedelta(days=1) - ONE_MINUTE)))
                if rows:
                    yield _combine(begin, rows)
            day += timedelta(days=1)


def _bucket_length(timeframe: TimeFrame, bucket: datetime) -> timedelta:
    if timeframe.unit == "Min":
        return timedelta(minutes=timeframe.amount)
    if timeframe.unit == "Hour":
        return timedelta(hours=timeframe.amount)
    if timeframe.unit == "Day":
        return timedelta(days=1)
    if timeframe.unit == "Week":
        return timedelta(days=7)
    month = bucket.month - 1 + timeframe.amount
    return datetime(bucket.year + month // 12, month % 12 + 1, 1, tzinfo=UTC) - bucket


def _combine(bucket: datetime, rows: list[Row]) -> Row:
    volume = sum(row[5] for row in rows)
    vwap = sum(row[7] * row[5] for row in rows) / volume if volume else rows[-1][4]
    return (
        bucket,
        rows[0][1],
        max(row[2] for row in rows),
        min(row[3] for row in rows),
        rows[-1][4],
        volume,
        sum(row[6] for row in rows),
        vwap,
    )
