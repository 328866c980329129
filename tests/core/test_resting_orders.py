"""Orders placed ahead: the safety-order ladder (`active_safety_orders`) and the limit take-profit
(`take_profit_order_type=limit`), through `decide` alone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import AssetState, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.events import (
    CancelRequested,
    CloseReason,
    CloseRequested,
    HoldingsChecked,
    OrderAccepted,
    OrderClosed,
    OrderFilled,
    OrderNotFound,
    PositionBeforeOrder,
    SellableChecked,
    Tick,
)
from dca.fees import execution_fee
from dca.strategy import decide
from dca.triggers import ALWAYS, triggers
from tests.core.helpers import D, at, config, in_position, quote, run, with_order

LADDER = {"active_safety_orders": 3, "max_safety_orders": 5, "safety_order_deviation": "1",
          "safety_order_step_scale": "1.5", "safety_order_amount": "20", "safety_order_volume_scale": "2",
          "take_profit_percent": "1"}


def _ladder(**params):
    return config(**{**LADDER, **params})


def _limit_tp(**params):
    return config(take_profit_order_type=OrderType.LIMIT, take_profit_percent="1", **params)


def _submits(decision) -> list[SubmitOrder]:
    return [c for c in decision.commands if isinstance(c, SubmitOrder)]


def _cancels(decision) -> list[CancelOrder]:
    return [c for c in decision.commands if isinstance(c, CancelOrder)]


def _buys(state: AssetState) -> list[LiveOrder]:
    return sorted((o for o in state.cycle.resting if o.side is Side.BUY), key=lambda o: -(o.limit_price or 0))


def _sell(state: AssetState) -> LiveOrder:
    (sell,) = [o for o in state.cycle.resting if o.side is Side.SELL]
    return sell


def _filled(order: LiveOrder, qty: str | Decimal | None = None, price: str | Decimal | None = None, t: float = 5,
            final: bool = True, fee: str = "0") -> OrderFilled:
    return OrderFilled(order.client_order_id, D(qty) if qty is not None else order.qty,
                       D(price) if price is not None else order.limit_price, at(t), final, fee=D(fee))


def _cancelled(order: LiveOrder, t: float = 5) -> OrderClosed:
    return OrderClosed(order.client_order_id, CloseReason.CANCELED, at(t), order.filled_qty,
                       order.average_price)


def _placed_ladder(cfg=None, **fields) -> AssetState:
    """In position with the ladder (and a limit take-profit, if configured) resting: the take-profit
    goes first, the ladder at the next quotes (next to the take-profit its first level goes alone)."""
    cfg = cfg or _ladder()
    state, _ = run(cfg, in_position("0.2", "100", **fields), quote(100, "100.05"), quote(100, "100.05", t=0.5),
                   quote(100, "100.05", t=0.7))
    return state


# --- the ladder ----------------------------------------------------------------------------------


def test_after_the_base_fill_the_next_safety_levels_rest_as_limit_buys_chained_level_to_level():
    decision = decide(_ladder(), in_position("0.2", "100"), quote(100, "100.05"))
    buys = _submits(decision)
    # deviations 1, 1.5, 2.25 %; each level from the previous level's limit; amounts 20, 40, 80
    assert [(b.kind, b.side, b.order_type, b.time_in_force) for b in buys] == [
        (OrderKind.SAFETY, Side.BUY, OrderType.LIMIT, "gtc")] * 3
    assert [b.limit_price for b in buys] == [D(99), D("97.51"), D("95.31")]  # 99 × 0.985 = 97.515 ↓; 97.51 × 0.9775
    assert [b.qty for b in buys] == [round_qty("20", "99"), round_qty("40", "97.51"), round_qty("80", "95.31")]
    cycle = decision.state.cycle
    assert cycle.order is None and cycle.status is CycleStatus.WATCHING and len(cycle.resting) == 3
    assert cycle.order_seq == 1 + 3 and len({b.client_order_id for b in buys}) == 3


def round_qty(amount: str, limit: str) -> Decimal:
    return (D(amount) / D(limit)).quantize(D("0.000000001"), rounding="ROUND_DOWN")


def test_ladder_limits_are_rounded_down_to_the_price_grid_so_a_buy_never_pays_above_its_level():
    state = in_position("0.2", "100", last_fill="100.37")
    limits = [b.limit_price for b in _submits(decide(_ladder(), state, quote("100.4", "100.45")))]
    assert limits[0] == D("99.36")  # 100.37 × 0.99 = 99.3663
    assert all(limit == limit.quantize(D("0.01")) for limit in limits)


def test_the_ladder_stops_at_the_last_safety_order_and_counts_those_already_filled():
    state = in_position("0.2", "100", safety_orders=3)
    buys = _submits(decide(_ladder(), state, quote(100, "100.05")))
    assert len(buys) == 2  # orders 4 and 5 of max 5
    assert buys[0].qty == round_qty(str(20 * 2**3), str(buys[0].limit_price))


def test_a_level_below_the_exchange_minimum_is_not_placed_and_neither_is_any_deeper_one():
    cfg = _ladder(safety_order_amount="5", safety_order_volume_scale="1", min_notional="10")
    assert _submits(decide(cfg, in_position("0.2", "100"), quote(100, "100.05"))) == []


def test_a_filled_ladder_order_counts_as_the_next_safety_order_and_the_ladder_is_topped_up_below_the_deepest():
    cfg = _ladder()
    state = _placed_ladder(cfg)
    top = _buys(state)[0]
    state, _ = run(cfg, state, _filled(top))
    assert state.cycle.safety_orders == 1 and state.cycle.last_fill_price == D(99)
    assert state.cycle.quantity == D("0.2") + top.qty
    topped = decide(cfg, state, quote(99, "99.05", t=6))
    (new,) = _submits(topped)
    assert new.limit_price == D("92.09")  # 95.31 × (1 − 3.375 %) = 92.093..., below the deepest resting level
    assert new.qty == round_qty(str(20 * 2**3), "92.09")


def test_a_top_up_lands_where_a_ladder_placed_at_once_would_have_put_it():
    cfg4 = _ladder(active_safety_orders=4)
    at_once = [b.limit_price for b in _submits(decide(cfg4, in_position("0.2", "100"), quote(100, "100.05")))]
    cfg = _ladder()
    state = _placed_ladder(cfg)
    state, _ = run(cfg, state, _filled(_buys(state)[0]))
    (new,) = _submits(decide(cfg, state, quote(99, "99.05", t=6)))
    assert new.limit_price == at_once[3]


def test_no_reactive_safety_order_while_a_ladder_order_covers_the_level():
    cfg = _ladder()
    state = _placed_ladder(cfg)
    decision = decide(cfg, state, quote("98.5", "98.6", t=2))  # below the first level's trigger
    assert decision.commands == () and decision.state == state


def test_resting_orders_are_never_cancelled_as_stale():
    cfg = _ladder()
    state = _placed_ladder(cfg)
    later = at(0) + timedelta(days=3)
    assert decide(cfg, state, Tick(later)).commands == ()
    assert _cancels(decide(cfg, state, quote(100, "100.05", t=3 * 86400))) == []


def test_a_safety_fill_while_trailing_disarms_trailing():
    cfg = _ladder(ttp_enabled=True, ttp_deviation_percent="1")
    state = _placed_ladder(cfg)
    state = state.evolve(cycle=state.cycle.evolve(status=CycleStatus.TRAILING, peak_price=D(102)))
    state, _ = run(cfg, state, _filled(_buys(state)[0]))
    assert state.cycle.status is CycleStatus.WATCHING and state.cycle.peak_price is None


# --- cancel first, then sell --------------------------------------------------------------------


def test_the_market_take_profit_waits_until_every_resting_order_is_cancelled():
    cfg = _ladder()
    state = _placed_ladder(cfg)
    first = decide(cfg, state, quote(102, "102.05", t=2))  # above the trigger 101
    assert _submits(first) == [] and len(_cancels(first)) == 3
    state = first.state
    assert all(o.cancel_requested_at is not None for o in state.cycle.resting)
    assert decide(cfg, state, quote(102, "102.05", t=3)).commands == ()  # still waiting: nothing is sold
    assert triggers(cfg, state) == ALWAYS
    buys = _buys(state)
    state, _ = run(cfg, state, *(_cancelled(b, t=4) for b in buys))
    assert state.cycle.resting == () and state.cycle.status is CycleStatus.WATCHING
    (sale,) = _submits(decide(cfg, state, quote(102, "102.05", t=5)))  # the next quote decides again
    assert (sale.side, sale.order_type, sale.qty) == (Side.SELL, OrderType.MARKET, D("0.2"))


def test_the_sale_is_decided_again_after_the_cancels_and_does_not_happen_if_the_bid_fell_back():
    cfg = _ladder()
    state = decide(cfg, _placed_ladder(cfg), quote(102, "102.05", t=2)).state
    state, _ = run(cfg, state, *(_cancelled(b, t=4) for b in _buys(state)))
    again = decide(cfg, state, quote("100.5", "100.55", t=5))
    assert all(s.side is Side.BUY for s in _submits(again)) and len(_submits(again)) == 3  # the ladder again


def test_a_fill_arriving_during_the_cancel_is_applied_and_then_sold():
    cfg = _ladder()
    state = decide(cfg, _placed_ladder(cfg), quote(102, "102.05", t=2)).state
    top, *rest = _buys(state)
    state, _ = run(cfg, state, _filled(top, t=3), *(_cancelled(b, t=4) for b in rest))
    assert state.cycle.resting == () and state.cycle.safety_orders == 1
    (sale,) = _submits(decide(cfg, state, quote(102, "102.05", t=5)))
    assert sale.qty == D("0.2") + top.qty


def test_the_stop_loss_cancels_the_ladder_first_and_sells_once_the_cancels_are_confirmed():
    cfg = _ladder(stop_loss_percent="10", stop_loss_timeout=0, max_safety_orders=3, active_safety_orders=1)
    state = _placed_ladder(cfg)
    first = decide(cfg, state, quote(89, "89.05", t=2))
    assert _submits(first) == [] and len(_cancels(first)) == 1
    state, _ = run(cfg, first.state, _cancelled(_buys(first.state)[0], t=3))
    (sale,) = _submits(decide(cfg, state, quote(89, "89.05", t=4)))
    assert (sale.kind, sale.order_type) == (OrderKind.STOP_LOSS, OrderType.MARKET)


def test_close_cancels_every_live_order_first_then_sells_at_market():
    cfg = _ladder(take_profit_order_type=OrderType.LIMIT)
    state = _placed_ladder(cfg)
    assert len(state.cycle.resting) == 4  # three buys and the take-profit
    asked = decide(cfg, state, CloseRequested(at(2)))
    assert len(_cancels(asked)) == 4 and _submits(asked) == []
    state = asked.state
    assert decide(cfg, state, quote(100, "100.05", t=3)).commands == ()
    state, _ = run(cfg, state, *(_cancelled(o, t=4) for o in state.cycle.resting))
    (sale,) = _submits(decide(cfg, state, quote(100, "100.05", t=5)))
    assert (sale.kind, sale.order_type, sale.qty) == (OrderKind.CLOSE, OrderType.MARKET, D("0.2"))


def test_cancel_orders_cancels_the_acting_and_every_resting_order():
    cfg = _ladder()
    state = _placed_ladder(cfg)
    state = state.evolve(cycle=state.cycle.evolve(order=with_order(state, kind=OrderKind.SAFETY).cycle.order))
    decision = decide(cfg, state, CancelRequested(at(2)))
    assert {c.client_order_id for c in _cancels(decision)} == {o.client_order_id for o in state.cycle.live_orders}
    assert all(o.cancel_requested_at == at(2) for o in decision.state.cycle.live_orders)


def test_an_unconfirmed_resting_cancel_is_asked_again_after_a_full_period():
    cfg = _ladder(active_safety_orders=1)
    state = decide(cfg, _placed_ladder(cfg), quote(102, "102.05", t=0)).state
    assert decide(cfg, state, quote(102, "102.05", t=60)).commands == ()
    (again,) = _cancels(decide(cfg, state, quote(102, "102.05", t=301)))
    assert again.client_order_id == _buys(state)[0].client_order_id


# --- the limit take-profit ----------------------------------------------------------------------


def test_the_limit_take_profit_rests_at_the_trigger_rounded_up_for_what_the_cycle_holds():
    cfg = _limit_tp()
    state = in_position("0.2", "100.2")  # trigger 101.202
    decision = decide(cfg, state, quote(100, "100.05"))
    (sell,) = _submits(decision)
    assert (sell.kind, sell.side, sell.order_type, sell.time_in_force) == (
        OrderKind.TAKE_PROFIT, Side.SELL, OrderType.LIMIT, "gtc")
    assert sell.limit_price == D("101.21") and sell.qty == D("0.2")
    assert decision.state.cycle.status is CycleStatus.WATCHING and decision.state.cycle.order is None


def test_with_a_limit_take_profit_a_high_bid_sells_nothing_at_market():
    cfg = _limit_tp()
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    decision = decide(cfg, state, quote(110, "110.05", t=2))
    assert decision.commands == () and triggers(cfg, state).bid_at_or_above is None


def test_a_reactive_safety_order_cancels_the_limit_take_profit_first_then_buys():
    cfg = _limit_tp(safety_order_deviation="2")
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    asked = decide(cfg, state, quote(97, "97.05", t=2))
    assert _submits(asked) == [] and [c.client_order_id for c in _cancels(asked)] == [_sell(state).client_order_id]
    state, _ = run(cfg, asked.state, _cancelled(_sell(asked.state), t=3))
    (buy,) = _submits(decide(cfg, state, quote(97, "97.05", t=4)))
    assert (buy.kind, buy.order_type) == (OrderKind.SAFETY, OrderType.LIMIT)


def test_the_limit_take_profit_is_replaced_after_a_safety_fill_for_the_new_quantity_and_price():
    cfg = _ladder(take_profit_order_type=OrderType.LIMIT)
    state = _placed_ladder(cfg)
    old = _sell(state)
    state, _ = run(cfg, state, _filled(_buys(state)[0]))  # 0.202020202 more at 99
    replacing = decide(cfg, state, quote(99, "99.05", t=6))
    assert [c.client_order_id for c in _cancels(replacing)] == [old.client_order_id] and not _submits(replacing)
    state, _ = run(cfg, replacing.state, _cancelled(old, t=7))
    placing = decide(cfg, state, quote(99, "99.05", t=8))
    (new,) = _submits(placing)
    held = state.cycle.quantity
    trigger = state.cycle.average_price * D("1.01")
    assert new.side is Side.SELL and new.qty == held.quantize(D("0.000000001"), rounding="ROUND_DOWN")
    assert new.limit_price >= trigger and new.limit_price - trigger < D("0.01")
    (top_up,) = _submits(decide(cfg, placing.state, quote(99, "99.05", t=9)))  # then the ladder: buys and
    assert top_up.side is Side.BUY and top_up.limit_price < new.limit_price  # the sell rest side by side


def test_the_take_profit_goes_before_the_ladder_so_a_refused_ladder_never_holds_it_back():
    cfg = _ladder(take_profit_order_type=OrderType.LIMIT)
    first = decide(cfg, in_position("0.2", "100"), quote(100, "100.05"))
    assert [s.side for s in _submits(first)] == [Side.SELL]
    probe = decide(cfg, first.state, quote(100, "100.05", t=1))  # one level first (dca.resting.next_levels)
    assert [s.side for s in _submits(probe)] == [Side.BUY]
    assert [s.side for s in _submits(decide(cfg, probe.state, quote(100, "100.05", t=2)))] == [Side.BUY] * 2


def test_the_limit_take_profit_completes_the_cycle_at_its_price():
    cfg = _limit_tp(cooldown_period=60, fees=("15", "25"))
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    sell = _sell(state)
    done = decide(cfg, state, _filled(sell, fee="0.03"))
    ended = done.completed
    assert ended is not None and ended.status is CycleStatus.COMPLETE and ended.sell_price == D(101)
    assert ended.realized_pnl == D("0.2") * 101 - D("0.03") - D(20)
    assert done.state.last_sell_price == D(101) and done.state.cycle.status is CycleStatus.COOLDOWN
    assert done.finished_order is not None and done.finished_order.client_order_id == sell.client_order_id


def test_partial_fills_of_the_limit_take_profit_apply_at_once_and_do_not_replace_it():
    cfg = _limit_tp()
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    sell = _sell(state)
    state, _ = run(cfg, state, _filled(sell, qty="0.05", final=False))
    assert state.cycle.quantity == D("0.15") and state.cycle.sold_qty == D("0.05")
    assert decide(cfg, state, quote(101, "101.05", t=6)).commands == ()
    assert triggers(cfg, state) != ALWAYS
    done = decide(cfg, state, _filled(sell, t=7))
    assert done.completed is not None and done.completed.sold_qty == D("0.2")


def test_the_estimated_fee_of_a_resting_fill_is_the_maker_rate():
    cfg = _limit_tp(fees=("15", "25"))
    state = decide(cfg, in_position("0.2", "100"), quote(100, "100.05")).state
    partial = decide(cfg, state, OrderFilled(_sell(state).client_order_id, D("0.1"), D(101), at(5), False))
    maker, taker = (execution_fee(Side.SELL, D("0.1"), D("10.1"), D(bps)) for bps in (15, 25))
    assert _sell(partial.state).fee == maker != taker


# --- a cycle never ends with live orders --------------------------------------------------------


def test_a_take_profit_that_sold_everything_while_the_ladder_rests_ends_the_cycle_once_the_ladder_is_cancelled():
    cfg = _ladder(take_profit_order_type=OrderType.LIMIT)
    state = _placed_ladder(cfg)
    sold = decide(cfg, state, _filled(_sell(state)))
    assert sold.completed is None and sold.state.cycle.is_flat and len(sold.state.cycle.resting) == 3
    asked = decide(cfg, sold.state, quote(101, "101.05", t=6))
    assert len(_cancels(asked)) == 3 and _submits(asked) == []
    state = asked.state
    buys = _buys(state)
    state, decisions = run(cfg, state, *(_cancelled(b, t=7) for b in buys))
    assert [d.completed is not None for d in decisions] == [False, False, True]
    ended = decisions[-1].completed
    assert ended.status is CycleStatus.COMPLETE and ended.sell_price == D(101) and ended.resting == ()


def test_coins_a_ladder_order_buys_before_its_cancel_is_confirmed_stay_in_the_cycle_and_are_sold():
    cfg = _ladder(take_profit_order_type=OrderType.LIMIT)
    state = _placed_ladder(cfg)
    state, _ = run(cfg, state, _filled(_sell(state)))
    state = decide(cfg, state, quote(101, "101.05", t=6)).state
    top, *rest = _buys(state)
    state, decisions = run(cfg, state, _filled(top, t=7), *(_cancelled(b, t=8) for b in rest))
    assert all(d.completed is None for d in decisions)
    assert state.cycle.quantity == top.qty and state.cycle.resting == ()
    placed = _submits(decide(cfg, state, quote(99, "99.05", t=9)))
    assert any(s.side is Side.SELL and s.qty == top.qty for s in placed)


# --- other reports -------------------------------------------------------------------------------


def test_reports_find_a_resting_order_by_its_id():
    cfg = _ladder()
    state = _placed_ladder(cfg)
    second = _buys(state)[1]
    accepted = decide(cfg, state, OrderAccepted(second.client_order_id, "ex-9", at(1))).state
    assert _buys(accepted)[1].exchange_id == "ex-9"
    gone = decide(cfg, accepted, OrderNotFound(second.client_order_id, at(3600)))
    assert gone.finished_order is not None and gone.finished_order.client_order_id == second.client_order_id
    assert len(gone.state.cycle.resting) == 2


def test_a_restarted_cycle_with_resting_orders_applies_their_fills():
    cfg = _ladder(take_profit_order_type=OrderType.LIMIT)
    loaded = _placed_ladder(cfg)  # as the store would load it: resting orders with exchange ids
    loaded = loaded.evolve(cycle=loaded.cycle.evolve(resting=tuple(
        LiveOrder(o.client_order_id, o.kind, o.side, o.order_type, o.qty, o.limit_price, o.created_at,
                  exchange_id=f"x{i}") for i, o in enumerate(loaded.cycle.resting))))
    first, second = _buys(loaded)[:2]
    state, _ = run(cfg, loaded, _filled(first, t=60), _filled(second, t=61))
    assert state.cycle.safety_orders == 2 and state.cycle.last_fill_price == second.limit_price
    assert state.cycle.quantity == D("0.2") + first.qty + second.qty


def test_holdings_with_only_resting_buys_still_see_a_shortfall_but_a_resting_sell_makes_them_wait():
    ladder = _ladder()
    state = _placed_ladder(ladder)
    corrected = decide(ladder, state, HoldingsChecked(D("0.1"), at(5))).state
    assert corrected.cycle.quantity == D("0.1")
    gone = decide(ladder, state, HoldingsChecked(D(0), at(5)))
    assert gone.completed is None and gone.state.cycle.is_flat  # its ladder is cancelled before it ends
    tp = _limit_tp()
    resting = decide(tp, in_position("0.2", "100"), quote(100, "100.05")).state
    assert decide(tp, resting, HoldingsChecked(D(0), at(5))).state == resting
    assert decide(tp, resting, SellableChecked(D(0), at(5))).state == resting


def test_a_cycle_whose_coins_left_ends_in_error_once_its_ladder_is_cancelled():
    cfg = _ladder()
    state = decide(cfg, _placed_ladder(cfg), HoldingsChecked(D(0), at(5))).state
    asked = decide(cfg, state, quote(100, "100.05", t=6))
    assert len(_cancels(asked)) == 3
    state, decisions = run(cfg, asked.state, *(_cancelled(b, t=7) for b in _buys(asked.state)))
    assert decisions[-1].completed is not None and decisions[-1].completed.status is CycleStatus.ERROR


def test_a_resting_buys_fee_is_never_inferred_from_the_position_other_orders_may_have_moved_it():
    cfg = _ladder(fees=("15", "25"))
    state = _placed_ladder(cfg)
    top = _buys(state)[0]
    state = decide(cfg, state, PositionBeforeOrder(top.client_order_id, D("0.2"), at(1))).state
    # the position after also holds what another order did meanwhile: it proves nothing about this fee
    report = OrderFilled(top.client_order_id, top.qty, top.limit_price, at(5), True, position_qty=D("0.2") + top.qty)
    applied = decide(cfg, state, report).state
    assert applied.cycle.quantity == D("0.2") + top.qty - execution_fee(Side.BUY, top.qty, top.qty * 99, D(15))


def test_the_limit_take_profit_is_capped_by_a_fresh_sellable_reading_and_kept_once_placed():
    cfg = _limit_tp()
    state = decide(cfg, in_position("0.2", "100"), SellableChecked(D("0.15"), at(0))).state
    placed = decide(cfg, state, quote(100, "100.05", t=1))
    (sell,) = _submits(placed)
    assert sell.qty == D("0.15") and placed.state.sellable == D("0.15")  # kept while it rests, for its size
    assert decide(cfg, placed.state, quote(100, "100.05", t=120)).commands == ()  # not replaced to sell more
