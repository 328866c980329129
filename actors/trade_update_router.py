"""`TradeUpdateRouter`: owns the trade-updates WebSocket and routes each update to its asset.

Every update is mirrored into `dca_orders`; updates for our own orders (recognised by the
client_order_id namespace) become core events for the asset's actor; anything else is a foreign
order, counted and left alone. After every (re)connect, each asset actor is asked to read its live
order back over REST, so fills that happened while the stream was down are applied (exactly once:
order events are cumulative).
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from actors.asset_actor import RECONNECTED
from actors.messages import (
    CheckOrder,
    OrderReport,
    StreamCheck,
    StreamConnected,
    StreamDisconnected,
    tell_quietly,
)
from actors.runtime import Runtime, asset_actor_name
from actors.supervision import ExitReason, SupervisedActor
from adapters.alpaca.convert import TradeUpdate
from adapters.alpaca.streams import TradeUpdateStream
from dca.order_ids import parse_client_order_id
from dca.order_reports import event_for

STREAM = "trade_updates"


class TradeUpdateRouter(SupervisedActor):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._rt = runtime
        self._stream: TradeUpdateStream | None = None
        self._connections = 0
        self._symbols: dict[int, str] = {}
        self._log = logger.bind(actor="trade-update-router")

    def init(self) -> None:
        rt, me = self._rt, self.actor_ref
        if rt.shadow is not None:  # dry run: the shadow exchange is the source of trade updates
            rt.shadow.subscribe(lambda update: tell_quietly(me, update))
            tell_quietly(me, StreamConnected())
            return
        endpoints = rt.stream_endpoints
        self._stream = TradeUpdateStream(
            rt.key_id, rt.secret_key, endpoints.trading_stream, endpoints.paper,
            on_update=lambda update: tell_quietly(me, update),
            on_connected=lambda: tell_quietly(me, StreamConnected()),
            on_disconnected=lambda: tell_quietly(me, StreamDisconnected()),
            on_error=lambda kind, error: self._malformed(kind, error),
        )
        self._stream.start()
        rt.scheduler.every(rt.clock_seconds(rt.intervals.stream_check), me, StreamCheck())

    def terminate(self, reason: ExitReason) -> None:
        if self._stream is not None:
            self._stream.stop()
        self._rt.stream_state(STREAM, connected=False)

    def on_receive(self, message: Any) -> None:
        match message:
            case TradeUpdate():
                self._route(message)
            case StreamConnected():
                self._connections += 1
                if self._connections > 1:
                    self._rt.metrics.stream_reconnects.labels(STREAM).inc()
                self._rt.stream_state(STREAM, connected=True)
                self._log.info("trade updates connected; asking every asset to read its live order back")
                self._catch_up()
            case StreamDisconnected():
                self._rt.stream_state(STREAM, connected=False)
                self._log.warning("trade updates disconnected; alpaca-py reconnects with backoff")
            case StreamCheck():
                if self._stream is not None and not self._stream.alive:
                    raise RuntimeError("the trade-update stream's thread has died")

    def _route(self, update: TradeUpdate) -> None:
        self._rt.orders.record(update.order)
        ref = parse_client_order_id(update.order.client_order_id)
        ours = ref is not None and ref.namespace == self._rt.rules.namespace
        asset_id = ref.asset_id if ref is not None and ours else self._rt.taken_over_orders.get(
            update.order.client_order_id)  # a live order taken over from the seed bot
        if asset_id is None:
            self._rt.metrics.foreign_orders.inc()
            self._log.debug("foreign order {} ({}): not ours, ignored", update.order.client_order_id, update.event)
            return
        # the update's position_qty is left out: whether it is net of the fee is unverified, so the
        # asset actor reads the position itself (by BTCUSD) to learn a buy's coin fee
        event = event_for(update.order, update.time)
        symbol = self._symbol_of(asset_id)
        if event is None or symbol is None:
            return
        if not self._rt.asset_directory.handle(asset_actor_name(symbol)).tell(OrderReport(event, update.order)):
            self._log.info("{} for {}: its actor is not running; it reads the order back when it starts",
                           update.event, update.order.client_order_id)

    def _catch_up(self) -> None:
        for name in self._rt.asset_directory.names():
            self._rt.asset_directory.handle(name).tell(CheckOrder(RECONNECTED))

    def _symbol_of(self, asset_id: int) -> str | None:
        if asset_id not in self._symbols:
            record = self._rt.assets.by_id(asset_id)
            if record is None:
                return None
            self._symbols[asset_id] = record.symbol
        return self._symbols[asset_id]

    def _malformed(self, kind: str, error: BaseException) -> None:
        self._rt.metrics.malformed_messages.labels(STREAM).inc()
        self._log.warning("skipped a malformed {} message: {!r}", kind, error)
