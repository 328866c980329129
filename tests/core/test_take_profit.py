"""Take-profit and trailing take-profit (reference §8 scenarios 14-24)."""

import pytest

from dca.commands import SubmitOrder
from dca.cycle import CycleStatus, OrderKind, OrderType, Side
from dca.strategy import decide
from tests.core.helpers import D, config, in_position, quote, with_order


def _submits(decision):
    return [c for c in decision.commands if isinstance(c, SubmitOrder)]


def test_take_profit_sells_what_the_cycle_holds_at_market_gtc():  # §8.14 (the cycle's qty, not the account's)
    cfg = config(take_profit_percent="1")
    decision = decide(cfg, in_position("0.0123", "50000"), quote(52000, 52010))
    (sell,) = _submits(decision)
    assert (sell.side, sell.order_type, sell.qty, sell.limit_price, sell.time_in_force, sell.kind) == (
        Side.SELL, OrderType.MARKET, D("0.0123"), None, "gtc", OrderKind.TAKE_PROFIT)
    assert decision.state.cycle.status is CycleStatus.SELLING


def test_no_sell_below_the_take_profit_trigger():  # §8.15
    cfg = config(take_profit_percent="1")
    assert _submits(decide(cfg, in_position("0.01", "50000"), quote("50499.99", 50600))) == []
    assert _submits(decide(cfg, in_position("0.01", "50000"), quote(50500, 50600)))  # equality sells


def test_safety_order_wins_over_take_profit_on_the_same_quote():  # §8.16
    cfg = config(take_profit_percent="1", safety_order_deviation="1")
    state = in_position("0.01", "40000", last_fill="50000")  # avg far below the last fill
    (submit,) = _submits(decide(cfg, state, quote(49000, 49500)))
    assert submit.kind is OrderKind.SAFETY


def test_no_take_profit_while_flat_or_busy():  # §8.17
    cfg = config(take_profit_percent="1", base_order_amount="100")
    busy = with_order(in_position("0.01", "50000"))
    assert decide(cfg, busy, quote(60000)).commands == ()


def test_trailing_arms_at_the_trigger_without_selling():  # §8.18
    cfg = config(take_profit_percent="1", ttp_enabled=True, ttp_deviation_percent="1")
    decision = decide(cfg, in_position("0.01", "50000"), quote(50600, 50610))
    assert decision.commands == ()
    assert decision.state.cycle.status is CycleStatus.TRAILING and decision.state.cycle.peak_price == D(50600)


def test_trailing_follows_a_new_peak_without_selling():  # §8.19
    cfg = config(take_profit_percent="1", ttp_enabled=True, ttp_deviation_percent="1")
    state = in_position("0.01", "180", status=CycleStatus.TRAILING, peak_price=D(200))
    decision = decide(cfg, state, quote(201, 202))
    assert decision.commands == () and decision.state.cycle.peak_price == D(201)
    assert decision.durable is False  # a moving peak is soft state


def test_trailing_sells_the_whole_position_on_a_pull_back():  # §8.20
    cfg = config(take_profit_percent="2", ttp_enabled=True, ttp_deviation_percent="1")
    state = in_position("0.5", "180", status=CycleStatus.TRAILING, peak_price=D(200))
    assert decide(cfg, state, quote(198, 199)).commands == ()  # 198 is exactly the stop: not below it
    (sell,) = _submits(decide(cfg, state, quote(195, 196)))
    assert sell.side is Side.SELL and sell.qty == D("0.5")


def test_trailing_is_never_armed_below_the_trigger_nor_when_disabled():  # §8.21
    armed = config(take_profit_percent="1", ttp_enabled=True, ttp_deviation_percent="1")
    assert decide(armed, in_position("0.01", "50000"), quote(50400)).state.cycle.status is CycleStatus.WATCHING
    plain = config(take_profit_percent="1")
    decision = decide(plain, in_position("0.01", "50000"), quote(50600))
    assert decision.state.cycle.status is CycleStatus.SELLING


@pytest.mark.parametrize("case", ["zero bid", "position below minimum"])
def test_no_sell_on_a_zero_bid_or_an_unsellable_position(case):  # §8.22
    cfg = config(take_profit_percent="1", min_notional="10", min_order_size="0.001")
    if case == "zero bid":
        assert decide(cfg, in_position("0.01", "50000"), quote(0, 50600)).commands == ()
    else:
        decision = decide(cfg, in_position("0.0001", "50000"), quote(60000))  # under min_order_size
        assert decision.commands == () and "cannot be sold" in decision.lines[0]


def test_a_position_worth_less_than_the_cost_floor_is_still_sold():
    """Alpaca's $10 minimum applies to buys; a sell needs only min_order_size (a paper-account probe)."""
    decision = decide(config(take_profit_percent="1", min_notional="10"), in_position("0.0001", "50000"),
                      quote(60000))  # $6 of coin
    assert isinstance(decision.commands[0], SubmitOrder) and decision.commands[0].qty == D("0.0001")


def test_trailing_never_sells_below_the_take_profit_trigger():  # §8.24 (the original sold at a loss)
    cfg = config(take_profit_percent="2", ttp_enabled=True, ttp_deviation_percent="5", max_safety_orders=0)
    state = in_position("1", "100", status=CycleStatus.TRAILING, peak_price=D(110))
    decision = decide(cfg, state, quote(101, 101))  # below the stop (104.5) and below the floor (102)
    assert decision.commands == () and "floor" in decision.lines[0]
    (sell,) = _submits(decide(cfg, state, quote(103, 103)))  # back above the floor, still below the stop
    assert sell.qty == D(1)


def test_a_trailing_cycle_falling_through_the_safety_trigger_buys_instead_of_freezing():  # §8.24
    cfg = config(take_profit_percent="2", ttp_enabled=True, ttp_deviation_percent="1",
                 safety_order_deviation="3", safety_order_amount="100")
    state = in_position("1", "100", last_fill="100", status=CycleStatus.TRAILING, peak_price=D(104))
    decision = decide(cfg, state, quote(96, 97))
    (submit,) = _submits(decision)
    assert submit.kind is OrderKind.SAFETY
    assert decision.state.cycle.status is CycleStatus.BUYING and decision.state.cycle.peak_price is None
