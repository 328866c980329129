"""The whole supervisor as one object: database, venue, metrics, shared runtime and actor tree.

`python supervisor.py run` builds a `Bot` from the settings and waits for a signal; the end-to-end
tests build the same `Bot` around a simulator they control. One wiring, two drivers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from loguru import logger

from actors.notifier import NotifierHandle, start_notifier
from actors.quote_board import QuoteBoard
from actors.risk_board import RiskBoard
from actors.runtime import Intervals, Runtime
from actors.supervision.clock import Clock, SystemClock
from actors.supervision.process_exit import ProcessExit
from actors.supervision.scheduler import Scheduler
from actors.trading_gate import GatedBroker, TradingGate
from adapters.alpaca.broker import AlpacaBroker, BrokerError, BrokerUnavailable, Endpoints
from adapters.alpaca.history import BarFetcher
from adapters.alpaca.streams import AlpacaStreams
from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.cycles import CycleStore
from adapters.db.database import Database
from adapters.db.meta import MetaStore
from adapters.db.orders import OrderMirror
from adapters.db.requests import RequestStore
from adapters.metrics import BookTotals, Metrics
from app.books import SIM_STATE_FILE, BooksOwner
from app.ownership import OwnerLease, claim_book, claimant, hold_lease
from config.settings import LIVE_URL, PAPER_URL, Settings, TradingMode
from dca.notices import NoticeKind
from dca.order_ids import make_namespace
from dca.params import AssetParams, with_overrides
from ports.streams import StreamFactory
from wiring.settings_maps import intervals_from, risk_limits, trading_rules

DEMO_ASSETS: dict[str, dict[str, Any]] = {
    # Parameters that complete cycles within minutes at the default simulator speed (60×); see README.
    "BTC/USD": {"base_order_amount": "50", "safety_order_amount": "50", "max_safety_orders": 5,
                "safety_order_deviation": "0.6", "take_profit_percent": "0.5", "ttp_enabled": True,
                "ttp_deviation_percent": "0.15", "cooldown_period": 300, "buy_order_price_deviation_percent": "0.5"},
    "ETH/USD": {"base_order_amount": "40", "safety_order_amount": "40", "max_safety_orders": 5,
                "safety_order_deviation": "0.8", "take_profit_percent": "0.6", "ttp_enabled": False,
                "cooldown_period": 300, "buy_order_price_deviation_percent": "0.6"},
    "SOL/USD": {"base_order_amount": "25", "safety_order_amount": "30", "max_safety_orders": 6,
                "safety_order_deviation": "1.0", "take_profit_percent": "0.8", "ttp_enabled": True,
                "ttp_deviation_percent": "0.2", "cooldown_period": 600, "buy_order_price_deviation_percent": "1",
                "safety_order_step_scale": "1.2", "safety_order_volume_scale": "1.3"},
}
# the embedded simulator quotes these too, so enabling one of them later needs no restart
SIM_PAIRS = ("BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD", "XRP/USD", "LTC/USD", "LINK/USD", "AVAX/USD",
             "BCH/USD", "DOT/USD", "UNI/USD", "AAVE/USD", "SHIB/USD", "PEPE/USD")


class VenueError(Exception):
    """The venue cannot be configured (exit 2); the message names the setting."""


class VenueUnreachable(VenueError):
    """The venue does not answer now (exit 1: a process manager's retry may succeed); names the setting."""


@dataclass
class Venue:
    """Where the bot trades: endpoints, keys, the venue's clock, and the embedded simulator if any."""

    mode: TradingMode
    endpoints: Endpoints
    key_id: str
    secret_key: str
    clock: Clock
    simulator: Any = None

    def close(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()


def open_venue(settings: Settings, db: Database, speed: Decimal | None = None,
               sim_quirks: dict[str, str] | None = None) -> Venue:
    mode = settings.trading_mode
    if mode is TradingMode.EMBEDDED_SIM:
        return embedded_simulator(settings, db, speed, **({"quirks": sim_quirks} if sim_quirks else {}))
    key = settings.apca_api_key_id.get_secret_value() if settings.apca_api_key_id else None
    secret = settings.apca_api_secret_key.get_secret_value() if settings.apca_api_secret_key else None
    if mode is TradingMode.EXTERNAL_SIM:
        if key is None or secret is None:
            raise VenueError("ALPACA_SIM_URL: also set APCA_API_KEY_ID/APCA_API_SECRET_KEY to the simulator's keys "
                             "(it prints them when it starts)")
        from adapters.alpaca.clock import ExchangeClock

        assert settings.alpaca_sim_url is not None
        endpoints = Endpoints.simulator(settings.alpaca_sim_url)
        try:
            clock = ExchangeClock(AlpacaBroker(key, secret, endpoints).exchange_time)
        except BrokerUnavailable as error:
            raise VenueUnreachable(f"ALPACA_SIM_URL: no simulator answers at {settings.alpaca_sim_url} "
                                   f"({error})") from None
        except BrokerError as error:  # it answers, but refuses: wrong keys, or not a simulator
            raise VenueError(f"ALPACA_SIM_URL: the simulator at {settings.alpaca_sim_url} refused the "
                             f"request ({error}); use the keys it printed or shares from .env") from None
        return Venue(mode, endpoints, key, secret, clock)
    assert key is not None and secret is not None
    # Alpaca itself: alpaca-py picks its paper or live endpoints; any other base URL is used as given
    trading = None if settings.apca_api_base_url in (PAPER_URL, LIVE_URL) else settings.apca_api_base_url
    endpoints = Endpoints(trading, settings.apca_data_url, None, None, paper=mode is not TradingMode.LIVE)
    return Venue(mode, endpoints, key, secret, SystemClock())


def embedded_simulator(settings: Settings, db: Database, speed: Decimal | None = None, **overrides: Any) -> Venue:
    """The built-in simulator, in this process, keeping its account under DATA_DIR."""
    from adapters.sim.config import SimConfig
    from adapters.sim.rules import ExchangeRules as SimRules
    from adapters.sim.service import SimulatorService

    configured = [asset.symbol for asset in AssetRepository(db).all()]
    options: dict[str, Any] = {
        "symbols": list(dict.fromkeys([*configured, *SIM_PAIRS])),
        "speed": speed if speed is not None else settings.sim_speed, "seed": settings.sim_seed, "port": 0,
        "state_file": settings.data_dir / SIM_STATE_FILE,
        "rules": SimRules(min_notional=settings.min_order_notional, maker_fee_bps=settings.fee_maker_bps,
                          taker_fee_bps=settings.fee_taker_bps),
        **overrides,
    }
    from adapters.sim.state_store import StateFileUnreadable

    try:
        service = SimulatorService(SimConfig(**options))
    except StateFileUnreadable as error:
        raise VenueError(f"DATA_DIR: the built-in simulator's state file is damaged: {error}. Restore a good copy, "
                         "or move it aside to open a new simulated account (this database's books then refuse "
                         "it: start afresh with another DATA_DIR)") from None
    service.start()
    return simulator_venue(service)


def simulator_venue(service: Any) -> Venue:
    """A venue for a running in-process `SimulatorService`."""
    urls = service.urls
    endpoints = Endpoints(urls.trading, urls.data, urls.data_stream, urls.trading_stream, paper=True)
    return Venue(TradingMode.EMBEDDED_SIM, endpoints, service.key_id, service.secret_key, service.clock, service)


def books_owner(settings: Settings, venue: Venue) -> BooksOwner:
    """Who this start trades for: the venue, its account number (if it answers) and the dry-run flag."""
    try:
        account = AlpacaBroker(venue.key_id, venue.secret_key, venue.endpoints).account().number
    except BrokerError as error:  # unreachable now: the venue and dry-run flag are still compared
        logger.bind(actor="supervisor").warning("could not read the account number: {}", error)
        account = ""
    return BooksOwner(venue.mode.value, account, settings.dry_run)


def account_refusal(venue: Venue) -> str | None:
    """Why the venue's account cannot trade crypto (its status or `crypto_status` is not ACTIVE), or
    None. An account that cannot be read is left to the rest of the start-up to report."""
    try:
        account = AlpacaBroker(venue.key_id, venue.secret_key, venue.endpoints).account()
    except BrokerError:
        return None
    if account.status.upper() != "ACTIVE":
        return (f"the Alpaca account's status is {account.status}, not ACTIVE: it cannot trade; see the account "
                "in Alpaca's dashboard")
    if account.crypto_status.upper() != "ACTIVE":
        return (f"the Alpaca account's crypto_status is {account.crypto_status}, not ACTIVE: Alpaca refuses crypto "
                "orders on it; enable crypto trading for the account in Alpaca's dashboard")
    return None


def seed_demo_assets(db: Database, settings: Settings) -> list[str]:
    """On a fresh database in simulator mode, a few demo assets so cycles show up within minutes."""
    repo = AssetRepository(db)
    if settings.trading_mode is not TradingMode.EMBEDDED_SIM or repo.all():
        return []
    for symbol, values in DEMO_ASSETS.items():
        repo.add([symbol], with_overrides(AssetParams(), values), enabled=True)
    return list(DEMO_ASSETS)


def open_notify_channels(settings: Settings) -> list[Any]:
    """One channel per NOTIFY_URLS entry; adapters.notify.BadNotifyUrl names a bad one by position."""
    from adapters.notify import open_channels

    return open_channels(settings.notify_urls.get_secret_value()) if settings.notify_urls else []


@dataclass
class Bot:
    """The supervisor. `start()` brings everything up; `exit.wait_for_exit()` blocks the main
    thread until a signal, a `--duration`, or the root supervisor giving up; `stop()` tears down."""

    settings: Settings
    db: Database
    venue: Venue
    metrics: Metrics = field(default_factory=Metrics)
    intervals: Intervals | None = None
    exit: ProcessExit = field(default_factory=ProcessExit)
    gate: TradingGate = field(default_factory=TradingGate)  # closed when the exit is requested or the book lost
    lease: OwnerLease | None = None  # `run` claims it before the venue opens; otherwise start() claims it
    runtime: Runtime | None = None
    root: Any = None
    metrics_port: int | None = None
    web: Any = None  # adapters.web.WebServer: /metrics, /healthz, /readyz, the status page
    keep_bars: bool = True  # BarsSync fills historical_1min_bars (tests that do not need it switch it off)
    notify_channels: list[Any] | None = None  # adapters.notify.Channel per NOTIFY_URLS entry (opened in start())
    notifier: NotifierHandle = field(default_factory=NotifierHandle)
    notify_options: dict[str, Any] = field(default_factory=dict)  # tests: shorter retry delays

    def __post_init__(self) -> None:
        self.exit.on_request(lambda _code, reason: self.gate.close(reason))

    def start(self, serve_metrics: bool = True) -> Bot:
        if self.lease is None:  # refuses (BookOwned) if another process holds the book
            from adapters.db.lease import LeaseStore

            self.lease = claim_book(LeaseStore(self.db.url), claimant("run"), self.settings.owner_lease_seconds,
                                    wait=False)
            assert self.lease is not None
            hold_lease(self.lease, self.exit)
        self.db.now = self.venue.clock.now
        self.db.on_error = lambda kind: self.metrics.database_errors.labels(kind).inc()
        self.metrics.trading_mode.labels(self.venue.mode.value).set(1)
        self.metrics.load_books(BookTotals(symbol, realized, ended)
                                for symbol, realized, ended in CycleStore(self.db).lifetime_totals())
        if serve_metrics:
            from wiring.status_page import routes

            pages = routes(self.db, lambda: self.runtime, self.venue.mode.value, self.settings.dry_run)
            self.web = self.metrics.serve(self.settings.metrics_host, self.settings.metrics_port, pages)
            self.metrics_port = self.web.port
        self.notifier = self._notifier()
        self.runtime = self._runtime()
        self._take_over_seed_cycles(self.runtime)
        try:
            self.runtime.prefetch_exchange_rules()
            self.runtime.prefetch_pair_problems([a.symbol for a in self.runtime.assets.enabled()])
        except Exception as error:  # each asset actor then reads its own pair's rules
            logger.bind(actor="supervisor").warning("could not read the pairs' rules in one request: {}", error)
        from actors.caretakers.risk_keeper import refresh_risk
        from actors.tree import start_tree

        refresh_risk(self.runtime, logger.bind(actor="risk_keeper"))  # the gates are right from the first quote

        self.root = start_tree(self.runtime, on_give_up=self.exit.give_up)
        return self

    def _take_over_seed_cycles(self, runtime: Runtime) -> None:
        """The seed bot's open cycles, once, after `db upgrade` converted its database (app/takeover.py);
        then the live orders taken over are routed to their cycles although their ids are not ours."""
        from adapters.db.takeover import TakeoverStore
        from app.takeover import take_over

        store = TakeoverStore(self.db)
        log = logger.bind(actor="takeover")
        if self.settings.dry_run:  # the seed bot's orders live on the real venue, not in the shadow exchange
            if store.pending():
                log.warning("the seed bot's open cycles are taken over at the first run that is not a dry run")
        else:
            try:
                take_over(store, runtime.broker, runtime.rules.namespace, self.venue.clock.now(), datetime.now(UTC),
                          self.settings.seed_bot_dir, log)
            except Exception:
                runtime.scheduler.stop()
                runtime.real_time_scheduler.stop()
                raise
        runtime.taken_over_orders.update(store.foreign_live_orders(runtime.rules.namespace))

    def _notifier(self) -> NotifierHandle:
        settings = self.settings
        channels = self.notify_channels
        if channels is None:
            channels = open_notify_channels(settings)
        return start_notifier(channels, self.metrics, [NoticeKind(k) for k in settings.notify_switched_off()],
                              settings.notify_rate_per_minute, settings.secret_values(), **self.notify_options)

    def _shadow_exchange(self, venue_broker: AlpacaBroker) -> Any:
        from adapters.dryrun import ShadowExchange

        settings = self.settings
        return ShadowExchange(venue_broker, venue_broker.all_rules(settings.min_order_notional),
                              cash=settings.dry_run_wallet, maker_bps=settings.fee_maker_bps,
                              taker_bps=settings.fee_taker_bps, min_notional=settings.min_order_notional,
                              clock=self.venue.clock.now, state_file=settings.data_dir / "dry-run-exchange.json")

    def stop(self, timeout: float = 60.0) -> None:
        """No new order requests, then streams, caretakers and asset actors; open exchange orders stay as
        they are. The book is released last, once nothing of this process can trade any more."""
        import pykka

        log = logger.bind(actor="supervisor")
        self.gate.close("the supervisor is stopping")
        if not self.gate.drain(min(5.0, timeout)):
            log.warning("an order request was still on the wire when stopping; the next start reads it back")
        if self.root is not None:
            try:
                self.root.stop(timeout=timeout)
            except pykka.Timeout:
                log.error("the actor tree did not stop within {} s", timeout)
            pykka.ActorRegistry.stop_all(timeout=min(5.0, timeout))
            self.root = None
        if self.lease is not None:
            self.lease.stop(release=True)
            self.lease = None
        self.notifier.stop()
        if self.runtime is not None:
            self.runtime.scheduler.stop()
            self.runtime.real_time_scheduler.stop()
            if self.runtime.shadow is not None:
                self.runtime.shadow.save()
        if self.web is not None:
            self.web.stop()
            self.web = None
        self.venue.close()
        self.db.dispose()

    def _streams(self, shadow: Any) -> StreamFactory:
        endpoints = self.venue.endpoints
        streams: StreamFactory = AlpacaStreams(self.venue.key_id, self.venue.secret_key, endpoints.data_stream,
                                               endpoints.trading_stream, endpoints.paper)
        if shadow is None:
            return streams
        from adapters.dryrun import DryRunStreams  # the dry run's shadow exchange takes the trade updates

        return DryRunStreams(streams, shadow)

    def _runtime(self) -> Runtime:
        settings, venue, metrics = self.settings, self.venue, self.metrics
        namespace = make_namespace(settings.order_prefix, self.db.installation_tag())
        assets = AssetRepository(self.db)
        broker = AlpacaBroker(venue.key_id, venue.secret_key, venue.endpoints, on_request=metrics.broker_request)
        broker.remember_symbols([a.symbol for a in assets.all()])
        board = QuoteBoard(on_quote=metrics.quote_counter,
                           on_conflated=lambda s: metrics.quotes_conflated.labels(s).inc)
        shadow = self._shadow_exchange(broker) if settings.dry_run else None
        metrics.dry_run.set(1 if shadow is not None else 0)
        id_taken = metrics.discrepancies.labels("exchange_id_taken").inc  # an exchange repeating order ids
        return Runtime(
            rules=trading_rules(settings, namespace), clock=venue.clock, scheduler=Scheduler(venue.clock).start(),
            broker=GatedBroker(shadow or broker, self.gate), shadow=shadow, assets=assets,
            cycles=CycleStore(self.db, id_taken),
            orders=OrderMirror(self.db, namespace, id_taken),
            bars=BarStore(self.db), metrics=metrics, board=board, streams=self._streams(shadow),
            bar_fetcher=BarFetcher(venue.key_id, venue.secret_key, venue.endpoints.data)
            if self.keep_bars and settings.bars_sync_interval_seconds > 0 else None,
            intervals=self.intervals or intervals_from(settings), risk=RiskBoard(risk_limits(settings)),
            wall_scheduler=Scheduler(SystemClock()).start(),
            meta=MetaStore(self.db), requests=RequestStore(self.db), kill_switch_env=settings.kill_switch,
            kill_switch_file=settings.kill_switch_path, notifier=self.notifier,
        )
