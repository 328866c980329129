"""The simulator's `MatchingEngine` as the backtest session's exchange (`dca.backtest.BacktestVenue`).

The engine is the fill model of the simulator the live bot is tested against, so a backtest and
the end-to-end tests fill the same order the same way: next-quote matching (no look-ahead), taker
at the touch, resting limits filled as maker at their limit, fees in the asset received.
Its trade events become the core's events the way the live trade-update router maps Alpaca's:
cumulative quantity and average price, plus the exact cumulative fee (which Alpaca does not send).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from adapters.sim.assets import AssetCatalog, AssetSpec
from adapters.sim.errors import NotCancelable, NotFound, OrderRejected
from adapters.sim.events import TradeEvent
from adapters.sim.matching import MatchingEngine
from adapters.sim.orders import Order, OrderRequest, OrderStatus, OrderType, TimeInForce
from adapters.sim.rules import ExchangeRules as SimRules
from dca.backtest.venue import Holdings
from dca.commands import CancelOrder, SubmitOrder
from dca.events import CloseReason, Event, OrderAccepted, OrderClosed, OrderFilled
from dca.market import Quote
from dca.params import ExchangeRules, FeeSchedule

_CLOSED = {"canceled": CloseReason.CANCELED, "expired": CloseReason.EXPIRED, "rejected": CloseReason.REJECTED}


class EngineVenue:
    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        # client order id → the exchange id as text, written once per order (`str` of a UUID is not cheap)
        self._exchange_ids: dict[str, str] = {}

    def submit(self, order: SubmitOrder, now: datetime) -> list[Event]:
        request = OrderRequest(order.symbol, order.side.value, order.order_type.value, order.time_in_force,
                               qty=order.qty, limit_price=order.limit_price, client_order_id=order.client_order_id)
        try:
            accepted = self.engine.accept(request, now)
        except OrderRejected as error:  # refused at the door, as Alpaca's 403/422: no order exists
            return [OrderClosed(order.client_order_id, CloseReason.REJECTED, now, message=error.message)]
        exchange_id = self._exchange_ids[order.client_order_id] = str(accepted.id)
        return [OrderAccepted(order.client_order_id, exchange_id, now)]

    def cancel(self, order: CancelOrder, now: datetime) -> list[Event]:
        try:
            found = self.engine.order_by_client_id(order.client_order_id)
            events = self.engine.cancel(found.id, now)
        except (NotFound, NotCancelable):  # it ended first; its final event was already delivered
            return []
        return self._events(events)

    def on_quote(self, quote: Quote) -> list[Event]:
        events = self.engine.on_quote(quote)
        return self._events(events) if events else []  # most quotes reach no order

    def is_resting(self, client_order_id: str) -> bool:
        """Is the order open, matched against at least one quote without crossing, and not being
        cancelled? Then only a quote touching its limit can fill it (as a maker, at its limit)."""
        try:
            order = self.engine.order_by_client_id(client_order_id)
        except NotFound:
            return False
        return (order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED) and order.first_quote_seen
                and order.type is OrderType.LIMIT and order.time_in_force is TimeInForce.GTC)

    def holdings(self, symbol: str) -> Holdings:
        return Holdings(self.engine.cash, self.engine.position_qty(symbol))

    def liquidity(self) -> dict[str, list[str]]:
        """client_order_id → maker or taker, for each of its fills in order (the fee rate it paid)."""
        found: dict[str, list[str]] = {}
        for execution in self.engine.executions:
            found.setdefault(execution.client_order_id, []).append(execution.liquidity.value)
        return found

    def _events(self, trade_events: list[TradeEvent]) -> list[Event]:
        return [event for event in map(self._event, trade_events) if event is not None]

    def _event(self, update: TradeEvent) -> Event | None:
        order = update.order
        kind = update.event
        if kind == "fill" or kind == "partial_fill":
            price = order.filled_avg_price
            assert price is not None
            return OrderFilled(order.client_order_id, order.filled_qty, price, update.timestamp,
                               final=kind == "fill", position_qty=update.position_qty, fee=order.fees,
                               exchange_id=self._exchange_id(order))
        reason = _CLOSED.get(kind)
        if reason is None:  # "new": the submission already said so
            return None
        return OrderClosed(order.client_order_id, reason, update.timestamp, order.filled_qty, order.filled_avg_price,
                           position_qty=update.position_qty, fee=order.fees, message=update.reason or "")

    def _exchange_id(self, order: Order) -> str:
        known = self._exchange_ids.get(order.client_order_id)
        return known if known is not None else str(order.id)


def engine_for(spec: AssetSpec, cash: Decimal, fees: FeeSchedule, min_notional: Decimal, seed: int = 1,
               ) -> MatchingEngine:
    """A one-pair engine with the exchange rules the live bot would get from the simulator."""
    rules = SimRules(maker_fee_bps=fees.maker_bps, taker_fee_bps=fees.taker_bps, min_notional=min_notional)
    return MatchingEngine(AssetCatalog([spec.symbol], overrides={spec.symbol: spec}), seed=seed,
                          starting_cash=cash, rules=rules)


def rules_of(spec: AssetSpec, min_notional: Decimal) -> ExchangeRules:
    """The pair's increments and minimums as the strategy sees them (the simulator's asset catalog)."""
    return ExchangeRules(min_order_size=spec.min_order_size, min_trade_increment=spec.min_trade_increment,
                         price_increment=spec.price_increment, min_notional=min_notional)
