"""Venue quirks (`SimConfig(quirks=...)`, `--quirk`), each seen through the real alpaca-py clients, and
all of them at once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import NonTradeActivity, TradeAccount
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from adapters.sim.config import SimConfig
from adapters.sim.quirks import QUIRKS, parse_quirk_arg, parse_quirk_list, parse_quirks
from adapters.sim.service import SimulatorService
from dca.market import Quote
from tests.sim.conftest import listen_to_trade_updates, make_service
from tests.sim.test_streams import handshake, raw_data_socket
from tests.waiting import wait_for

# one value per quirk: what "all at once" runs with
EVERY_QUIRK = {
    "gross_position_qty": "", "position_lag": "0.2", "fees_eod": "", "fee_tier": "20/40",
    "buying_power_below_cash": "1000", "margin_account": "", "pending_events": "", "ratelimit_headers": "",
    "min_notional_on_sells": "", "duplicate_id_status": "409", "crypto_status": "ACTIVE",
    "data_connection_limit": "2", "fee_rounding": "up", "usd_fee_activity": "FEE", "post_status": "accepted",
    "no_exponent": "", "legacy_symbols": "", "no_position_qty": "", "min_order_size_usd": "2",
    "off_grid_prices": "round", "wash_trade_check": "crossing", "wash_trade_status": "422",
    "maker_fill_price": "quote",
}


def client(sim: SimulatorService) -> TradingClient:
    return TradingClient(sim.key_id, sim.secret_key, url_override=sim.urls.trading)


def post_order(sim: SimulatorService, **fields: str) -> dict[str, Any]:
    """An order as exact decimal strings through alpaca-py's raw request path (as the bot sends them)."""
    body = {"symbol": "BTC/USD", "side": "buy", "type": "market", "time_in_force": "gtc", **fields}
    return client(sim).post("/orders", body)  # type: ignore[return-value]


def quote(sim: SimulatorService, bid: str, ask: str, after: timedelta = timedelta(seconds=1)) -> None:
    sim.exchange.push_quote(Quote("BTC/USD", D(bid), D(ask), sim.clock.now() + after, D(1), D(1)))


def fee_activities(sim: SimulatorService, kind: str = "CFEE") -> list[dict[str, Any]]:
    return client(sim).get(f"/account/activities/{kind}")  # type: ignore[return-value]


@pytest.fixture
def quirky(request: pytest.FixtureRequest) -> Any:
    service = make_service(quirks=request.param)
    yield service
    service.stop()


def with_quirks(**quirks: str) -> Any:
    return pytest.mark.parametrize("quirky", [quirks], indirect=True)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(("quirks", "named"), [
    ({"nope": ""}, "nope"), ({"position_lag": "soon"}, "position_lag"), ({"fee_tier": "25"}, "fee_tier"),
    ({"fee_tier": "-1/25"}, "fee_tier"), ({"duplicate_id_status": "418"}, "duplicate_id_status"),
    ({"crypto_status": "SLEEPY"}, "crypto_status"), ({"gross_position_qty": "maybe"}, "gross_position_qty"),
    ({"fee_rounding": "down"}, "fee_rounding"), ({"data_connection_limit": "-1"}, "data_connection_limit"),
])
def test_an_unknown_quirk_or_a_bad_value_is_refused_naming_it(quirks: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        SimConfig(quirks=quirks).validate()


def test_quirk_arguments_parse_to_strings_and_every_quirk_is_known() -> None:
    assert parse_quirk_arg("fee-tier=25/40") == ("fee_tier", "25/40")
    assert parse_quirk_arg("fees_eod") == ("fees_eod", "")
    assert parse_quirk_list("fees_eod, position_lag=2") == {"fees_eod": "", "position_lag": "2"}
    assert set(EVERY_QUIRK) == set(QUIRKS)
    assert parse_quirks(EVERY_QUIRK).fee_tier == (D(20), D(40))


# ---------------------------------------------------------------- defaults the quirks depart from


def test_by_default_fees_are_cfee_activities_at_once_shaped_as_alpacas(sim: SimulatorService) -> None:
    post_order(sim, qty="0.001", client_order_id="fee-1")
    quote(sim, "60000", "60000")
    post_order(sim, side="sell", qty="0.0009975")
    quote(sim, "62000", "62000")
    coin, usd = sorted(fee_activities(sim), key=lambda a: a["description"])
    assert coin["qty"] == "-0.0000025" and coin["net_amount"] == "0" and coin["symbol"] == "BTCUSD"
    assert coin["description"] == "Coin Pair Transaction Fee (Non USD)" and coin["status"] == "executed"
    assert usd["net_amount"] == "-0.16" and "qty" not in usd  # 0.0009975 × 62000 × 0.25 % = 0.1546…, billed up
    parsed = NonTradeActivity(**coin, account_id=client(sim).get_account().id)
    assert parsed.activity_type == "CFEE" and parsed.qty == -0.0000025
    assert "::" in coin["id"] and coin["date"] == sim.clock.now().date().isoformat()
    every = client(sim).get("/account/activities", {"activity_types": "FILL,CFEE", "direction": "asc"})
    assert [a["activity_type"] for a in every] == ["FILL", "CFEE", "FILL", "CFEE"]  # type: ignore[union-attr]


def test_by_default_a_sell_below_ten_dollars_is_accepted_and_buying_power_nets_open_buys(
    sim: SimulatorService,
) -> None:
    post_order(sim, qty="0.001")
    quote(sim, "60000", "60000")
    assert post_order(sim, side="sell", qty="0.0001")["status"] == "pending_new"  # $6: sells are exempt
    with pytest.raises(APIError) as refused:
        post_order(sim, qty="0.0001")  # a $6 buy is not
    assert refused.value.status_code == 403 and "minimal amount of order 10" in str(refused.value)
    post_order(sim, type="limit", qty="0.01", limit_price="50000")  # reserves $500
    account = client(sim).get_account()
    assert D(account.cash) - D(account.non_marginable_buying_power) == D(500)


# ---------------------------------------------------------------- one quirk at a time


@with_quirks(gross_position_qty="")
def test_gross_position_qty_reports_the_position_before_the_fee(quirky: SimulatorService) -> None:
    updates, runner = listen_to_trade_updates(quirky, raw_data=True)
    post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    wait_for(lambda: any(u["data"]["event"] == "fill" for u in updates))
    runner.stop()
    fill = next(u["data"] for u in updates if u["data"]["event"] == "fill")
    assert fill["position_qty"] == "0.001"
    assert client(quirky).get_open_position("BTCUSD").qty == "0.0009975"


@with_quirks(legacy_symbols="", no_position_qty="")
def test_legacy_symbols_and_no_position_qty_change_what_orders_and_updates_say(quirky: SimulatorService) -> None:
    updates, runner = listen_to_trade_updates(quirky, raw_data=True)
    placed = post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    wait_for(lambda: any(u["data"]["event"] == "fill" for u in updates))
    runner.stop()
    fill = next(u["data"] for u in updates if u["data"]["event"] == "fill")
    assert placed["symbol"] == "BTCUSD" and fill["order"]["symbol"] == "BTCUSD"
    assert "position_qty" not in fill and fill["qty"] == "0.001"
    assert client(quirky).get_order_by_id(placed["id"]).symbol == "BTCUSD"


@with_quirks(min_order_size_usd="5")
def test_min_order_size_usd_moves_the_minimum_with_the_price(quirky: SimulatorService) -> None:
    trading = client(quirky)
    quote(quirky, "50000", "50000")
    assert trading.get_asset("BTC/USD").min_order_size == 0.0001  # $5 at 50,000
    with pytest.raises(APIError) as refused:
        post_order(quirky, side="sell", qty="0.00009")
    assert refused.value.status_code == 403 and refused.value.message == "qty must be >= 0.0001"
    quote(quirky, "100000", "100000")
    assert trading.get_asset("BTC/USD").min_order_size == 0.00005


@with_quirks(off_grid_prices="round")
def test_off_grid_prices_round_to_the_increment_instead_of_refusing(quirky: SimulatorService) -> None:
    order = post_order(quirky, type="limit", qty="0.001", limit_price="50000.4")
    assert order["limit_price"] == "50000"


def test_by_default_an_off_grid_price_is_refused(sim: SimulatorService) -> None:
    with pytest.raises(APIError) as refused:
        post_order(sim, type="limit", qty="0.001", limit_price="50000.4")
    assert refused.value.status_code == 422


@with_quirks(position_lag="3")
def test_position_lag_shows_a_fill_in_positions_only_later(quirky: SimulatorService) -> None:
    trading = client(quirky)
    post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    assert trading.get_all_positions() == []  # the order is filled, the position not shown yet
    assert quirky.exchange.position("BTCUSD").qty == D("0.0009975")
    wait_for(lambda: trading.get_all_positions() != [], timeout=15)
    assert trading.get_open_position("BTCUSD").qty == "0.0009975"


@with_quirks(fees_eod="")
def test_fees_eod_posts_fee_activities_only_after_the_simulated_day_ends(quirky: SimulatorService) -> None:
    post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    assert fee_activities(quirky) == []
    midnight = quirky.clock.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    quote(quirky, "60000", "60000", after=midnight - quirky.clock.now())
    [posted] = fee_activities(quirky)
    assert posted["qty"] == "-0.0000025" and posted["date"] == (midnight - timedelta(days=1)).date().isoformat()


@with_quirks(fee_tier="40/60")
def test_fee_tier_charges_other_rates_than_the_default(quirky: SimulatorService) -> None:
    post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    assert client(quirky).get_open_position("BTCUSD").qty == "0.000994"  # 0.6 % taker


@with_quirks(buying_power_below_cash="1000")
def test_buying_power_below_cash_holds_back_buying_power_and_refuses_buys_beyond_it(
    quirky: SimulatorService,
) -> None:
    account = client(quirky).get_account()
    assert account.cash == "100000" and account.non_marginable_buying_power == "99000"
    with pytest.raises(APIError) as refused:
        post_order(quirky, type="limit", qty="1.66", limit_price="60000")  # $99,600 > what is left
    assert refused.value.status_code == 403 and "insufficient balance for USD" in str(refused.value)


@with_quirks(margin_account="")
def test_margin_account_reports_negative_cash_and_only_non_marginable_buying_power_is_true(
    quirky: SimulatorService,
) -> None:
    account: TradeAccount = client(quirky).get_account()
    assert D(account.cash) < 0 and account.non_marginable_buying_power == "100000"
    assert account.buying_power == "200000" and account.multiplier == "2"
    assert post_order(quirky, qty="0.001")["status"] == "pending_new"  # buys draw on the true figure


@with_quirks(pending_events="")
def test_pending_events_and_a_cancel_that_ends_on_the_next_quote(quirky: SimulatorService) -> None:
    updates, runner = listen_to_trade_updates(quirky)
    trading = client(quirky)
    resting = trading.submit_order(LimitOrderRequest(symbol="BTC/USD", qty=0.001, side=OrderSide.BUY,
                                                     time_in_force=TimeInForce.GTC, limit_price=50000))
    racing = trading.submit_order(LimitOrderRequest(symbol="BTC/USD", qty=0.001, side=OrderSide.BUY,
                                                    time_in_force=TimeInForce.GTC, limit_price=59000))
    trading.cancel_order_by_id(resting.id)
    trading.cancel_order_by_id(racing.id)
    assert trading.get_order_by_id(resting.id).status == "pending_cancel"
    quote(quirky, "58990", "59000")  # fills the order whose cancel was still pending
    wait_for(lambda: len(updates) == 10)
    runner.stop()
    by_order = {str(resting.id): [], str(racing.id): []}
    for update in updates:
        by_order[str(update.order.id)].append(update.event)
    assert by_order[str(resting.id)] == ["accepted", "pending_new", "new", "pending_cancel", "canceled"]
    assert by_order[str(racing.id)] == ["accepted", "pending_new", "new", "pending_cancel", "fill"]
    assert trading.get_order_by_id(racing.id).status == "filled"


@with_quirks(pending_events="")
def test_a_paused_market_still_ends_pending_cancels(quirky: SimulatorService) -> None:
    trading = client(quirky)
    order = post_order(quirky, type="limit", qty="0.001", limit_price="50000")
    trading.cancel_order_by_id(order["id"])
    assert trading.get_order_by_id(order["id"]).status == "pending_cancel"
    quirky.exchange.pause()  # no next quote will come
    assert trading.get_order_by_id(order["id"]).status == "canceled"


@with_quirks(ratelimit_headers="")
def test_ratelimit_headers_come_on_every_trading_response(quirky: SimulatorService) -> None:
    keys = {"APCA-API-KEY-ID": quirky.key_id, "APCA-API-SECRET-KEY": quirky.secret_key}
    first = requests.get(f"{quirky.urls.trading}/v2/account", headers=keys, timeout=10)
    second = requests.get(f"{quirky.urls.trading}/v2/orders", headers=keys, timeout=10)
    assert first.headers["X-RateLimit-Limit"] == "200"
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert int(first.headers["X-RateLimit-Reset"]) > 0


def test_without_the_quirk_only_a_429_carries_ratelimit_headers(sim: SimulatorService) -> None:
    keys = {"APCA-API-KEY-ID": sim.key_id, "APCA-API-SECRET-KEY": sim.secret_key}
    assert "X-RateLimit-Limit" not in requests.get(f"{sim.urls.trading}/v2/account", headers=keys, timeout=10).headers


@with_quirks(min_notional_on_sells="")
def test_min_notional_on_sells_refuses_a_sell_below_ten_dollars(quirky: SimulatorService) -> None:
    post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    with pytest.raises(APIError) as refused:
        post_order(quirky, side="sell", qty="0.0001")
    assert refused.value.status_code == 403 and refused.value.code == 40310000


@pytest.mark.parametrize("status", ["400", "403", "409", "422"])
def test_duplicate_id_status_answers_the_duplicate_with_that_status(status: str) -> None:
    service = make_service(quirks={"duplicate_id_status": status})
    try:
        post_order(service, qty="0.001", client_order_id="twice")
        with pytest.raises(APIError) as refused:
            post_order(service, qty="0.001", client_order_id="twice")
        assert refused.value.status_code == int(status)
        assert refused.value.message == "client_order_id must be unique"
    finally:
        service.stop()


def test_by_default_an_order_that_could_trade_against_an_own_open_order_is_refused_as_a_wash_trade(
        sim: SimulatorService) -> None:
    post_order(sim, qty="0.002")
    quote(sim, "60000", "60000")
    post_order(sim, side="sell", type="limit", qty="0.001", limit_price="61000", client_order_id="tp")
    with pytest.raises(APIError) as market:
        post_order(sim, qty="0.001")  # a market buy while the own sell is open
    with pytest.raises(APIError) as crossing:
        post_order(sim, type="limit", qty="0.001", limit_price="61000")
    assert (market.value.status_code, market.value.code) == (403, 40310000)
    assert market.value.message == "potential wash trade detected. use complex orders"
    assert crossing.value.status_code == 403
    post_order(sim, type="limit", qty="0.001", limit_price="59000", client_order_id="ladder")  # below: fine
    assert sim.exchange.engine.wash_trade_refusals == 2


@with_quirks(wash_trade_status="422")
def test_wash_trade_status_answers_the_refusal_with_that_status(quirky: SimulatorService) -> None:
    post_order(quirky, type="limit", qty="0.001", limit_price="50000")
    with pytest.raises(APIError) as refused:
        post_order(quirky, side="sell", type="limit", qty="0.001", limit_price="50000")
    assert (refused.value.status_code, refused.value.code) == (422, 42210000)


@with_quirks(wash_trade_check="off")
def test_wash_trade_check_off_lets_opposite_orders_stand_together(quirky: SimulatorService) -> None:
    post_order(quirky, qty="0.002")
    quote(quirky, "60000", "60000")
    post_order(quirky, side="sell", type="limit", qty="0.001", limit_price="61000")
    post_order(quirky, qty="0.001")
    assert quirky.exchange.engine.wash_trade_refusals == 0


@with_quirks(wash_trade_check="any_opposite")
def test_wash_trade_check_any_opposite_refuses_a_sell_limit_far_above_an_open_buy_limit(
        quirky: SimulatorService) -> None:
    post_order(quirky, qty="0.002")
    quote(quirky, "60000", "60000")
    post_order(quirky, type="limit", qty="0.001", limit_price="50000", client_order_id="ladder")
    with pytest.raises(APIError) as refused:
        post_order(quirky, side="sell", type="limit", qty="0.001", limit_price="70000", client_order_id="tp")
    assert (refused.value.status_code, refused.value.code) == (403, 40310000)
    assert refused.value.message == "potential wash trade detected. use complex orders"
    assert quirky.exchange.engine.wash_trade_refusals == 1


@with_quirks(maker_fill_price="quote")
def test_maker_fill_price_quote_fills_a_resting_limit_at_the_crossing_quote(quirky: SimulatorService) -> None:
    post_order(quirky, type="limit", qty="0.001", limit_price="59000", client_order_id="resting")
    quote(quirky, "60000", "60010")
    quote(quirky, "58000", "58100", timedelta(seconds=2))  # a gap through the limit
    order = client(quirky).get_order_by_client_id("resting")
    assert order.status == "filled" and D(order.filled_avg_price) == D(58100)
    assert fee_activities(quirky)[0]["qty"] == "-0.0000015"  # the maker rate (15 bps)


@with_quirks(crypto_status="INACTIVE")
def test_crypto_status_not_active_refuses_crypto_orders(quirky: SimulatorService) -> None:
    assert client(quirky).get_account().crypto_status == "INACTIVE"
    with pytest.raises(APIError) as refused:
        post_order(quirky, qty="0.001")
    assert refused.value.status_code == 403 and "crypto orders not allowed" in refused.value.message


@with_quirks(data_connection_limit="2")
def test_data_connection_limit_lets_a_second_market_data_socket_in(quirky: SimulatorService) -> None:
    with raw_data_socket(quirky) as first, raw_data_socket(quirky) as second, raw_data_socket(quirky) as third:
        assert handshake(first, quirky.key_id, quirky.secret_key)[-1]["msg"] == "authenticated"
        assert handshake(second, quirky.key_id, quirky.secret_key)[-1]["msg"] == "authenticated"
        assert handshake(third, quirky.key_id, quirky.secret_key)[-1] == {
            "T": "error", "code": 406, "msg": "connection limit exceeded"}


@with_quirks(usd_fee_activity="FEE")
def test_usd_fee_activity_posts_sell_fees_as_fee(quirky: SimulatorService) -> None:
    post_order(quirky, qty="0.001")
    quote(quirky, "60000", "60000")
    post_order(quirky, side="sell", qty="0.0009975")
    quote(quirky, "62000", "62000")
    assert [a["qty"] for a in fee_activities(quirky, "CFEE")] == ["-0.0000025"]
    assert [a["net_amount"] for a in fee_activities(quirky, "FEE")] == ["-0.16"]


@pytest.mark.parametrize("status", ["accepted", "new"])
def test_post_status_is_the_status_of_the_post_answer(status: str) -> None:
    service = make_service(quirks={"post_status": status})
    try:
        assert post_order(service, qty="0.001")["status"] == status
        assert client(service).get_orders()[0].status == "new"  # the stored order is new either way
    finally:
        service.stop()


@with_quirks(no_exponent="")
def test_no_exponent_refuses_quantities_in_exponent_notation(quirky: SimulatorService) -> None:
    trading = client(quirky)
    with pytest.raises(APIError) as as_string:
        post_order(quirky, qty="1e-3")
    assert as_string.value.status_code == 422 and "exponent" in as_string.value.message
    with pytest.raises(APIError) as as_number:  # alpaca-py's float request models send 9.1743e-05 this way
        trading.submit_order(MarketOrderRequest(symbol="BTC/USD", qty=9.1743e-05, side=OrderSide.BUY,
                                                time_in_force=TimeInForce.GTC))
    assert as_number.value.status_code == 422
    assert post_order(quirky, qty="0.00091743")["status"] == "pending_new"  # exact decimal strings pass


def test_by_default_exponent_notation_is_accepted(sim: SimulatorService) -> None:
    assert post_order(sim, qty="1e-3")["qty"] == "0.001"


# ---------------------------------------------------------------- all at once


@with_quirks(**EVERY_QUIRK)
def test_every_quirk_at_once_still_trades_a_round_trip(quirky: SimulatorService) -> None:
    trading = client(quirky)
    post_order(quirky, qty="0.001", client_order_id="all-1")
    with pytest.raises(APIError) as duplicate:
        post_order(quirky, qty="0.001", client_order_id="all-1")
    assert duplicate.value.status_code == 409
    quote(quirky, "60000", "60000")
    wait_for(lambda: trading.get_all_positions() != [])
    assert trading.get_open_position("BTCUSD").qty == "0.000996"  # 0.4 % taker
    assert fee_activities(quirky) == []  # posted at the end of the day
    with pytest.raises(APIError):
        post_order(quirky, side="sell", qty="0.0001")  # sells below $10 refused too
    post_order(quirky, side="sell", qty="0.000996", client_order_id="all-2")
    quote(quirky, "61000", "61000")
    assert trading.get_order_by_client_id("all-2").status == "filled"
    account = trading.get_account()
    assert D(account.cash) < 0 and account.multiplier == "2"
    assert D(account.non_marginable_buying_power) == quirky.exchange.cash - 1000
