"""Indicators of deal start conditions, from one-minute closes: buckets, SMA, EMA, Wilder's RSI, Bollinger.

Why numpy and not TA-Lib or pandas-ta: the start condition must come out bit-identical live and in a
backtest, which needs one implementation that sees exactly the same numbers in both. What makes that
hold is the window: the values here depend only on bars inside a window fixed by time (see `window`),
never on how much history a caller happens to hold. TA-Lib would be deterministic on the same window
too, but it (like pandas-ta) seeds EMA and RSI at whatever array it is handed, so that discipline
would still be ours, and it brings a C library to every install and Docker image (pandas-ta: pandas
and a thinly maintained package) for five formulas of a few lines each. numpy's reductions used here
are deterministic for the same input, and the recursions are plain Python float loops (IEEE 754, one
operation order): the same bars give the same bits, live and in backtests.

Conventions (the same live and in backtests):

* Timeframes are UTC-aligned buckets of whole minutes since the epoch (a 4h bucket starts at 00:00,
  04:00, ...; a day at 00:00 UTC). A bucket's close is the close of its last one-minute bar.
* Only *complete* buckets count: at `as_of` (a whole minute), a bucket counts if it ended at or before
  `as_of`; the bucket still forming is left out, so an hourly RSI changes once an hour, at the top of
  the hour, and a backtest cannot see a bucket's end before it happened.
* An indicator of n periods looks at a fixed window of periods ending at `as_of` (n for SMA and
  Bollinger, `dca.conditions.WARMUP` × n for EMA and RSI, whose recursions start from an SMA seed at the window's
  start). A bucket without bars inside the window takes the previous bucket's close (forward fill);
  empty buckets at the window's start are dropped. Too few values → the indicator is unknown (None).
* Floats are fine here: indicators are not money. Prices come in as float(Decimal), correctly rounded.
"""

from __future__ import annotations

import numpy as np

from dca.conditions import Timeframe


def window(times: np.ndarray, closes: np.ndarray, as_of: int, timeframe: Timeframe, periods: int) -> np.ndarray:
    """The closes of the `periods` complete buckets of `timeframe` ending at or before `as_of` (int
    seconds since the epoch), forward-filled, leading empty buckets dropped, oldest first.

    `times` (int64 seconds, ascending, one-minute bar opens) and `closes` (float64) may hold any
    amount of history: only bars inside the window are read."""
    size = timeframe.seconds
    end = (as_of // size) * size  # the forming bucket starts here and is left out
    start = end - periods * size
    lo, hi = np.searchsorted(times, start, "left"), np.searchsorted(times, end, "left")
    if hi <= lo:
        return np.empty(0, dtype=np.float64)
    bucket = (times[lo:hi] - start) // size
    last_of_bucket = np.flatnonzero(np.append(np.diff(bucket) != 0, True))
    present, values = bucket[last_of_bucket], closes[lo:hi][last_of_bucket]
    # forward fill from the first present bucket: each slot takes the last present value at or before it
    slots = np.arange(present[0], periods)
    return values[np.searchsorted(present, slots, "right") - 1]


def sma(values: np.ndarray, n: int) -> float | None:
    if len(values) < n:
        return None
    return float(np.sum(values[-n:]) / n)


def ema(values: np.ndarray, n: int) -> float | None:
    """Seeded with the SMA of the first n values, then alpha = 2 / (n + 1)."""
    if len(values) < n:
        return None
    alpha = 2.0 / (n + 1)
    average = float(np.sum(values[:n]) / n)
    for value in values[n:].tolist():
        average = alpha * value + (1.0 - alpha) * average
    return average


def wilder_rsi(values: np.ndarray, n: int) -> float | None:
    """Wilder's RSI: average gain and loss seeded with the mean of the first n changes, then smoothed
    as avg = (avg × (n − 1) + change) / n. No losses → 100 (and no change at all → 50)."""
    if len(values) < n + 1:
        return None
    changes = np.diff(values)
    gains, losses = np.where(changes > 0, changes, 0.0), np.where(changes < 0, -changes, 0.0)
    gain, loss = float(np.sum(gains[:n]) / n), float(np.sum(losses[:n]) / n)
    for up, down in zip(gains[n:].tolist(), losses[n:].tolist(), strict=True):
        gain = (gain * (n - 1) + up) / n
        loss = (loss * (n - 1) + down) / n
    if loss == 0.0:
        return 50.0 if gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def bollinger(values: np.ndarray, n: int, k: float) -> tuple[float, float, float] | None:
    """(lower, middle, upper): the SMA of n closes ± k population standard deviations."""
    if len(values) < n:
        return None
    last = values[-n:]
    middle = float(np.sum(last) / n)
    deviation = float(np.sqrt(np.sum((last - middle) ** 2) / n))
    return middle - k * deviation, middle, middle + k * deviation
