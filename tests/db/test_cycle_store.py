"""Storing decisions: one transaction per decision, the order row written before submission, and a
reload that gives back exactly the state in memory."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from adapters.db.assets import AssetRepository
from adapters.db.cycles import SUBMITTING, CycleStore
from adapters.db.models import DcaCycle, DcaCycleEvent, DcaOrder
from adapters.db.orders import OrderMirror
from dca.commands import SubmitOrder
from dca.cycle import CycleStatus
from dca.events import OrderAccepted, OrderFilled, PositionBeforeOrder
from dca.exchange import ExchangeOrder
from dca.market import Quote
from dca.params import AssetConfig, AssetParams, ExchangeRules
from dca.strategy import decide

T = datetime(2026, 1, 1, tzinfo=UTC)


def _setup(database, **store_options):
    repo = AssetRepository(database)
    (asset,), _ = repo.add(["BTC/USD"], AssetParams(base_order_amount=Decimal(100), ttp_enabled=False,
                                                  take_profit_percent=Decimal(1), cooldown_period=60), True)
    cfg = AssetConfig(asset.id, "BTC/USD", "dca-test1", asset.params, ExchangeRules(min_notional=Decimal(1)))
    return CycleStore(database, **store_options), asset, cfg


def _step(store, cfg, state, event, t):
    decision = decide(cfg, state, event)
    return store.save(cfg.asset_id, state, decision, t), decision


def test_an_asset_without_a_cycle_gets_a_watching_one(database):
    store, asset, _ = _setup(database)
    state = store.load(asset)
    assert state.cycle.id is not None and state.cycle.status is CycleStatus.WATCHING
    assert store.load(asset).cycle.id == state.cycle.id  # loading again does not add another


def test_the_order_row_exists_before_submission_and_the_state_reloads_identically(database):
    store, asset, cfg = _setup(database)
    state = store.load(asset)
    state, decision = _step(store, cfg, state, Quote("BTC/USD", Decimal(50000), Decimal(50000), T), T)
    submit = decision.commands[0]
    assert isinstance(submit, SubmitOrder)
    with database.transaction() as session:
        row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == submit.client_order_id)).scalar_one()
        assert row.status == SUBMITTING and row.cycle_id == state.cycle.id and row.qty == Decimal("0.002")
        assert row.order_kind == "base" and row.id is None
    assert store.load(asset) == state


def test_a_full_cycle_is_stored_step_by_step(database):
    store, asset, cfg = _setup(database)
    state = store.load(asset)
    first_cycle = state.cycle.id
    state, d = _step(store, cfg, state, Quote("BTC/USD", Decimal(50000), Decimal(50000), T), T)
    order_id = d.commands[0].client_order_id
    state, _ = _step(store, cfg, state, PositionBeforeOrder(order_id, Decimal(0), T), T)
    state, _ = _step(store, cfg, state, OrderAccepted(order_id, "ex-1", T), T)
    state, _ = _step(store, cfg, state, OrderFilled(order_id, Decimal("0.002"), Decimal(50000), T, True,
                                                     position_qty=Decimal("0.001995")), T)
    assert store.load(asset) == state and state.cycle.quantity == Decimal("0.001995")
    later = T + timedelta(minutes=5)
    state, d = _step(store, cfg, state, Quote("BTC/USD", Decimal(51000), Decimal(51010), later), later)
    sell_id = d.commands[0].client_order_id
    state, d = _step(store, cfg, state, OrderFilled(sell_id, Decimal("0.001995"), Decimal(51000), later, True), later)
    assert d.completed is not None
    assert state.cycle.id != first_cycle and state.cycle.status is CycleStatus.COOLDOWN
    assert store.load(AssetRepository(database).get("BTC/USD")) == state
    with database.transaction() as session:
        done = session.get(DcaCycle, first_cycle)
        assert done.status == "complete" and done.sell_price == Decimal(51000) and done.completed_at == later
        assert done.realized_pnl == d.completed.realized_pnl and done.realized_pnl > 0
        sell_row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == sell_id)).scalar_one()
        assert sell_row.applied_filled_qty == Decimal("0.001995")
        events = session.execute(select(DcaCycleEvent).where(DcaCycleEvent.cycle_id == first_cycle)
                                 .order_by(DcaCycleEvent.id)).scalars().all()
        assert [(e.from_status, e.to_status) for e in events if e.to_status] == [
            (None, "watching"), ("watching", "buying"), ("buying", "watching"), ("watching", "selling"),
            ("selling", "complete")]
    assert AssetRepository(database).get("BTC/USD").last_sell_price == Decimal(51000)


def test_a_failed_save_leaves_nothing_half_written(database):
    store, asset, cfg = _setup(database)
    state = store.load(asset)
    decision = decide(cfg, state, Quote("BTC/USD", Decimal(50000), Decimal(50000), T))
    broken = decision.state.evolve(cycle=decision.state.cycle.evolve(cost=Decimal("1e30")))  # does not fit
    with pytest.raises(StatementError, match="does not fit"):
        store.save(asset.id, state, type(decision)(broken, decision.commands, notes=decision.notes), T)
    assert store.load(asset) == state
    with database.transaction() as session:
        assert session.execute(select(DcaOrder)).first() is None


def test_the_trailing_peak_is_saved_on_its_own(database):
    store, asset, _ = _setup(database)
    state = store.load(asset)
    store.save_peak(state.cycle.id, Decimal("123.45"))
    assert store.load(asset).cycle.peak_price == Decimal("123.45")


def test_a_failed_transaction_is_reported_by_its_error_class(database):
    failures = []
    database.on_error = failures.append
    store, asset, cfg = _setup(database)
    state = store.load(asset)
    decision = decide(cfg, state, Quote("BTC/USD", Decimal(50000), Decimal(50000), T))
    broken = decision.state.evolve(cycle=decision.state.cycle.evolve(cost=Decimal("1e30")))
    with pytest.raises(StatementError):
        store.save(asset.id, state, type(decision)(broken, decision.commands, notes=decision.notes), T)
    assert failures == ["StatementError"]


def test_an_accepted_order_whose_exchange_id_another_order_holds_is_counted_and_the_cycle_goes_on(database):
    clashes: list[int] = []
    store, asset, cfg = _setup(database, on_id_taken=lambda: clashes.append(1))
    OrderMirror(database, "dca-test1").record(ExchangeOrder(
        id="ex-1", client_order_id="from-an-earlier-exchange", symbol="BTC/USD", side="buy", type="market",
        time_in_force="gtc", status="filled", created_at=T))
    state = store.load(asset)
    state, d = _step(store, cfg, state, Quote("BTC/USD", Decimal(50000), Decimal(50000), T), T)
    order_id = d.commands[0].client_order_id
    state, _ = _step(store, cfg, state, PositionBeforeOrder(order_id, Decimal(0), T), T)
    state, _ = _step(store, cfg, state, OrderAccepted(order_id, "ex-1", T), T)  # the exchange repeats "ex-1"
    assert clashes == [1] and state.cycle.order is not None and state.cycle.order.exchange_id == "ex-1"
    state, _ = _step(store, cfg, state, OrderFilled(order_id, Decimal("0.002"), Decimal(50000), T, True,
                                                     position_qty=Decimal("0.001995")), T)
    assert state.cycle.quantity == Decimal("0.001995") and store.load(asset).cycle.quantity == state.cycle.quantity
    with database.transaction() as session:
        row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == order_id)).scalar_one()
        assert row.id is None and row.applied_filled_qty == Decimal("0.002")


def test_an_order_the_exchange_never_held_is_stored_as_never_sent(database):
    from dca.events import CloseReason, OrderClosed

    store, asset, cfg = _setup(database)
    state = store.load(asset)
    state, decision = _step(store, cfg, state, Quote("BTC/USD", Decimal(50000), Decimal(50000), T), T)
    refused = decision.commands[0].client_order_id
    state, _ = _step(store, cfg, state, OrderClosed(refused, CloseReason.REJECTED, T), T)  # refused at submission

    with database.transaction() as session:
        row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == refused)).scalar_one()
    assert row.status == "never_sent" and row.id is None
