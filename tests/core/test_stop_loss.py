"""The stop loss: `stop_loss_percent` below the average cost, held for `stop_loss_timeout` seconds of
market time (a bid back above the level starts the wait again), sells the whole cycle at market; the
cycle ends as `stopped` with its realized loss, and the full cooldown follows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dca.commands import ScheduleTimer, SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, OrderKind, OrderType, Side
from dca.market import Quote
from dca.params import InvalidParams, with_overrides
from dca.strategy import decide, stop_loss_level, triggers
from tests.core.helpers import SYMBOL, T0, D, at, config, filled, in_position, quote, run


def _cfg(percent: str | None = "10", timeout: int = 0, **params):
    return config(stop_loss_percent=Decimal(percent) if percent is not None else None, stop_loss_timeout=timeout,
                  max_safety_orders=params.pop("max_safety_orders", 0), **params)


def _sell_of(decision) -> SubmitOrder:
    (sell,) = [c for c in decision.commands if isinstance(c, SubmitOrder)]
    return sell


def test_the_stop_loss_is_off_by_default():
    state = in_position("1", "100")
    decision = decide(config(max_safety_orders=0), state, quote("50", "50.1"))
    assert decision.state == state and decision.commands == ()


def test_a_bid_at_the_level_sells_the_whole_cycle_at_market_without_a_timeout():
    state = in_position("0.5", "100")
    decision = decide(_cfg("10"), state, quote("90", "90.1", t=5))
    sell = _sell_of(decision)
    assert (sell.side, sell.order_type, sell.kind, sell.qty) == (Side.SELL, OrderType.MARKET, OrderKind.STOP_LOSS,
                                                                 D("0.5"))
    assert decision.state.cycle.status is CycleStatus.SELLING and decision.state.cycle.stop_loss_since == at(5)
    assert "stop loss: bid 90 ≤ 90" in decision.lines[-1]


def test_a_bid_above_the_level_changes_nothing():
    state = in_position("0.5", "100")
    decision = decide(_cfg("10"), state, quote("90.01", "90.1"))
    assert decision.state == state and decision.commands == ()


def test_the_level_is_measured_from_the_average_cost_fees_included():
    state = AssetState(Cycle(id=7, status=CycleStatus.WATCHING, quantity=D("0.998"), cost=D(100),
                             last_fill_price=D(100), bought_qty=D(1), buy_fees=D("0.002"), order_seq=1))
    assert stop_loss_level(_cfg("10"), state.cycle) == D(100) / D("0.998") * D("0.9")


def test_the_timeout_waits_in_market_time_and_sells_once_it_has_passed():
    cfg, state = _cfg("10", timeout=60), in_position("0.5", "100")
    state, (armed, waiting, due) = run(cfg, state, quote("89", t=0), quote("85", t=59), quote("88", t=60))
    assert armed.commands == () and armed.state.cycle.stop_loss_since == at(0) and "pending" in armed.lines[0]
    assert waiting.commands == () and waiting.state == armed.state  # still inside the timeout: nothing more
    assert _sell_of(due).kind is OrderKind.STOP_LOSS and "held since" in due.lines[-1]


def test_a_recovery_above_the_level_resets_the_timeout():
    cfg, state = _cfg("10", timeout=60), in_position("0.5", "100")
    state, decisions = run(cfg, state, quote("89", t=0), quote("95", t=30), quote("89", t=61), quote("89", t=100))
    assert decisions[1].state.cycle.stop_loss_since is None and "reset" in decisions[1].lines[0]
    assert decisions[2].state.cycle.stop_loss_since == at(61) and decisions[2].commands == ()
    assert decisions[3].commands == ()  # 39 s since the bid fell again
    assert state.cycle.status is CycleStatus.WATCHING


def test_while_the_stop_loss_is_pending_no_safety_order_is_placed():
    cfg = _cfg("5", timeout=60, max_safety_orders=3, safety_order_deviation="2")
    _, (armed,) = run(cfg, in_position("0.5", "100"), quote("94", "94.05"))
    assert armed.commands == () and armed.state.cycle.safety_orders == 0


def test_the_stop_loss_also_ends_a_trailing_take_profit_that_fell_through():
    cfg = _cfg("10", ttp_enabled=True, ttp_deviation_percent=Decimal(1))
    state = in_position("0.5", "100", status=CycleStatus.TRAILING, peak_price=D(103))
    assert _sell_of(decide(cfg, state, quote("89"))).kind is OrderKind.STOP_LOSS


def test_the_filled_stop_loss_ends_the_cycle_stopped_with_its_loss_and_a_full_cooldown():
    cfg, state = _cfg("10", cooldown_period=120, fees=("15", "25")), in_position("0.5", "100")
    state, _ = run(cfg, state.evolve(last_sell_price=D(120)), quote("90", t=1))
    ended = decide(cfg, state, filled(state, "0.5", "89.5", t=2))
    stopped = ended.completed
    assert stopped is not None and stopped.status is CycleStatus.STOPPED and stopped.sell_price == D("89.5")
    assert stopped.realized_pnl == D("44.75") - D("0.12") - D(50)  # the taker fee rounded up to the cent
    assert "stopped by the stop loss" in ended.lines[-1]
    fresh = ended.state
    assert fresh.cycle.status is CycleStatus.COOLDOWN and fresh.cycle.cooldown_until == at(122)
    assert fresh.last_sell_price is None  # no price-triggered restart after a stop: the cooldown runs in full
    assert ended.commands == (ScheduleTimer(at(122), "cooldown over"),)


def test_a_cancelled_stop_loss_sale_sells_the_remainder_at_the_next_quote():
    cfg, state = _cfg("10"), in_position("1", "100")
    state, _ = run(cfg, state, quote("89", t=1))
    from tests.core.helpers import closed

    state, (cancelled, again) = run(cfg, state, closed(state, qty="0.4", price="89", t=2), quote("88", t=3))
    assert cancelled.state.cycle.status is CycleStatus.WATCHING
    assert _sell_of(again).kind is OrderKind.STOP_LOSS and _sell_of(again).qty == D("0.6")


def test_switching_the_stop_loss_off_clears_a_pending_timeout():
    state, _ = run(_cfg("10", timeout=60), in_position("0.5", "100"), quote("89", t=0))
    decision = decide(_cfg(None), state, quote("89", t=10))
    assert decision.state.cycle.stop_loss_since is None and decision.commands == ()


def test_stop_loss_parameters_are_parsed_and_checked_by_name():
    params = with_overrides(config().params, {"stop_loss_percent": "3.5", "stop_loss_timeout": "90"})
    assert params.stop_loss_percent == D("3.5") and params.stop_loss_timeout == 90
    assert with_overrides(params, {"stop_loss_percent": "none"}).stop_loss_percent is None
    for bad in ({"stop_loss_percent": "100"}, {"stop_loss_percent": "0"}, {"stop_loss_timeout": "-1"},
                {"stop_loss_timeout": "1.5"}):
        try:
            with_overrides(params, bad)
        except InvalidParams as error:
            assert set(error.problems) == set(bad)
        else:
            raise AssertionError(f"{bad} was accepted")


# --- the timeout's state machine against a model --------------------------------------------------

steps = st.lists(st.tuples(st.integers(1, 40), st.decimals(min_value=Decimal(85), max_value=Decimal(95), places=1)),
                 min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(steps=steps, timeout=st.sampled_from([0, 1, 30, 60, 120]))
def test_the_stop_loss_sells_exactly_when_the_bid_has_stayed_at_or_below_the_level_for_the_timeout(steps, timeout):
    """Model: `since` is the time of the first quote of the current run of quotes at or below the
    level; the core sells at the first quote whose time is `timeout` past it, and never before."""
    cfg, state = _cfg("10", timeout=timeout), in_position("1", "100")
    level, now, since = D(90), T0, None
    for step, bid in steps:
        now += timedelta(seconds=step)
        decision = decide(cfg, state, Quote(SYMBOL, bid, bid + D("0.1"), now))
        since = (since or now) if bid <= level else None
        due = since is not None and now - since >= timedelta(seconds=timeout)
        sells = [c for c in decision.commands if isinstance(c, SubmitOrder)]
        assert bool(sells) == due, (now, bid, since)
        assert decision.state.cycle.stop_loss_since == since
        if due:
            assert sells[0].kind is OrderKind.STOP_LOSS and sells[0].qty == D(1)
            return
        state = decision.state


prices = st.decimals(min_value=Decimal(50), max_value=Decimal(150), places=2)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(avg=prices, bid=prices, since=st.none() | st.integers(-300, 0), seconds=st.integers(0, 300),
       status=st.sampled_from([CycleStatus.WATCHING, CycleStatus.TRAILING]), ttp=st.booleans(),
       percent=st.sampled_from(["1", "5", "20"]), timeout=st.sampled_from([0, 60]))
def test_a_quote_the_triggers_skip_never_changes_a_cycle_with_a_stop_loss(avg, bid, since, seconds, status, ttp,
                                                                        percent, timeout):
    cfg = _cfg(percent, timeout=timeout, ttp_enabled=ttp, ttp_deviation_percent=Decimal(1), max_safety_orders=2,
               safety_order_deviation="3")
    state = in_position("1", str(avg), status=status, peak_price=avg * D("1.03") if status is CycleStatus.TRAILING
                        else None, stop_loss_since=T0 + timedelta(seconds=since) if since is not None else None)
    q = Quote(SYMBOL, bid, bid + D("0.05"), T0 + timedelta(seconds=seconds))
    if not triggers(cfg, state).may_act_on(q):
        decision = decide(cfg, state, q)
        assert decision.state == state and decision.commands == ()


def test_a_stopped_cycle_is_announced_as_a_stop_loss_warning_with_its_loss():
    from dca.notices import NoticeKind, cycle_ended

    cycle = Cycle(id=9, status=CycleStatus.STOPPED, quantity=D("0.5"), cost=D(50), sold_qty=D("0.5"),
                  sell_price=D("89.5"), realized_pnl=D("-5.37"))
    notice = cycle_ended(SYMBOL, cycle)
    assert notice.kind is NoticeKind.STOP_LOSS and notice.warning
    assert notice.title == "BTC/USD: stop loss, cycle 9 stopped, P/L -5.37 USD" and "89.5 USD" in notice.body
