"""Base orders (reference §8 scenarios 1-8), as the core decides them."""

from dataclasses import replace

import pytest

from dca.commands import ScheduleTimer, SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, OrderKind, OrderType, Side
from dca.events import CloseReason, HoldingsChecked
from dca.strategy import decide
from tests.core.helpers import D, at, closed, config, in_position, quote, run, watching, with_order


def test_base_order_of_100_at_ask_50000_is_a_gtc_limit_buy_of_0_002():  # §8.4
    decision = decide(config(base_order_amount="100"), watching(), quote(49990, 50000))
    submit, timer = decision.commands
    assert submit == SubmitOrder("dca-test1-1-7-1", "BTC/USD", Side.BUY, OrderType.LIMIT, D("0.002"),
                                 D("50000.00"), OrderKind.BASE, "gtc")
    assert isinstance(timer, ScheduleTimer) and timer.at == at(300)
    cycle = decision.state.cycle
    assert cycle.status is CycleStatus.BUYING and cycle.order is not None
    assert cycle.order.client_order_id == "dca-test1-1-7-1" and cycle.order_seq == 1


def test_base_order_needs_a_stored_cycle():  # §8.1: no cycle row → no order
    with pytest.raises(ValueError, match="stored"):
        decide(config(), AssetState(Cycle(id=None, status=CycleStatus.WATCHING)), quote(100))


@pytest.mark.parametrize("status", [CycleStatus.BUYING, CycleStatus.SELLING, CycleStatus.TRAILING])
def test_no_base_order_unless_watching(status):  # §8.2
    state = watching()
    state = state.evolve(cycle=state.cycle.evolve(status=status))
    if status is not CycleStatus.TRAILING:
        state = with_order(state, status=status)
    assert not [c for c in decide(config(), state, quote(100)).commands if isinstance(c, SubmitOrder)]


def test_no_base_order_while_the_cycle_holds_coin():  # §8.2: qty > 0 means in position, not flat
    decision = decide(config(), in_position("0.01", "50000"), quote(50000))
    assert decision.commands == () and decision.state.cycle.status is CycleStatus.WATCHING


def test_foreign_coins_on_the_exchange_neither_block_nor_join_the_cycle():  # §8.3, done better
    state, _ = run(config(), watching(), HoldingsChecked(D("5"), at(0)))
    assert state.cycle.quantity == 0
    decision = decide(config(base_order_amount="100"), state, quote(50000))
    assert decision.state.cycle.status is CycleStatus.BUYING  # our cycle only ever sells what it bought


@pytest.mark.parametrize(("bid", "ask"), [("0", "50000"), ("-1", "50000"), ("50000", "0"), ("50010", "50000")])
def test_no_order_on_a_bad_quote(bid, ask):  # §8.6
    state = watching()
    decision = decide(config(), state, quote(bid, ask))
    assert decision.commands == () and decision.state is state


def test_amount_below_the_exchange_minimum_places_nothing_and_says_why():  # §8.6
    decision = decide(config(base_order_amount="5", min_notional="10"), watching(), quote(50000))
    assert decision.commands == ()
    assert "below the exchange minimum" in decision.lines[0]


def test_an_amount_near_the_minimum_is_sized_the_margin_above_it():
    """$10 at an ask of 50 010 rounds down to 0.00019996 BTC = $9.9999996, which Alpaca refuses, and
    even $10.00 is refused if the price moves before the venue values the order: the core sizes the
    buy 2 % (the default margin) above the floor instead."""
    decision = decide(config(base_order_amount="10", min_notional="10"), watching(), quote(50000, 50010))
    submit = decision.commands[0]
    assert isinstance(submit, SubmitOrder)
    assert submit.qty == D("0.000203960") and submit.qty * submit.limit_price >= D("10.2")
    assert (submit.qty - D("0.000000001")) * submit.limit_price < D("10.2")


def test_an_amount_well_above_the_minimum_is_left_as_it_is():
    submit = decide(config(base_order_amount="50", min_notional="10"), watching(), quote(50000, 50010)).commands[0]
    assert submit.qty == D("0.000999800")


def test_a_rejected_order_is_not_retried_within_order_cooldown_seconds():  # §8.7, §8.8
    cfg = config(base_order_amount="100")
    state = with_order(watching())
    state, _ = run(cfg, state, closed(state, CloseReason.REJECTED, t=10))
    assert state.cycle.status is CycleStatus.WATCHING and state.cycle.retry_at == at(15)
    assert decide(cfg, state, quote(50000, t=12)).commands == ()
    retried = decide(cfg, state, quote(50000, t=15))
    assert isinstance(retried.commands[0], SubmitOrder)
    assert retried.state.cycle.retry_at is None


def test_each_order_of_a_cycle_gets_the_next_sequence_number():
    cfg = config(base_order_amount="100", safety_order_amount="100", safety_order_deviation="1")
    state = replace(in_position("0.002", "50000"), cycle=in_position("0.002", "50000").cycle.evolve(order_seq=4))
    decision = decide(cfg, state, quote(49000, 49400))
    assert decision.commands[0].client_order_id == "dca-test1-1-7-5"
