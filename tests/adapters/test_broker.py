"""The Alpaca broker adapter against the simulator with the real alpaca-py TradingClient."""

import json
from decimal import Decimal

import pytest

from adapters.alpaca.broker import (
    AlpacaBroker,
    BelowMinimum,
    DuplicateClientOrderId,
    Endpoints,
    InsufficientBalance,
    NotFound,
    OrderRejected,
    WashTradeRefused,
    decimal_text,
    rejection_for,
)
from adapters.sim.config import SimConfig
from adapters.sim.orders import OrderRequest
from adapters.sim.service import SimulatorService
from dca.commands import SubmitOrder
from dca.cycle import OrderKind, OrderType, Side
from dca.events import RejectionKind


@pytest.fixture(scope="module")
def venue():
    with SimulatorService(SimConfig(symbols=["BTC/USD"], port=0, rate_limit_per_minute=0)) as service:
        broker = AlpacaBroker(service.key_id, service.secret_key, Endpoints.simulator(service.urls.trading),
                              requests_per_minute=100_000)
        yield service, broker


def _buy(client_id, qty="0.001", limit="1000"):
    return SubmitOrder(client_id, "BTC/USD", Side.BUY, OrderType.LIMIT, Decimal(qty), Decimal(limit), OrderKind.BASE)


def test_submit_lookup_and_duplicate_client_order_id(venue):
    _service, broker = venue
    order = broker.submit(_buy("broker-dup-1", qty="0.02"))
    assert order.client_order_id == "broker-dup-1" and order.qty == Decimal("0.02")
    assert broker.order_by_client_id("broker-dup-1").id == order.id
    with pytest.raises(DuplicateClientOrderId):
        broker.submit(_buy("broker-dup-1", qty="0.02"))
    assert broker.order_by_client_id("never-placed") is None


def test_definite_rejections_and_missing_orders_have_their_own_kinds(venue):
    _service, broker = venue
    with pytest.raises(OrderRejected) as below_minimum:
        broker.submit(_buy("broker-small", qty="0.000001"))  # far below the $10 minimum
    assert below_minimum.value.status == 403
    with pytest.raises(NotFound):
        broker.cancel("00000000-0000-4000-8000-000000000000")
    assert broker.position_qty("BTC/USD") == 0 and broker.position("BTC/USD") is None


def test_order_history_pages_past_the_per_call_limit(venue):
    service, broker = venue
    for i in range(1200):
        service.exchange.submit_order(OrderRequest("BTC/USD", "buy", "limit", "gtc", qty=Decimal("0.0002"),
                                                   limit_price=Decimal(50_000), client_order_id=f"page-{i}"))
    seen = [o.client_order_id for o in broker.iter_orders(status="all") if o.client_order_id.startswith("page-")]
    assert len(seen) == len(set(seen)) == 1200


def test_every_pairs_rules_in_one_request(venue):
    _service, broker = venue
    rules = broker.all_rules(Decimal(10))
    assert rules["BTC/USD"] == broker.rules("BTC/USD", Decimal(10))
    assert rules["BTC/USD"].min_trade_increment > 0 and rules["BTC/USD"].min_notional == 10


@pytest.fixture(scope="module")
def shib_venue():
    with SimulatorService(SimConfig(symbols=["SHIB/USD", "BTC/USD"], port=0, rate_limit_per_minute=0,
                                            pacing="manual")) as service:
        broker = AlpacaBroker(service.key_id, service.secret_key, Endpoints.simulator(service.urls.trading),
                              requests_per_minute=100_000)
        sent: list[bytes] = []
        broker._trading._session.hooks["response"].append(lambda response, **_: sent.append(response.request.body))
        yield service, broker, sent


def _sent_order(sent, client_id):
    bodies = [json.loads(body) for body in sent if body and client_id.encode() in body]
    assert len(bodies) == 1
    return bodies[0]


def test_a_full_position_sell_above_ten_million_units_goes_out_exact_and_is_accepted(shib_venue):
    service, broker, sent = shib_venue
    qty = Decimal("77583333.333333339")  # float would send 77583333.33333334: more than is held
    bought = broker.submit(SubmitOrder("shib-buy", "SHIB/USD", Side.BUY, OrderType.MARKET, qty, None, OrderKind.BASE))
    assert bought.qty == qty and _sent_order(sent, "shib-buy")["qty"] == "77583333.333333339"
    service.exchange.step("SHIB/USD")  # the next quote fills it
    held = broker.position("SHIB/USD")
    assert held is not None and held.qty == service.exchange.position("SHIBUSD").qty
    sold = broker.submit(SubmitOrder("shib-sell", "SHIB/USD", Side.SELL, OrderType.MARKET, held.qty, None,
                                     OrderKind.TAKE_PROFIT))
    assert sold.qty == held.qty and _sent_order(sent, "shib-sell")["qty"] == f"{held.qty:f}".rstrip("0")
    service.exchange.step("SHIB/USD")
    assert broker.position("SHIB/USD") is None


def test_tiny_quantities_and_limits_go_out_as_plain_decimal_strings(shib_venue):
    _service, broker, sent = shib_venue
    order = broker.submit(SubmitOrder("tiny-btc", "BTC/USD", Side.BUY, OrderType.LIMIT, Decimal("0.00009174"),
                                      Decimal("150000.00"), OrderKind.BASE))
    wire = _sent_order(sent, "tiny-btc")
    assert wire["qty"] == "0.00009174" and wire["limit_price"] == "150000"  # float: 9.174e-05
    assert order.qty == Decimal("0.00009174") and order.limit_price == Decimal(150_000)


@pytest.mark.parametrize("value, text", [
    (Decimal("9.174E-5"), "0.00009174"), (Decimal("1E+2"), "100"), (Decimal("77583333.333333339"),
                                                                   "77583333.333333339"),
    (Decimal("0.10"), "0.1"), (Decimal("5"), "5"),
])
def test_order_figures_are_written_positionally_without_exponents(value, text):
    assert decimal_text(value) == text


def test_an_oversized_sell_is_a_typed_insufficient_balance_carrying_what_is_available(shib_venue):
    service, broker, _sent = shib_venue
    broker.submit(SubmitOrder("btc-some", "BTC/USD", Side.BUY, OrderType.MARKET, Decimal("0.001"), None,
                              OrderKind.BASE))
    service.exchange.step("BTC/USD")
    held = broker.position("BTC/USD").qty
    with pytest.raises(InsufficientBalance) as refused:
        broker.submit(SubmitOrder("btc-too-much", "BTC/USD", Side.SELL, OrderType.MARKET, held + Decimal("0.0001"),
                                  None, OrderKind.TAKE_PROFIT))
    assert refused.value.status == 403 and refused.value.asset == "BTC" and refused.value.available == held


def test_an_order_under_the_cost_floor_is_a_typed_below_minimum(venue):
    _service, broker = venue
    with pytest.raises(BelowMinimum):
        broker.submit(_buy("broker-tiny", qty="0.000001"))


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_a_duplicate_client_order_id_is_recognised_whatever_4xx_carries_it(status):
    config = SimConfig(symbols=["BTC/USD"], port=0, rate_limit_per_minute=0,
                       quirks={"duplicate_id_status": str(status)})
    with SimulatorService(config) as service:
        broker = AlpacaBroker(service.key_id, service.secret_key, Endpoints.simulator(service.urls.trading),
                              requests_per_minute=100_000)
        broker.submit(_buy("dup-any-status", qty="0.02"))
        with pytest.raises(DuplicateClientOrderId) as duplicate:
            broker.submit(_buy("dup-any-status", qty="0.02"))
        assert duplicate.value.status == status


def test_orders_named_in_the_legacy_compact_form_come_back_as_the_canonical_pair():
    config = SimConfig(symbols=["BTC/USD"], port=0, rate_limit_per_minute=0, quirks={"legacy_symbols": ""})
    with SimulatorService(config) as service:
        broker = AlpacaBroker(service.key_id, service.secret_key, Endpoints.simulator(service.urls.trading),
                              requests_per_minute=100_000)
        placed = broker.submit(_buy("legacy-1", qty="0.02"))
        assert service.exchange.quirks.legacy_symbols
        assert placed.symbol == "BTC/USD"
        assert broker.order_by_client_id("legacy-1").symbol == "BTC/USD"
        assert broker.order_by_id(placed.id).symbol == "BTC/USD"
        assert {o.symbol for o in broker.orders(status="all")} == {"BTC/USD"}


def test_a_stock_order_keeps_its_symbol():
    from adapters.alpaca.convert import order_from_json

    body = {"id": "1", "client_order_id": "c", "symbol": "AAPL", "asset_class": "us_equity",
            "created_at": "2026-01-01T00:00:00Z"}
    assert order_from_json(body).symbol == "AAPL"
    assert order_from_json({**body, "symbol": "ETHBTC", "asset_class": "crypto"}).symbol == "ETH/BTC"


def test_a_wash_trade_refusal_is_typed_whatever_4xx_carries_it(venue):
    _service, broker = venue
    broker.submit(_buy("broker-wash-buy", qty="0.02", limit="1000"))
    crossing = SubmitOrder("broker-wash-sell", "BTC/USD", Side.SELL, OrderType.LIMIT, Decimal("0.02"), Decimal(900),
                           OrderKind.TAKE_PROFIT)
    with pytest.raises(WashTradeRefused) as refused:
        broker.submit(crossing)
    assert refused.value.status == 403 and refused.value.kind is RejectionKind.WASH_TRADE
    as_422 = rejection_for("potential wash trade detected. use complex orders", 422, 42210000)
    assert isinstance(as_422, WashTradeRefused)
