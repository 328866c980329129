"""What an asset driver is given: the shared services (`DriverPorts`, which the actors' `Runtime`
satisfies), what its hosting actor provides (`AssetHost`), and the settings for every asset."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from dca.params import ExchangeRules, FeeSchedule, OrderTiming
from ports.asset_host import AssetTimers, Quotes
from ports.broker import TradingBroker
from ports.clock import Clock, Stopwatch
from ports.metrics import Metrics
from ports.notifier import Notifier
from ports.risk import RiskGate
from ports.stores import AssetRepository, BarSource, BarStore, CycleStore


@dataclass(frozen=True, slots=True)
class TradingRules:
    """The settings the asset drivers hand to the core, whatever the asset."""

    namespace: str
    fees: FeeSchedule
    timing: OrderTiming
    min_notional: Decimal
    buy_margin_percent: Decimal = Decimal(2)
    rules_refresh_seconds: float = 900


class DriverPorts(Protocol):
    """The shared services an asset driver talks to (the actors' `Runtime` is one). Read on every
    use, never copied: whoever wires them may replace one (tests inject faults that way)."""

    @property
    def rules(self) -> TradingRules: ...
    @property
    def assets(self) -> AssetRepository: ...
    @property
    def cycles(self) -> CycleStore: ...
    @property
    def broker(self) -> TradingBroker: ...
    @property
    def risk(self) -> RiskGate: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def notifier(self) -> Notifier: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def bars(self) -> BarStore:
        """The stored minute bars: deal start conditions are read from them."""
        ...
    @property
    def bar_fetcher(self) -> BarSource | None:
        """Tops up a missing minute from the venue's history (None: the stored bars only)."""
        ...

    def exchange_rules(self, symbol: str) -> ExchangeRules: ...

    def refresh_exchange_rules(self, symbol: str) -> ExchangeRules: ...


@dataclass(frozen=True, slots=True)
class AssetHost:
    """What the actor hosting one driver provides: its timers, real time, and the newest quotes."""

    timers: AssetTimers
    stopwatch: Stopwatch
    quotes: Quotes
