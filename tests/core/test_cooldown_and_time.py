"""Cooldown, the price-triggered restart, and the time limits on live orders (§8.39, §2.7, §2.10)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, OrderKind, Side
from dca.events import CloseReason, OrderNotFound, Tick
from dca.strategy import decide
from tests.core.helpers import D, at, closed, config, filled, in_position, quote, run, watching, with_order


def _cooling(until_s: float | None = 60, last_sell: str | None = "100") -> AssetState:
    cycle = Cycle(id=8, status=CycleStatus.COOLDOWN, cooldown_until=at(until_s) if until_s is not None else None)
    return AssetState(cycle, last_sell_price=D(last_sell) if last_sell else None)


@pytest.mark.parametrize(("seconds", "over"), [(70, True), (30, False), (60, True)])
def test_cooldown_ends_at_its_deadline(seconds, over):  # §8.39: 70 s after a 60 s period, 30 s, exactly 60 s
    decision = decide(config(), _cooling(60), Tick(at(seconds)))
    assert (decision.state.cycle.status is CycleStatus.WATCHING) is over


def test_a_cooldown_without_a_deadline_is_over_rather_than_stuck_for_ever():  # §8.39, unlike the original (B1)
    decision = decide(config(base_order_amount="100"), _cooling(None), quote(100, t=1))
    assert decision.state.cycle.status is CycleStatus.BUYING


def test_the_first_quote_after_the_cooldown_places_the_base_order():
    decision = decide(config(base_order_amount="100"), _cooling(60, last_sell=None), quote(100, t=61))
    assert decision.lines[0] == "cooldown over" and isinstance(decision.commands[0], SubmitOrder)
    assert decision.state.cycle.status is CycleStatus.BUYING


def test_price_triggered_restart_ends_the_cooldown_early():  # §2.7, implemented at last
    cfg = config(base_order_amount="100", buy_order_price_deviation_percent="2")
    assert decide(cfg, _cooling(600), quote(98, "98.01", t=10)).state.cycle.status is CycleStatus.COOLDOWN
    decision = decide(cfg, _cooling(600), quote(97, 98, t=10))  # ask ≤ 100 × (1 − 2 %)
    assert decision.lines[0].startswith("price-triggered restart")
    assert decision.state.cycle.status is CycleStatus.BUYING


def test_a_full_cycle_from_base_order_to_the_next_base_order():
    cfg = config(base_order_amount="100", safety_order_amount="100", safety_order_deviation="2",
                 take_profit_percent="1", cooldown_period=60)
    state = watching()
    state, d = run(cfg, state, quote(100, t=0))
    state, d = run(cfg, state, filled(state, "1", "100", t=1))
    state, d = run(cfg, state, quote(97, 98, t=2))
    assert d[-1].commands[0].kind is OrderKind.SAFETY
    state, d = run(cfg, state, filled(state, "1.020408163", "98", t=3))
    state, d = run(cfg, state, quote(100, t=4))  # avg ≈ 99 → TP trigger ≈ 99.99
    assert d[-1].commands[0].side is Side.SELL
    state, d = run(cfg, state, filled(state, "2.020408163", "100", t=5))
    assert d[-1].completed.realized_pnl > 0 and state.cycle.status is CycleStatus.COOLDOWN
    state, d = run(cfg, state, quote(100, t=30), quote(100, t=65))
    assert d[0].commands == () and d[1].commands[0].kind is OrderKind.BASE


def test_a_stale_buy_is_cancelled_after_the_threshold_and_once_only():
    state = with_order(watching(), created=0)
    assert decide(config(), state, Tick(at(299))).commands == ()
    cancel = decide(config(), state, quote(100, t=300))
    assert cancel.commands == (CancelOrder(state.cycle.order.client_order_id, "ex-1", "stale buy"),)
    assert decide(config(), cancel.state, quote(100, t=301)).commands == ()
    again = decide(config(), cancel.state, Tick(at(600)))  # never confirmed: ask again a period later
    assert isinstance(again.commands[0], CancelOrder)


def test_a_stuck_market_sell_is_cancelled_after_75_seconds_and_then_retried():
    cfg = config(take_profit_percent="1")
    state = with_order(in_position("1", "100"), side=Side.SELL, qty="1", limit=None, created=0)
    assert decide(cfg, state, Tick(at(74))).commands == ()
    cancel = decide(cfg, state, Tick(at(75)))
    assert cancel.commands[0].reason == "stuck sell"
    state, _ = run(cfg, cancel.state, closed(cancel.state, CloseReason.CANCELED, t=76))
    retry = decide(cfg, state, quote(102, t=77))
    assert retry.commands[0].side is Side.SELL and retry.state.cycle.order_seq == state.cycle.order_seq + 1


def test_an_order_that_never_reached_the_exchange_is_resubmitted_under_the_same_id():
    state = with_order(watching(), created=0)
    state = state.evolve(cycle=state.cycle.evolve(order=replace(state.cycle.order, exchange_id=None)))
    decision = decide(config(), state, OrderNotFound(state.cycle.order.client_order_id, at(10)))
    (submit,) = decision.commands
    assert submit.client_order_id == state.cycle.order.client_order_id and decision.state is state


def test_a_lost_order_past_its_time_limit_is_given_up():
    state = with_order(watching(), created=0)
    decision = decide(config(), state, OrderNotFound(state.cycle.order.client_order_id, at(3600)))
    assert decision.state.cycle.status is CycleStatus.WATCHING and decision.state.cycle.order is None


def test_stale_buy_cancel_keeps_partial_fills():
    state = with_order(watching(), qty="0.01")
    state, _ = run(config(), state, filled(state, "0.004", "100", final=False), Tick(at(301)))
    state, _ = run(config(), state, closed(state, qty="0.004", price="100", t=302))
    assert state.cycle.quantity == D("0.004") and state.cycle.last_fill_price == D(100)


def test_cooldown_timer_is_scheduled_in_event_time():
    cfg = config(cooldown_period=90)
    state = with_order(in_position("1", "100"), side=Side.SELL, qty="1", limit=None)
    decision = decide(cfg, state, filled(state, "1", "103", t=10))
    assert decision.commands[0].at == at(10) + timedelta(seconds=90)
