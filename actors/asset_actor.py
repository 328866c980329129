"""`AssetActor`: one per traded asset, the only writer of that asset's cycle.

A pykka shell around `app.driver.AssetDriver`, which owns the order loop (decide, vet, persist,
submit, apply): this actor turns messages into driver calls, turns the driver's timers into
scheduled messages, and keeps the quote board's slot held while the cycle may change.

On start (and after every crash, since a restart is a new actor) the driver rebuilds its state
from the database and, before anything else, looks up on the exchange any order the database
holds as in flight, so a fill or cancel that happened while it was down is applied exactly once.
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from typing import Any

from pykka import ActorRef

from actors.messages import (
    Adopt,
    CancelOrders,
    CheckHoldings,
    CheckOrder,
    CloseCycle,
    FeeLearned,
    Housekeeping,
    OrderReport,
    ParamsChanged,
    QuoteReady,
    RecheckFee,
    Snapshot,
    Subscribe,
    TimerTick,
)
from actors.runtime import Runtime, asset_actor_name
from actors.supervision import ChildSpec, ExitReason, Restart, SupervisedActor
from app.driver import AssetDriver, AssetHost
from dca.assets import AssetRecord
from dca.market import Quote
from ports.asset_host import OrderLookup

MARKET_DATA_ROUTER = "market_data_router"
# why a caretaker or router asks for a read-back (kept here, where they import them from)
RECOVERING, RECONNECTED, RECONCILING = OrderLookup.RECOVERING, OrderLookup.RECONNECTED, OrderLookup.RECONCILING


class AssetActor(SupervisedActor):
    def __init__(self, asset_id: int, runtime: Runtime) -> None:
        super().__init__()
        self._rt = runtime
        self._symbol = ""
        self._last_quote: Quote | None = None
        host = AssetHost(timers=_Timers(runtime, self.actor_ref), stopwatch=_RealTime(), quotes=runtime.board)
        self._driver = AssetDriver(asset_id, runtime, host)

    # --- lifecycle -------------------------------------------------------------------------------

    def init(self) -> None:
        rt, driver = self._rt, self._driver
        driver.start()
        self._symbol = symbol = driver.symbol
        rt.metrics.actors_started([asset_actor_name(symbol)])
        rt.scheduler.every(rt.clock_seconds(rt.intervals.housekeeping), self.actor_ref, Housekeeping())
        rt.board.register(symbol, rt.asset_handle(symbol))
        rt.metrics.watch_quotes(symbol, partial(rt.board.latest, symbol))
        rt.root_directory.handle(MARKET_DATA_ROUTER).tell(Subscribe((symbol,)))
        rt.board.release(symbol, driver.triggers)

    def terminate(self, reason: ExitReason) -> None:
        self._driver.stop()
        if reason.normal and self._symbol:
            self._driver.log.info("stopped ({})", reason)

    # --- messages ------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        # Every quote comes here while the state may change; on a crash the slot stays held.
        self._rt.board.hold(self._symbol)
        result = self._handle(message)
        self._rt.board.release(self._symbol, self._driver.triggers)
        return result

    def _handle(self, message: Any) -> Any:
        driver = self._driver
        match message:
            case QuoteReady():
                self._on_quote_ready()
            case OrderReport(event=event):
                driver.on_order_report(event)
            case TimerTick():
                driver.on_timer()
            case CheckOrder(reason=reason):
                driver.check_order(reason)
            case CheckHoldings(quantity=quantity, expected=expected, requested_at=requested_at):
                driver.check_holdings(quantity, expected, time.monotonic() if requested_at is None else requested_at)
            case FeeLearned(client_order_id=client_order_id, fee=fee):
                driver.fee_learned(client_order_id, fee)
            case RecheckFee(client_order_id=client_order_id):
                driver.recheck_fee(client_order_id)
            case ParamsChanged(record=record):
                driver.params_changed(record)
            case Housekeeping():
                driver.housekeeping()
            case Snapshot():
                config, state = driver.snapshot()
                return config, state, self._newest_decided_quote()
            case Adopt(quantity=quantity, price=price):
                return driver.adopt(quantity, price)
            case CloseCycle():
                return driver.close_cycle()
            case CancelOrders():
                return driver.cancel_orders()
            case _:
                driver.log.warning("unexpected message {!r}", message)
        return None

    def _on_quote_ready(self) -> None:
        quote, arrived_ns = self._rt.board.take(self._symbol)
        if quote is None or quote is self._last_quote:
            return
        self._last_quote = quote
        self._driver.on_quote(quote)
        self._rt.metrics.decision_latency.observe((time.perf_counter_ns() - arrived_ns) / 1e9)

    def _newest_decided_quote(self) -> Quote | None:
        """The newest quote decided on, by this actor or settled on arrival by the quote board."""
        settled = self._rt.board.settled(self._symbol)
        if settled is None or (self._last_quote is not None and self._last_quote.time >= settled.time):
            return self._last_quote
        return settled


class _Timers:
    """The driver's timers as messages to its actor, on the runtime's scheduler."""

    def __init__(self, runtime: Runtime, actor_ref: ActorRef[Any]) -> None:
        self._rt, self._ref = runtime, actor_ref

    def tick_at(self, at: datetime) -> None:
        self._rt.scheduler.call_at(at, self._ref, TimerTick())

    def recheck_fee_in(self, real_seconds: float, client_order_id: str) -> None:
        self._rt.scheduler.call_later(self._rt.clock_seconds(real_seconds), self._ref, RecheckFee(client_order_id))

    def check_order_in(self, real_seconds: float, reason: OrderLookup) -> None:
        self._rt.scheduler.call_later(self._rt.clock_seconds(real_seconds), self._ref, CheckOrder(reason))


class _RealTime:
    """Monotonic real seconds: repeat suppression and readings' freshness never speed up with a simulation."""

    def seconds(self) -> float:
        return time.monotonic()


def asset_spec(record: AssetRecord, runtime: Runtime) -> ChildSpec:
    """How the asset supervisor starts (and restarts) the actor of one asset."""
    return ChildSpec(asset_actor_name(record.symbol), AssetActor, args=(record.id, runtime),
                     restart=Restart.TRANSIENT, shutdown_timeout_s=30.0)
