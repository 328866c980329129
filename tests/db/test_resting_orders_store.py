"""Resting orders in the books: each one's row is written (before submission) with `resting` set while
its cycle holds it, and a reload gives back exactly the cycle's still-live resting orders."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from adapters.db.assets import AssetRepository
from adapters.db.cycles import SUBMITTING, CycleStore
from adapters.db.models import DcaOrder
from dca.cycle import AssetState, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.params import AssetParams
from dca.strategy import Decision

T = datetime(2026, 1, 1, tzinfo=UTC)


def _setup(database):
    repo = AssetRepository(database)
    (asset,), _ = repo.add(["BTC/USD"], AssetParams(base_order_amount=Decimal(100), ttp_enabled=False,
                                                  take_profit_percent=Decimal(1), active_safety_orders=2,
                                                  max_safety_orders=3), True)
    store = CycleStore(database)
    return store, asset, store.load(asset)


def _resting(cycle_id: int, seq: int, side: Side, kind: OrderKind, limit: str, qty: str = "0.001") -> LiveOrder:
    return LiveOrder(f"dca-test1-1-{cycle_id}-{seq}", kind, side, OrderType.LIMIT, Decimal(qty), Decimal(limit), T)


def _in_position(state: AssetState, *resting: LiveOrder) -> AssetState:
    cycle = state.cycle.evolve(status=CycleStatus.WATCHING, quantity=Decimal("0.002"), cost=Decimal(100),
                               last_fill_price=Decimal(50000), order_seq=len(resting) + 1, resting=resting)
    return state.evolve(cycle=cycle)


def _row(database, client_order_id: str) -> DcaOrder:
    with database.transaction() as session:
        return session.execute(select(DcaOrder).where(DcaOrder.client_order_id == client_order_id)).scalar_one()


def test_resting_orders_are_stored_before_submission_and_reload_with_the_cycle(database):
    store, asset, state = _setup(database)
    cid = state.cycle.id
    ladder = (_resting(cid, 2, Side.BUY, OrderKind.SAFETY, "49000"),
              _resting(cid, 3, Side.BUY, OrderKind.SAFETY, "48000"))
    take_profit = _resting(cid, 4, Side.SELL, OrderKind.TAKE_PROFIT, "50600", "0.002")
    wanted = _in_position(state, *ladder, take_profit)
    saved = store.save(asset.id, state, Decision(wanted), T)
    for order in (*ladder, take_profit):
        row = _row(database, order.client_order_id)
        assert row.resting and row.status == SUBMITTING and row.cycle_id == cid and row.limit_price == order.limit_price
    assert store.load(asset) == saved
    assert {o.client_order_id for o in saved.cycle.resting} == {o.client_order_id for o in (*ladder, take_profit)}


def test_a_filled_resting_order_leaves_the_reloaded_cycle_and_keeps_its_figures(database):
    store, asset, state = _setup(database)
    cid = state.cycle.id
    first, second = (_resting(cid, 2, Side.BUY, OrderKind.SAFETY, "49000"),
                     _resting(cid, 3, Side.BUY, OrderKind.SAFETY, "48000"))
    state = store.save(asset.id, state, Decision(_in_position(state, first, second)), T)
    filled = replace(first, exchange_id="ex-2", filled_qty=Decimal("0.001"), filled_notional=Decimal(49),
                     fee=Decimal("0.0000025"))
    after = state.evolve(cycle=state.cycle.evolve(resting=(second,), safety_orders=1,
                                                  quantity=Decimal("0.0029975"), cost=Decimal(149)))
    state = store.save(asset.id, state, Decision(after, finished_order=filled), T)
    row = _row(database, first.client_order_id)
    assert not row.resting and row.applied_filled_qty == Decimal("0.001") and row.id == "ex-2"
    assert _row(database, second.client_order_id).resting
    reloaded = store.load(asset)
    assert reloaded == state and [o.client_order_id for o in reloaded.cycle.resting] == [second.client_order_id]


def test_a_resting_order_and_the_acting_order_reload_in_their_own_places(database):
    store, asset, state = _setup(database)
    cid = state.cycle.id
    ladder = _resting(cid, 2, Side.BUY, OrderKind.SAFETY, "48000")
    acting = LiveOrder(f"dca-test1-1-{cid}-3", OrderKind.TAKE_PROFIT, Side.SELL, OrderType.MARKET, Decimal("0.002"),
                       None, T)
    wanted = _in_position(state, ladder)
    wanted = wanted.evolve(cycle=wanted.cycle.evolve(status=CycleStatus.SELLING, order=acting, order_seq=3))
    saved = store.save(asset.id, state, Decision(wanted), T)
    reloaded = store.load(asset)
    assert reloaded == saved
    assert reloaded.cycle.order is not None and reloaded.cycle.order.client_order_id == acting.client_order_id
    assert [o.client_order_id for o in reloaded.cycle.resting] == [ladder.client_order_id]
    assert not _row(database, acting.client_order_id).resting
