"""One side at a time: after the venue refuses a resting order as a wash trade (the stricter reading
of Alpaca's rule: any order while an opposite one is open), the ladder and the limit take-profit never
rest together; through `decide` alone (dca/resting.py, "One side at a time")."""

from __future__ import annotations

from decimal import Decimal

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import AssetState, LiveOrder, OrderKind, OrderType, Side
from dca.events import CloseReason, OrderClosed, OrderFilled, RejectionKind
from dca.params import AssetConfig
from dca.resting import take_profit_out_of_date, upkeep_due
from dca.strategy import decide
from dca.triggers import ALWAYS, triggers
from tests.core.helpers import D, at, config, in_position, quote, run, with_order

# levels 99, 97.51, 95.31 below a fill at 100; take-profit trigger 101 at an average cost of 100
BOTH = {"active_safety_orders": 3, "max_safety_orders": 5, "safety_order_deviation": "1",
        "safety_order_step_scale": "1.5", "safety_order_amount": "20", "safety_order_volume_scale": "2",
        "take_profit_percent": "1", "take_profit_order_type": OrderType.LIMIT}


def _both(**params) -> AssetConfig:
    return config(**{**BOTH, **params})


def _submits(decision) -> list[SubmitOrder]:
    return [c for c in decision.commands if isinstance(c, SubmitOrder)]


def _cancels(decision) -> list[CancelOrder]:
    return [c for c in decision.commands if isinstance(c, CancelOrder)]


def _sides(state: AssetState) -> set[Side]:
    return {o.side for o in state.cycle.resting}


def _of(state: AssetState, side: Side) -> list[LiveOrder]:
    return [o for o in state.cycle.resting if o.side is side]


def _refused(order: LiveOrder | SubmitOrder, t: float = 1, rejection=RejectionKind.WASH_TRADE) -> OrderClosed:
    return OrderClosed(order.client_order_id, CloseReason.REJECTED, at(t),
                       message="potential wash trade detected. use complex orders", rejection=rejection)


def _cancelled_all(cfg: AssetConfig, state: AssetState, orders: list[LiveOrder], t: float) -> AssetState:
    state, _ = run(cfg, state, *(OrderClosed(o.client_order_id, CloseReason.CANCELED, at(t)) for o in orders))
    return state


def _learned(cfg: AssetConfig | None = None) -> AssetState:
    """The take-profit placed first, then the ladder's first level: refused as a wash trade."""
    cfg = cfg or _both()
    state, _ = run(cfg, in_position("0.2", "100"), quote(100, "100.05"))
    probe = decide(cfg, state, quote(100, "100.05", t=0.5))
    (buy,) = _submits(probe)
    return decide(cfg, probe.state, _refused(buy)).state


def _ladder_learned(cfg: AssetConfig) -> AssetState:
    """The asset knows the rule and the ladder rests alone (as below the trigger)."""
    state, _ = run(_both(take_profit_order_type=OrderType.MARKET), in_position("0.2", "100"), quote(100, "100.05"))
    assert len(_of(state, Side.BUY)) == 3
    return state.evolve(one_side_at_a_time=True)


def test_a_ladder_order_refused_next_to_the_take_profit_teaches_one_side_at_a_time_with_no_failure_to_wait_out():
    cfg = _both()
    placed = decide(cfg, in_position("0.2", "100"), quote(100, "100.05"))
    assert [s.side for s in _submits(placed)] == [Side.SELL]  # the take-profit first
    probe = decide(cfg, placed.state, quote(100, "100.05", t=0.5))
    (buy,) = _submits(probe)  # then one ladder order, alone: one refusal at most
    refused = decide(cfg, probe.state, _refused(buy))
    state = refused.state
    assert state.one_side_at_a_time and state.cycle.retry_at is None
    assert _sides(state) == {Side.SELL}
    assert any("one side rests at a time" in note for note in refused.lines)
    # the take-profit rests alone until the ask reaches the first ladder level
    assert decide(cfg, state, quote("99.5", "99.55", t=2)).commands == ()
    assert not upkeep_due(cfg, state)
    bounds = triggers(cfg, state)
    assert bounds.ask_at_or_below == D(99) and bounds.bid_at_or_above is None


def test_a_take_profit_refused_next_to_the_ladder_teaches_it_too():
    cfg = _both()
    ladder = _ladder_learned(cfg).evolve(one_side_at_a_time=False)
    placed = decide(cfg, ladder, quote(100, "100.05", t=1))
    (sell,) = _submits(placed)
    state = decide(cfg, placed.state, _refused(sell, t=2)).state
    assert state.one_side_at_a_time and state.cycle.retry_at is None and _sides(state) == {Side.BUY}
    assert decide(cfg, state, quote("100.5", "100.55", t=3)).commands == ()  # below the trigger: the ladder
    assert triggers(cfg, state).bid_at_or_above == D(101)


def test_at_the_trigger_the_ladder_is_cancelled_first_then_the_take_profit_placed_at_the_trigger_rounded_up():
    cfg = _both(take_profit_percent="1.005")  # trigger 101.005: the limit is 101.01
    state = _ladder_learned(cfg)
    ladder = _of(state, Side.BUY)
    asked = decide(cfg, state, quote("101.005", "101.05", t=2))
    assert _submits(asked) == [] and {c.client_order_id for c in _cancels(asked)} == {o.client_order_id for o in ladder}
    assert decide(cfg, asked.state, quote(102, "102.05", t=3)).commands == ()  # nothing while the cancels run
    state = _cancelled_all(cfg, asked.state, ladder, t=4)
    placed = decide(cfg, state, quote("101.02", "101.05", t=5))
    (sell,) = _submits(placed)
    assert (sell.side, sell.order_type, sell.limit_price, sell.qty) == (
        Side.SELL, OrderType.LIMIT, D("101.01"), D("0.2"))
    assert _sides(placed.state) == {Side.SELL}


def test_the_take_profit_stays_when_the_bid_falls_back_and_gives_way_to_the_safety_order_at_the_first_level():
    cfg = _both()
    state = _learned(cfg)
    (tp,) = _of(state, Side.SELL)
    assert decide(cfg, state, quote("99.5", "99.55", t=5)).commands == ()  # between the two: it stays
    asked = decide(cfg, state, quote("98.95", 99, t=6))  # the ask at the first ladder level
    assert [c.client_order_id for c in _cancels(asked)] == [tp.client_order_id] and _submits(asked) == []
    state = _cancelled_all(cfg, asked.state, [tp], t=7)
    bought = decide(cfg, state, quote("98.95", 99, t=8))
    (buy,) = _submits(bought)
    assert (buy.side, buy.kind) == (Side.BUY, OrderKind.SAFETY) and buy.limit_price <= D(99)
    assert bought.state.cycle.resting == ()


def test_after_the_safety_fill_the_ladder_rests_again_and_no_take_profit_with_it():
    cfg = _both()
    state = _learned(cfg)
    state = _cancelled_all(cfg, decide(cfg, state, quote(99, 99, t=5)).state, _of(state, Side.SELL), t=6)
    state = decide(cfg, state, quote(99, 99, t=7)).state
    assert state.cycle.order is not None
    order = state.cycle.order
    state, _ = run(cfg, state, OrderFilled(order.client_order_id, order.qty, D(99), at(8), True, fee=D(0)))
    again = decide(cfg, state, quote(99, "99.05", t=9))
    assert [s.side for s in _submits(again)] == [Side.BUY] * 3
    assert _sides(again.state) == {Side.BUY}


def test_a_bid_at_the_trigger_with_nothing_resting_places_the_take_profit_and_no_ladder():
    cfg = _both()
    state = _ladder_learned(cfg)
    state = _cancelled_all(cfg, state, _of(state, Side.BUY), t=2)  # say the ladder was cancelled by hand
    placed = decide(cfg, state, quote(101, "101.05", t=3))
    assert [s.side for s in _submits(placed)] == [Side.SELL]
    below = decide(cfg, state, quote(100, "100.05", t=3))
    assert [s.side for s in _submits(below)] == [Side.BUY] * 3


def test_a_wash_trade_refusal_with_no_own_order_opposite_is_a_failure_waited_out_as_any_other():
    cfg = _both()
    state = _ladder_learned(cfg)
    buy = _of(state, Side.BUY)[0]  # only the ladder rests: someone else's sell stands opposite
    again = decide(cfg, state, _refused(buy, t=2)).state
    assert again.one_side_at_a_time and again.cycle.retry_at == at(2) + cfg.timing.retry_after_failure
    first = decide(cfg, state.evolve(one_side_at_a_time=False), _refused(buy, t=2)).state
    assert not first.one_side_at_a_time and first.cycle.retry_at is not None


def test_after_a_restart_next_to_the_take_profit_resting_alone_one_level_goes_first_and_teaches_again():
    cfg = _both()
    state = _learned(cfg)  # the take-profit rests alone
    lesson_forgotten = state.evolve(one_side_at_a_time=False)  # as after a restart
    probe = decide(cfg, lesson_forgotten, quote(100, "100.05", t=5))
    (buy,) = _submits(probe)  # one level, not the whole ladder: at most one refusal
    assert (buy.side, buy.limit_price) == (Side.BUY, D(99))
    after = decide(cfg, probe.state, _refused(buy, t=6)).state
    assert after.one_side_at_a_time and after.cycle.retry_at is None and _sides(after) == {Side.SELL}
    assert decide(cfg, after, quote(100, "100.05", t=7)).commands == ()


def test_under_the_documented_rule_the_rest_of_the_ladder_follows_the_first_level_at_the_next_quote():
    cfg = _both()
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state  # the take-profit rests alone
    first = decide(cfg, state, quote(100, "100.05", t=2))
    assert [s.limit_price for s in _submits(first)] == [D(99)]
    rest = decide(cfg, first.state, quote(100, "100.05", t=3))
    assert [s.limit_price for s in _submits(rest)] == [D("97.51"), D("95.31")]


def test_another_refusal_of_a_resting_order_teaches_nothing_and_is_waited_out():
    cfg = _both()
    placed = decide(cfg, in_position("0.2", "100"), quote(100, "100.05"))
    buy = _submits(placed)[0]
    state = decide(cfg, placed.state, _refused(buy, rejection=RejectionKind.INSUFFICIENT_BALANCE)).state
    assert not state.one_side_at_a_time and state.cycle.retry_at is not None


def test_a_market_sale_refused_as_a_wash_trade_teaches_nothing():
    cfg = _both(take_profit_order_type=OrderType.MARKET)
    state = with_order(in_position("0.2", "100"), Side.SELL, OrderKind.TAKE_PROFIT, qty="0.2")
    assert state.cycle.order is not None
    refused = decide(cfg, state, _refused(state.cycle.order)).state
    assert not refused.one_side_at_a_time and refused.cycle.retry_at is not None


def test_without_a_ladder_or_a_limit_take_profit_the_lesson_changes_nothing():
    for cfg in (_both(active_safety_orders=0), _both(take_profit_order_type=OrderType.MARKET)):
        plain = decide(cfg, in_position("0.2", "100"), quote(100, "100.05"))
        learned = decide(cfg, in_position("0.2", "100").evolve(one_side_at_a_time=True), quote(100, "100.05"))
        assert _submits(learned) == _submits(plain)


def test_the_triggers_of_a_learned_asset_cover_every_quote_it_acts_on():
    cfg = _both()
    state = _ladder_learned(cfg)
    bounds = triggers(cfg, state)
    assert bounds is not ALWAYS
    for bid in (Decimal("99.5"), Decimal("100.99"), Decimal(101), Decimal(105)):
        q = quote(bid, bid + Decimal("0.05"), t=2)
        acted = decide(cfg, state, q)
        assert not acted.commands or bounds.may_act_on(q)
    assert bounds.may_act_on(quote(101, "101.05", t=2)) and not bounds.may_act_on(quote("100.99", 101, t=2))


# --- the take-profit's size (dca/resting.py, `take_profit_out_of_date`) ----------------------------


def test_a_buy_at_exactly_the_average_cost_replaces_the_take_profit_for_what_the_cycle_now_holds():
    cfg = _both()
    state, _ = run(cfg, in_position("0.2", "100", last_fill="101.02"), *(quote(101, "101.05", t=t) for t in (0, 1)))
    (tp,) = _of(state, Side.SELL)
    top = max(_of(state, Side.BUY), key=lambda o: o.limit_price or 0)
    assert top.limit_price == D(100) and tp.limit_price == D(101)  # 101.02 × 0.99 ↓ = the average cost
    state, _ = run(cfg, state, OrderFilled(top.client_order_id, top.qty, D(100), at(2), True, fee=D(0)))
    assert state.cycle.average_price == D(100) and state.cycle.quantity == D("0.2") + top.qty
    assert take_profit_out_of_date(cfg, state, tp)
    replacing = decide(cfg, state, quote(100, "100.05", t=3))
    assert [c.client_order_id for c in _cancels(replacing)] == [tp.client_order_id]


def test_a_take_profit_sized_down_by_the_venue_is_not_replaced_for_it_nor_for_its_own_fills():
    cfg = config(take_profit_order_type=OrderType.LIMIT, take_profit_percent="1")
    capped = in_position("0.2", "100").evolve(sellable=D("0.15"), sellable_at=at(0))
    state = decide(cfg, capped, quote(100, "100.05", t=1)).state
    (tp,) = _of(state, Side.SELL)
    assert tp.qty == D("0.15") and not take_profit_out_of_date(cfg, state, tp)
    assert decide(cfg, state, quote(100, "100.05", t=600)).commands == ()  # long after the reading
    state, _ = run(cfg, state, OrderFilled(tp.client_order_id, D("0.05"), D(101), at(601), False, fee=D(0)))
    (tp,) = _of(state, Side.SELL)
    assert not take_profit_out_of_date(cfg, state, tp) and decide(cfg, state, quote(100, 100, t=602)).commands == ()


def test_an_uncapped_take_profit_is_not_replaced_for_its_own_partial_fills():
    cfg = config(take_profit_order_type=OrderType.LIMIT, take_profit_percent="1")
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    (tp,) = _of(state, Side.SELL)
    state, _ = run(cfg, state, OrderFilled(tp.client_order_id, D("0.05"), D(101), at(2), False, fee=D(0)))
    assert not take_profit_out_of_date(cfg, state, _of(state, Side.SELL)[0])


def test_a_remainder_below_the_minimum_keeps_its_take_profit():
    cfg = config(take_profit_order_type=OrderType.LIMIT, take_profit_percent="1", min_order_size="0.1",
                 increments="0.001")
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    (tp,) = _of(state, Side.SELL)
    state, _ = run(cfg, state, OrderFilled(tp.client_order_id, D("0.15"), D(101), at(2), False, fee=D(0)))
    assert not take_profit_out_of_date(cfg, state, _of(state, Side.SELL)[0])


def test_the_lesson_outlives_the_cycle_its_take_profit_completed():
    """The venue's rule is the venue's, not the cycle's: the next cycle starts knowing it (one
    refusal per asset and process, not one per cycle)."""
    cfg = _both(take_profit_percent="1.005", cooldown_period=0)
    state = _ladder_learned(cfg)
    asked = decide(cfg, state, quote("101.005", "101.05", t=2))
    state = _cancelled_all(cfg, asked.state, _of(state, Side.BUY), t=4)
    (sell,) = _submits(decide(cfg, state, quote("101.02", "101.05", t=5)))
    state = decide(cfg, state, quote("101.02", "101.05", t=5)).state
    done = decide(cfg, state, OrderFilled(sell.client_order_id, sell.qty, D("101.01"), at(6), True, fee=D(0)))
    assert done.completed is not None and done.state.cycle.id != done.completed.id
    assert done.state.one_side_at_a_time
