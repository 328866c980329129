"""Dry run: a local shadow exchange that takes the orders instead of the venue.

With DRY_RUN=true the bot still reads the venue's live quotes, decides, logs and records every
order, but sends them here: the simulator's matching engine, fed by those same live quotes. Fills
then come back through the same trade-update path as real ones, so cycles progress as they would
(limit orders rest, taker and maker fees are charged in kind) while nothing reaches Alpaca.

The shadow account starts with DRY_RUN_WALLET in cash and is kept in a state file, so a restarted dry
run carries on with the positions its cycles hold. It answers the broker calls the actors make; rules,
quotes and the clock come from the real venue.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.alpaca.broker import Account, NotFound, OrderRejected, rejection_for
from adapters.alpaca.convert import TradeUpdate, order_from_json, trade_update_from_raw
from adapters.sim import errors as sim_errors
from adapters.sim.assets import AssetCatalog, make_asset
from adapters.sim.matching import MatchingEngine
from adapters.sim.orders import OrderRequest
from adapters.sim.rules import ExchangeRules as SimRules
from adapters.sim.state_store import load_state, save_state
from adapters.sim.wire import order_json, trade_update_json
from dca.commands import SubmitOrder
from dca.exchange import ExchangeOrder, Position
from dca.market import Quote
from dca.money import ZERO
from dca.params import ExchangeRules
from ports.streams import ConnectionEvents, QuoteStream, Stream, StreamFactory


class ShadowExchange:
    """Broker-compatible: `submit`, `cancel`, `order_by_client_id`, `positions`, `account`, … ;
    everything else (rules, quotes, the venue's clock) is delegated to the real broker."""

    def __init__(self, venue_broker: Any, rules: dict[str, ExchangeRules], *, cash: Decimal, maker_bps: Decimal,
                 taker_bps: Decimal, min_notional: Decimal, clock: Callable[[], datetime],
                 state_file: Path | None) -> None:
        self._venue, self._clock, self._state_file = venue_broker, clock, state_file
        overrides = {symbol: _spec(symbol, r) for symbol, r in rules.items()}
        catalog = AssetCatalog(list(rules), overrides)
        # a random salt: a shadow started afresh on a kept dry-run database must not repeat its order ids
        # (a saved shadow carries on with its own id stream, restored below)
        self._engine = MatchingEngine(catalog, seed=1, salt=secrets.token_hex(4), starting_cash=cash, rules=SimRules(
            maker_fee_bps=maker_bps, taker_fee_bps=taker_bps, min_notional=min_notional))
        self._lock = threading.Lock()
        self._listeners: list[Callable[[TradeUpdate], None]] = []
        if state_file is not None and state_file.exists():
            self._engine.import_state(load_state(state_file)["engine"])

    # --- the feed --------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[TradeUpdate], None]) -> None:
        self._listeners.append(listener)

    def on_quote(self, quote: Quote) -> None:
        """Every live quote: resting orders are matched against it first (as on the venue)."""
        with self._lock:
            try:
                events = self._engine.on_quote(quote)
            except KeyError:  # a pair the shadow does not list: nothing of ours can trade there
                return
        self._emit(events)

    # --- orders ----------------------------------------------------------------------------------

    def submit(self, command: SubmitOrder) -> ExchangeOrder:
        request = OrderRequest(command.symbol, command.side.value, command.order_type.value, command.time_in_force,
                               qty=command.qty, limit_price=command.limit_price,
                               client_order_id=command.client_order_id)
        with self._lock:
            try:
                order, events = self._engine.submit(request, self._clock())
            except sim_errors.OrderRejected as error:
                raise _rejection(error) from None
        self._emit(events)
        return order_from_json(order_json(order))

    def cancel(self, exchange_id: str) -> None:
        with self._lock:
            try:
                events = self._engine.cancel(_uuid(exchange_id), self._clock())
            except sim_errors.NotFound as error:
                raise NotFound(str(error), 404, 40410000) from None
            except sim_errors.ExchangeError as error:
                raise OrderRejected(str(error), 422, 42210000) from None
        self._emit(events)

    def order_by_client_id(self, client_order_id: str) -> ExchangeOrder | None:
        with self._lock:
            for order in self._engine.orders():
                if order.client_order_id == client_order_id:
                    return order_from_json(order_json(order))
        return None

    def orders(self, *, status: str = "all", **_: Any) -> list[ExchangeOrder]:
        with self._lock:
            chosen = self._engine.open_orders() if status == "open" else self._engine.orders()
            return [order_from_json(order_json(order)) for order in chosen]

    def iter_orders(self, *, status: str = "all", **_: Any) -> Iterator[ExchangeOrder]:
        yield from self.orders(status=status)

    # --- account ---------------------------------------------------------------------------------

    def position(self, symbol: str) -> Position | None:
        qty = self.position_qty(symbol)
        return Position(symbol, qty, ZERO) if qty else None

    def position_qty(self, symbol: str) -> Decimal:
        with self._lock:
            return self._engine.position_qty(symbol)

    def positions(self) -> dict[str, Position]:
        with self._lock:
            return {p.symbol: Position(p.symbol, p.qty, p.avg_entry_price) for p in self._engine.positions() if p.qty}

    def account(self) -> Account:
        with self._lock:
            cash = self._engine.cash
            return Account(cash, self._engine.buying_power, cash, "ACTIVE")

    def save(self) -> None:
        if self._state_file is None:
            return
        with self._lock:
            state = self._engine.export_state()
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        save_state(self._state_file, {"engine": state})

    # --- delegated to the venue ------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:  # rules, all_rules, latest_quotes, exchange_time, data_client, …
        return getattr(self._venue, name)

    def _emit(self, events: list[Any]) -> None:
        if events:
            self.save()  # fills are rare: keep the shadow account on disk as it changes
        for event in events:
            update = trade_update_from_raw(trade_update_json(event))
            for listener in self._listeners:
                listener(update)


def _spec(symbol: str, rules: ExchangeRules) -> Any:
    return dataclasses.replace(make_asset(symbol), price_increment=rules.price_increment,
                               min_trade_increment=rules.min_trade_increment, min_order_size=rules.min_order_size)


def _rejection(error: Any) -> OrderRejected:
    return rejection_for(error.message, error.status, error.code)


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"order {value} not found", 404, 40410000) from None


class _ShadowTradeUpdates:
    """The shadow exchange as a trade-update stream (`ports.streams.Stream`): always connected."""

    def __init__(self, shadow: ShadowExchange, on_update: Callable[[TradeUpdate], None],
                 events: ConnectionEvents) -> None:
        self._shadow, self._on_update, self._events = shadow, on_update, events
        self._running = False

    def start(self) -> None:
        self._shadow.subscribe(self._deliver)
        self._running = True
        self._events.on_connected()

    def _deliver(self, update: TradeUpdate) -> None:
        if self._running:  # a stopped router's listener stays subscribed but hears nothing
            self._on_update(update)

    def stop(self) -> None:
        self._running = False

    @property
    def alive(self) -> bool:
        return True


class DryRunStreams:
    """The stream factory of a dry run: the venue's quotes, the shadow exchange's trade updates."""

    def __init__(self, venue: StreamFactory, shadow: ShadowExchange) -> None:
        self._venue, self._shadow = venue, shadow

    def quote_stream(self, on_quote: Callable[[Quote], None], events: ConnectionEvents) -> QuoteStream:
        return self._venue.quote_stream(on_quote, events)

    def trade_update_stream(self, on_update: Callable[[TradeUpdate], None], events: ConnectionEvents) -> Stream:
        return _ShadowTradeUpdates(self._shadow, on_update, events)
