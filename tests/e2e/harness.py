"""End-to-end harness: the real actor tree (`wiring.bot.Bot`) against the real simulator, with the real
alpaca-py clients in between, on SQLite or MariaDB.

`settle_and_check()` is the end of every scenario: it freezes the market (no quotes, so no fills),
lets the bot finish what it is doing, and then requires, for every asset, that

* the cycle's quantity (plus the asset's dust) equals the simulator's position: every fill was
  applied exactly once, net of the fee taken in coin;
* every open order on the simulator is known to the database and is a live order of its cycle (the
  acting one or a resting one), and every live order of a cycle is open on the simulator;
* the simulator never had two orders of ours open at once for one pair (no duplicate); with orders
  placed ahead (`active_safety_orders`, `take_profit_order_type=limit`) several may rest together, so
  there a duplicate is two open at once on the same side at the same price.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pykka import ActorDeadError

import adapters.alpaca.broker as alpaca_broker
from actors.messages import Snapshot
from actors.runtime import Intervals
from adapters.alpaca.pacing import RequestPacer
from adapters.db.assets import AssetRepository
from adapters.db.cycles import CycleStore, StoredCycle
from adapters.db.database import Database
from adapters.db.orders import OrderMirror
from adapters.sim.config import SimConfig
from adapters.sim.service import SimulatorService
from config.settings import load_settings
from dca.cycle import CycleStatus
from dca.market import Quote
from dca.params import AssetParams, with_overrides
from tests.waiting import wait_for
from wiring.bot import Bot, simulator_venue

SCRIPT_START = datetime(2026, 1, 1, tzinfo=UTC)
# In real seconds; `on_the_venue_clock` turns the caretakers' periods into the venue's clock seconds they are in.
FAST_INTERVALS = Intervals(order_janitor=2, cooldown_keeper=2, reconciler=3, asset_watcher=1,
                           order_history_sync=5, bars_sync=10**9, housekeeping=1, stream_check=2)
CARETAKER_PERIODS = ("order_janitor", "cooldown_keeper", "reconciler", "asset_watcher", "order_history_sync",
                     "bars_sync")


# FAST_INTERVALS run the caretakers 30 to 180 times as often as production does (order janitor 60 s -> 2 s,
# asset watcher 30 s -> 1 s, reconciler 300 s -> 3 s, ...), so they ask the venue 30+ times as often; the
# request budget (adapters/alpaca/pacing.py, 190 a minute against Alpaca's 200) is widened by the smallest
# of those factors so it stays as loose as in production. At 190 a minute the caretakers' requests queue
# behind the pacer: a quote waits seconds for its actor's turn and a stopping bot for the queue to drain
# (a quirk-matrix case took 20 s instead of 6). The simulator here has no rate limit (rate_limit_per_minute=0).
REQUEST_BUDGET_FACTOR = 30
# How long `quote()` waits for the actor (it polls: only a failing test waits it out).
QUOTE_WAIT_S = 10


def on_the_venue_clock(real: Intervals, speed: float) -> Intervals:
    """`real` with the caretakers' periods (seconds on the venue's clock) lasting as many real seconds."""
    return replace(real, **{name: getattr(real, name) * speed for name in CARETAKER_PERIODS})


@contextmanager
def request_budget(factor: float) -> Iterator[None]:
    """Brokers made meanwhile pace their REST calls `factor` times as fast as production does. (The bot
    has no setting for its request budget; the pacer is the production one, only its rate is scaled.)"""
    def scaled(per_minute: float, burst: int | None = None) -> RequestPacer:
        return RequestPacer(per_minute * factor, burst)

    original = alpaca_broker.RequestPacer
    alpaca_broker.RequestPacer = scaled  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        alpaca_broker.RequestPacer = original  # type: ignore[misc]


# Small moves complete cycles quickly at a high simulator speed.
QUICK = {"base_order_amount": "20", "safety_order_amount": "20", "max_safety_orders": 3,
         "safety_order_deviation": "0.25", "take_profit_percent": "0.3", "ttp_enabled": False,
         "cooldown_period": 60, "buy_order_price_deviation_percent": "0.5"}
QUICK_TRAILING = {**QUICK, "ttp_enabled": True, "ttp_deviation_percent": "0.1"}
_NO_QUOTE = Quote("-", Decimal(1), Decimal(1), datetime.min.replace(tzinfo=UTC))


@dataclass
class BotHarness:
    tmp_path: Path
    database_url: str
    assets: dict[str, dict[str, Any]] = field(default_factory=lambda: {"BTC/USD": QUICK, "ETH/USD": QUICK_TRAILING})
    speed: Decimal = Decimal(1200)
    seed: int = 7
    pacing: str = "realtime"  # "manual": the test scripts every quote with `quote()`
    disabled: frozenset[str] = frozenset()  # assets configured but switched off
    keep_bars: bool = False
    serve: bool = False  # the web server (/metrics, /healthz, /readyz, the status page) on a free port
    starting_cash: Decimal = Decimal(100_000)
    faults: dict[str, Any] = field(default_factory=dict)
    quirks: dict[str, str] = field(default_factory=dict)  # the simulator's venue variants (adapters/sim/quirks.py)
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    intervals: Intervals | None = None  # as the bot gets them (default: FAST_INTERVALS on the venue's clock)
    request_budget_factor: float = REQUEST_BUDGET_FACTOR  # 1: production's request pacing
    # instead of a fresh schema with `assets` configured: builds the database itself (the simulator is
    # running, the bot not yet); `assets` then only lists the simulator's pairs
    prepare: Callable[[BotHarness], None] | None = None
    simulator: SimulatorService | None = None
    bot: Bot | None = None
    db: Database | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> BotHarness:
        self.tmp_path.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.database_url)
        if self.prepare is None:
            self.db.upgrade()
            repo = AssetRepository(self.db)
            for symbol, values in self.assets.items():
                repo.add([symbol], with_overrides(AssetParams(), values), enabled=symbol not in self.disabled)
        self.simulator = SimulatorService(SimConfig(
            symbols=list(self.assets), speed=self.speed, seed=self.seed, port=0, rate_limit_per_minute=0,
            faults=dict(self.faults), quirks=dict(self.quirks), state_file=self.tmp_path / "sim-state.json",
            pacing=self.pacing,
            starting_cash=self.starting_cash,
            start=SCRIPT_START if self.pacing == "manual" else None))
        self.simulator.start()
        if self.prepare is not None:
            self.prepare(self)
        self.start_bot()
        return self

    def start_bot(self) -> Bot:
        settings = load_settings(env_file=None, database_url=self.database_url, data_dir=self.tmp_path / "data",
                                 log_dir=self.tmp_path / "logs", metrics_port=0,
                                 stale_order_threshold_minutes=Decimal(60), **self.settings_overrides)
        assert self.simulator is not None
        intervals = self.intervals or on_the_venue_clock(FAST_INTERVALS, self.clock_speed)
        self.bot = Bot(settings, Database(self.database_url), simulator_venue(self.simulator), intervals=intervals,
                       keep_bars=self.keep_bars)
        self.bot.venue.simulator = None  # the harness owns the simulator; stopping the bot leaves it running
        with request_budget(self.request_budget_factor):
            self.bot.start(serve_metrics=self.serve)
        runtime = self.bot.runtime
        assert runtime is not None
        enabled = [s for s in self.assets if s not in self.disabled]
        wait_for(lambda: all(runtime.asset_handle(s).is_alive() for s in enabled), 30, "every asset actor")
        wait_for(lambda: runtime.metrics.stream_connected.labels("market_data")._value.get() == 1
                 and runtime.metrics.stream_connected.labels("trade_updates")._value.get() == 1, 30, "both streams")
        hub = self.simulator.data_hub
        assert hub is not None
        wait_for(lambda: all(hub.subscribed("quotes", s) for s in enabled), 30, "the quote subscriptions")
        return self.bot

    @property
    def clock_speed(self) -> float:
        """Venue seconds per real second (a scripted market's clock moves only when told: 1 then)."""
        return 1.0 if self.pacing == "manual" else float(self.speed)

    def stop_bot(self) -> None:
        if self.bot is not None:
            self.bot.stop(timeout=30)
            self.bot = None
            hub = self.simulator.data_hub if self.simulator is not None else None
            if hub is not None:  # like Alpaca, the simulator takes one market-data socket per key: a restarted
                # bot would be refused (406) until the old socket is gone, then wait out alpaca-py's backoff
                wait_for(lambda: not list(hub.connections), 30, "the simulator to drop the old market-data socket")

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None:  # a failing scenario: say what both sides looked like
            try:
                print(self.describe(), file=sys.stderr)
            except Exception as error:  # describing must never hide the original failure
                print(f"(could not describe the books: {error!r})", file=sys.stderr)
        self.stop_bot()
        if self.simulator is not None:
            self.simulator.stop()
        if self.db is not None:
            self.db.dispose()

    # --- a scripted market (pacing="manual") ----------------------------------------------------------

    def push(self, symbol: str, bid: str, ask: str | None = None, after: float = 1.0) -> tuple[datetime, list]:
        """Make this quote current `after` simulated seconds from now (matching any resting order
        against it) and publish it, without waiting for the bot. Returns its time and the fills."""
        when = self.exchange.clock.now() + timedelta(seconds=after)
        fills = self.exchange.push_quote(Quote(symbol, Decimal(bid), Decimal(ask if ask is not None else bid), when))
        assert self.bot is not None and self.bot.runtime is not None
        self.bot.runtime.scheduler.wake()  # timers due by the new simulated time fire now
        self.exchange.publish(symbol)
        return when, fills

    def quote(self, symbol: str, bid: str, ask: str | None = None, after: float = 1.0) -> datetime:
        """`push`, but the quote reaches the bot only after the fills it caused have been applied,
        and this returns once the asset's actor has decided on it (including any order it sent)."""
        when = self.exchange.clock.now() + timedelta(seconds=after)
        fills = self.exchange.push_quote(Quote(symbol, Decimal(bid), Decimal(ask if ask is not None else bid), when))
        if fills:  # the fills reach the actor over the trade stream: wait until it has applied them
            wait_for(lambda: self._order_settled(symbol), QUOTE_WAIT_S, f"{symbol}'s fills to be applied")
        assert self.bot is not None and self.bot.runtime is not None
        self.bot.runtime.scheduler.wake()
        self.exchange.publish(symbol)
        wait_for(lambda: (self.last_quote(symbol) or _NO_QUOTE).time >= when, QUOTE_WAIT_S,
                 f"{symbol} to see {bid}/{ask}")
        return when

    def tick(self, seconds: float = 1.0, symbol: str | None = None) -> None:
        """Let simulated time pass (a quote on `symbol`, or the first asset, at the same prices), so
        timers and caretakers due by then run."""
        symbol = symbol or next(iter(self.assets))
        current = self.exchange.latest_quote(symbol)
        bid, ask = (str(current.bid), str(current.ask)) if current is not None else ("100.00", "100.05")
        self.push(symbol, bid, ask, after=seconds)

    def pass_time(self, seconds: float = 1.0) -> None:
        """Let simulated time pass without any quote: timers and caretakers due by then run, and no
        asset actor has a price to act on."""
        self.exchange.clock.advance(timedelta(seconds=seconds))
        assert self.bot is not None and self.bot.runtime is not None
        self.bot.runtime.scheduler.wake()

    def last_quote(self, symbol: str) -> Quote | None:
        """The newest quote the asset's actor has decided on (None while it is down or restarting)."""
        try:
            return self.snapshot(symbol)[2]
        except ActorDeadError:
            return None

    def snapshot(self, symbol: str) -> tuple[Any, Any, Any]:
        assert self.bot is not None and self.bot.runtime is not None
        return self.bot.runtime.asset_handle(symbol).ask(Snapshot(), timeout=10)

    def state(self, symbol: str) -> Any:
        return self.snapshot(symbol)[1]

    def _order_settled(self, symbol: str) -> bool:
        try:
            state = self.state(symbol)
        except ActorDeadError:
            return False
        for live in state.cycle.live_orders:
            on_exchange = self.exchange.order_by_client_id(live.client_order_id)
            if on_exchange is None or on_exchange.filled_qty != live.filled_qty or not on_exchange.is_open:
                return False
        return True

    # --- looking at the books -------------------------------------------------------------------

    @property
    def exchange(self) -> Any:
        assert self.simulator is not None
        return self.simulator.exchange

    def cycles(self) -> list[StoredCycle]:
        assert self.db is not None
        return CycleStore(self.db).current_cycles()

    def completed(self, symbol: str | None = None) -> list[dict[str, Any]]:
        assert self.db is not None
        from sqlalchemy import select

        from adapters.db.models import DcaAsset, DcaCycle

        with self.db.transaction() as session:
            query = (select(DcaCycle, DcaAsset.asset_symbol).join(DcaAsset, DcaAsset.id == DcaCycle.asset_id)
                     .where(DcaCycle.status == CycleStatus.COMPLETE.value).order_by(DcaCycle.id))
            rows = [{"symbol": s, "id": c.id, "safety_orders": c.safety_orders, "realized_pnl": c.realized_pnl,
                     "sell_price": c.sell_price} for c, s in session.execute(query)]
        return [row for row in rows if symbol is None or row["symbol"] == symbol]

    def events(self, text: str) -> list[str]:
        assert self.db is not None
        from sqlalchemy import select

        from adapters.db.models import DcaCycleEvent

        with self.db.transaction() as session:
            details = session.execute(select(DcaCycleEvent.detail).order_by(DcaCycleEvent.id)).scalars().all()
        return [d for d in details if text in d]

    def problems(self) -> list[str]:
        """What differs between the bot's books and the simulator right now (empty when they agree)."""
        assert self.db is not None
        found: list[str] = []
        exchange = self.exchange
        with exchange.lock:
            open_orders = exchange.open_orders()
            every_order = {order.client_order_id: order for order in exchange.orders()}
            positions = {p.symbol.replace("/", ""): p.qty for p in exchange.positions()}
        assets = {a.symbol: a for a in AssetRepository(self.db).all()}
        cycles = {c.symbol: c for c in self.cycles()}
        for symbol, stored in cycles.items():
            held = stored.cycle.quantity + assets[symbol].dust
            on_exchange = positions.get(symbol.replace("/", ""), Decimal(0))
            if held != on_exchange:
                found.append(f"{symbol}: the cycle holds {held}, the exchange {on_exchange}")
        live = {order.client_order_id for c in cycles.values() for order in c.cycle.live_orders}
        namespace = self.namespace()
        known = OrderMirror(self.db, namespace).known_client_ids(o.client_order_id for o in open_orders)
        for order in open_orders:
            if order.client_order_id not in known:
                found.append(f"open order {order.client_order_id} is unknown to the database")
            elif order.client_order_id not in live:
                found.append(f"open order {order.client_order_id} is not a live order of its cycle")
        open_ids = {order.client_order_id for order in open_orders}
        for stored in cycles.values():
            for order in stored.cycle.live_orders:  # an order the books hold as live but the venue ended
                on_exchange = every_order.get(order.client_order_id)  # (one it never got is resolved on start)
                if on_exchange is not None and order.client_order_id not in open_ids:
                    found.append(f"{stored.symbol}: {order.client_order_id} is live in the books but "
                                 f"{on_exchange.status.value} on the exchange")
        found.extend(self.overlapping_orders())
        return found

    def overlapping_orders(self) -> list[str]:
        """Orders of one pair whose lifetimes overlap: two live orders at once (a duplicate). A pair that
        places orders ahead may have several resting together: there only two open at once on the same
        side at the same price are a duplicate."""
        by_symbol: dict[str, list[Any]] = {}
        for order in self.exchange.orders():
            by_symbol.setdefault(order.symbol, []).append(order)
        found = []
        for symbol, orders in by_symbol.items():
            orders.sort(key=lambda o: (o.created_at, o.sequence))
            ahead = self.places_orders_ahead(symbol)
            for index, earlier in enumerate(orders):
                ended = None if earlier.is_open else earlier.updated_at
                for later in orders[index + 1:] if ahead else orders[index + 1:index + 2]:
                    if ended is not None and later.created_at >= ended - timedelta(microseconds=1):
                        continue
                    if ahead and (later.side != earlier.side or later.limit_price != earlier.limit_price):
                        continue
                    found.append(f"{symbol}: {later.client_order_id} placed while {earlier.client_order_id} was open")
        return found

    def places_orders_ahead(self, symbol: str) -> bool:
        """Whether the pair is configured to keep orders resting (a ladder or a limit take-profit)."""
        values = next((v for s, v in self.assets.items() if s.replace("/", "") == symbol.replace("/", "")), {})
        return int(values.get("active_safety_orders", 0)) > 0 or values.get("take_profit_order_type") == "limit"

    def describe(self) -> str:
        """The bot's books and the simulator's, for a failure message."""
        assert self.db is not None
        from sqlalchemy import text

        lines = ["--- the bot's books"]
        with self.db.engine.connect() as connection:
            for row in connection.execute(text("SELECT id, asset_id, status, quantity, latest_order_client_id "
                                               "FROM dca_cycles ORDER BY id")):
                lines.append(f"cycle {tuple(row)}")
            for row in connection.execute(text("SELECT cycle_id, at, from_status, to_status, detail "
                                               "FROM dca_cycle_events ORDER BY id")):
                lines.append(f"  event {tuple(row)}")
            for row in connection.execute(text("SELECT client_order_id, status, id, filled_qty, order_kind, resting "
                                               "FROM dca_orders")):
                lines.append(f"order {tuple(row)}")
        lines.append("--- the simulator")
        for order in self.exchange.orders():
            lines.append(f"order {order.client_order_id} {order.status} filled {order.filled_qty} "
                         f"created {order.created_at.isoformat()}")
        lines.append(f"positions {[(p.symbol, str(p.qty)) for p in self.exchange.positions()]}")
        return "\n".join(lines)

    def namespace(self) -> str:
        assert self.db is not None
        return f"dca-{self.db.installation_tag()}"

    def settle_and_check(self, timeout: float = 30.0) -> None:
        """Freeze the market, let the bot catch up, stop it, and require the books to agree."""
        self.exchange.pause()
        try:
            wait_for(lambda: not self.problems() and (time.sleep(0.5) or not self.problems()), timeout,
                     "the bot's books to match the simulator")
        except AssertionError:
            raise AssertionError("books differ: " + "; ".join(self.problems())) from None
        self.stop_bot()
        remaining = self.problems()
        assert not remaining, "after stopping: " + "; ".join(remaining)
