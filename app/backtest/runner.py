"""One backtest of one symbol: the session, its exchange, and the loop (fast or reference).

Everything a run depends on is in `BacktestSetup`, a small picklable value, so a sweep can send it
to worker processes and a test can rebuild the exact same run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from adapters.sim.assets import AssetSpec
from app.backtest.fast import replay_fast, supports
from app.backtest.series import BarSeries
from app.backtest.venue import EngineVenue, engine_for
from app.start_conditions import SeriesReader
from dca.backtest.loop import replay_bars
from dca.backtest.session import BacktestSession
from dca.params import AssetConfig, with_overrides


@dataclass(frozen=True)
class BacktestSetup:
    config: AssetConfig  # parameters, the pair's rules, fees and order timing: what `decide` is told
    spec: AssetSpec  # the pair as the simulator lists it (its increments and default spread)
    cash: Decimal  # starting cash of this symbol's account
    spread_bps: Decimal  # bid/ask spread of the quote path around the bar's prices
    seed: int = 1  # the engine's seed (order ids only: there are no partial fills in a backtest)

    @property
    def symbol(self) -> str:
        return self.config.symbol

    def with_params(self, overrides: dict[str, Any]) -> BacktestSetup:
        """The same run with some parameters changed (validated; `InvalidParams` names bad fields)."""
        params = with_overrides(self.config.params, overrides)
        return replace(self, config=replace(self.config, params=params))


@dataclass
class RunOutcome:
    setup: BacktestSetup
    series: BarSeries
    session: BacktestSession
    replayed: int  # bars replayed quote by quote (all of them on the reference path)
    seconds: float  # wall time of the loop alone (reported, never part of a result)
    fast: bool


def new_session(setup: BacktestSetup, series: BarSeries | None = None) -> BacktestSession:
    """A session for `setup`; deal start conditions are read from `series` (the run's own bars)."""
    engine = engine_for(setup.spec, setup.cash, setup.config.fees, setup.config.rules.min_notional, setup.seed)
    reader = SeriesReader(series.times, series.close) if series is not None else None
    return BacktestSession(setup.config, EngineVenue(engine), reader=reader)


def run(setup: BacktestSetup, series: BarSeries, fast: bool = True) -> RunOutcome:
    """Replay `series`; with `fast`, through the fast path when it models the setup (`supports`),
    else every bar (`RunOutcome.fast` says which ran)."""
    fast = fast and supports(setup.config)
    session = new_session(setup, series)
    increment = setup.config.rules.price_increment
    started = time.perf_counter()
    if fast:
        replayed = replay_fast(session, series, setup.spread_bps, increment).replayed
    else:
        replayed = replay_bars(session, series.bars(), setup.spread_bps, increment)
    return RunOutcome(setup, series, session, replayed, time.perf_counter() - started, fast)
