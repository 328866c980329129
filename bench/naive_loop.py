"""The baseline `bench/backtest_process.py` holds the backtester to: a naive per-bar Python loop over
the same bar file. It reads the gzipped CSV row by row with the csv module and runs a plain float
DCA (base order, safety orders every 0.9 %, take-profit 2 % above the average cost, the default
parameters' amounts) on each bar's close. No quote path, no fees, no exchange rules: it is only
the floor of what "a loop over the file" costs in Python.

    python bench/naive_loop.py BARS.csv.gz
"""

from __future__ import annotations

import csv
import gzip
import sys


def main(path: str) -> int:
    base, safety, deviation, take_profit, max_safety = 10.0, 20.0, 0.009, 0.02, 15
    cash, quantity, cost, last_fill, safeties, cycles, bars = 10_000.0, 0.0, 0.0, 0.0, 0, 0, 0
    with gzip.open(path, "rt", newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        for row in rows:
            close = float(row[4])
            bars += 1
            if quantity == 0:
                quantity, cost, last_fill, safeties = base / close, base, close, 0
                cash -= base
            elif close >= cost / quantity * (1 + take_profit):
                cash += quantity * close
                quantity, cost, cycles = 0.0, 0.0, cycles + 1
            elif safeties < max_safety and close <= last_fill * (1 - deviation) and cash >= safety:
                quantity += safety / close
                cost += safety
                cash -= safety
                last_fill, safeties = close, safeties + 1
    print(f"{bars} bars, {cycles} cycles, cash {cash:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
