"""The backtest session drives the real core against the simulator's matching engine in bar time
(reference §8 scenario 50, and the prior backtester's bugs B19–B21 that must not come back)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal

from app.backtest.runner import new_session
from dca.backtest.loop import replay_bars, replay_quotes
from dca.cycle import CycleStatus, OrderKind, OrderType, Side
from dca.market import Bar
from dca.params import OrderTiming
from tests.backtest.helpers import SYMBOL, T0, quote, setup

NANO = Decimal("0.000000001")


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def coin_fee(qty: Decimal) -> Decimal:
    return (qty * Decimal("0.0025")).quantize(NANO, rounding=ROUND_CEILING)  # Alpaca bills fees up


CYCLE = [
    quote("100.00", "100.05", 0),  # base order: LIMIT BUY at the ask
    quote("100.00", "100.05", 15),  # ...fills here, on the NEXT quote, as a taker at the ask
    quote("98.90", "98.95", 30),  # ask ≤ 100.05 × 0.99: safety order
    quote("98.90", "98.95", 45),  # ...fills
    quote("101.00", "101.05", 60),  # bid ≥ average cost × 1.01: MARKET SELL
    quote("101.00", "101.05", 75),  # ...fills at the bid: cycle complete, cooldown until +60 s
    quote("101.00", "101.05", 90),  # still cooling down
    quote("101.00", "101.05", 135),  # cooldown over in bar time: the next base order at once
]


def test_a_cycle_runs_base_safety_take_profit_cooldown_and_the_next_base_in_bar_time():
    session = new_session(setup())
    replay_quotes(session, CYCLE)
    orders = session.log.orders
    assert [(o.kind, o.side, o.order_type, o.limit_price, o.decided_at) for o in orders] == [
        (OrderKind.BASE, Side.BUY, OrderType.LIMIT, Decimal("100.05"), at(0)),
        (OrderKind.SAFETY, Side.BUY, OrderType.LIMIT, Decimal("98.95"), at(30)),
        (OrderKind.TAKE_PROFIT, Side.SELL, OrderType.MARKET, None, at(60)),
        (OrderKind.BASE, Side.BUY, OrderType.LIMIT, Decimal("101.05"), at(135)),
    ]
    assert [o.outcome for o in orders] == ["filled", "filled", "filled", "open"]
    fills = session.log.fills
    assert [(f.time, f.price) for f in fills] == [(at(15), Decimal("100.05")), (at(45), Decimal("98.95")),
                                                  (at(75), Decimal("101.00"))]
    base, safety, sell = fills
    assert base.qty == Decimal("0.199900049") and base.fee == coin_fee(base.qty)  # $20 / 100.05, fee in coin
    assert safety.qty == Decimal("0.202122283") and safety.fee == coin_fee(safety.qty)
    assert sell.qty == base.qty - base.fee + safety.qty - safety.fee  # everything the cycle holds
    assert sell.fee == (sell.qty * Decimal(101) * Decimal("0.0025")).quantize(Decimal("0.01"), ROUND_CEILING)
    (cycle,) = session.log.cycles
    cost = base.qty * base.price + safety.qty * safety.price
    assert cycle.status is CycleStatus.COMPLETE and cycle.safety_orders == 1
    assert cycle.realized_pnl == sell.qty * sell.price - sell.fee - cost
    assert cycle.started_at == at(0) and cycle.completed_at == at(75)
    assert cycle.fees_value == base.fee * base.price + safety.fee * safety.price + sell.fee
    holdings = session.venue.holdings(SYMBOL)  # the report's account is the one that traded (B19)
    assert holdings.cash == Decimal(100_000) - cost + sell.qty * sell.price - sell.fee
    assert holdings.quantity == 0


def test_an_order_is_never_filled_by_the_quote_it_was_decided_on():
    session = new_session(setup())
    replay_quotes(session, CYCLE[:1])
    assert session.log.orders and not session.log.fills  # no look-ahead (B20)
    assert session.state.cycle.status is CycleStatus.BUYING  # and the status stays what the core said (B19)


def test_the_cooldown_runs_in_bar_time_not_wall_time():
    session = new_session(setup(cooldown_period=3600))
    replay_quotes(session, CYCLE[:6])
    replay_quotes(session, [quote("101.00", "101.05", 75 + 3599)])
    assert session.state.cycle.status is CycleStatus.COOLDOWN
    replay_quotes(session, [quote("101.00", "101.05", 75 + 3600)])
    assert session.state.cycle.status is CycleStatus.BUYING and session.log.orders[-1].decided_at == at(3675)


def _resting_base(session, until: float, ask: str = "100.10") -> None:
    replay_quotes(session, [quote("100.00", "100.05", 0)])  # base LIMIT BUY at 100.05
    replay_quotes(session, [quote("100.05", ask, s) for s in range(15, int(until), 15)])


def test_a_stale_buy_is_cancelled_after_five_minutes_of_bar_time_and_a_new_base_follows():
    session = new_session(setup())
    _resting_base(session, until=300)  # the ask stays above the limit: the order rests
    assert session.log.orders[0].outcome == "open"
    replay_quotes(session, [quote("100.05", "100.10", 300)])
    first, second = session.log.orders
    assert (first.outcome, first.ended_at, first.filled_qty) == ("canceled", at(300), 0)
    assert (second.kind, second.decided_at, second.limit_price) == (OrderKind.BASE, at(300), Decimal("100.10"))


def test_a_deadline_quote_may_still_fill_the_order_before_the_timeout_cancels_it():
    session = new_session(setup())
    _resting_base(session, until=300)
    replay_quotes(session, [quote("99.95", "100.00", 300)])  # reaches the limit: a maker fill at 100.05
    (order,) = session.log.orders
    assert order.outcome == "filled" and order.average_price == Decimal("100.05")
    assert session.log.fills[0].fee == (order.filled_qty * Decimal("0.0015")).quantize(NANO, ROUND_CEILING)


def test_a_rejected_order_waits_out_the_retry_delay_in_bar_time():
    session = new_session(setup(cash="15", timing=OrderTiming(retry_after_failure=timedelta(seconds=20))))
    replay_quotes(session, [quote("100.00", "100.05", s) for s in (0, 15, 30)])
    orders = session.log.orders
    assert [o.outcome for o in orders] == ["rejected", "rejected"]  # at 0 and 30; 15 s is inside the wait
    assert [o.decided_at for o in orders] == [at(0), at(30)]
    assert "insufficient balance" in orders[0].message
    assert session.venue.holdings(SYMBOL).cash == Decimal(15)


def test_consecutive_refusals_double_the_wait_up_to_an_hour_and_an_accepted_order_starts_over():
    session = new_session(setup(cash="15", timing=OrderTiming(retry_after_failure=timedelta(seconds=15))))
    replay_quotes(session, [quote("100.00", "100.05", s) for s in range(0, 6 * 3600, 15)])
    tries = [o.decided_at for o in session.log.orders]
    assert all(o.outcome == "rejected" for o in session.log.orders)
    waits = [(b - a).total_seconds() for a, b in itertools.pairwise(tries)]
    assert waits[:8] == [15, 30, 60, 120, 240, 480, 960, 1920]
    assert set(waits[9:]) == {3600}  # capped: a cash-starved cycle tries about once an hour
    session.venue.engine.ledger.cash = Decimal(100_000)  # the account can pay again (cash added)
    last = tries[-1]
    replay_quotes(session, [quote("100.00", "100.05", (last - T0).total_seconds() + 3600 + s) for s in (0, 15)])
    assert session.log.orders[-1].outcome == "filled"
    session.venue.engine.ledger.cash = Decimal(0)
    replay_quotes(session, [quote("98.00", "98.05", 7 * 3600 + s) for s in (0, 15, 30, 45)])
    safety = session.log.orders[-3:]
    assert [(o.kind, o.outcome) for o in safety] == [(OrderKind.SAFETY, "rejected")] * 3
    assert [o.decided_at for o in safety] == [at(7 * 3600), at(7 * 3600 + 15), at(7 * 3600 + 45)]  # 15 s, 30 s again


def test_bars_become_four_quotes_and_the_account_is_recorded_only_when_it_changes():
    session = new_session(setup())
    bars = [Bar(SYMBOL, T0 + timedelta(minutes=i), Decimal(100), Decimal("100.5"), Decimal("99.5"), Decimal(100))
            for i in range(5)]
    assert replay_bars(session, bars, Decimal(10), Decimal("0.01")) == 5
    assert session.quotes == 20
    first_fill = session.log.fills[0]
    assert first_fill.time == T0 + timedelta(seconds=15)  # the base order decided at +0 s fills at +15 s
    timeline = session.log.timeline
    assert timeline[0].bar_index == 0 and timeline[0].position > 0 and session.start.position == 0
    assert all(a.bar_index < b.bar_index for a, b in itertools.pairwise(timeline))
