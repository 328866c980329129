"""`TradeUpdateRouter`: owns the trade-updates WebSocket and routes each update to its asset.

Every update is mirrored into `dca_orders`; updates for our own orders (recognised by the
client_order_id namespace) become core events for the asset's actor; anything else is a foreign
order, counted and left alone. After every (re)connect, each asset actor is asked to read its live
orders back over REST (the acting one and those resting ahead), so fills that happened while the
stream was down are applied (exactly once: order events are cumulative). The connection itself is
handled as for every stream router (`actors.stream_router`); in a dry run the stream is the shadow
exchange's (the wiring decides).
"""

from __future__ import annotations

from typing import Any

from actors.asset_actor import RECONNECTED
from actors.messages import CheckOrder, OrderReport, tell_quietly
from actors.runtime import Runtime, asset_actor_name
from actors.stream_router import StreamRouter
from dca.order_ids import parse_client_order_id
from dca.order_reports import event_for
from ports.streams import ConnectionEvents, Stream, TradeUpdate


class TradeUpdateRouter(StreamRouter):
    STREAM = "trade_updates"
    DESCRIPTION = "trade updates"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._symbols: dict[int, str] = {}

    def open_stream(self, events: ConnectionEvents) -> Stream:
        me = self.actor_ref
        return self._rt.streams.trade_update_stream(lambda update: tell_quietly(me, update), events)

    def connected(self) -> None:
        self._log.info("trade updates connected; asking every asset to read its live orders back")
        self._catch_up()

    def on_message(self, message: Any) -> None:
        if isinstance(message, TradeUpdate):
            self._route(message)

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
