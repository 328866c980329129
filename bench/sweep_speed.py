"""Sweep speed in one process: CPU seconds per parameter set on one asset-year, with every set's
row (what sweep.json holds) checked against the full replay loop's.

The asset-year is bench/backtest_process.py's (525,600 real BTC minutes from ../shared/data,
rounded to cents, read through the same cache copy as `supervisor.py backtest`), traded as BTC/USD
with the catalog's rules and $10,000, as `backtest --sweep` would. Each set runs
`app.backtest.sweep.run_point` (the fast path plus the figures) and is timed in CPU seconds of this
process (`time.process_time`, steadier than wall time on a shared machine); `--reference N` also
runs the first N sets through the full loop (every bar, every quote) and requires identical rows
(all but `bars_replayed`).

    .venv/bin/python bench/sweep_speed.py [--reference 2] [--work /tmp/backtest-bench]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from backtest_process import year_file  # noqa: E402

from app.backtest.inputs import setup_for  # noqa: E402
from app.backtest.sweep import run_point  # noqa: E402
from app.bars_csv import load_series  # noqa: E402
from config.settings import load_settings  # noqa: E402
from dca.params import AssetParams  # noqa: E402
from wiring.settings_maps import backtest_terms  # noqa: E402

GRID = {  # 4 × 3 × 2 = 24 sets: take-profit, safety spacing, trailing on/off
    "take_profit_percent": ["0.5", "1", "1.5", "2"],
    "safety_order_deviation": ["0.5", "0.9", "1.5"],
    "ttp_enabled": ["true", "false"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=int, default=2, help="sets also run through the full loop")
    parser.add_argument("--work", type=Path, default=Path("/tmp/backtest-bench"))
    parser.add_argument("--data", type=Path, default=next((p / "shared" / "data" for p in ROOT.parents
                                                           if (p / "shared" / "data").is_dir()), Path("shared/data")))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    series = load_series(year_file(args.work, args.data), "BTC/USD")
    setup = setup_for("BTC/USD", AssetParams(), {}, backtest_terms(load_settings(env_file=None)), Decimal(10_000),
                      None)
    points = [dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())]
    print(f"{len(series):,} bars; {len(points)} sets; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    run_point([setup], [series], points[0])  # the per-series work (quote bounds) is done once, here
    rows, spent = [], 0.0
    for point in points:
        started = time.process_time()
        rows.append(run_point([setup], [series], point))
        spent += time.process_time() - started
    replayed = sum(row["bars_replayed"] for row in rows) / len(rows)
    print(f"fast path: {spent / len(points):.3f} CPU s per set = {len(points) / spent:.1f} sets/s per core "
          f"({replayed:,.0f} of {len(series):,} bars replayed per set on average)")
    for point, row in zip(points[:args.reference], rows, strict=False):
        started = time.process_time()
        reference = run_point([setup], [series], point, fast=False)
        seconds = time.process_time() - started
        same = {k: v for k, v in row.items() if k != "bars_replayed"} == \
               {k: v for k, v in reference.items() if k != "bars_replayed"}
        print(f"full loop, {point}: {seconds:.2f} CPU s; rows identical: {'yes' if same else 'NO'}")
        if not same:
            return 1
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
