"""The asset driver with resting orders (a ladder of safety orders, a limit take-profit) beside the
acting order, against the small fakes of tests/app/test_asset_driver.py: every live order is read back
on start, and the risk board sees every live buy's reserved cash."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from app.driver.sell_guard import held_by_own_sells
from dca.cycle import AssetState, Cycle, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.exchange import ExchangeOrder
from ports.asset_host import OrderLookup
from tests.app.test_asset_driver import SYMBOL, T0, Rig, Venue


def _resting(seq: int, side: Side, kind: OrderKind, limit: str, qty: str) -> LiveOrder:
    return LiveOrder(f"dca-test1-1-1-{seq}", kind, side, OrderType.LIMIT, Decimal(qty), Decimal(limit), T0,
                     exchange_id=f"ex-{seq}")


LADDER = (_resting(2, Side.BUY, OrderKind.SAFETY, "95", "1"), _resting(3, Side.BUY, OrderKind.SAFETY, "90", "2"))
TAKE_PROFIT = _resting(4, Side.SELL, OrderKind.TAKE_PROFIT, "102", "1")


def _holding_with(*resting: LiveOrder) -> AssetState:
    return AssetState(Cycle(id=1, status=CycleStatus.WATCHING, quantity=Decimal(1), cost=Decimal(100),
                            last_fill_price=Decimal(100), bought_qty=Decimal(1), order_seq=4, resting=resting))


class CountingVenue(Venue):
    def __init__(self, journal: list[str]) -> None:
        super().__init__(journal)
        self.asked: list[str] = []

    def order_by_client_id(self, client_order_id: str):  # type: ignore[no-untyped-def]
        self.asked.append(client_order_id)
        return super().order_by_client_id(client_order_id)


def _rig(state: AssetState) -> Rig:
    """A rig whose venue still holds every resting order open, unfilled."""
    rig = Rig(state)
    rig.venue = rig.ports.broker = CountingVenue(rig.journal)
    for order in state.cycle.resting:
        rig.venue.lookups[order.client_order_id] = ExchangeOrder(
            order.exchange_id or "", order.client_order_id, SYMBOL, order.side.value, "limit", "gtc", "new", T0,
            qty=order.qty, limit_price=order.limit_price)
    return rig


def test_on_start_every_resting_order_is_asked_about_before_anything_else():
    rig = _rig(_holding_with(*LADDER, TAKE_PROFIT)).start()
    assert rig.venue.asked == [order.client_order_id for order in (*LADDER, TAKE_PROFIT)]


def test_a_check_asked_by_a_caretaker_reads_back_every_live_order():
    rig = _rig(_holding_with(*LADDER)).start()
    rig.venue.asked.clear()
    rig.driver.check_order(OrderLookup.RECONCILING)
    assert sorted(rig.venue.asked) == sorted(order.client_order_id for order in LADDER)


def test_the_risk_board_counts_every_resting_buy_as_committed_and_reserved_but_not_a_resting_sell():
    rig = _rig(_holding_with(*LADDER, TAKE_PROFIT)).start()
    snapshot = rig.ports.risk.snapshot(T0)
    ladder_cash = Decimal(95) * 1 + Decimal(90) * 2
    assert snapshot.reserved[SYMBOL] == ladder_cash
    assert snapshot.committed[SYMBOL] == Decimal(100) + ladder_cash
    assert SYMBOL in snapshot.open_cycles
    assert rig.state.cycle.resting == (*LADDER, TAKE_PROFIT)  # still open on the venue: nothing changed


def test_coins_the_bots_own_resting_sell_holds_count_as_the_bots_to_sell():
    partly_sold = replace(TAKE_PROFIT, filled_qty=Decimal("0.25"))
    assert held_by_own_sells(_holding_with(*LADDER, partly_sold)) == Decimal("0.75")  # the venue's qty_available
    assert held_by_own_sells(_holding_with(*LADDER)) == 0                              # leaves these out
