"""Properties of the matching engine under random order flow and random markets (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sim.assets import AssetCatalog
from adapters.sim.errors import ExchangeError
from adapters.sim.events import TradeEvent
from adapters.sim.matching import MatchingEngine
from adapters.sim.orders import OrderRequest, Side
from adapters.sim.rules import ExchangeRules
from dca.market import Quote
from dca.money import round_down

T0 = datetime(2026, 1, 5, tzinfo=UTC)
START_CASH = D(5000)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("quote"), st.integers(-300, 300), st.integers(1, 40)),
        st.tuples(st.just("buy"), st.integers(2, 60), st.integers(-100, 100)),
        st.tuples(st.just("sell"), st.integers(1, 100), st.integers(-100, 100)),
        st.tuples(st.just("cancel"), st.integers(0, 50), st.just(0)),
    ),
    min_size=1,
    max_size=60,
)


def run(ops: list[tuple[str, int, int]], partial: int, tif: str, rules: ExchangeRules | None = None,
        events: list[TradeEvent] | None = None) -> MatchingEngine:
    """`events`, if given, collects every trade event the flow caused, in order."""
    engine = MatchingEngine(AssetCatalog(["ETH/USD"]), seed=partial, starting_cash=START_CASH, rules=rules)
    seen = events if events is not None else []
    engine.fill_model.partial_fill_probability = D(partial) / 4
    mid = D(3000)
    engine.on_quote(Quote("ETH/USD", mid - D("0.5"), mid + D("0.5"), T0))
    for second, (kind, a, b) in enumerate(ops, start=1):
        now = T0 + timedelta(seconds=second)
        try:
            if kind == "quote":
                mid = max(D(100), (mid * (1 + D(a) / 10_000)).quantize(D("0.1")))
                half = (mid * D(b) / 20_000).quantize(D("0.1")) + D("0.1")
                seen += engine.on_quote(Quote("ETH/USD", mid - half, mid + half, now, D(1), D(1)))
            elif kind == "buy":
                limit = (mid * (1 + D(b) / 1000)).quantize(D("0.1")) if b % 2 else None
                request = OrderRequest(
                    "ETH/USD", "buy", "limit" if limit else "market", tif, qty=D(a) / 1000, limit_price=limit
                )
                seen += engine.submit(request, now)[1]
            elif kind == "sell":
                qty = round_down(engine.qty_available("ETH/USD") * a / 100, D("0.000000001"))
                limit = (mid * (1 + D(b) / 1000)).quantize(D("0.1")) if b % 2 else None
                request = OrderRequest(
                    "ETH/USD", "sell", "limit" if limit else "market", tif, qty=qty, limit_price=limit
                )
                seen += engine.submit(request, now)[1]
            elif engine.open_orders():
                seen += engine.cancel(engine.open_orders()[a % len(engine.open_orders())].id, now)
        except ExchangeError:
            pass  # refused orders must leave no trace; the invariants below check that
        check_invariants(engine)
    return engine


def check_invariants(engine: MatchingEngine) -> None:
    position = engine.position_qty("ETH/USD")
    assert position >= 0 and engine.qty_available("ETH/USD") >= 0
    assert engine.cash >= 0 and engine.reserved_cash >= 0 and engine.buying_power >= 0
    # every unit of cash and coin is accounted for by an execution, fees included
    buys = [e for e in engine.executions if e.side is Side.BUY]
    sells = [e for e in engine.executions if e.side is Side.SELL]
    spent = sum((e.qty * e.price for e in buys), D(0))
    received = sum((e.qty * e.price - e.fee for e in sells), D(0))
    assert engine.cash == START_CASH - spent + received
    assert position == sum((e.qty - e.fee for e in buys), D(0)) - sum((e.qty for e in sells), D(0))
    for order in engine.orders():
        assert 0 <= order.filled_qty <= (order.target_qty or order.filled_qty)
        if order.status == "filled":
            assert order.filled_qty == order.target_qty


@settings(max_examples=80, deadline=None)
@given(operations, st.integers(0, 4), st.sampled_from(["gtc", "ioc"]))
def test_cash_and_coin_are_conserved_net_of_fees_and_never_go_negative(
    ops: list[tuple[str, int, int]], partial: int, tif: str
) -> None:
    run(ops, partial, tif)


@settings(max_examples=30, deadline=None)
@given(operations, st.integers(0, 4))
def test_value_at_execution_prices_changes_only_by_the_fees(ops: list[tuple[str, int, int]], partial: int) -> None:
    engine = run(ops, partial, "gtc")
    cash, coin = START_CASH, D(0)
    for execution in engine.executions:
        before = cash + coin * execution.price
        if execution.side is Side.BUY:
            cash, coin = cash - execution.qty * execution.price, coin + execution.qty - execution.fee
            fee_value = execution.fee * execution.price
        else:
            cash, coin = cash + execution.qty * execution.price - execution.fee, coin - execution.qty
            fee_value = execution.fee
        assert cash + coin * execution.price == before - fee_value
        assert coin == execution.position_qty and cash == execution.cash_after


@settings(max_examples=20, deadline=None)
@given(operations)
def test_same_seed_and_flow_replay_identically(ops: list[tuple[str, int, int]]) -> None:
    first, second = run(ops, 2, "gtc"), run(ops, 2, "gtc")
    assert first.executions == second.executions and first.orders() == second.orders()


@settings(max_examples=30, deadline=None)
@given(operations, st.sampled_from(["gtc", "ioc", "fok"]))
def test_orders_filled_whole_on_arrival_match_the_general_path_exactly(ops: list[tuple[str, int, int]],
                                                                       tif: str) -> None:
    # an expiry no order reaches sends every first quote through the general path (`_match`'s
    # snapshots one by one); without one, a whole taker fill on arrival takes `_fill_on_arrival`
    general_events: list[TradeEvent] = []
    lane_events: list[TradeEvent] = []
    general = run(ops, 0, tif, ExchangeRules(gtc_expiry=timedelta(days=3650)), general_events)
    lane = run(ops, 0, tif, ExchangeRules(), lane_events)
    assert lane.executions == general.executions and lane.orders() == general.orders()
    assert lane_events == general_events
    assert (lane.cash, lane.positions()) == (general.cash, general.positions())
