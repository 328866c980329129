"""The metrics port: the counters, gauges and histograms the actors and drivers move, and the few
helpers that set several at once. adapters/metrics.py implements it on prometheus-client; a
labelled family answers `labels(...)` with the child to move, as prometheus-client does."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Protocol, TypeVar

from dca.market import Quote

Child = TypeVar("Child", covariant=True)


class Counter(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class Gauge(Protocol):
    def set(self, value: float) -> None: ...

    def inc(self, amount: float = 1) -> None: ...


class Histogram(Protocol):
    def observe(self, amount: float) -> None: ...


class Family(Protocol[Child]):
    """A metric with labels: `labels(value, ...)` is the child for those label values."""

    def labels(self, *values: str) -> Child: ...


class Metrics(Protocol):
    # quotes and decisions
    decision_latency: Histogram
    # orders
    orders_submitted: Family[Counter]
    orders_rejected: Family[Counter]
    orders_canceled: Family[Counter]
    orders_vetoed: Family[Counter]
    fills: Family[Counter]
    foreign_orders: Counter
    # cycles, positions and the books
    cycles_completed: Family[Counter]
    stop_losses: Family[Counter]  # cycles the stop loss sold at market
    realized_profit: Family[Gauge]
    foreign_positions: Family[Gauge]
    discrepancies: Family[Counter]
    sell_shortfalls: Family[Counter]
    fee_corrections: Family[Counter]
    pairs_refused: Family[Gauge]
    # streams
    stream_connected: Family[Gauge]
    stream_reconnects: Family[Counter]
    malformed_messages: Family[Counter]
    connection_limit: Counter
    # risk
    account_cash: Gauge
    kill_switch: Gauge
    circuit_open: Family[Gauge]
    daily_realized_profit: Gauge
    daily_loss_limit_hit: Gauge

    def asset_started(self, symbol: str) -> None: ...

    def actors_started(self, names: Iterable[str]) -> None: ...

    def caretaker_started(self, name: str, interval_seconds: float) -> None: ...

    def watch_quotes(self, symbol: str, latest: Callable[[], Quote | None]) -> None: ...

    def set_status(self, symbol: str, status: str) -> None: ...

    def set_position(self, symbol: str, quantity: Decimal, cost: Decimal, safety_orders: int,
                     bid: Decimal | None) -> None: ...

    def forget(self, symbols: Iterable[str]) -> None: ...
