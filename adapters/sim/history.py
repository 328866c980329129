"""Deterministic synthetic 1-minute bars for any past day: same seed, symbol and day → same bars.

Nothing is stored and nothing depends on when or in which pages a range is asked for:

* The price at each UTC midnight is `log P0 + Σ_j a_j · noise_j(day)`, a sum of piecewise-linear
  "value noise" octaves with knots every 2^j days (j = 0…6) and amplitudes ∝ 2^(j/2) (halved for
  j ≥ 4), each knot a hash of (seed, pair, j, knot). Locally it moves like a random walk with the
  pair's daily volatility; over months it wanders about ±10-20 % (1σ) around the reference price, so
  levels stay near the real ones.
* Inside a day the log price is a Brownian bridge between two midnights, with hourly volatility
  multipliers and a common market factor shared by all pairs (so pairs are correlated), drawn from
  numpy generators seeded by (seed, pair, day) and (seed, day).
* Each minute's high/low extend beyond open/close by a half-normal wick; volume is log-normal around
  $20k a minute, trade count ≈ notional / $1,500, vwap = (h + l + c) / 3.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import numpy as np

from adapters.sim.assets import AssetSpec

MINUTES_PER_DAY = 1440
EPOCH = date(1970, 1, 1)
OCTAVES = 7
MINUTE_NOTIONAL_USD = 20_000.0


def _stable_hash(*parts: object) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _gauss(*parts: object) -> float:
    """A standard normal number fixed by `parts` (Box-Muller on two hashed uniforms)."""
    value = _stable_hash(*parts)
    u1 = ((value >> 32) + 0.5) / 2**32
    u2 = ((value & 0xFFFFFFFF) + 0.5) / 2**32
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


@dataclass(frozen=True, slots=True)
class DayBars:
    """The 1,440 minute bars of one pair on one UTC day, as float arrays."""

    day: date
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    trade_count: np.ndarray
    vwap: np.ndarray


class SyntheticHistory:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._scale: dict[str, float] = {}
        self.day_bars = lru_cache(maxsize=512)(self._day_bars)

    def rescale(self, symbol: str, factor: float) -> None:
        """Multiply a pair's synthetic prices (to meet replayed bars where they begin)."""
        self._scale[symbol] = factor
        self.day_bars.cache_clear()

    def price_at(self, spec: AssetSpec, moment: datetime) -> float:
        """The open of the minute containing `moment`."""
        bars = self.day_bars(spec, moment.astimezone(UTC).date())
        minute = moment.hour * 60 + moment.minute
        return float(bars.open[minute])

    def _log_anchor(self, spec: AssetSpec, day_index: int) -> float:
        daily_sigma = spec.annual_volatility / math.sqrt(365)
        level = math.log(float(spec.price))
        for j in range(OCTAVES):
            span = 2**j
            knot, offset = divmod(day_index, span)
            left = _gauss(self.seed, spec.symbol, j, knot)
            right = _gauss(self.seed, spec.symbol, j, knot + 1)
            damp = 1.0 if j < 4 else 0.5  # weaker slow octaves keep levels near the reference
            level += damp * daily_sigma / 2 * 2 ** (j / 2) * (left + (right - left) * offset / span)
        return level

    def _day_bars(self, spec: AssetSpec, day: date) -> DayBars:
        index = (day - EPOCH).days
        start, end = self._log_anchor(spec, index), self._log_anchor(spec, index + 1)
        pair_rng = np.random.Generator(np.random.PCG64([self.seed, _stable_hash(spec.symbol), index]))
        market_rng = np.random.Generator(np.random.PCG64([self.seed, 0xC0FFEE, index]))
        hourly = np.exp(0.35 * market_rng.standard_normal(24) + 0.2 * pair_rng.standard_normal(24))
        per_minute = np.repeat(hourly, 60) / np.sqrt(np.mean(hourly**2))
        rho = spec.market_loading
        common = market_rng.standard_normal(MINUTES_PER_DAY)
        shocks = rho * common + math.sqrt(1 - rho**2) * pair_rng.standard_normal(MINUTES_PER_DAY)
        sigma = spec.annual_volatility / math.sqrt(365 * MINUTES_PER_DAY)
        walk = np.cumsum(sigma * per_minute * shocks)
        t = np.arange(1, MINUTES_PER_DAY + 1) / MINUTES_PER_DAY
        closes = start + t * (end - start) + walk - t * walk[-1]
        opens = np.concatenate(([start], closes[:-1]))
        wick = np.abs(pair_rng.standard_normal((2, MINUTES_PER_DAY))) * 0.4 * sigma * per_minute
        scale = self._scale.get(spec.symbol, 1.0)
        o, c = np.exp(opens) * scale, np.exp(closes) * scale
        h = np.exp(np.maximum(opens, closes) + wick[0]) * scale
        low = np.exp(np.minimum(opens, closes) - wick[1]) * scale
        o, h, low, c = (_on_grid(x, spec) for x in (o, h, low, c))
        notional = MINUTE_NOTIONAL_USD * np.exp(0.7 * pair_rng.standard_normal(MINUTES_PER_DAY)) * per_minute
        volume = np.round(notional / c, 8)
        trade_count = np.maximum(1, np.round(notional / 1500)).astype(np.int64)
        vwap = np.round((h + low + c) / 3, 10)
        return DayBars(day, o, h, low, c, volume, trade_count, vwap)


def _on_grid(prices: np.ndarray, spec: AssetSpec) -> np.ndarray:
    increment = float(spec.price_increment)
    return np.maximum(np.round(prices / increment), 1) * increment


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
