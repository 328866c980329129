"""Parameter sweeps: a grid of `--params` overrides, run across processes, ranked.

`--sweep NAME=START:STOP:STEP` (inclusive of STOP when the steps land on it) or `NAME=V1,V2,...`;
several axes make a grid (their cartesian product). Every grid point is validated before anything
runs. Workers get the bars and the base setups once, when they start (ProcessPoolExecutor
initializer), and then only a small dict of overrides per task; each point runs the fast path for
every symbol and reports the summed figures.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from app.backtest.metrics import curves, portfolio, summarize
from app.backtest.runner import BacktestSetup, run
from app.backtest.series import BarSeries
from dca.money import ZERO
from dca.params import PARAM_NAMES, InvalidParams, parse_param_value

MAX_POINTS = 100_000
RANKINGS = {  # name: (higher is better?)
    "total_pnl": True, "realized_pnl": True, "return_on_capital": True, "sharpe": True, "sortino": True,
    "cycles_completed": True, "max_drawdown": False, "fees": False,
}


TEXT_AXES = {"start_condition"}  # e.g. --sweep "start_condition=rsi(14) < 30|rsi(14, 5m) < 30|none"


class SweepError(ValueError):
    """A bad `--sweep` axis; the message names it."""


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[str, ...]


def parse_axis(text: str) -> Axis:
    name, sep, spec = text.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise SweepError(f"--sweep: {text!r}: expected NAME=START:STOP:STEP or NAME=V1,V2,...")
    if name not in PARAM_NAMES:
        raise SweepError(f"--sweep: {name}: unknown parameter (known: {', '.join(PARAM_NAMES)})")
    spec = spec.strip()
    if name in TEXT_AXES:  # conditions hold commas and colons: their values are separated by |
        values = tuple(v.strip() for v in spec.split("|") if v.strip())
    else:
        values = _range(name, spec) if ":" in spec else tuple(v.strip() for v in spec.split(",") if v.strip())
    if not values:
        raise SweepError(f"--sweep: {name}: no values in {spec!r}")
    return Axis(name, tuple(_canonical(name, value) for value in values))


def _canonical(name: str, value: str) -> str:
    """A choice as the parameter spells it (`MARKET` → `market`), so the table, CSV and JSON show
    one spelling; anything else as given (a bad value is named by `checked`, with its grid point)."""
    try:
        typed = parse_param_value(name, value)
    except InvalidParams:
        return value
    return str(typed.value) if isinstance(typed, Enum) else value


def _range(name: str, spec: str) -> tuple[str, ...]:
    parts = spec.split(":")
    if len(parts) != 3:
        raise SweepError(f"--sweep: {name}={spec}: a range is START:STOP:STEP, e.g. 0.5:3.0:0.5")
    try:
        start, stop, step = (Decimal(p.strip()) for p in parts)
    except InvalidOperation:
        raise SweepError(f"--sweep: {name}={spec}: START, STOP and STEP must be numbers") from None
    if not all(v.is_finite() for v in (start, stop, step)) or step <= 0:
        raise SweepError(f"--sweep: {name}={spec}: STEP must be a number > 0")
    if stop < start:
        raise SweepError(f"--sweep: {name}={spec}: STOP must not be below START")
    count = int((stop - start) / step) + 1
    if count > MAX_POINTS:
        raise SweepError(f"--sweep: {name}={spec}: {count} values is too many (at most {MAX_POINTS})")
    return tuple(format((start + i * step).normalize(), "f") for i in range(count))


def grid(axes: Sequence[Axis]) -> list[dict[str, str]]:
    names = [axis.name for axis in axes]
    if len(set(names)) != len(names):
        raise SweepError("--sweep: each parameter may appear once")
    size = 1
    for axis in axes:
        size *= len(axis.values)
    if size > MAX_POINTS:
        raise SweepError(f"--sweep: the grid has {size} points (at most {MAX_POINTS})")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]


def checked(setups: Sequence[BacktestSetup], points: list[dict[str, str]]) -> None:
    """Every grid point must give valid parameters for every symbol (SweepError names the first bad one)."""
    for point in points:
        for setup in setups:
            try:
                setup.with_params(point)
            except InvalidParams as error:
                described = ", ".join(f"{k}={v}" for k, v in point.items())
                raise SweepError(f"--sweep: {described}: {error}") from None


# --- running -------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(setups: Sequence[BacktestSetup], series: Sequence[BarSeries]) -> None:
    _WORKER["setups"], _WORKER["series"] = list(setups), list(series)


def run_point(setups: Sequence[BacktestSetup], series: Sequence[BarSeries], point: dict[str, str],
              fast: bool = True) -> dict[str, Any]:
    """The summed figures of one grid point over every symbol (plain values: it crosses processes).
    `fast=False` replays every bar (the tests hold the fast path's figures to it)."""
    outcomes = [run(setup.with_params(point), bars, fast) for setup, bars in zip(setups, series, strict=True)]
    curve_list = [curves(outcome) for outcome in outcomes]
    summaries = [summarize(outcome, curve) for outcome, curve in zip(outcomes, curve_list, strict=True)]
    realized = sum((s.realized_pnl for s in summaries), ZERO)
    unrealized = sum((s.unrealized_pnl for s in summaries), ZERO)
    committed = sum((s.max_committed for s in summaries), ZERO)
    if len(summaries) == 1:  # one account is the portfolio: its summary has these figures already
        figures = {"max_drawdown": summaries[0].max_drawdown, "sharpe": summaries[0].sharpe,
                   "sortino": summaries[0].sortino}
    else:
        figures = portfolio(outcomes, curve_list).figures()
    return {
        **point,
        "cycles_completed": sum(s.cycles_completed for s in summaries),
        "realized_pnl": realized, "unrealized_pnl": unrealized, "total_pnl": realized + unrealized,
        "fees": sum((s.fees for s in summaries), ZERO), "max_committed": committed,
        "return_on_capital": float((realized + unrealized) / committed) if committed > 0 else None,
        "max_drawdown": figures["max_drawdown"], "sharpe": figures["sharpe"], "sortino": figures["sortino"],
        "time_in_market": max(s.time_in_market for s in summaries),
        "bars_replayed": sum(s.bars_replayed for s in summaries),
    }


def _run_in_worker(point: dict[str, str]) -> dict[str, Any]:
    return run_point(_WORKER["setups"], _WORKER["series"], point)


def run_sweep(setups: Sequence[BacktestSetup], series: Sequence[BarSeries], points: list[dict[str, str]],
              workers: int | None = None, on_done: Callable[[], None] | None = None,
              cluster: str | None = None) -> list[dict[str, Any]]:
    """Every point's figures, in grid order: on the Dask cluster at `cluster`, else on `workers`
    local processes (`workers=1` runs in this process, no pool)."""
    if cluster is not None:
        from adapters.dask_cluster import run_on_cluster

        return run_on_cluster(cluster, run_point, (list(setups), list(series)), points, on_done)
    workers = max(1, min(workers or os.cpu_count() or 1, len(points)))
    if workers == 1:
        rows = []
        for point in points:
            rows.append(run_point(setups, series, point))
            if on_done is not None:
                on_done()
        return rows
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: dict[int, dict[str, Any]] = {}
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(list(setups), list(series))) as pool:
        futures = {pool.submit(_run_in_worker, point): index for index, point in enumerate(points)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if on_done is not None:
                on_done()
    return [results[index] for index in range(len(points))]


def ranked(rows: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Best first by `by`; points without a value (e.g. no Sharpe) last."""
    higher = RANKINGS[by]

    def key(row: dict[str, Any]) -> tuple[bool, Any]:
        value = row.get(by)
        if value is None:
            return True, 0
        return False, -value if higher else value

    return sorted(rows, key=key)
