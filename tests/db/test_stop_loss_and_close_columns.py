"""A pending stop-loss timeout and the operator's close request survive a restart (migration 0006),
and a cycle that ended `stopped` or `closed` is stored as ended."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dca.commands import SubmitOrder
from dca.cycle import CycleStatus, OrderKind
from dca.events import CloseRequested, OrderAccepted, OrderFilled
from dca.market import Quote
from tests.db.test_cycle_store import _setup, _step

T = datetime(2026, 1, 1, tzinfo=UTC)


def _holding(database):
    store, asset, cfg = _setup(database)
    cfg = replace(cfg, params=replace(cfg.params, stop_loss_percent=Decimal(5), stop_loss_timeout=60,
                                      max_safety_orders=0))
    state = store.load(asset)
    state, _ = _step(store, cfg, state, Quote("BTC/USD", Decimal(100), Decimal(100), T), T)
    order = state.cycle.order.client_order_id
    state, _ = _step(store, cfg, state, OrderAccepted(order, "ex-1", T), T)
    state, _ = _step(store, cfg, state, OrderFilled(order, Decimal(1), Decimal(100), T, True, fee=Decimal(0)), T)
    return store, asset, cfg, state


def test_a_pending_stop_loss_timeout_is_stored_and_loaded_back(database):
    store, asset, cfg, state = _holding(database)
    later = T + timedelta(seconds=10)
    state, decision = _step(store, cfg, state, Quote("BTC/USD", Decimal(94), Decimal(94), later), later)
    assert decision.state.cycle.stop_loss_since == later
    assert store.load(asset) == state  # a restart keeps counting from the first bid below the level


def test_a_close_request_is_stored_and_the_cycle_ends_closed(database):
    store, asset, cfg, state = _holding(database)
    state, _ = _step(store, cfg, state, CloseRequested(T + timedelta(seconds=5)), T)
    assert store.load(asset).cycle.close_requested_at == T + timedelta(seconds=5)
    quote_at = T + timedelta(seconds=6)
    state, decision = _step(store, cfg, state, Quote("BTC/USD", Decimal(99), Decimal(99), quote_at), quote_at)
    (sell, _) = decision.commands
    assert isinstance(sell, SubmitOrder) and sell.kind is OrderKind.CLOSE
    closing_id = state.cycle.id
    state, _ = _step(store, cfg, state, OrderFilled(sell.client_order_id, Decimal(1), Decimal(99), quote_at, True,
                                                    fee=Decimal("0.25")), quote_at)
    ended = store.cycle(closing_id)
    assert ended is not None and ended.cycle.status is CycleStatus.CLOSED
    assert ended.cycle.realized_pnl == Decimal("-1.25") and state.cycle.id != closing_id
