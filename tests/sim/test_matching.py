"""The matching engine on its own: no network, no threads, time passed in."""

from __future__ import annotations

import copy
import pickle
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from adapters.sim.assets import AssetCatalog
from adapters.sim.errors import ExchangeError, NotCancelable, NotFound, OrderRejected
from adapters.sim.matching import MatchingEngine, uuid4_from_bits
from adapters.sim.orders import Liquidity, OrderRequest, OrderStatus
from adapters.sim.rules import ExchangeRules, FillModel
from dca.market import Quote

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def quote(bid: str, ask: str, seconds: int = 0, symbol: str = "BTC/USD", size: str = "0") -> Quote:
    return Quote(symbol, D(bid), D(ask), T0 + timedelta(seconds=seconds), D(size), D(size))


def make_engine(cash: str = "100000", seed: int = 1, **rules: object) -> MatchingEngine:
    engine = MatchingEngine(
        AssetCatalog(["BTC/USD", "ETH/USD"]), seed=seed, starting_cash=D(cash), rules=ExchangeRules(**rules)
    )
    engine.on_quote(quote("59990", "60000"))
    engine.on_quote(quote("3299.9", "3300", symbol="ETH/USD"))
    return engine


def buy(qty: str | None = None, notional: str | None = None, **kw: object) -> OrderRequest:
    fields: dict = {"symbol": "BTC/USD", "side": "buy", "type": "market", "time_in_force": "gtc"}
    fields.update(kw)
    return OrderRequest(qty=D(qty) if qty else None, notional=D(notional) if notional else None, **fields)


def sell(qty: str | None = None, **kw: object) -> OrderRequest:
    return buy(qty, side="sell", **kw)


def rejection(engine: MatchingEngine, request: OrderRequest) -> ExchangeError:
    with pytest.raises(OrderRejected) as caught:
        engine.submit(request, T0)
    return caught.value


# ---------------------------------------------------------------- fills and fees


def test_buy_fill_credits_position_net_of_taker_fee() -> None:
    engine = make_engine()
    order, events = engine.submit(buy("0.001"), T0)
    assert order.status == "pending_new" and [e.event for e in events] == ["new"]
    fills = engine.on_quote(quote("60000", "60005", 1))
    assert [e.event for e in fills] == ["fill"]
    fill = fills[0]
    assert fill.order.filled_qty == D("0.001") and fill.order.status == OrderStatus.FILLED
    assert fill.execution.price == D("60005") and fill.execution.liquidity == Liquidity.TAKER
    assert fill.execution.fee == D("0.0000025") and fill.execution.fee_currency == "BTC"
    assert fill.position_qty == D("0.0009975") == engine.position_qty("BTC/USD")
    assert engine.cash == D("100000") - D("60.005")
    position = engine.position("BTCUSD")
    assert position.avg_entry_price == D("60005") and position.cost_basis == D("0.0009975") * D("60005")


def test_order_is_never_matched_against_the_quote_current_when_it_arrived() -> None:
    engine = make_engine()
    engine.submit(buy("0.001"), T0)
    assert engine.open_orders()[0].filled_qty == 0  # the current ask (60000) was not used
    fill = engine.on_quote(quote("60990", "61000", 1))[0]
    assert fill.execution.price == D("61000")


def test_sell_pays_fee_in_usd_from_proceeds_rounded_up_to_the_cent() -> None:
    engine = make_engine()
    engine.submit(buy("0.001"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(sell("0.0009975"), T0 + timedelta(seconds=2))
    fill = engine.on_quote(quote("62000", "62010", 3))[0]
    proceeds = D("0.0009975") * D("62000")
    assert proceeds * D("0.0025") == D("0.1546125") and fill.execution.fee == D("0.16")  # Alpaca bills up
    assert fill.execution.fee_currency == "USD"
    assert engine.cash == D("100000") - D("60") + proceeds - D("0.16")
    assert engine.position("BTC/USD") is None and fill.position_qty == 0
    assert fill.execution.realized_pnl == (D("62000") - D("60000")) * D("0.0009975") - D("0.16")


def test_limit_buy_that_crosses_on_its_first_quote_fills_at_the_ask_as_taker() -> None:
    engine = make_engine()
    engine.submit(buy("0.001", type="limit", limit_price=D("61000")), T0)
    fill = engine.on_quote(quote("60490", "60500", 1))[0]
    assert fill.execution.price == D("60500") and fill.execution.liquidity == Liquidity.TAKER


def test_resting_limit_buy_fills_at_its_limit_as_maker_with_maker_fee() -> None:
    engine = make_engine()
    engine.submit(buy("0.001", type="limit", limit_price=D("59000")), T0)
    assert engine.on_quote(quote("59990", "60000", 1)) == []
    fill = engine.on_quote(quote("58800", "58900", 2))[0]
    assert fill.execution.price == D("59000") and fill.execution.liquidity == Liquidity.MAKER
    assert fill.execution.fee == D("0.0000015")  # 0.15 %
    assert engine.position_qty("BTC/USD") == D("0.0009985")


def test_resting_limit_sell_fills_at_its_limit_as_maker() -> None:
    engine = make_engine()
    engine.submit(buy("0.01"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(sell("0.005", type="limit", limit_price=D("61000")), T0)
    assert engine.on_quote(quote("60500", "60510", 2)) == []
    fill = engine.on_quote(quote("61200", "61210", 3))[0]
    assert fill.execution.price == D("61000") and fill.execution.liquidity == Liquidity.MAKER
    assert D("0.005") * D("61000") * D("0.0015") == D("0.4575") and fill.execution.fee == D("0.46")


def test_qty_is_truncated_to_min_trade_increment() -> None:
    engine = make_engine()
    order, _ = engine.submit(buy("0.00021739130434782607"), T0)
    assert order.qty == D("0.000217391")


@pytest.mark.parametrize(("qty", "fee"), [("0.0002002", "0.000000501"), ("0.0002006", "0.000000502"),
                                          ("0.0004", "0.000001")])
def test_coin_fee_is_rounded_up_to_1e_9_per_execution(qty: str, fee: str) -> None:
    engine = make_engine()
    engine.submit(buy(qty), T0)
    fill = engine.on_quote(quote("60000", "60000", 1))[0]
    assert fill.execution.fee == D(fee)
    assert engine.position_qty("BTC/USD") == D(qty) - D(fee)


@pytest.mark.parametrize(("rounding", "fee"), [("half_even", "0.0000005"), ("exact", "0.0000005005")])
def test_fee_rounding_can_be_half_even_or_exact(rounding: str, fee: str) -> None:
    engine = make_engine(fee_rounding=rounding)
    engine.submit(buy("0.0002002"), T0)
    assert engine.on_quote(quote("60000", "60000", 1))[0].execution.fee == D(fee)


def test_notional_market_buy_takes_its_qty_from_the_fill_price() -> None:
    engine = make_engine()
    order, _ = engine.submit(buy(notional="25.5"), T0)
    assert order.qty is None and order.notional == D("25.50")
    fill = engine.on_quote(quote("60000", "60005", 1))[0]
    assert fill.order.filled_qty == D("0.000424964")  # 25.5 / 60005 truncated to 1e-9
    assert fill.order.qty is None


def test_market_order_slippage_worsens_the_fill_price() -> None:
    engine = make_engine(slippage_bps=D(10))
    engine.submit(buy("0.001"), T0)
    assert engine.on_quote(quote("60000", "60000", 1))[0].execution.price == D("60060")


# ---------------------------------------------------------------- time in force, types, partial fills


def test_ioc_limit_that_does_not_cross_is_canceled_after_its_first_quote() -> None:
    engine = make_engine()
    engine.submit(buy("0.001", type="limit", time_in_force="ioc", limit_price=D("59000")), T0)
    events = engine.on_quote(quote("59990", "60000", 1))
    assert [e.event for e in events] == ["canceled"] and events[0].order.canceled_at is not None
    assert engine.reserved_cash == 0


def test_partial_fills_end_in_a_fill_with_consistent_position_qty() -> None:
    engine = make_engine()
    engine.fill_model = FillModel(
        partial_fill_probability=D(1), partial_fill_min_fraction=D("0.5"), partial_fill_max_fraction=D("0.5")
    )
    engine.submit(buy("0.004"), T0)
    names: list[str] = []
    for second in range(1, 40):
        events = engine.on_quote(quote("60000", "60000", second))
        names += [e.event for e in events]
        if events and events[-1].event == "fill":
            break
    assert names[0] == "partial_fill" and names[-1] == "fill" and set(names) == {"partial_fill", "fill"}
    order = engine.orders()[0]
    assert order.filled_qty == D("0.004")
    assert engine.position_qty("BTC/USD") == D("0.004") - sum(e.fee for e in engine.executions)


def test_ioc_partial_fill_cancels_the_remainder() -> None:
    engine = make_engine()
    engine.fill_model.partial_fill_probability = D(1)
    engine.submit(buy("0.004", time_in_force="ioc"), T0)
    events = engine.on_quote(quote("60000", "60000", 1))
    assert [e.event for e in events] == ["partial_fill", "canceled"]
    assert 0 < events[-1].order.filled_qty < D("0.004")


def test_fills_are_bounded_by_quote_size_when_enabled() -> None:
    engine = make_engine()
    engine.fill_model.bound_by_quote_size = True
    engine.submit(buy("0.004"), T0)
    first = engine.on_quote(quote("60000", "60000", 1, size="0.001"))[0]
    assert first.event == "partial_fill" and first.execution.qty == D("0.001")


def test_stop_limit_buy_triggers_when_the_ask_touches_the_stop_then_acts_as_limit() -> None:
    engine = make_engine()
    engine.submit(buy("0.001", type="stop_limit", stop_price=D("61000"), limit_price=D("61500")), T0)
    assert engine.on_quote(quote("60490", "60500", 1)) == []
    fill = engine.on_quote(quote("61090", "61100", 2))[0]
    assert fill.execution.price == D("61100") and fill.execution.liquidity == Liquidity.TAKER


def test_stop_limit_that_triggers_without_crossing_rests_as_maker() -> None:
    engine = make_engine()
    engine.submit(sell_setup := buy("0.002"), T0)
    del sell_setup
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(sell("0.001", type="stop_limit", stop_price=D("59000"), limit_price=D("59500")), T0)
    assert engine.on_quote(quote("58900", "58910", 2)) == []  # triggered, but bid < limit
    fill = engine.on_quote(quote("59600", "59610", 3))[0]
    assert fill.execution.price == D("59500") and fill.execution.liquidity == Liquidity.MAKER


def test_fok_is_rejected_by_default_and_fills_whole_when_allowed() -> None:
    assert rejection(make_engine(), buy("0.001", time_in_force="fok")).code == 42210000
    engine = make_engine(allow_fok=True)
    engine.fill_model.partial_fill_probability = D(1)
    engine.submit(buy("0.001", time_in_force="fok"), T0)
    assert [e.event for e in engine.on_quote(quote("60000", "60000", 1))] == ["fill"]


def test_gtc_expiry_expires_old_orders_on_their_next_quote() -> None:
    engine = make_engine(gtc_expiry=timedelta(minutes=1))
    engine.submit(buy("0.001", type="limit", limit_price=D("50000")), T0)
    assert engine.on_quote(quote("59990", "60000", 30)) == []
    events = engine.on_quote(quote("59990", "60000", 61))
    assert [e.event for e in events] == ["expired"] and events[0].order.expired_at is not None


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize("tif", ["day", "opg", "cls"])
def test_non_crypto_time_in_force_is_422(tif: str) -> None:
    error = rejection(make_engine(), buy("0.001", time_in_force=tif))
    assert (error.status, error.code, error.message) == (422, 42210000, "invalid crypto time_in_force")


@pytest.mark.parametrize("kind", ["stop", "trailing_stop"])
def test_stop_and_trailing_stop_are_invalid_for_crypto(kind: str) -> None:
    error = rejection(make_engine(), buy("0.001", type=kind))
    assert (error.status, error.code, error.message) == (422, 40010001, "invalid order type for crypto order")


def test_cost_basis_below_ten_dollars_is_403() -> None:
    error = rejection(make_engine(), buy("0.000155"))  # $9.30 at 60000
    assert (error.status, error.code) == (403, 40310000)
    assert error.message == "cost basis must be >= minimal amount of order 10"
    assert rejection(make_engine(), buy(notional="9.99")).code == 40310000


def test_notional_with_more_than_two_decimals_is_422() -> None:
    error = rejection(make_engine(), buy(notional="25.555"))
    assert (error.status, error.code) == (422, 42210000)


def test_buy_beyond_cash_is_403_insufficient_balance_with_alpacas_fields() -> None:
    error = rejection(make_engine(cash="1000"), buy("0.02", type="limit", limit_price=D("60000")))
    assert (error.status, error.code) == (403, 40310000)
    assert error.message == "insufficient balance for USD (requested: 1200, available: 1000)"
    assert error.body()["available"] == "1000" and error.body()["symbol"] == "USD"


def test_open_buy_orders_reserve_cash() -> None:
    engine = make_engine(cash="1000")
    engine.submit(buy("0.01", type="limit", limit_price=D("50000")), T0)  # reserves 500
    assert engine.buying_power == D("500")
    error = rejection(engine, buy("0.011", type="limit", limit_price=D("50000")))
    assert error.message == "insufficient balance for USD (requested: 550, available: 500)"
    engine.cancel(engine.open_orders()[0].id, T0)
    assert engine.buying_power == D("1000")


def test_selling_the_gross_filled_qty_is_refused_because_the_fee_was_taken_in_kind() -> None:
    engine = make_engine()
    engine.submit(buy("0.001"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    error = rejection(engine, sell("0.001"))
    assert error.message == "insufficient balance for BTC (requested: 0.001, available: 0.0009975)"
    assert error.body()["available"] == "0.0009975"


def test_open_sells_reserve_coin_and_shorting_is_impossible() -> None:
    engine = make_engine()
    assert rejection(engine, sell("0.001")).status == 403
    engine.submit(buy("0.002"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(sell("0.001", type="limit", limit_price=D("70000")), T0)
    assert engine.qty_available("BTC/USD") == D("0.000995")
    assert rejection(engine, sell("0.001")).status == 403


def test_duplicate_client_order_id_is_422() -> None:
    engine = make_engine()
    engine.submit(buy("0.001", client_order_id="bot-1"), T0)
    error = rejection(engine, buy("0.001", client_order_id="bot-1"))
    assert (error.status, error.code, error.message) == (422, 42210000, "client_order_id must be unique")


def test_limit_price_off_the_increment_is_rejected_or_rounded_by_policy() -> None:
    assert rejection(make_engine(), buy("0.001", type="limit", limit_price=D("60000.5"))).code == 42210000
    order, _ = make_engine(price_increment_policy="round").submit(
        buy("0.001", type="limit", limit_price=D("60000.4")), T0
    )
    assert order.limit_price == D("60000")


def test_cancel_of_a_filled_order_is_422_and_of_an_unknown_one_404() -> None:
    engine = make_engine()
    order, _ = engine.submit(buy("0.001"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    with pytest.raises(NotCancelable) as caught:
        engine.cancel(order.id, T0)
    assert caught.value.message == 'order is already in "filled" state' and caught.value.status == 422
    with pytest.raises(NotFound):
        engine.cancel("7d6b3a3e-4b5f-4f5e-9c1e-3f2d1c0b9a87", T0)


# ---------------------------------------------------------------- determinism and persistence


def scenario(engine: MatchingEngine) -> list[tuple]:
    engine.fill_model.partial_fill_probability = D("0.5")
    out = []
    for i in range(30):
        request = buy("0.01") if i % 3 else buy("0.005", type="limit", limit_price=D(60000 - 10 * i))
        order, _ = engine.submit(request, T0 + timedelta(seconds=i))
        out.append(order.id)
        for event in engine.on_quote(quote(str(59995 - 7 * i), str(60005 - 7 * i), i + 1)):
            execution = event.execution
            out.append((event.event, event.order.id, execution and (execution.id, execution.qty, execution.fee)))
    return out


def test_same_seed_and_inputs_give_same_ids_fills_and_fees() -> None:
    assert scenario(make_engine(seed=7)) == scenario(make_engine(seed=7))
    assert scenario(make_engine(seed=7)) != scenario(make_engine(seed=8))


def test_exported_state_continues_exactly_like_the_original() -> None:
    original = make_engine(seed=3)
    scenario(original)
    copy = make_engine(seed=99)
    copy.import_state(original.export_state())
    assert scenario(copy) == scenario(original)
    assert copy.cash == original.cash and copy.positions() == original.positions()


def test_ids_are_the_seeded_uuid4_values_they_have_always_been() -> None:
    # pinned: saved simulator states, logs and backtest notes carry these ids
    engine = make_engine(seed=7)
    order, _ = engine.submit(buy("0.001"), T0)
    fill = engine.on_quote(quote("60000", "60005", 1))[0]
    assert str(order.id) == "60256ea6-d8d7-4eaf-8b22-e0d5585edf41"
    assert fill.execution is not None and str(fill.execution.id) == "42f6ac6a-1685-4750-8670-bfbe9db511bb"


def test_uuid4_from_bits_is_uuid_with_version_4_in_every_respect() -> None:
    draws = random.Random(5)
    for bits in [0, 2**128 - 1, *(draws.getrandbits(128) for _ in range(2000))]:
        made, expected = uuid4_from_bits(bits), uuid.UUID(int=bits, version=4)
        assert type(made) is uuid.UUID and made == expected and made.int == expected.int
        assert (str(made), hash(made), made.version, made.variant, made.is_safe) == \
               (str(expected), hash(expected), 4, uuid.RFC_4122, expected.is_safe)
    assert pickle.loads(pickle.dumps(made)) == expected and copy.copy(made) == expected


def test_accept_holds_the_order_submit_would_and_the_same_fills_follow() -> None:
    steps = [(buy("0.001"), ("59990", "60000")),  # a taker fill on arrival
             (buy("0.002", type="limit", limit_price=D("59000")), ("59500", "59510")),  # rests ...
             (None, ("58980", "58990")),  # ... and fills as a maker
             (sell("0.0005", type="limit", limit_price=D("59100")), ("59150", "59160"))]  # a taker sell
    submitting, accepting = make_engine(seed=4), make_engine(seed=4)
    for i, (request, (bid, ask)) in enumerate(steps):
        if request is not None:
            submitted, _ = submitting.submit(request, T0 + timedelta(seconds=i))
            assert accepting.accept(request, T0 + timedelta(seconds=i)) == submitting.order(submitted.id)
        later = quote(bid, ask, i + 1)
        assert accepting.on_quote(later) == submitting.on_quote(later)
    assert [order.status for order in accepting.orders()] == [OrderStatus.FILLED] * 3
    assert [fill.liquidity for fill in accepting.executions] == [Liquidity.TAKER, Liquidity.MAKER, Liquidity.TAKER]
    assert accepting.orders() == submitting.orders() and accepting.executions == submitting.executions


def test_an_order_is_found_by_its_uuid_or_its_text() -> None:
    engine = make_engine()
    order, _ = engine.submit(buy("0.001", type="limit", limit_price=D("59000")), T0)
    assert engine.order(order.id) == engine.order(str(order.id)) == engine.order(str(order.id).upper())
    for unknown in (uuid.uuid4(), str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(NotFound):
            engine.order(unknown)


# ---------------------------------------------------------------- the wash-trade check and maker prices


def test_a_market_order_opposite_an_open_order_is_refused_as_a_wash_trade_and_counted() -> None:
    engine = make_engine()
    engine.submit(buy("0.002"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(sell("0.001", type="limit", limit_price=D("61000")), T0)
    refused = rejection(engine, buy("0.001"))
    assert (refused.status, refused.code) == (403, 40310000) and "wash trade" in refused.message
    assert engine.wash_trade_refusals == 1 and len(engine.open_orders()) == 1


def test_a_limit_is_refused_only_when_it_crosses_an_open_opposite_limit() -> None:
    engine = make_engine()
    engine.submit(buy("0.001", type="limit", limit_price=D("59000")), T0)
    assert rejection(engine, sell("0.001", type="limit", limit_price=D("59000"))).status == 403
    engine.submit(buy("0.001", type="limit", limit_price=D("58000")), T0)  # same side: never a wash trade
    assert engine.wash_trade_refusals == 1


def test_with_the_check_off_opposite_orders_stand_together() -> None:
    engine = make_engine(wash_trade_check="off")
    engine.submit(buy("0.001", type="limit", limit_price=D("59000")), T0)
    engine.submit(buy("0.002"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(sell("0.001", type="limit", limit_price=D("58000")), T0)
    assert engine.wash_trade_refusals == 0 and len(engine.open_orders()) == 2


def test_under_any_opposite_every_order_is_refused_while_an_opposite_one_is_open_crossing_or_not() -> None:
    engine = make_engine(wash_trade_check="any_opposite")
    engine.submit(buy("0.002"), T0)
    engine.on_quote(quote("60000", "60000", 1))
    engine.submit(buy("0.001", type="limit", limit_price=D("50000")), T0)  # a ladder far below
    refused = rejection(engine, sell("0.001", type="limit", limit_price=D("70000")))  # crosses nothing
    assert (refused.status, refused.code) == (403, 40310000) and "wash trade" in refused.message
    engine.submit(buy("0.001", type="limit", limit_price=D("49000")), T0)  # same side: never a wash trade
    assert engine.wash_trade_refusals == 1 and len(engine.open_orders()) == 2


@pytest.mark.parametrize(("maker_fill_price", "price"), [("limit", D(59000)), ("quote", D(58100))])
def test_a_resting_limit_crossed_by_a_gap_fills_at_its_limit_or_at_the_quote_as_maker(
        maker_fill_price: str, price: D) -> None:
    engine = make_engine(maker_fill_price=maker_fill_price)
    engine.submit(buy("0.001", type="limit", limit_price=D("59000")), T0)
    assert engine.on_quote(quote("59990", "60000", 1)) == []  # its first quote: it rests
    fill = engine.on_quote(quote("58000", "58100", 2))[0]
    assert fill.execution.price == price and fill.execution.liquidity == Liquidity.MAKER
    assert fill.execution.fee == D("0.0000015")  # the maker rate
