"""`EngineVenue`: the matching engine's trade events as the core's events, the way the live trade-update
router maps Alpaca's (exchange ids, cumulative fills, closes)."""

from __future__ import annotations

from decimal import Decimal

from adapters.sim.orders import OrderRequest
from app.backtest.venue import EngineVenue, engine_for
from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import OrderKind, OrderType, Side
from dca.events import CloseReason, OrderAccepted, OrderClosed, OrderFilled
from dca.params import FeeSchedule
from tests.backtest.helpers import CENT_PAIR, SYMBOL, T0, quote


def _venue() -> EngineVenue:
    return EngineVenue(engine_for(CENT_PAIR, Decimal(1000), FeeSchedule(Decimal(15), Decimal(25)), Decimal(10)))


def _buy(client_order_id: str, qty: str, limit: str | None = None) -> SubmitOrder:
    return SubmitOrder(client_order_id, SYMBOL, Side.BUY, OrderType.MARKET if limit is None else OrderType.LIMIT,
                       Decimal(qty), None if limit is None else Decimal(limit), OrderKind.BASE)


def test_fills_and_closes_carry_the_exchange_id_the_submission_gave() -> None:
    venue = _venue()
    assert venue.on_quote(quote("99.99", "100.01", 0)) == []  # no order yet
    [taken] = venue.submit(_buy("taker", "0.5"), T0)
    [resting] = venue.submit(_buy("maker", "0.5", limit="99"), T0)
    assert isinstance(taken, OrderAccepted) and isinstance(resting, OrderAccepted)
    assert taken.exchange_id == str(venue.engine.order_by_client_id("taker").id) != resting.exchange_id

    [filled] = venue.on_quote(quote("100", "100.02", 1))
    assert isinstance(filled, OrderFilled) and filled.final and filled.exchange_id == taken.exchange_id
    assert (filled.client_order_id, filled.filled_qty, filled.filled_avg_price) == ("taker", Decimal("0.5"),
                                                                                     Decimal("100.02"))
    assert filled.fee == Decimal("0.00125") and filled.position_qty == Decimal("0.49875")

    [closed] = venue.cancel(CancelOrder("maker", resting.exchange_id, "stale"), T0)
    assert isinstance(closed, OrderClosed) and closed.reason is CloseReason.CANCELED and closed.filled_qty == 0
    assert venue.cancel(CancelOrder("maker", resting.exchange_id, "again"), T0) == []  # it ended first


def test_an_order_the_venue_did_not_submit_is_reported_with_its_own_id() -> None:
    venue = _venue()
    venue.on_quote(quote("99.99", "100.01", 0))
    order = venue.engine.accept(OrderRequest(SYMBOL, "buy", "market", "gtc", qty=Decimal("0.2"),
                                             client_order_id="direct"), T0)
    [filled] = venue.on_quote(quote("100", "100.02", 1))
    assert isinstance(filled, OrderFilled) and filled.exchange_id == str(order.id)


def test_a_refused_submission_is_a_rejection_without_an_order() -> None:
    venue = _venue()
    venue.on_quote(quote("99.99", "100.01", 0))
    [refused] = venue.submit(_buy("small", "0.01"), T0)  # $1 is under the $10 floor
    assert isinstance(refused, OrderClosed) and refused.reason is CloseReason.REJECTED and refused.message
    assert venue.engine.orders() == []
