"""Readings of deal start conditions from one-minute bars: one evaluation for live trading and backtests.

`evaluate` turns a condition (`dca.conditions`) and one-minute closes into a `ConditionReading` at a
whole minute. Both drivers call it and hand the reading to the core as a `ConditionChecked` event:

* backtests (`SeriesReader`) read the run's own bar arrays;
* live (`StoredBarsReader`) reads `historical_1min_bars`, the table the BarsSync caretaker fills and
  backtests load from. Staleness is bounded by construction: a reading at minute M counts only when
  the bar of minute M − 1 is stored (`evaluate` says "waiting for the one-minute bar of ..."
  otherwise), so live never decides on older bars than a backtest would. When that bar is missing
  and the bot fetches bars (a bar fetcher is configured), the reader tops the table up itself through
  `app.bars.sync_symbol` (the caretaker's own code); the asset driver asks again on a quote at least
  `ASK_AGAIN_AFTER` later. Alpaca publishes a minute's bar a few seconds after
  the minute ends, so live readings usually hold from a few seconds into the minute.

Bit-identity: a reading depends only on the bars inside each indicator's fixed window (see
`app.indicators`), on float(Decimal) closes (correctly rounded, so the same Decimal gives the same
float whichever path read it) and on one float code path; tests/backtest/test_start_conditions.py
computes the same readings through both readers from the same bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from app.bars import sync_symbol
from app.indicators import bollinger, ema, sma, wilder_rsi, window
from dca.conditions import Close, Condition, ConditionReading, Indicator, IndicatorKind, Number, Operand, Timeframe
from dca.conditions import parse_condition as parse

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ASK_AGAIN_AFTER = timedelta(seconds=10)  # live: a reading still missing its last bar is asked again this late
REREAD = timedelta(minutes=10)  # live: the newest stored minutes are read again (a venue may revise them)

Reader = Callable[[str, datetime], ConditionReading]  # (condition text, as_of) → reading


def evaluate(condition: Condition, times: np.ndarray, closes: np.ndarray, as_of: datetime) -> ConditionReading:
    """`condition` at the whole minute `as_of` from one-minute bars (`times`: int64 seconds of each
    bar's open, ascending; `closes`: float64). Only bars that opened before `as_of` are read, and only
    those inside each indicator's fixed window, so any longer history gives the same bits."""
    moment = seconds_of(as_of)
    if moment % 60:
        raise ValueError(f"a reading is taken at a whole minute, not {as_of.isoformat()}")
    values = {operand.label: _value(operand, times, closes, moment) for operand in condition.operands()}
    shown = tuple(values.items())
    text, last_minute = condition.text, moment - 60
    position = int(np.searchsorted(times, last_minute, "left"))
    if position >= len(times) or int(times[position]) != last_minute:
        missing = EPOCH + timedelta(seconds=last_minute)
        return ConditionReading(text, as_of, False, shown, f"the one-minute bar of {missing:%H:%M}", complete=False)
    for comparison in condition.comparisons:
        left, right = _operand_value(comparison.left, values), _operand_value(comparison.right, values)
        if left is None or right is None:
            unknown = comparison.left if left is None else comparison.right
            return ConditionReading(text, as_of, False, shown, f"enough history for {unknown.label}")
        if not comparison.operator.holds(left, right):
            return ConditionReading(text, as_of, False, shown, comparison.label)
    return ConditionReading(text, as_of, True, shown)


def seconds_of(moment: datetime) -> int:
    return int((moment - EPOCH) // timedelta(seconds=1))


def _operand_value(operand: Operand, values: dict[str, float | None]) -> float | None:
    return float(operand.value) if isinstance(operand, Number) else values[operand.label]


def _value(operand: Close | Indicator, times: np.ndarray, closes: np.ndarray, moment: int) -> float | None:
    if isinstance(operand, Close):
        last = window(times, closes, moment, Timeframe.M1, 1)
        return float(last[-1]) if len(last) else None
    series = window(times, closes, moment, operand.timeframe, operand.periods)
    match operand.kind:
        case IndicatorKind.RSI:
            return wilder_rsi(series, operand.period)
        case IndicatorKind.SMA:
            return sma(series, operand.period)
        case IndicatorKind.EMA:
            return ema(series, operand.period)
    assert operand.k is not None
    bands = bollinger(series, operand.period, float(operand.k))
    if bands is None:
        return None
    lower, middle, upper = bands
    return {IndicatorKind.BB_LOWER: lower, IndicatorKind.BB_MIDDLE: middle, IndicatorKind.BB_UPPER: upper}[operand.kind]


class _Parsed:
    """Conditions by text, parsed once (a driver asks every minute)."""

    def __init__(self) -> None:
        self._by_text: dict[str, Condition] = {}

    def __call__(self, text: str) -> Condition:
        condition = self._by_text.get(text)
        if condition is None:
            condition = self._by_text[text] = parse(text)
        return condition


class SeriesReader:
    """Backtests: readings from the run's bar arrays (all of them; `evaluate` never looks ahead)."""

    def __init__(self, times: np.ndarray, closes: np.ndarray) -> None:
        self._times, self._closes = times, closes
        self._parsed = _Parsed()

    def __call__(self, text: str, as_of: datetime) -> ConditionReading:
        # the reading names the text it was asked for: the core matches it against the parameter as stored
        return replace(evaluate(self._parsed(text), self._times, self._closes, as_of), condition=text)


class StoredBarsReader:
    """Live: readings from `historical_1min_bars`, held in memory for the condition's lookback and
    read incrementally (the newest `REREAD` minutes again each time)."""

    def __init__(self, store: Any, asset_id: int, symbol: str, fetcher: Any = None) -> None:
        self._store, self._asset_id, self._symbol, self._fetcher = store, asset_id, symbol, fetcher
        self._parsed = _Parsed()
        self._times = np.empty(0, dtype=np.int64)
        self._closes = np.empty(0, dtype=np.float64)
        self._since: datetime | None = None  # the cache holds every stored bar from here up to its end
        self.top_up_errors = 0

    def __call__(self, text: str, as_of: datetime) -> ConditionReading:
        condition = self._parsed(text)
        self._load(as_of - condition.lookback, as_of)
        reading = evaluate(condition, self._times, self._closes, as_of)
        if not self._has(as_of - MINUTE) and self._top_up(as_of, condition.lookback):
            self._load(as_of - condition.lookback, as_of)
            reading = evaluate(condition, self._times, self._closes, as_of)
        return replace(reading, condition=text)

    def _has(self, minute: datetime) -> bool:
        moment = seconds_of(minute)
        position = int(np.searchsorted(self._times, moment, "left"))
        return position < len(self._times) and int(self._times[position]) == moment

    def _top_up(self, as_of: datetime, lookback: timedelta) -> bool:
        """Fetch the minutes after the newest stored bar up to `as_of`, reaching back as far as the
        condition reads (at least `REREAD`); True when it stored any. Reaching back only `REREAD`
        would leave a fresh table (or one a restart left behind) with a few minutes of history: the
        caretaker backfills only an empty table, so `rsi(14, 1h)` would wait days for its window."""
        if self._fetcher is None:
            return False
        latest = self._store.latest_time(self._asset_id)
        horizon = as_of - max(lookback, REREAD)
        start = max(latest + MINUTE, horizon) if latest is not None else horizon
        result = sync_symbol(self._fetcher, self._store, self._asset_id, self._symbol, start, as_of)
        if result.error:
            self.top_up_errors += 1
        return result.new > 0

    def _load(self, start: datetime, end: datetime) -> None:
        if self._since is None or start < self._since or not len(self._times):
            read_from = start
            keep = np.zeros(0, dtype=bool)
        else:
            read_from = max(EPOCH + timedelta(seconds=int(self._times[-1])) + MINUTE - REREAD, start)
            keep = (self._times >= seconds_of(start)) & (self._times < seconds_of(read_from))
        rows = list(self._store.iter_prices(self._asset_id, read_from, end))
        fresh_times = np.array([seconds_of(row[0]) for row in rows], dtype=np.int64)
        fresh_closes = np.array([float(row[4]) for row in rows], dtype=np.float64)
        self._times = np.concatenate((self._times[keep], fresh_times)) if len(keep) else fresh_times
        self._closes = np.concatenate((self._closes[keep], fresh_closes)) if len(keep) else fresh_closes
        self._since = start
