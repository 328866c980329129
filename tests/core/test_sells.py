"""Sell fills and sell cancellations (reference §8 scenarios 34-38), and dust."""

from dca.commands import ScheduleTimer, SubmitOrder
from dca.cycle import CycleStatus, Side
from dca.events import CloseReason, OrderFilled
from dca.strategy import decide
from tests.core.helpers import D, at, closed, config, filled, in_position, quote, run, with_order


def _selling(qty="0.5", avg="100"):
    return with_order(in_position(qty, avg), side=Side.SELL, qty=qty, limit=None)


def test_sell_fill_completes_the_cycle_and_starts_a_cooldown():  # §8.34
    cfg = config(fees=("15", "25"), cooldown_period=120)
    state = _selling()
    decision = decide(cfg, state, filled(state, "0.5", "110", t=30))
    ended = decision.completed
    assert ended is not None and ended.status is CycleStatus.COMPLETE
    assert ended.completed_at == at(30) and ended.sell_price == D(110) and ended.order is None
    assert ended.sell_fees == D("0.14") and ended.realized_pnl == D("4.86")  # 55 - 0.1375 rounded up - 50
    assert ended.quantity == D("0.5") and ended.average_price == D(100)
    fresh = decision.state.cycle
    assert fresh.id is None and fresh.status is CycleStatus.COOLDOWN and fresh.quantity == 0
    assert fresh.cooldown_until == at(150) and decision.state.last_sell_price == D(110)
    assert decision.commands == (ScheduleTimer(at(150), "cooldown over"),)


def test_zero_cooldown_goes_straight_back_to_watching():
    state = _selling()
    decision = decide(config(cooldown_period=0), state, filled(state, "0.5", "110"))
    assert decision.state.cycle.status is CycleStatus.WATCHING and decision.commands == ()


def test_sell_reports_without_a_cycle_order_or_price_change_nothing():  # §8.35
    state = in_position("0.5", "100")
    assert decide(config(), state, OrderFilled("dca-test1-1-7-9", D(1), D(1), at(1), True)).state is state


def test_sell_cancelled_with_a_sellable_remainder_goes_back_to_watching():  # §8.36
    state = _selling(qty="1")
    state, _ = run(config(), state, closed(state, qty="0.5", price="110"))
    cycle = state.cycle
    assert cycle.status is CycleStatus.WATCHING and cycle.quantity == D("0.5") and cycle.order is None
    assert cycle.realized_pnl == D(5) and cycle.cost == D(50)  # half sold at +10


def test_sell_cancelled_with_a_remainder_under_the_cost_floor_sells_it_next():
    """The $10 floor is for buys only: $5.50 of coin left after a partial sell is sold next time."""
    cfg = config(min_notional="10")
    state = _selling(qty="1")
    state, _ = run(cfg, state, closed(state, qty="0.95", price="110"))
    assert state.cycle.status is CycleStatus.WATCHING and state.cycle.quantity == D("0.05")


def test_sell_cancelled_with_nothing_sellable_left_completes():  # §8.37
    cfg = config(min_order_size="0.1")
    state = _selling(qty="1")
    state, decisions = run(cfg, state, closed(state, qty="0.95", price="110"))  # 0.05 left: under min_order_size
    ended = decisions[-1].completed
    assert ended is not None and ended.status is CycleStatus.COMPLETE and ended.sell_price == D(110)
    assert state.dust == D("0.05")  # the remainder is still the bot's coin and joins the next sell


def test_sell_cancelled_without_fills_goes_back_to_watching():  # §8.38
    state = _selling()
    state, _ = run(config(), state, closed(state, reason=CloseReason.EXPIRED))
    assert state.cycle.status is CycleStatus.WATCHING and state.cycle.quantity == D("0.5")


def test_rounded_down_sell_leaves_dust_that_joins_the_next_sell():
    cfg = config(take_profit_percent="1", increments="0.001", cooldown_period=0)
    state = in_position("1.0004", "100")
    sell = decide(cfg, state, quote(102))
    assert sell.commands[0].qty == D("1.000")
    state, _ = run(cfg, sell.state, filled(sell.state, "1.000", "102"))
    assert state.dust == D("0.0004")
    state = state.evolve(cycle=in_position("0.9998", "100").cycle.evolve(id=200))
    next_sell = decide(cfg, state, quote(102))
    assert next_sell.commands[0].qty == D("1.000")  # 0.9998 + 0.0004, rounded down
    state, _ = run(cfg, next_sell.state, filled(next_sell.state, "1.000", "102"))
    assert state.dust == D("0.0002")


def test_completed_cycle_keeps_the_peak_it_trailed_to():
    cfg = config(take_profit_percent="1", ttp_enabled=True, ttp_deviation_percent="1")
    state = in_position("1", "100", status=CycleStatus.TRAILING, peak_price=D(120))
    sell = decide(cfg, state, quote(118))
    assert isinstance(sell.commands[0], SubmitOrder)
    done = decide(cfg, sell.state, filled(sell.state, "1", "118"))
    assert done.completed.peak_price == D(120)
