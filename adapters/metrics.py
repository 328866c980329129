"""Prometheus metrics: the only module that imports prometheus-client.

Names follow Prometheus conventions (base units in the name, `_total` on counters). Labels are
bounded: a symbol, a side, a small set of reasons, an actor or caretaker name; never an order id.
Money figures are in the pair's quote currency (USD for */USD pairs).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from adapters.web import Response, Route, WebServer
from dca.events import RejectionKind

STATUSES = ("watching", "buying", "selling", "trailing", "cooldown")

# Every label value a panel or an alert reads, so that each series exists at 0 from start-up: a panel
# then shows 0 rather than "No data", and the first event already counts in increase(). A new label
# value belongs here too (tests/observability checks the lists against the code that sets them).
ORDER_KINDS = (("buy", "base"), ("buy", "safety"), ("sell", "take_profit"), ("sell", "stop_loss"),
               ("sell", "close"))  # (side, kind)
SIDES = ("buy", "sell")
REJECT_REASONS = tuple(kind.value for kind in RejectionKind)  # every reason the adapters can type
CANCEL_REASONS = (("buy", "stale_buy"), ("sell", "stuck_sell"),
                  *((side, reason) for side in SIDES for reason in ("canceled", "expired", "orphan")))
VETO_GATES = ("kill_switch", "circuit_breaker", "daily_loss_limit", "max_open_cycles", "capital_budget",
              "asset_cap", "cash")
OUTCOMES = ("complete", "error", "stopped", "closed")
STREAMS = ("market_data", "trade_updates")
DISCREPANCY_KINDS = ("missed_order_update", "holding_missing", "holding_corrected", "foreign_position",
                     "exchange_id_taken")
UNAVAILABLE = "BrokerUnavailable"  # the broker's error kind for 5xx, 429, timeouts and connection errors
DATABASE_ERRORS = ("OperationalError", "IntegrityError", "InterfaceError", "DatabaseError")  # SQLAlchemy's
LATENCY_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True, slots=True)
class BookTotals:
    """What the books say about one asset over its whole life."""

    symbol: str
    realized: Decimal  # realized profit of all its cycles
    cycles: dict[str, int]  # ended cycles by outcome (complete, error)


class Metrics:
    """Every metric the supervisor exports, on its own registry (so tests can run several)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        # market data
        self.quotes = Counter("dca_quotes", "Quotes received from the market-data stream", ["symbol"], registry=r)
        self.quotes_conflated = Counter(
            "dca_quotes_conflated", "Quotes replaced by a newer one before their asset actor saw them",
            ["symbol"], registry=r)
        self.decision_latency = Histogram(
            "dca_quote_decision_latency_seconds",
            "From a quote's arrival at the router to the asset actor's decision (quotes outside the cycle's "
            "triggers are settled on arrival and not counted here)",
            buckets=LATENCY_BUCKETS, registry=r)
        self.last_quote = Gauge("dca_last_quote_received_timestamp_seconds",
                                "Wall-clock time the newest quote of a symbol arrived", ["symbol"], registry=r)
        self.quote_bid = Gauge("dca_quote_bid_price", "Bid of the newest quote received for the asset",
                               ["symbol"], registry=r)
        self.quote_ask = Gauge("dca_quote_ask_price", "Ask of the newest quote received for the asset",
                               ["symbol"], registry=r)
        # orders and fills
        self.orders_submitted = Counter("dca_orders_submitted", "Orders sent to the exchange",
                                        ["symbol", "side", "kind"], registry=r)
        self.orders_rejected = Counter("dca_orders_rejected", "Orders the exchange refused",
                                       ["symbol", "side", "reason"], registry=r)
        self.orders_canceled = Counter("dca_orders_canceled", "Orders that ended canceled or expired",
                                       ["symbol", "side", "reason"], registry=r)
        self.fills = Counter("dca_fills", "Fill reports applied to a cycle (partial and final)",
                             ["symbol", "side"], registry=r)
        self.orders_vetoed = Counter("dca_orders_vetoed", "Orders a risk gate stopped before they were sent",
                                     ["symbol", "gate"], registry=r)
        self.foreign_orders = Counter("dca_foreign_orders", "Trade updates for orders the bot did not place",
                                      registry=r)
        # cycles and positions
        self.cycle_status = Gauge("dca_cycle_status", "1 for the current cycle's status, 0 for the others",
                                  ["symbol", "status"], registry=r)
        self.cycle_status_since = Gauge("dca_cycle_status_since_timestamp_seconds",
                                        "Wall-clock time the current cycle entered its status", ["symbol"], registry=r)
        self.cycles_completed = Counter("dca_cycles_completed",
                                        "Cycles ended, by outcome (complete, error, stopped, closed), over the "
                                        "books' whole life",
                                        ["symbol", "outcome"], registry=r)
        self.stop_losses = Counter("dca_stop_losses", "Cycles the stop loss sold at market, over the books' "
                                   "whole life", ["symbol"], registry=r)
        self.realized_profit = Gauge("dca_realized_profit", "Realized profit of all the asset's cycles, from the books",
                                     ["symbol"], registry=r)
        self.position_quantity = Gauge("dca_position_quantity", "Coin the current cycle holds", ["symbol"],
                                       registry=r)
        self.position_cost = Gauge("dca_position_cost", "What the current cycle paid for what it holds",
                                   ["symbol"], registry=r)
        self.unrealized_profit = Gauge("dca_unrealized_profit", "Current cycle's value at the bid minus its cost",
                                       ["symbol"], registry=r)
        self.safety_orders_used = Gauge("dca_safety_orders_used", "Safety orders filled in the current cycle",
                                        ["symbol"], registry=r)
        self.foreign_positions = Gauge("dca_foreign_position_quantity",
                                       "Coin on the exchange beyond what the bot holds", ["symbol"], registry=r)
        # streams and actors
        self.stream_connected = Gauge("dca_stream_connected", "1 while a WebSocket is connected", ["stream"],
                                      registry=r)
        self.stream_reconnects = Counter("dca_stream_reconnects", "WebSocket (re)connections after the first",
                                         ["stream"], registry=r)
        self.malformed_messages = Counter("dca_malformed_messages", "Stream messages that could not be read",
                                          ["stream"], registry=r)
        self.actor_restarts = Counter("dca_actor_restarts", "Actors restarted by their supervisor", ["actor"],
                                      registry=r)
        # caretakers
        self.caretaker_runs = Counter("dca_caretaker_runs", "Caretaker runs", ["caretaker"], registry=r)
        self.caretaker_failures = Counter("dca_caretaker_failures", "Caretaker runs that failed", ["caretaker"],
                                          registry=r)
        self.caretaker_duration = Histogram("dca_caretaker_duration_seconds", "Caretaker run time",
                                            ["caretaker"], buckets=REQUEST_BUCKETS, registry=r)
        self.caretaker_interval = Gauge("dca_caretaker_interval_seconds", "How often a caretaker is meant to run",
                                        ["caretaker"], registry=r)
        self.caretaker_last_success = Gauge("dca_caretaker_last_success_timestamp_seconds",
                                            "Wall-clock time of a caretaker's last successful run", ["caretaker"],
                                            registry=r)
        self.discrepancies = Counter("dca_reconciliation_discrepancies", "Differences the reconciler found",
                                     ["kind"], registry=r)
        # where the venue disagreed with what the bot assumed
        self.sell_shortfalls = Counter("dca_sell_shortfalls", "Sells capped because the venue let the bot sell "
                                       "less than its cycle holds", ["symbol"], registry=r)
        self.fee_corrections = Counter("dca_fee_corrections", "Fills whose estimated fee the venue corrected",
                                       ["symbol"], registry=r)
        self.connection_limit = Counter("dca_market_data_connection_limit", "Episodes of the market-data stream "
                                        "refused with 406 connection limit exceeded (another consumer on the keys)",
                                        registry=r)
        self.pairs_refused = Gauge("dca_pair_refused", "1 for an enabled pair the venue does not trade (not started)",
                                   ["symbol", "reason"], registry=r)
        # broker, database, account, safety switches
        self.broker_latency = Histogram("dca_broker_request_duration_seconds", "Exchange REST call time",
                                        ["endpoint"], buckets=REQUEST_BUCKETS, registry=r)
        self.broker_errors = Counter("dca_broker_errors", "Exchange REST calls that failed", ["endpoint", "kind"],
                                     registry=r)
        self.broker_reachable = Gauge("dca_broker_reachable",
                                      "0 while the newest exchange REST call failed with a 5xx, 429, timeout or "
                                      "connection error; 1 otherwise", registry=r)
        self.broker_reachable.set(1)  # nothing has failed yet
        self.database_errors = Counter("dca_database_errors", "Database transactions that failed, by error class",
                                       ["error"], registry=r)
        self.account_cash = Gauge("dca_account_cash", "Cash in the exchange account", registry=r)
        self.trading_mode = Gauge("dca_trading_mode", "1 for the mode the supervisor trades in", ["mode"],
                                  registry=r)
        self.dry_run = Gauge("dca_dry_run", "1 while orders go to the local shadow exchange instead of the venue",
                             registry=r)
        self.kill_switch = Gauge("dca_kill_switch_engaged", "1 while the kill switch stops new orders", registry=r)
        self.circuit_open = Gauge("dca_circuit_breaker_open", "1 while a circuit breaker blocks orders",
                                  ["scope"], registry=r)
        self.daily_loss_limit_hit = Gauge("dca_daily_loss_limit_hit", "1 once today's realized loss reached the limit",
                                          registry=r)
        self.daily_realized_profit = Gauge("dca_daily_realized_profit", "Realized profit since 00:00 UTC",
                                           registry=r)
        # trade notifications (actors/notifier.py)
        self.notifications_sent = Counter("dca_notifications_sent", "Notices every NOTIFY_URLS service accepted",
                                          ["kind"], registry=r)
        self.notifications_dropped = Counter("dca_notifications_dropped",
                                             "Notices not sent: queue full, over the rate limit, or notifier stopped",
                                             ["reason"], registry=r)
        self.notifications_failed = Counter("dca_notifications_failed",
                                            "Notices a service refused after every retry", registry=r)
        self.up_since = Gauge("dca_start_timestamp_seconds", "When the supervisor started", registry=r)
        self.up_since.set(time.time())
        self._status: dict[str, str] = {}
        self._lock = threading.Lock()
        self._create_global_series()

    # --- series that exist from start-up -----------------------------------------------------------

    def _create_global_series(self) -> None:
        for stream in STREAMS:
            self.stream_reconnects.labels(stream)
            self.malformed_messages.labels(stream)
        for kind in DISCREPANCY_KINDS:
            self.discrepancies.labels(kind)
        for error in DATABASE_ERRORS:
            self.database_errors.labels(error)

    def asset_started(self, symbol: str) -> None:
        """Every per-asset counter at 0 (a no-op for the ones that already count)."""
        self.quotes.labels(symbol)
        self.quotes_conflated.labels(symbol)
        for side, kind in ORDER_KINDS:
            self.orders_submitted.labels(symbol, side, kind)
        for side in SIDES:
            self.fills.labels(symbol, side)
            for reason in REJECT_REASONS:
                self.orders_rejected.labels(symbol, side, reason)
        for side, reason in CANCEL_REASONS:
            self.orders_canceled.labels(symbol, side, reason)
        for gate in VETO_GATES:
            self.orders_vetoed.labels(symbol, gate)
        for outcome in OUTCOMES:
            self.cycles_completed.labels(symbol, outcome)
        self.stop_losses.labels(symbol)
        self.realized_profit.labels(symbol)

    def actors_started(self, names: Iterable[str]) -> None:
        for name in names:
            self.actor_restarts.labels(name)

    def notifier_started(self, kinds: Iterable[str], drop_reasons: Iterable[str]) -> None:
        for kind in kinds:
            self.notifications_sent.labels(kind)
        for reason in drop_reasons:
            self.notifications_dropped.labels(reason)

    def load_books(self, totals: Iterable[BookTotals]) -> None:
        """Lifetime figures from the books, for every asset the database knows (enabled or not): they
        survive disabling an asset and restarting the process. Called once, before the first scrape;
        the asset actors add each completed cycle afterwards."""
        for book in totals:
            self.asset_started(book.symbol)
            self.realized_profit.labels(book.symbol).set(float(book.realized))
            for outcome, count in book.cycles.items():
                self.cycles_completed.labels(book.symbol, outcome).inc(count)
            self.stop_losses.labels(book.symbol).inc(book.cycles.get("stopped", 0))

    # --- helpers used by actors ------------------------------------------------------------------

    def quote_counter(self, symbol: str) -> Callable[[], None]:
        """What the quote board calls for each quote of `symbol` (resolved once per symbol, since it
        runs on the stream's hot path): count the quote and stamp its arrival for the no-quotes alert."""
        counter, arrived = self.quotes.labels(symbol), self.last_quote.labels(symbol)

        def received() -> None:
            counter.inc()
            arrived.set_to_current_time()

        return received

    def watch_quotes(self, symbol: str, latest: Callable[[], Any]) -> None:
        """Bid and ask of `latest()` (the newest quote), read when Prometheus scrapes rather than set
        on every quote: the quote path stays free of metric work."""
        self.quote_bid.labels(symbol).set_function(lambda: _price(latest(), "bid"))
        self.quote_ask.labels(symbol).set_function(lambda: _price(latest(), "ask"))

    def caretaker_started(self, name: str, interval_seconds: float) -> None:
        """The stale-caretaker alert compares the last success with the interval; the failure
        counter starts at 0 so that the first failure already shows in increase()."""
        self.caretaker_interval.labels(name).set(interval_seconds)
        self.caretaker_failures.labels(name)

    def set_status(self, symbol: str, status: str) -> None:
        with self._lock:
            if self._status.get(symbol) == status:
                return
            self._status[symbol] = status
        for candidate in STATUSES:
            self.cycle_status.labels(symbol, candidate).set(1 if candidate == status else 0)
        self.cycle_status_since.labels(symbol).set(time.time())

    def set_position(self, symbol: str, quantity: Decimal, cost: Decimal, safety_orders: int,
                     bid: Decimal | None) -> None:
        self.position_quantity.labels(symbol).set(float(quantity))
        self.position_cost.labels(symbol).set(float(cost))
        self.safety_orders_used.labels(symbol).set(safety_orders)
        if bid is not None:
            self.unrealized_profit.labels(symbol).set(float(quantity * bid - cost) if quantity else 0.0)

    def forget(self, symbols: Iterable[str]) -> None:
        """Drop the per-asset series of assets that are no longer traded."""
        for symbol in symbols:
            with self._lock:
                self._status.pop(symbol, None)
            for gauge in (self.position_quantity, self.position_cost, self.unrealized_profit,
                          self.safety_orders_used, self.cycle_status_since, self.last_quote, self.quote_bid,
                          self.quote_ask):
                _remove(gauge, symbol)
            for status in STATUSES:
                _remove(self.cycle_status, symbol, status)

    def broker_request(self, endpoint: str, seconds: float, error: str | None) -> None:
        self.broker_latency.labels(endpoint).observe(seconds)
        self.broker_reachable.set(0 if error == UNAVAILABLE else 1)
        if error is not None:
            self.broker_errors.labels(endpoint, error).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, host: str, port: int, routes: Mapping[str, Route] | None = None) -> WebServer:
        """Serve /metrics (and `routes`) on host:port from a background thread."""
        def metrics() -> Response:
            return Response(200, CONTENT_TYPE_LATEST, self.exposition())

        return WebServer(host, port, {"/metrics": metrics, **(routes or {})})


def _remove(metric: Gauge, *labels: str) -> None:
    try:
        metric.remove(*labels)
    except KeyError:
        pass


def _price(quote: Any, side: str) -> float:
    return float(getattr(quote, side)) if quote is not None else math.nan
