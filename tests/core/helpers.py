"""Builders that keep the core's scenario tests short and readable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dca.cycle import AssetState, Cycle, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.events import CloseReason, OrderAccepted, OrderClosed, OrderFilled, PositionBeforeOrder
from dca.market import Quote
from dca.params import AssetConfig, AssetParams, ExchangeRules, FeeSchedule, OrderTiming
from dca.strategy import Decision, decide

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYMBOL = "BTC/USD"
NAMESPACE = "dca-test1"


def D(value: str | int) -> Decimal:
    return Decimal(value)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def config(
    *, fees: tuple[str, str] = ("0", "0"), min_notional: str = "1", increments: str = "0.000000001",
    min_order_size: str | None = None, **params
) -> AssetConfig:
    """An asset config with loose exchange minimums and no fees unless a test asks for them."""
    typed = {k: (Decimal(v) if type(v) is str else v) for k, v in params.items()}  # enums (str too) stay
    return AssetConfig(
        asset_id=1, symbol=SYMBOL, order_namespace=NAMESPACE,
        params=replace(AssetParams(ttp_enabled=False), **typed),
        rules=ExchangeRules(min_order_size=D(min_order_size or increments), min_trade_increment=D(increments),
                            price_increment=D("0.01"), min_notional=D(min_notional)),
        fees=FeeSchedule(maker_bps=D(fees[0]), taker_bps=D(fees[1])),
        timing=OrderTiming(),
    )


def watching(cycle_id: int = 7, **fields) -> AssetState:
    cycle = Cycle(id=cycle_id, status=CycleStatus.WATCHING, **fields)
    return AssetState(cycle)


def in_position(qty: str, avg: str, last_fill: str | None = None, safety_orders: int = 0,
                status: CycleStatus = CycleStatus.WATCHING, **fields) -> AssetState:
    quantity, average = D(qty), D(avg)
    return AssetState(Cycle(
        id=7, status=status, quantity=quantity, cost=quantity * average, safety_orders=safety_orders,
        last_fill_price=D(last_fill or avg), bought_qty=quantity, order_seq=1 + safety_orders, **fields,
    ))


def quote(bid: str | int, ask: str | int | None = None, t: float = 0) -> Quote:
    b = D(bid)
    return Quote(SYMBOL, b, D(ask) if ask is not None else b, at(t))


def with_order(state: AssetState, side: Side = Side.BUY, kind: OrderKind = OrderKind.BASE,
               qty: str = "0.002", limit: str | None = "50000", status: CycleStatus | None = None,
               position_before: str | None = None, created: float = 0) -> AssetState:
    seq = state.cycle.order_seq + 1
    order = LiveOrder(
        f"{NAMESPACE}-1-{state.cycle.id}-{seq}", kind, side,
        OrderType.LIMIT if side is Side.BUY else OrderType.MARKET, D(qty),
        D(limit) if limit is not None and side is Side.BUY else None, at(created),
        exchange_id="ex-1", position_before=D(position_before) if position_before is not None else None,
    )
    default_status = CycleStatus.BUYING if side is Side.BUY else CycleStatus.SELLING
    return state.evolve(cycle=state.cycle.evolve(order=order, order_seq=seq, status=status or default_status))


def live_id(state: AssetState) -> str:
    assert state.cycle.order is not None
    return state.cycle.order.client_order_id


def filled(state: AssetState, qty: str, price: str, t: float = 1, final: bool = True,
           position: str | None = None, fee: str | None = None) -> OrderFilled:
    return OrderFilled(live_id(state), D(qty), D(price), at(t), final,
                       position_qty=D(position) if position is not None else None,
                       fee=D(fee) if fee is not None else None)


def closed(state: AssetState, reason: CloseReason = CloseReason.CANCELED, qty: str = "0",
           price: str | None = None, t: float = 1, position: str | None = None) -> OrderClosed:
    return OrderClosed(live_id(state), reason, at(t), D(qty), D(price) if price else None,
                       position_qty=D(position) if position is not None else None)


def accepted(state: AssetState, t: float = 0.5) -> OrderAccepted:
    return OrderAccepted(live_id(state), "ex-1", at(t))


def position_before(state: AssetState, quantity: str, t: float = 0.2) -> PositionBeforeOrder:
    return PositionBeforeOrder(live_id(state), D(quantity), at(t))


def run(cfg: AssetConfig, state: AssetState, *events) -> tuple[AssetState, list[Decision]]:
    """Feed events in order, giving freshly started cycles an id the way the store would."""
    decisions = []
    next_id = (state.cycle.id or 0) + 100
    for event in events:
        decision = decide(cfg, state, event)
        decisions.append(decision)
        state = decision.state
        if state.cycle.id is None:
            state = state.evolve(cycle=state.cycle.evolve(id=next_id))
            next_id += 1
    return state, decisions
