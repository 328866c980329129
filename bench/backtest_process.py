"""Whole-process backtest timings, side by side in one run: `supervisor.py backtest` on one
asset-year of 1-minute bars (525,600) from a gzipped CSV, with and without the chart, with a cold
and a warm bar cache, beside a naive per-bar Python loop over the same file (bench/naive_loop.py);
a sweep's parameter sets per second; and `supervisor.py --help`.

The asset-year is built from the real BTC files in ../shared/data as in bench/backtest_speed.py
(chained without jumps, repeated to 525,600 minutes), rounded to cents and written once to
`--work` as `BTC-USD.csv.gz`. Every command runs as its own process from an empty folder (so no
database: a backtest of a file without a configured database loads neither SQLAlchemy nor
alpaca-py), and is timed from the parent: wall time, and CPU time (user + sys, from wait4) which
the other work on a shared machine disturbs less. Each figure is the median of `--repeat` runs,
after one untimed warm-up run per checkout: Python's compiled modules and the bar cache are then
written, as on a user's machine after the first run (PYTHONDONTWRITEBYTECODE, set on some CI
machines, is dropped for the children; "cold" is a cold bar cache).

    .venv/bin/python bench/backtest_process.py [--repeat 5] [--sweep-sets 8] [--work /tmp/backtest-bench]
                                               [--compare ../main]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from backtest_speed import START, chained_year  # noqa: E402

PYTHON = sys.executable
SUPERVISOR = str(ROOT / "supervisor.py")


def year_file(work: Path, data: Path) -> Path:
    path = work / "BTC-USD.csv.gz"
    if path.exists():
        return path
    prices = np.round(chained_year(data, "BTC"), 2)
    o, c = prices[:, 0], prices[:, 3]
    h, low = np.maximum(prices.max(axis=1), np.maximum(o, c)), np.minimum(prices.min(axis=1), np.minimum(o, c))
    stamps = (START + 60 * np.arange(len(prices))).astype("datetime64[s]").astype(str)
    with gzip.open(path, "wt", compresslevel=6) as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        handle.writelines(f"{t}Z,{a:.2f},{b:.2f},{d:.2f},{e:.2f},1\n" for t, a, b, d, e in zip(stamps, o, h, low, c,
                                                                                               strict=True))
    return path


def timed(command: list[str], cwd: Path) -> tuple[float, float, float]:
    """(wall s, cpu s, max RSS MiB) of one child process."""
    # PYTHONDONTWRITEBYTECODE (set on some CI machines) is dropped: a user's Python caches compiled
    # modules, so every run but the warm-up (`warm_up`) finds them, for both checkouts alike.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "DB_", "APCA_", "ALPACA_", "PYTHONDONTWRITEBYTECODE"))}
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def warm_up(commands: list[list[str]], cwd: Path) -> None:
    """One untimed run of each command: compiled modules and the bar cache are then written, as they
    are on a user's machine after the first run."""
    for command in commands:
        timed(command, cwd)


def median_of(runs: int, command: list[str], cwd: Path, before: object = None) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        if callable(before):
            before()
        samples.append(timed(command, cwd))
    return tuple(statistics.median(s[i] for s in samples) for i in range(3))  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sweep-sets", type=int, default=8)
    parser.add_argument("--work", type=Path, default=Path("/tmp/backtest-bench"))
    parser.add_argument("--compare", type=Path, help="another checkout (e.g. ../main) to time beside this one")
    parser.add_argument("--reference", action="store_true",
                        help="also time one run of the full replay loop (--reference: every bar, ~15-30 s)")
    parser.add_argument("--data", type=Path, default=next((p / "shared" / "data" for p in ROOT.parents
                                                           if (p / "shared" / "data").is_dir()), Path("shared/data")))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    # built in a child process: a child forked from a parent holding the year would report its RSS
    subprocess.run([PYTHON, "-c", f"import sys; sys.path[:0] = {[str(ROOT / 'bench'), str(ROOT)]!r}; "
                    f"import backtest_process as b; from pathlib import Path; "
                    f"b.year_file(Path({str(args.work)!r}), Path({str(args.data)!r}))"], check=True)
    bars = args.work / "BTC-USD.csv.gz"
    run_dir = args.work / "run"
    run_dir.mkdir(exist_ok=True)
    if (run_dir / "data").exists():
        raise SystemExit(f"{run_dir / 'data'} holds a database: remove it, the runs must not find one")
    cache = bars.with_name(bars.name + ".cache.npz")
    backtest = [PYTHON, SUPERVISOR, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bars}", "--out",
                str(args.work / "out")]
    takes = [f"{0.5 + 0.25 * i:g}" for i in range(args.sweep_sets)]
    sweep = [*backtest, "--no-chart", "--sweep", f"take_profit_percent={','.join(takes)}"]
    runs = {}
    if args.compare is not None:  # the same commands with another checkout's code (e.g. main), in the same run
        other = [PYTHON, str(args.compare / "supervisor.py"), *backtest[2:]]
        other_dir = args.work / "run-compare"  # its own folder: an older version may create a database there
        other_dir.mkdir(exist_ok=True)
        warm_up([other, [*other, "--no-chart"]], other_dir)
        runs[f"{args.compare}: supervisor.py --help"] = median_of(
            args.repeat, [PYTHON, str(args.compare / "supervisor.py"), "--help"], other_dir)
        runs[f"{args.compare}: backtest --no-chart"] = median_of(args.repeat, [*other, "--no-chart"], other_dir)
        runs[f"{args.compare}: backtest with chart"] = median_of(args.repeat, other, other_dir)
        runs[f"{args.compare}: sweep of {args.sweep_sets} sets, --workers 1"] = median_of(
            args.repeat, [*other, *sweep[len(backtest):], "--workers", "1"], other_dir)
    if args.reference:  # the full loop: every bar replayed, what each set of a sweep would cost without the fast path
        runs["backtest --no-chart --reference (the full replay loop)"] = median_of(
            1, [*backtest, "--no-chart", "--reference"], run_dir)
    warm_up([backtest, [PYTHON, str(ROOT / "bench" / "naive_loop.py"), str(bars)]], run_dir)
    runs |= {
        "supervisor.py --help": median_of(args.repeat, [PYTHON, SUPERVISOR, "--help"], run_dir),
        "naive per-bar Python loop (bench/naive_loop.py)": median_of(
            args.repeat, [PYTHON, str(ROOT / "bench" / "naive_loop.py"), str(bars)], run_dir),
        "backtest --no-chart, cold (parse the CSV, write the cache)": median_of(
            args.repeat, [*backtest, "--no-chart"], run_dir, before=lambda: cache.unlink(missing_ok=True)),
        "backtest --no-chart, warm (cache copy)": median_of(args.repeat, [*backtest, "--no-chart"], run_dir),
        "backtest with chart, warm": median_of(args.repeat, backtest, run_dir),
        f"sweep of {args.sweep_sets} sets, --workers 1": median_of(args.repeat, [*sweep, "--workers", "1"], run_dir),
    }
    print(f"asset-year: {bars} (525,600 bars); {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}\n")
    print(f"{'run':<72} {'wall s':>7} {'cpu s':>7} {'max RSS MiB':>12}")
    for name, (wall, cpu, rss) in runs.items():
        print(f"{name:<72} {wall:>7.2f} {cpu:>7.2f} {rss:>12.0f}")
    print(f"load average after the runs {os.getloadavg()[0]:.1f}")
    sweeps = [("this checkout", "")] + ([(str(args.compare), f"{args.compare}: ")] if args.compare else [])
    for label, prefix in sweeps:
        wall, cpu, _ = runs[f"{prefix}sweep of {args.sweep_sets} sets, --workers 1"]
        _, single_cpu, _ = runs[f"{prefix}backtest --no-chart" + ("" if prefix else ", warm (cache copy)")]
        per_set = (cpu - single_cpu) / (args.sweep_sets - 1) if args.sweep_sets > 1 else cpu
        print(f"sweep, {label}: {args.sweep_sets / wall:.2f} sets/s wall on one core; about {per_set:.3f} CPU s "
              f"per set beyond the first ({1 / per_set:.1f} sets/s per core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
