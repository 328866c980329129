"""Conformance of the trading REST API with the real, unmodified alpaca-py TradingClient."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from uuid import UUID

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetAssetsRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from adapters.sim.service import SimulatorService
from dca.market import Quote
from tests.sim.conftest import T0


def client(sim: SimulatorService) -> TradingClient:
    return TradingClient(sim.key_id, sim.secret_key, url_override=sim.urls.trading)


def market_buy(qty: float | None = 0.001, notional: float | None = None, **kw: object) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol="BTC/USD", qty=qty, notional=notional, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, **kw
    )


def api_error(call, *args: object) -> APIError:  # type: ignore[no-untyped-def]
    with pytest.raises(APIError) as caught:
        call(*args)
    return caught.value


def set_quote(sim: SimulatorService, bid: str, ask: str, symbol: str = "BTC/USD") -> None:
    now = sim.clock.now() + timedelta(seconds=1)
    sim.exchange.push_quote(Quote(symbol, D(bid), D(ask), now, D("1"), D("1")))


# ---------------------------------------------------------------- account, clock, assets


def test_account_reports_starting_cash_as_strings(sim: SimulatorService) -> None:
    account = client(sim).get_account()
    assert account.cash == "100000" and account.non_marginable_buying_power == "100000"
    assert account.status == "ACTIVE" and isinstance(account.id, UUID)


def test_clock_returns_simulated_time(sim: SimulatorService) -> None:
    clock = client(sim).get_clock()
    assert clock.timestamp == sim.clock.now() and clock.is_open


def test_assets_by_either_symbol_spelling_carry_increments(sim: SimulatorService) -> None:
    trading = client(sim)
    for spelling in ("BTC/USD", "BTCUSD"):
        asset = trading.get_asset(spelling)
        assert asset.symbol == "BTC/USD" and asset.exchange == "CRYPTO"
        assert asset.min_trade_increment == 1e-9 and asset.price_increment == 1.0 and asset.min_order_size > 0
    raw = requests.get(f"{sim.urls.trading}/v2/assets/BTC/USD", headers=auth(sim)).json()
    assert isinstance(raw["min_order_size"], str) and isinstance(raw["price_increment"], str)
    assert {a.symbol for a in trading.get_all_assets(GetAssetsRequest())} == {"BTC/USD", "ETH/USD"}
    assert api_error(trading.get_asset, "NOPE/USD").status_code == 404


def test_requests_with_wrong_keys_get_401(sim: SimulatorService) -> None:
    error = api_error(TradingClient("nope", "nope", url_override=sim.urls.trading).get_account)
    assert (error.status_code, error.code, error.message) == (401, 40110000, "request is not authorized")


# ---------------------------------------------------------------- orders


def test_market_order_is_pending_until_the_next_quote_then_filled(sim: SimulatorService) -> None:
    trading = client(sim)
    order = trading.submit_order(market_buy(client_order_id="bot-1"))
    assert order.status == OrderStatus.PENDING_NEW and order.filled_qty == "0" and order.client_order_id == "bot-1"
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW
    sim.exchange.advance()
    filled = trading.get_order_by_client_id("bot-1")
    assert filled.status == OrderStatus.FILLED and filled.filled_qty == "0.001" and filled.filled_at is not None


def test_fill_credits_position_net_of_fee_and_positions_use_compact_symbols(sim: SimulatorService) -> None:
    trading = client(sim)
    trading.submit_order(market_buy())
    set_quote(sim, "60000", "60005")
    position = trading.get_open_position("BTCUSD")
    assert position.symbol == "BTCUSD" and position.qty == "0.0009975" and position.qty_available == "0.0009975"
    assert position.avg_entry_price == "60005" and position.exchange == "CRYPTO"
    assert [p.symbol for p in trading.get_all_positions()] == ["BTCUSD"]
    error = api_error(trading.get_open_position, "BTC/USD")
    assert (error.status_code, error.code, error.message) == (404, 40410000, "position does not exist")
    assert trading.get_open_position(position.asset_id).qty == "0.0009975"


def test_flat_position_is_404(sim: SimulatorService) -> None:
    assert api_error(client(sim).get_open_position, "ETHUSD").status_code == 404


def test_limit_and_stop_limit_orders_rest_until_crossed(sim: SimulatorService) -> None:
    trading = client(sim)
    limit = trading.submit_order(
        LimitOrderRequest(
            symbol="BTC/USD", qty=0.02, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1000
        )
    )
    stop = trading.submit_order(
        StopLimitOrderRequest(
            symbol="ETH/USD",
            qty=0.01,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            stop_price=99999,
            limit_price=99999.5,
        )
    )
    sim.exchange.advance()
    assert trading.get_order_by_id(limit.id).status == OrderStatus.NEW
    assert trading.get_order_by_id(stop.id).status == OrderStatus.NEW
    set_quote(sim, "999", "1000")
    maker = trading.get_order_by_id(limit.id)
    assert maker.status == OrderStatus.FILLED and maker.filled_avg_price == "1000" and maker.limit_price == "1000"


def test_notional_order_keeps_qty_null_and_fills_by_notional(sim: SimulatorService) -> None:
    trading = client(sim)
    order = trading.submit_order(market_buy(qty=None, notional=25.5))
    assert order.notional == "25.5" and order.qty is None
    set_quote(sim, "60000", "60005")
    filled = trading.get_order_by_id(order.id)
    assert filled.filled_qty == "0.000424964" and filled.qty is None


def test_duplicate_client_order_id_is_422(sim: SimulatorService) -> None:
    trading = client(sim)
    trading.submit_order(market_buy(client_order_id="dup"))
    error = api_error(trading.submit_order, market_buy(client_order_id="dup"))
    assert (error.status_code, error.code, error.message) == (422, 42210000, "client_order_id must be unique")


def test_day_time_in_force_is_422(sim: SimulatorService) -> None:
    request = MarketOrderRequest(symbol="BTC/USD", qty=0.001, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    error = api_error(client(sim).submit_order, request)
    assert (error.status_code, error.code, error.message) == (422, 42210000, "invalid crypto time_in_force")


def test_stop_orders_are_invalid_for_crypto(sim: SimulatorService) -> None:
    request = StopOrderRequest(
        symbol="BTC/USD", qty=0.001, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, stop_price=70000
    )
    error = api_error(client(sim).submit_order, request)
    assert (error.status_code, error.code) == (422, 40010001)


def test_order_below_ten_dollars_is_403(sim: SimulatorService) -> None:
    error = api_error(client(sim).submit_order, market_buy(qty=None, notional=9.99))
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message == "cost basis must be >= minimal amount of order 10"


def test_buy_beyond_cash_is_403_insufficient_balance(sim: SimulatorService) -> None:
    request = LimitOrderRequest(
        symbol="BTC/USD", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=60000
    )
    error = api_error(client(sim).submit_order, request)
    assert (error.status_code, error.code) == (403, 40310000)
    assert error.message.startswith("insufficient balance for USD (requested: 120000, available: 100000")


def test_selling_more_than_held_is_403(sim: SimulatorService) -> None:
    request = MarketOrderRequest(symbol="BTC/USD", qty=0.001, side=OrderSide.SELL, time_in_force=TimeInForce.GTC)
    error = api_error(client(sim).submit_order, request)
    assert error.status_code == 403 and error.message.startswith("insufficient balance for BTC")


def test_cancel_open_order_then_cancel_again_is_422_and_unknown_is_404(sim: SimulatorService) -> None:
    trading = client(sim)
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="BTC/USD", qty=0.001, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=50000
        )
    )
    assert trading.cancel_order_by_id(order.id) is None  # 204, empty body
    assert trading.get_order_by_id(order.id).status == OrderStatus.CANCELED
    error = api_error(trading.cancel_order_by_id, order.id)
    assert (error.status_code, error.code, error.message) == (
        422,
        42210000,
        'order is already in "canceled" state',
    )
    missing = api_error(trading.cancel_order_by_id, "3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert (missing.status_code, missing.code) == (404, 40410000)


def test_cancel_of_a_filled_order_is_422(sim: SimulatorService) -> None:
    trading = client(sim)
    order = trading.submit_order(market_buy())
    sim.exchange.advance()
    error = api_error(trading.cancel_order_by_id, order.id)
    assert (error.status_code, error.message) == (422, 'order is already in "filled" state')


def test_cancel_all_returns_207_per_order(sim: SimulatorService) -> None:
    trading = client(sim)
    ids = {
        trading.submit_order(
            LimitOrderRequest(
                symbol="BTC/USD",
                qty=0.001,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=50000 + i,
            )
        ).id
        for i in range(3)
    }
    responses = trading.cancel_orders()
    assert {r.id for r in responses} == ids and {r.status for r in responses} == {200}
    assert trading.get_orders() == []


def test_order_list_filters_by_status_time_side_symbols_and_direction(sim: SimulatorService) -> None:
    trading = client(sim)
    first = trading.submit_order(market_buy())
    sim.exchange.advance()  # fills `first`, moves the clock one tick
    second = trading.submit_order(
        LimitOrderRequest(symbol="ETH/USD", qty=0.2, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=100)
    )
    assert [o.id for o in trading.get_orders()] == [second.id]
    closed = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED, nested=True))
    assert [o.id for o in closed] == [first.id]
    everything = GetOrdersRequest(status=QueryOrderStatus.ALL, direction="asc")
    assert [o.id for o in trading.get_orders(everything)] == [first.id, second.id]
    assert [o.id for o in trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))] == [
        second.id,
        first.id,
    ]
    after = GetOrdersRequest(status=QueryOrderStatus.ALL, after=first.submitted_at)
    assert [o.id for o in trading.get_orders(after)] == [second.id]
    until = GetOrdersRequest(status=QueryOrderStatus.ALL, until=second.submitted_at)
    assert [o.id for o in trading.get_orders(until)] == [first.id]
    by_symbol = GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=["ETH/USD", "SOLUSD"])
    assert [o.id for o in trading.get_orders(by_symbol)] == [second.id]
    assert trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, side=OrderSide.SELL)) == []
    assert len(trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=1))) == 1
    raw = requests.get(f"{sim.urls.trading}/v2/orders", params={"status": "all", "nested": "true"}, headers=auth(sim))
    assert raw.status_code == 200 and len(raw.json()) == 2


def test_close_position_sells_what_is_available(sim: SimulatorService) -> None:
    trading = client(sim)
    trading.submit_order(market_buy(qty=0.01))
    sim.exchange.advance()
    order = trading.close_position("BTCUSD", ClosePositionRequest(percentage="50"))
    assert order.side == OrderSide.SELL and order.qty == "0.0049875"
    sim.exchange.advance()
    assert trading.get_open_position("BTCUSD").qty == "0.0049875"


# ---------------------------------------------------------------- the wire itself


def auth(sim: SimulatorService) -> dict[str, str]:
    return {"APCA-API-KEY-ID": sim.key_id, "APCA-API-SECRET-KEY": sim.secret_key}


def test_order_body_accepts_string_and_numeric_decimals(sim: SimulatorService) -> None:
    body = {
        "symbol": "BTCUSD",
        "qty": "0.001",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "limit_price": 60000,
    }
    response = requests.post(f"{sim.urls.trading}/v2/orders", json=body, headers=auth(sim))
    assert response.status_code == 200
    order = response.json()
    assert order["symbol"] == "BTC/USD" and order["qty"] == "0.001" and order["limit_price"] == "60000"
    assert order["order_class"] == "" and order["extended_hours"] is False and order["updated_at"]


def test_unknown_paths_are_json_404_without_redirects(sim: SimulatorService) -> None:
    for path in ("/v2/account/", "/v2/nope"):
        response = requests.get(f"{sim.urls.trading}{path}", headers=auth(sim), allow_redirects=False)
        assert response.status_code == 404 and response.json()["code"] == 40410000


def test_account_reflects_fills_and_reservations(sim: SimulatorService) -> None:
    trading = client(sim)
    trading.submit_order(
        LimitOrderRequest(
            symbol="BTC/USD", qty=0.01, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=50000
        )
    )
    account = trading.get_account()
    assert account.cash == "100000" and account.buying_power == "99500"
    assert sim.clock.now() >= T0
