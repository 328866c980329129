"""Safety orders (reference §8 scenarios 9-13), plus step and volume scaling."""

import pytest

from dca.commands import SubmitOrder
from dca.cycle import CycleStatus, OrderKind
from dca.strategy import decide
from tests.core.helpers import D, config, in_position, quote, watching, with_order


def _submits(decision):
    return [c for c in decision.commands if isinstance(c, SubmitOrder)]


def test_safety_order_fires_when_the_ask_equals_the_trigger():  # §8.9
    cfg = config(safety_order_deviation="2", safety_order_amount="98")
    decision = decide(cfg, in_position("0.002", "50000"), quote(48990, 49000))
    (submit,) = _submits(decision)
    assert submit.kind is OrderKind.SAFETY and submit.qty == D("0.002") and submit.limit_price == D("49000")
    assert decision.state.cycle.status is CycleStatus.BUYING


def test_no_safety_order_while_the_ask_is_above_the_trigger():  # §8.10
    cfg = config(safety_order_deviation="2")
    assert _submits(decide(cfg, in_position("0.002", "50000"), quote(49000, "49000.01"))) == []


def test_safety_order_at_fifty_percent_deviation():  # §8.11
    cfg = config(safety_order_deviation="50", take_profit_percent="200")
    assert len(_submits(decide(cfg, in_position("0.002", "50000"), quote("24999", "24999.99")))) == 1


@pytest.mark.parametrize("case", ["max reached", "no last fill", "busy", "flat"])
def test_no_safety_order_when_not_allowed(case):  # §8.12
    cfg = config(safety_order_deviation="2", max_safety_orders=3)
    state = in_position("0.002", "50000", safety_orders=3 if case == "max reached" else 0)
    if case == "no last fill":
        state = state.evolve(cycle=state.cycle.evolve(last_fill_price=None))
    if case == "busy":
        state = with_order(state)
    if case == "flat":
        state = watching()
        decision = decide(cfg, state, quote(40000))
        assert [s.kind for s in _submits(decision)] == [OrderKind.BASE]
        return
    assert _submits(decide(cfg, state, quote(40000))) == []


@pytest.mark.parametrize(("last_fill", "deviation", "trigger"), [
    ("50000", "1", "49500"), ("50000", "2", "49000"), ("50000", "5", "47500"), ("10000", "3", "9700"),
])
def test_safety_trigger_table(last_fill, deviation, trigger):  # §8.13
    cfg = config(safety_order_deviation=deviation, take_profit_percent="50")
    state = in_position("0.002", last_fill)
    assert _submits(decide(cfg, state, quote(D(trigger) - 1, D(trigger))))
    assert not _submits(decide(cfg, state, quote(D(trigger) - 1, D(trigger) + D("0.01"))))


def test_safety_trigger_is_measured_from_the_last_fill_not_the_average():
    cfg = config(safety_order_deviation="2", take_profit_percent="50")
    state = in_position("0.004", "50000", last_fill="48000", safety_orders=1)
    assert not _submits(decide(cfg, state, quote(48000, 47041)))  # 2% below 48000 is 47040
    assert _submits(decide(cfg, state, quote(47000, 47040)))


def test_step_scale_widens_and_volume_scale_grows_each_safety_order():
    cfg = config(safety_order_deviation="2", safety_order_step_scale="1.5", safety_order_amount="100",
                 safety_order_volume_scale="2", take_profit_percent="50")
    # the third safety order (index 2): deviation 2 × 1.5² = 4.5 %, amount 100 × 2² = 400
    state = in_position("0.01", "40000", last_fill="40000", safety_orders=2)
    assert not _submits(decide(cfg, state, quote(38000, "38200.01")))
    (submit,) = _submits(decide(cfg, state, quote(38000, 38200)))
    assert submit.qty == D("0.010471204")  # 400 / 38200, rounded down to the increment
