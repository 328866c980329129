"""The operator's `close` and `cancel-orders` as the core sees them: `CloseRequested` marks the cycle
(cancelling a live buy first) and the next quote sells at market, ending the cycle as `closed`;
`CancelRequested` cancels the live order (the driver then pauses the asset)."""

from __future__ import annotations

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import CycleStatus, OrderKind, Side
from dca.events import CancelRequested, CloseRequested
from dca.strategy import decide, triggers
from tests.core.helpers import D, at, closed, config, filled, in_position, live_id, quote, run, watching, with_order


def _sell_of(decision) -> SubmitOrder:
    (sell,) = [c for c in decision.commands if isinstance(c, SubmitOrder)]
    return sell


def test_close_marks_the_cycle_and_the_next_quote_sells_everything_at_market():
    cfg, state = config(max_safety_orders=0), in_position("0.5", "100")
    state, (asked, sold) = run(cfg, state, CloseRequested(at(1)), quote("95", t=2))
    assert asked.commands == () and asked.state.cycle.close_requested_at == at(1)
    assert "sells 0.5 BTC at market at the next quote" in asked.lines[0]
    assert triggers(cfg, asked.state).always  # any quote may carry out the close
    sell = _sell_of(sold)
    assert (sell.side, sell.kind, sell.qty, sell.limit_price) == (Side.SELL, OrderKind.CLOSE, D("0.5"), None)


def test_the_closing_sale_ends_the_cycle_closed_with_its_loss_and_the_cooldown_applies():
    cfg = config(cooldown_period=60)
    state, _ = run(cfg, in_position("0.5", "100"), CloseRequested(at(1)), quote("95", t=2))
    ended = decide(cfg, state, filled(state, "0.5", "95", t=3))
    assert ended.completed is not None and ended.completed.status is CycleStatus.CLOSED
    assert ended.completed.realized_pnl == D("-2.5") and "closed by the operator" in ended.lines[-1]
    assert ended.state.cycle.status is CycleStatus.COOLDOWN and ended.state.last_sell_price is None


def test_close_cancels_a_live_buy_first_then_sells_what_it_bought():
    cfg = config(max_safety_orders=3)
    state = with_order(in_position("0.5", "100"), kind=OrderKind.SAFETY, qty="0.5", limit="98")
    state, (asked,) = run(cfg, state, CloseRequested(at(1)))
    (cancel,) = asked.commands
    assert isinstance(cancel, CancelOrder) and cancel.reason == "operator close"
    assert asked.state.cycle.order.cancel_requested_at == at(1)
    state, (ended, sold) = run(cfg, state, closed(state, qty="0.2", price="98", t=2), quote("97", t=3))
    assert ended.state.cycle.status is CycleStatus.WATCHING and ended.state.cycle.close_requested_at == at(1)
    assert _sell_of(sold).qty == D("0.7") and _sell_of(sold).kind is OrderKind.CLOSE


def test_a_base_order_cancelled_without_fills_ends_the_closed_cycle_at_once():
    cfg = config(cooldown_period=0)
    state = with_order(watching(), qty="0.1", limit="100")
    state, (_, _, ended) = run(cfg, state, CloseRequested(at(1)), closed(state, t=2), quote("100", t=3))
    assert ended.completed is not None and ended.completed.status is CycleStatus.CLOSED
    assert ended.commands == () and ended.state.cycle.status is CycleStatus.WATCHING  # no base order on this quote


def test_close_with_a_live_sell_lets_it_finish():
    state = with_order(in_position("0.5", "100"), side=Side.SELL, kind=OrderKind.TAKE_PROFIT, qty="0.5", limit=None)
    asked = decide(config(), state, CloseRequested(at(1)))
    assert asked.commands == () and "is live" in asked.lines[0]
    done = decide(config(), asked.state, filled(asked.state, "0.5", "103", t=2))
    assert done.completed is not None and done.completed.status is CycleStatus.COMPLETE  # it was a take-profit


def test_close_is_refused_for_a_cycle_holding_nothing_and_for_one_already_closing():
    flat = watching()
    refused = decide(config(), flat, CloseRequested(at(1)))
    assert refused.state is flat and refused.lines[0].startswith("close refused")
    closing, _ = run(config(), in_position("0.5", "100"), CloseRequested(at(1)))
    again = decide(config(), closing, CloseRequested(at(2)))
    assert again.state is closing and "already closing" in again.lines[0]


def test_cancel_requested_cancels_the_live_order_and_drops_a_pending_close():
    state = with_order(in_position("0.5", "100"), kind=OrderKind.SAFETY)
    state, _ = run(config(), state, CloseRequested(at(1)))
    decision = decide(config(), state, CancelRequested(at(2)))
    (cancel,) = decision.commands
    assert isinstance(cancel, CancelOrder) and cancel.client_order_id == live_id(state)
    assert cancel.reason == "operator cancel" and decision.state.cycle.close_requested_at is None


def test_cancel_requested_without_an_order_changes_nothing():
    state = in_position("0.5", "100")
    decision = decide(config(), state, CancelRequested(at(1)))
    assert decision.state is state and decision.commands == () and "no open order" in decision.lines[0]
