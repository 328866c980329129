"""Buy fills, partial fills and buy cancellations (reference §8 scenarios 25-33)."""

from dataclasses import replace

import pytest

from dca.cycle import CycleStatus, OrderKind
from dca.events import CloseReason, OrderClosed, OrderFilled
from dca.strategy import decide
from tests.core.helpers import (
    D,
    accepted,
    at,
    closed,
    config,
    filled,
    in_position,
    position_before,
    run,
    watching,
    with_order,
)


def test_partial_fill_is_applied_at_once_and_the_order_stays_live():  # §8.25 (the original only logged it)
    state = with_order(watching(), qty="0.002")
    state, _ = run(config(), state, filled(state, "0.0005", "50000", final=False))
    cycle = state.cycle
    assert cycle.status is CycleStatus.BUYING and cycle.order is not None
    assert cycle.quantity == D("0.0005") and cycle.cost == D(25)


def test_base_fill_holds_the_coin_net_of_the_fee_and_raises_the_average_cost():  # §8.26
    cfg = config(fees=("15", "25"))
    state = with_order(watching(), qty="0.002", position_before="0")
    state, _ = run(cfg, state, filled(state, "0.002", "50000", position="0.001995"))
    cycle = state.cycle
    assert cycle.quantity == D("0.001995")  # 0.002 less the 0.25 % taker fee, in coin
    assert cycle.cost == D(100) and cycle.average_price > D(50000)
    assert cycle.last_fill_price == D(50000) and cycle.safety_orders == 0
    assert cycle.status is CycleStatus.WATCHING and cycle.order is None
    assert cycle.buy_fees == D("0.000005")


def test_maker_fee_is_learned_from_the_position_not_assumed():
    cfg = config(fees=("15", "25"))
    state = with_order(watching(), qty="0.002", position_before="1.5")  # coins held outside the bot too
    state, _ = run(cfg, state, filled(state, "0.002", "50000", position="1.501997"))
    assert state.cycle.quantity == D("0.001997") and state.cycle.buy_fees == D("0.000003")


def test_implausible_position_falls_back_to_the_taker_rate():
    cfg = config(fees=("15", "25"))
    state = with_order(watching(), qty="0.002", position_before="1")
    state, _ = run(cfg, state, filled(state, "0.002", "50000", position="0.5"))  # someone sold meanwhile
    assert state.cycle.quantity == D("0.001995")


def test_weighted_average_of_two_fills():  # §8.27
    cfg = config()
    state = with_order(watching(), qty="0.001")
    state, _ = run(cfg, state, filled(state, "0.001", "50000"))
    state = with_order(state, kind=OrderKind.SAFETY, qty="0.0015")
    state, _ = run(cfg, state, filled(state, "0.0015", "48000"))
    assert state.cycle.quantity == D("0.0025") and state.cycle.average_price == D(48800)


def test_safety_fill_counts_a_safety_order():  # §8.28
    state = with_order(in_position("0.001", "50000"), kind=OrderKind.SAFETY, qty="0.001")
    state, _ = run(config(), state, filled(state, "0.001", "49000"))
    assert state.cycle.safety_orders == 1 and state.cycle.last_fill_price == D(49000)


def test_reports_for_an_order_the_cycle_does_not_track_change_nothing():  # §8.29
    state = with_order(watching())
    stranger = OrderFilled("dca-test1-1-7-99", D(1), D(1), at(1), True)
    decision = decide(config(), state, stranger)
    assert decision.state is state and "not one of the cycle's live orders" in decision.lines[0]
    assert decide(config(), state, OrderClosed("other", CloseReason.CANCELED, at(1))).state is state


def test_base_buy_cancelled_after_a_partial_fill_keeps_what_filled():  # §8.30
    state = with_order(watching(), qty="0.01")
    state, _ = run(config(), state, filled(state, "0.005", "49500", final=False))
    state, _ = run(config(), state, closed(state, qty="0.005", price="49500"))
    cycle = state.cycle
    assert (cycle.status, cycle.quantity, cycle.last_fill_price, cycle.order) == (
        CycleStatus.WATCHING, D("0.005"), D(49500), None)
    assert cycle.safety_orders == 0


def test_safety_buy_cancelled_after_a_partial_fill_counts_and_moves_the_last_fill():  # §8.31
    state = with_order(in_position("0.01", "50000"), kind=OrderKind.SAFETY, qty="0.01")
    state, _ = run(config(), state, closed(state, qty="0.004", price="48000"))
    assert state.cycle.safety_orders == 1 and state.cycle.last_fill_price == D(48000)
    assert state.cycle.quantity == D("0.014")


def test_buy_cancelled_without_fills_only_clears_the_order():  # §8.32
    before = watching()
    state = with_order(before)
    state, _ = run(config(), state, closed(state))
    assert state.cycle.status is CycleStatus.WATCHING and state.cycle.order is None
    assert state.cycle.quantity == 0 and state.cycle.retry_at is None and state.cycle.order_seq == 1


@pytest.mark.parametrize("reason", list(CloseReason))
def test_close_reports_without_a_live_order_change_nothing(reason):  # §8.33
    state = in_position("0.01", "50000")
    decision = decide(config(), state, OrderClosed("dca-test1-1-7-1", reason, at(1)))
    assert decision.state is state


def test_duplicated_and_reordered_reports_apply_each_fill_once():
    state = with_order(watching(), qty="0.003")
    first, second = filled(state, "0.001", "100", final=False), filled(state, "0.002", "101", final=False)
    final = filled(state, "0.003", "102", final=True)
    state, _ = run(config(), state, second, first, second, final, final, first)
    assert state.cycle.quantity == D("0.003") and state.cycle.cost == D("0.306")


def test_the_position_before_the_order_and_the_exchange_id_are_recorded_once():
    state = with_order(watching())
    state = state.evolve(cycle=state.cycle.evolve(order=replace(state.cycle.order, exchange_id=None)))
    state, _ = run(config(), state, position_before(state, "0.25"), accepted(state), position_before(state, "9"))
    assert state.cycle.order.exchange_id == "ex-1" and state.cycle.order.position_before == D("0.25")


def test_fee_estimated_on_partial_fills_is_trued_up_by_the_final_report():
    cfg = config(fees=("15", "25"))
    state = with_order(watching(), qty="0.002", position_before="0")
    state, _ = run(cfg, state, filled(state, "0.001", "50000", final=False))
    assert state.cycle.quantity == D("0.0009975")  # taker estimate while partial
    state, _ = run(cfg, state, filled(state, "0.002", "50000", position="0.001997"))  # it was a maker fill
    assert state.cycle.quantity == D("0.001997") and state.cycle.buy_fees == D("0.000003")
