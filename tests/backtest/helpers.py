"""Synthetic markets and small setups for the backtester's tests (never the real data in ../shared)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from adapters.sim.assets import AssetSpec
from app.backtest.runner import BacktestSetup
from app.backtest.series import BarSeries
from app.backtest.venue import rules_of
from dca.market import Bar, Quote
from dca.params import AssetConfig, AssetParams, FeeSchedule, OrderTiming, with_overrides

T0 = datetime(2025, 3, 1, tzinfo=UTC)
SYMBOL = "BTC/USD"
# A pair priced near 100 on a cent grid: easy numbers in scenario tests
CENT_PAIR = AssetSpec(symbol=SYMBOL, name="test pair", price=Decimal(100), price_increment=Decimal("0.01"),
                      min_trade_increment=Decimal("0.000000001"), min_order_size=Decimal("0.000000001"),
                      annual_volatility=0.5, spread_bps=Decimal(10), market_loading=0.8)
QUICK = {"base_order_amount": "20", "safety_order_amount": "20", "max_safety_orders": 3,
         "safety_order_deviation": "1", "take_profit_percent": "1", "ttp_enabled": False, "cooldown_period": 60,
         "buy_order_price_deviation_percent": "0.5"}


def setup(spec: AssetSpec = CENT_PAIR, cash: str = "100000", spread_bps: str | None = None,
          timing: OrderTiming | None = None, **params: Any) -> BacktestSetup:
    config = AssetConfig(1, spec.symbol, "backtest-00000", with_overrides(AssetParams(), {**QUICK, **params}),
                         rules_of(spec, Decimal(10)), FeeSchedule(Decimal(15), Decimal(25)),
                         timing or OrderTiming())
    return BacktestSetup(config, spec, Decimal(cash), spec.spread_bps if spread_bps is None else Decimal(spread_bps))


def quote(bid: str, ask: str, seconds: float, symbol: str = SYMBOL) -> Quote:
    return Quote(symbol, Decimal(bid), Decimal(ask), T0 + timedelta(seconds=seconds))


def random_bars(seed: int, n: int, price: float = 100.0, volatility: float = 0.0015, decimals: int = 2,
                symbol: str = SYMBOL, start: datetime = T0, heavy_tails: bool = False,
                reversion: float = 0.002) -> list[Bar]:
    """A seeded, mean-reverting random walk of 1-minute bars on a `decimals` grid (o/h/l/c consistent)."""
    rng = np.random.default_rng(seed)
    shocks = rng.standard_t(3, n) / np.sqrt(3) if heavy_tails else rng.standard_normal(n)
    scale = np.exp(np.cumsum(rng.normal(0, 0.05, n))) if heavy_tails else np.ones(n)  # volatility clustering
    steps = shocks * volatility * np.clip(scale, 0.2, 5)
    level = np.empty(n)  # log price, pulled back towards the start so that cycles complete
    x = 0.0
    for i in range(n):
        x += steps[i] - reversion * x
        level[i] = x
    closes = price * np.exp(level)
    opens = np.concatenate(([price], closes[:-1]))
    if heavy_tails:  # gaps between one bar's close and the next bar's open
        opens = opens * np.exp(rng.normal(0, volatility / 4, n))
    wick = np.abs(rng.normal(0, volatility / 2, (2, n)))
    highs = np.maximum(opens, closes) * (1 + wick[0])
    lows = np.minimum(opens, closes) * (1 - wick[1])
    bars = []
    for i in range(n):
        o, h, low, c = (_decimal(v, decimals) for v in (opens[i], highs[i], lows[i], closes[i]))
        bars.append(Bar(symbol, start + timedelta(minutes=i), o, max(o, h, low, c), min(o, h, low, c), c))
    return bars


def series_of(bars: list[Bar]) -> BarSeries:
    return BarSeries.from_bars(bars[0].symbol, bars)


def write_csv(path: Path, bars: list[Bar], gzip_it: bool = False) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{b.time.strftime('%Y-%m-%dT%H:%M:%SZ')},{b.open},{b.high},{b.low},{b.close},{b.volume}" for b in bars]
    text = "\n".join(lines) + "\n"
    if gzip_it:
        import gzip

        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _decimal(value: float, decimals: int) -> Decimal:
    return Decimal(f"{value:.{decimals}f}")
