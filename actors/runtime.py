"""What every actor of the tree shares: the ports, clock, scheduler, metrics and addressing.

Built once by the composition root (cli/run.py) and handed to each actor's constructor. Nothing in
it belongs to one actor; the mutable pieces (quote board, directories, rules cache) are thread-safe.
Every field is typed by a port (ports/): actors never see which adapter is behind one. It is also
what an asset's driver talks to (`app.driver.DriverPorts`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from actors.health import Health
from actors.notifier import NotifierHandle
from actors.quote_board import QuoteBoard
from actors.risk_board import RiskBoard
from actors.supervision import ChildDirectory
from actors.supervision.child_directory import ChildHandle
from actors.supervision.scheduler import Scheduler
from app.driver import TradingRules
from dca.market import Quote
from dca.params import ExchangeRules
from dca.risk import RiskLimits
from ports.broker import Broker, ShadowVenue
from ports.clock import Clock
from ports.meta import MetaStore
from ports.metrics import Metrics
from ports.stores import AssetRepository, BarSource, BarStore, CycleStore, OrderMirror, RequestStore
from ports.streams import StreamFactory

__all__ = ["ASSET_PREFIX", "Intervals", "Runtime", "TradingRules", "asset_actor_name"]

ASSET_PREFIX = "asset:"


def asset_actor_name(symbol: str) -> str:
    return ASSET_PREFIX + symbol


@dataclass(frozen=True, slots=True)
class Intervals:
    """How often things run. The caretakers' periods are set by the user and, like every interval a user
    sets (cooldowns, stale-order thresholds, the breaker's cooldown), are seconds on the venue's clock
    (`Runtime.scheduler`): the wall clock on a real venue, so under an accelerated simulator they all
    scale together. `risk_keeper` and `stream_check` are safety work: real seconds on the wall clock
    (`Runtime.real_time_scheduler`), so a paused or restarting simulator never freezes them.
    `housekeeping` is the asset actors' own beat, in real seconds (see docs/operations.md, "Time bases")."""

    # on the venue's clock
    order_janitor: float = 60
    cooldown_keeper: float = 60
    reconciler: float = 300
    asset_watcher: float = 30
    order_history_sync: float = 900
    bars_sync: float = 3600
    # real seconds
    housekeeping: float = 5
    stream_check: float = 5  # on the wall clock
    risk_keeper: float = 2  # on the wall clock


@dataclass
class Runtime:
    rules: TradingRules
    clock: Clock
    scheduler: Scheduler
    broker: Broker
    assets: AssetRepository
    cycles: CycleStore
    orders: OrderMirror
    bars: BarStore
    metrics: Metrics
    board: QuoteBoard
    streams: StreamFactory  # opens the venue's WebSockets; the keys stay inside it
    risk: RiskBoard = field(default_factory=lambda: RiskBoard(RiskLimits()))
    meta: MetaStore | None = None
    requests: RequestStore | None = None
    kill_switch_env: bool = False
    kill_switch_file: Path = Path("data/KILL_SWITCH")
    bar_fetcher: BarSource | None = None
    shadow: ShadowVenue | None = None  # in a dry run: takes the orders, emits the trade updates
    intervals: Intervals = field(default_factory=Intervals)
    # client_order_id -> asset id of the live orders taken over from the seed bot (ids not ours)
    taken_over_orders: dict[str, int] = field(default_factory=dict)
    # Real time, whatever the venue's clock does: safety work (the risk keeper and its kill switch, liveness
    # checks, the restarts of everything but the asset actors) runs here, so a simulator that pauses, restarts
    # or runs fast never freezes or rushes it. The asset actors' restart backoff runs on `scheduler`.
    wall_scheduler: Scheduler | None = None
    asset_directory: ChildDirectory = field(default_factory=ChildDirectory)
    root_directory: ChildDirectory = field(default_factory=ChildDirectory)
    notifier: NotifierHandle = field(default_factory=NotifierHandle)  # trade notifications (off without URLs)
    health: Health = field(default_factory=Health)  # liveness and readiness (/healthz, /readyz)
    _rules_cache: dict[str, ExchangeRules] = field(default_factory=dict)
    _rules_lock: threading.Lock = field(default_factory=threading.Lock)
    _pair_problems: dict[str, str | None] = field(default_factory=dict)

    def stream_state(self, stream: str, connected: bool) -> None:
        self.metrics.stream_connected.labels(stream).set(1 if connected else 0)
        self.health.stream(stream, connected)

    def publish_quote(self, quote: Quote) -> None:
        """A live quote: the shadow exchange (dry run) matches against it first, then the assets see it."""
        if self.shadow is not None:
            self.shadow.on_quote(quote)
        self.board.publish(quote)

    @property
    def real_time_scheduler(self) -> Scheduler:
        return self.wall_scheduler or self.scheduler

    def real_time_seconds(self, real_seconds: float) -> float:
        """A real-time period on `real_time_scheduler`'s clock."""
        return real_seconds if self.wall_scheduler is not None else self.clock_seconds(real_seconds)

    def clock_seconds(self, real_seconds: float) -> float:
        """A real-time period in the scheduler's clock (simulated time runs `speed` times faster)."""
        return real_seconds * (self.clock.speed or 1.0)

    def clock_delta(self, real_seconds: float) -> timedelta:
        return timedelta(seconds=self.clock_seconds(real_seconds))

    def exchange_rules(self, symbol: str) -> ExchangeRules:
        """The pair's increments and minimums, as last read from the exchange."""
        with self._rules_lock:
            cached = self._rules_cache.get(symbol)
        return cached if cached is not None else self.refresh_exchange_rules(symbol)

    def refresh_exchange_rules(self, symbol: str) -> ExchangeRules:
        """Read the pair's rules again (its minimums move with the price)."""
        fresh = replace(self.broker.rules(symbol, self.rules.min_notional),
                        buy_margin_percent=self.rules.buy_margin_percent)
        with self._rules_lock:
            self._rules_cache[symbol] = fresh
        return fresh

    def prefetch_exchange_rules(self) -> None:
        """Read every pair's rules in one request (asset actors then start without one each)."""
        rules = self.broker.all_rules(self.rules.min_notional)
        margin = self.rules.buy_margin_percent
        with self._rules_lock:
            self._rules_cache.update({s: replace(r, buy_margin_percent=margin) for s, r in rules.items()})

    def prefetch_pair_problems(self, symbols: list[str]) -> None:
        """Whether the venue trades each of `symbols`, in one request."""
        problems = self.broker.pair_problems(symbols)
        with self._rules_lock:
            self._pair_problems.update({symbol: problems.get(symbol) for symbol in symbols})

    def pair_problem(self, symbol: str) -> str | None:
        """Why the venue cannot trade `symbol` (see `AlpacaBroker.pair_problems`), or None."""
        with self._rules_lock:
            if symbol in self._pair_problems:
                return self._pair_problems[symbol]
        problem = self.broker.pair_problems([symbol]).get(symbol)
        with self._rules_lock:
            self._pair_problems[symbol] = problem
        return problem

    def asset_handle(self, symbol: str) -> ChildHandle:
        return self.asset_directory.handle(asset_actor_name(symbol))
