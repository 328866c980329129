"""`triggers()` is the backtester's licence to skip quotes: for ANY state (not only the ones a
normal run reaches), a quote it calls skippable must leave that state unchanged and emit nothing.

The stateful property test (test_properties.py) checks this along realistic runs; this one draws
arbitrary states (odd combinations included: a cooldown without an end, trailing without a peak,
a retry wait while trailing with the trailing take-profit switched off since), because a state
loaded from the database can be any of them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dca.cycle import AssetState, Cycle, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.market import Quote
from dca.strategy import decide
from dca.triggers import ALWAYS, triggers
from tests.core.helpers import SYMBOL, T0, config

prices = st.decimals(min_value=Decimal(50), max_value=Decimal(150), places=2)
maybe_price = st.none() | prices
maybe_time = st.none() | st.integers(-300, 300).map(lambda s: T0 + timedelta(seconds=s))
STATUSES = (CycleStatus.WATCHING, CycleStatus.TRAILING, CycleStatus.COOLDOWN, CycleStatus.BUYING,
            CycleStatus.SELLING)


@st.composite
def any_state(draw: st.DrawFn) -> AssetState:
    qty = draw(st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(2)]))
    cycle = Cycle(
        id=3, status=draw(st.sampled_from(STATUSES)), quantity=qty, cost=qty * draw(prices),
        safety_orders=draw(st.integers(0, 4)), last_fill_price=draw(maybe_price), peak_price=draw(maybe_price),
        order_seq=2, cooldown_until=draw(maybe_time), retry_at=draw(maybe_time),
    )
    dust = draw(st.sampled_from([Decimal(0), Decimal("0.001")]))
    return AssetState(cycle, last_sell_price=draw(maybe_price), dust=dust)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=any_state(), bid=prices, spread=st.decimals(min_value=0, max_value=2, places=2),
       seconds=st.integers(-300, 300), ttp=st.booleans(), max_safety=st.integers(0, 4),
       deviation=st.sampled_from(["0.5", "2", "10"]))
def test_a_quote_outside_the_triggers_never_changes_any_state(state, bid, spread, seconds, ttp, max_safety,
                                                              deviation):
    cfg = config(ttp_enabled=ttp, ttp_deviation_percent=Decimal(1), safety_order_deviation=Decimal(deviation),
                 take_profit_percent=Decimal(2), max_safety_orders=max_safety, cooldown_period=60)
    quote = Quote(SYMBOL, bid, bid + spread, T0 + timedelta(seconds=seconds))
    if not triggers(cfg, state).may_act_on(quote):
        decision = decide(cfg, state, quote)
        assert decision.state == state and decision.commands == ()


def _resting_order(draw: st.DrawFn, seq: int, side: Side) -> LiveOrder:
    kind = OrderKind.SAFETY if side is Side.BUY else OrderKind.TAKE_PROFIT
    qty = draw(st.sampled_from([Decimal("0.5"), Decimal(2), Decimal("2.001")]))
    return LiveOrder(f"o-{seq}", kind, side, OrderType.LIMIT, qty, draw(prices), T0,
                     filled_qty=draw(st.sampled_from([Decimal(0), Decimal("0.25")])),
                     cancel_requested_at=draw(st.none() | maybe_time))


@st.composite
def any_state_with_resting_orders(draw: st.DrawFn) -> AssetState:
    state = draw(any_state())
    buys = [_resting_order(draw, 10 + i, Side.BUY) for i in range(draw(st.integers(0, 3)))]
    sells = [_resting_order(draw, 20, Side.SELL)] if draw(st.booleans()) else []
    status = draw(st.sampled_from((CycleStatus.WATCHING, CycleStatus.TRAILING, state.cycle.status)))
    sold = draw(st.sampled_from([Decimal(0), Decimal(1)]))
    return state.evolve(cycle=state.cycle.evolve(resting=tuple(buys + sells), status=status, sold_qty=sold))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=any_state_with_resting_orders(), bid=prices, spread=st.decimals(min_value=0, max_value=2, places=2),
       seconds=st.integers(-300, 300), limit_take_profit=st.booleans(), active=st.integers(0, 3),
       deviation=st.sampled_from(["0.5", "2", "10"]), stop_loss=st.sampled_from([None, Decimal(5)]))
def test_with_resting_orders_a_quote_outside_the_triggers_never_changes_any_state(
        state, bid, spread, seconds, limit_take_profit, active, deviation, stop_loss):
    cfg = config(ttp_enabled=False, safety_order_deviation=Decimal(deviation), take_profit_percent=Decimal(2),
                 max_safety_orders=4, active_safety_orders=active, cooldown_period=60, stop_loss_percent=stop_loss,
                 take_profit_order_type=OrderType.LIMIT if limit_take_profit else OrderType.MARKET)
    quote = Quote(SYMBOL, bid, bid + spread, T0 + timedelta(seconds=seconds))
    if not triggers(cfg, state).may_act_on(quote):
        decision = decide(cfg, state, quote)
        assert decision.state == state and decision.commands == ()


def test_a_cycle_whose_ladder_is_missing_a_level_is_never_skipped():
    cfg = config(active_safety_orders=2, max_safety_orders=3, safety_order_deviation=Decimal(2))
    state = AssetState(Cycle(id=1, status=CycleStatus.WATCHING, quantity=Decimal(1), cost=Decimal(100),
                             last_fill_price=Decimal(100), order_seq=1))
    assert triggers(cfg, state) == ALWAYS
    placed = decide(cfg, state, Quote(SYMBOL, Decimal(100), Decimal(101), T0)).state
    assert len(placed.cycle.resting) == 2 and triggers(cfg, placed) != ALWAYS


def test_a_cooldown_without_an_end_time_is_never_skipped():
    state = AssetState(Cycle(id=1, status=CycleStatus.COOLDOWN, cooldown_until=None))
    assert triggers(config(), state) == ALWAYS
    assert decide(config(), state, Quote(SYMBOL, Decimal(100), Decimal(101), T0)).commands  # the base order


def test_trailing_without_a_peak_is_never_skipped():
    state = AssetState(Cycle(id=1, status=CycleStatus.TRAILING, quantity=Decimal(1), cost=Decimal(100),
                             last_fill_price=Decimal(100)))
    assert triggers(config(ttp_enabled=True, ttp_deviation_percent=Decimal(1)), state) == ALWAYS


def test_a_retry_wait_while_trailing_still_follows_the_peak_after_trailing_was_switched_off():
    state = AssetState(Cycle(id=1, status=CycleStatus.TRAILING, quantity=Decimal(1), cost=Decimal(100),
                             peak_price=Decimal(105), retry_at=T0 + timedelta(seconds=5)))
    cfg = config(ttp_enabled=False)
    assert triggers(cfg, state).bid_at_or_above == Decimal(105)
    moved = decide(cfg, state, Quote(SYMBOL, Decimal(106), Decimal(107), T0))
    assert moved.state.cycle.peak_price == Decimal(106)


def test_a_cooldown_is_looked_at_before_a_retry_wait():
    state = AssetState(Cycle(id=1, status=CycleStatus.COOLDOWN, cooldown_until=T0 + timedelta(seconds=60),
                             retry_at=T0 + timedelta(seconds=300)), last_sell_price=Decimal(100))
    found = triggers(config(), state)
    assert found.at_time == T0 + timedelta(seconds=60) and found.ask_at_or_below is not None


def _trailing(peak: str) -> AssetState:
    return AssetState(Cycle(id=1, status=CycleStatus.TRAILING, quantity=Decimal(1), cost=Decimal(100),
                            last_fill_price=Decimal(100), peak_price=Decimal(peak)))


def test_trailing_below_the_take_profit_floor_waits_only_for_a_new_peak_or_a_safety_order():
    cfg = config(ttp_enabled=True, ttp_deviation_percent=Decimal(1), take_profit_percent=Decimal(2),
                 safety_order_deviation=Decimal(5), max_safety_orders=3)
    state = _trailing("102.5")  # stop 101.475 is under the floor 102: a pull-back can never sell
    found = triggers(cfg, state)
    assert found.bid_at_or_below is None and found.bid_at_or_above == Decimal("102.5")
    holding = decide(cfg, state, Quote(SYMBOL, Decimal("101.4"), Decimal("101.5"), T0))
    assert holding.state == state and holding.commands == ()


def test_trailing_above_the_floor_watches_the_stop():
    cfg = config(ttp_enabled=True, ttp_deviation_percent=Decimal(1), take_profit_percent=Decimal(2))
    found = triggers(cfg, _trailing("110"))  # stop 108.9 is above the floor 102
    assert found.bid_at_or_below == Decimal("108.9")
    sold = decide(cfg, _trailing("110"), Quote(SYMBOL, Decimal("108.8"), Decimal("108.9"), T0))
    assert sold.commands
