"""Backtester speed: bars per second of the fast path and of the reference loop, side by side, on
asset-years of real 1-minute bars, with a check that both give identical results.

A year (525,600 bars) per asset is built from the real files in ../shared/data: the files of one
coin are chained end to end, each rescaled to start at the previous one's last close (so there is
no jump at a seam), re-timed to consecutive minutes and repeated until the year is full. Asset k of
the 20-asset run is coin k % 2 (BTC, ETH) started k × 26,280 bars into its year (a different market
path per asset), rescaled to the pair's reference price in the simulator's catalog and rounded to
its price increment, then traded with that pair's rules.

    .venv/bin/python bench/backtest_speed.py [--assets 20] [--params default|busy] [--data ../shared/data]

Timings are of the replay loop alone (the per-asset `RunOutcome.seconds`); loading is reported apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.sim.assets import AssetSpec, make_asset  # noqa: E402
from app.backtest.compare import differences  # noqa: E402
from app.backtest.metrics import curves, summarize  # noqa: E402
from app.backtest.runner import BacktestSetup, RunOutcome, run  # noqa: E402
from app.backtest.series import BarSeries  # noqa: E402
from app.backtest.venue import rules_of  # noqa: E402
from app.bars_csv import load_series  # noqa: E402
from dca.params import AssetConfig, AssetParams, FeeSchedule, OrderTiming, with_overrides  # noqa: E402

YEAR = 525_600
START = 1_735_689_600  # 2025-01-01T00:00Z
FILES = {
    "BTC": ["binanceus_BTC_USD-1m_2023-03.csv.gz", "binance_BTC_USDT-1m_2024-07.csv.gz",
            "binance_BTC_USDT-1m_2025-05.csv.gz", "binance_BTC_USDT-1m_2025-06.csv.gz",
            "binance_BTC_USDT-1m_2026-03.csv.gz"],
    "ETH": ["binance_ETH_USDT-1m_2024-07.csv.gz", "binance_ETH_USDT-1m_2025-05.csv.gz",
            "binance_ETH_USDT-1m_2025-06.csv.gz", "binance_ETH_USDT-1m_2026-03.csv.gz"],
}
PAIRS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD", "XRP/USD", "LTC/USD", "LINK/USD", "AVAX/USD", "BCH/USD",
         "DOT/USD", "UNI/USD", "AAVE/USD", "SHIB/USD", "PEPE/USD", "ADA/USD", "ATOM/USD", "NEAR/USD", "FIL/USD",
         "ARB/USD", "OP/USD"]
PARAMS = {
    "default": {},  # the dca_assets defaults: TP 2 %, trailing 1 %, 15 safety orders 0.9 % apart, 120 s cooldown
    "busy": {"base_order_amount": "50", "safety_order_amount": "50", "max_safety_orders": 5,  # the BTC demo asset
             "safety_order_deviation": "0.6", "take_profit_percent": "0.5", "ttp_enabled": True,
             "ttp_deviation_percent": "0.15", "cooldown_period": 300, "buy_order_price_deviation_percent": "0.5"},
}


def chained_year(data: Path, coin: str) -> np.ndarray:
    """(525,600, 4) float prices: the coin's files chained without jumps and repeated to a year."""
    segments = [load_series(data / name, f"{coin}/USD").ohlc for name in FILES[coin]]
    pieces, level, total = [], None, 0
    while total < YEAR:
        for prices in segments:
            scaled = prices * (level / prices[0, 0]) if level is not None else prices
            pieces.append(scaled)
            level, total = scaled[-1, 3], total + len(scaled)
    return np.concatenate(pieces)[:YEAR]


def asset_series(year: np.ndarray, spec: AssetSpec, shift: int) -> BarSeries:
    """The year started `shift` bars in, at the pair's reference price, on its price grid."""
    prices = np.roll(year, -shift, axis=0)
    prices = prices * (float(spec.price) / prices[0, 0])
    decimals = max(0, -spec.price_increment.as_tuple().exponent)  # type: ignore[operator]
    prices = np.round(prices, decimals)
    floor = float(spec.price_increment)
    prices = np.maximum(prices, floor)
    ohlc = np.column_stack([prices[:, 0], prices.max(axis=1), prices.min(axis=1), prices[:, 3]])
    times = START + 60 * np.arange(len(ohlc), dtype=np.int64)
    return BarSeries(spec.symbol, times, ohlc)  # floats rounded to ≤ 10 decimals: Decimal(repr(x)) is exact


def setup_for(spec: AssetSpec, overrides: dict[str, object]) -> BacktestSetup:
    config = AssetConfig(1, spec.symbol, "backtest-00000", with_overrides(AssetParams(), overrides),
                         rules_of(spec, Decimal(10)), FeeSchedule(), OrderTiming())
    return BacktestSetup(config, spec, Decimal(100_000), spec.spread_bps)


def same(fast: RunOutcome, reference: RunOutcome) -> bool:
    return not differences(fast, reference) and bool(np.array_equal(curves(fast).equity, curves(reference).equity))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--params", choices=list(PARAMS), default="default")
    parser.add_argument("--data", type=Path, default=next((p / "shared" / "data" for p in ROOT.parents
                                                           if (p / "shared" / "data").is_dir()), Path("shared/data")))
    args = parser.parse_args()
    started = time.perf_counter()
    years = {coin: chained_year(args.data, coin) for coin in FILES}
    print(f"loaded and chained {sum(len(FILES[c]) for c in FILES)} files into 2 coin-years in "
          f"{time.perf_counter() - started:.2f} s")
    print(f"parameters: {args.params} {PARAMS[args.params] or '(dca_assets defaults)'}\n")
    header = f"{'asset':<10} {'bars':>8} {'replayed':>9} {'cycles':>6} {'fast s':>7} {'fast bars/s':>12} " \
             f"{'ref s':>7} {'ref bars/s':>11} {'identical':>9}"
    print(header)
    print("-" * len(header))
    totals = {"bars": 0, "fast": 0.0, "reference": 0.0}
    all_same = True
    for k in range(args.assets):
        spec = make_asset(PAIRS[k % len(PAIRS)])
        series = asset_series(years["BTC" if k % 2 == 0 else "ETH"], spec, k * 26_280)
        run_setup = setup_for(spec, PARAMS[args.params])
        fast = run(run_setup, series, fast=True)
        reference = run(run_setup, series, fast=False)
        identical = same(fast, reference)
        all_same &= identical
        totals["bars"] += len(series)
        totals["fast"] += fast.seconds
        totals["reference"] += reference.seconds
        cycles = summarize(fast).cycles_completed
        n = len(series)
        print(f"{spec.symbol:<10} {n:>8,} {fast.replayed:>9,} {cycles:>6} {fast.seconds:>7.3f} "
              f"{n / fast.seconds:>12,.0f} {reference.seconds:>7.2f} {n / reference.seconds:>11,.0f} "
              f"{'yes' if identical else 'NO':>9}", flush=True)
    bars = totals["bars"]
    print("-" * len(header))
    print(f"{'all':<10} {bars:>8,} {'':>9} {'':>6} {totals['fast']:>7.3f} {bars / totals['fast']:>12,.0f} "
          f"{totals['reference']:>7.2f} {bars / totals['reference']:>11,.0f} {'yes' if all_same else 'NO':>9}")
    print(f"\nfast path {totals['reference'] / totals['fast']:.0f}× the reference loop; one asset-year takes "
          f"{totals['fast'] / args.assets:.3f} s on average (target ≤ 0.5 s, ≥ 1,000,000 bars/s)")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
