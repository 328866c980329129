"""The Alpaca broker adapter against the simulator with the real alpaca-py TradingClient."""

from decimal import Decimal

import pytest

from adapters.alpaca.broker import AlpacaBroker, DuplicateClientOrderId, Endpoints, NotFound, OrderRejected
from adapters.sim.config import SimConfig
from adapters.sim.orders import OrderRequest
from adapters.sim.service import SimulatorService
from dca.commands import SubmitOrder
from dca.cycle import OrderKind, OrderType, Side


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
