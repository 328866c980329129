"""The notes of whole order lives, word for word: the hot paths write theirs only when read
(`dca.strategy.Note`), and what is read must be what was always written."""

from decimal import Decimal

from dca.cycle import OrderType, Side
from dca.events import CloseReason, OrderClosed, OrderFilled, Tick
from dca.strategy import Decision
from tests.core.helpers import accepted, at, closed, config, filled, in_position, live_id, quote, run, watching


def _lines(decisions: list[Decision]) -> list[str]:
    return [line for decision in decisions for line in decision.lines]


def test_a_full_cycle_with_fees_is_told_line_by_line():
    cfg = config(fees=("15", "25"), base_order_amount="100", safety_order_amount="100", safety_order_deviation="2",
                 take_profit_percent="1", cooldown_period=60)
    state, notes = watching(), []
    for trigger in (quote(100, "100.03", t=0), quote(97, 98, t=2), quote(102, t=4)):
        state, placed = run(cfg, state, trigger)
        order = state.cycle.order
        fee = "0.0001" if order.side is Side.BUY else "0.25"
        state, done = run(cfg, state, accepted(state), filled(state, str(order.qty), str(order.limit_price or 100),
                                                              t=5, fee=fee))
        notes += _lines(placed) + _lines(done)
    assert notes == [
        "base order at ask 100.03 → buy 0.999700089 @ 100.03 (dca-test1-1-7-1)",
        "dca-test1-1-7-1 accepted as ex-1",
        "dca-test1-1-7-1 filled 0.999700089 BTC @ avg 100.03 USD (fee 0.0001 BTC)",
        "base order filled: holding 0.999600089 BTC at avg 100.04 USD",
        "safety order 1: ask 98 ≤ trigger 98.0294 → buy 1.020408163 @ 98 (dca-test1-1-7-2)",
        "dca-test1-1-7-2 accepted as ex-1",
        "dca-test1-1-7-2 filled 1.020408163 BTC @ avg 98 USD (fee 0.0001 BTC)",
        "safety order filled: holding 2.019908252 BTC at avg 99.01 USD",
        "take-profit: bid 102 ≥ trigger 100.0045421248 → sell 2.019908252 at market (dca-test1-1-7-3)",
        "dca-test1-1-7-3 accepted as ex-1",
        "dca-test1-1-7-3 filled 2.019908252 BTC @ avg 100 USD (fee 0.25 USD)",
        "cycle complete: sold 2.019908252 @ 100, realized P/L 1.7408253233; cooldown until 2026-01-01T12:01:05+00:00",
    ]


def test_a_trailing_sale_cancelled_part_way_is_told_line_by_line():
    cfg = config(base_order_amount="100", take_profit_percent="1", ttp_enabled=True, ttp_deviation_percent="0.5")
    state, trailed = run(cfg, in_position("1", "100"), quote("101.5", t=1), quote("102.5", t=2), quote("101.9", t=3))
    state, ended = run(cfg, state, closed(state, CloseReason.CANCELED, qty="0.4", price="101.9", t=4))
    assert _lines(trailed) + _lines(ended) == [
        "take-profit: bid 101.5 ≥ trigger 101; trailing armed at peak 101.5",
        "trailing take-profit: bid 101.9 < stop 101.9875 (peak 102.5) → sell 1 at market (dca-test1-1-7-2)",
        "dca-test1-1-7-2 filled 0.4 BTC @ avg 101.9 USD (fee 0 USD)",
        "dca-test1-1-7-2 canceled; 0.6 BTC still held, watching again",
    ]


def test_a_stale_buy_cancelled_with_the_venues_message_is_told_line_by_line():
    cfg = config(base_order_amount="100")
    state, placed = run(cfg, watching(), quote(100, t=0))
    late = cfg.timing.stale_buy_after.total_seconds() + 1
    state, cancelling = run(cfg, state, Tick(at(late)))
    state, ended = run(cfg, state, OrderClosed(live_id(state), CloseReason.CANCELED, at(late + 1), Decimal(0), None,
                                               message="canceled by the venue"))
    assert _lines(placed) + _lines(cancelling) + _lines(ended) == [
        "base order at ask 100 → buy 1 @ 100 (dca-test1-1-7-1)",
        "dca-test1-1-7-1 is a stale buy after 0:05:01: cancelling",
        "base order canceled without fills: canceled by the venue",
    ]


def test_resting_orders_placed_filled_and_replaced_are_told_line_by_line():
    cfg = config(base_order_amount="100", safety_order_amount="100", safety_order_deviation="2", max_safety_orders=3,
                 active_safety_orders=2, take_profit_order_type=OrderType.LIMIT, take_profit_percent="1.5")
    state, notes = watching(), []
    for event in (quote(100, t=0), None, quote(100, t=2), quote("99.5", t=3)):
        state, decisions = run(cfg, state, event or filled(state, "1", "100", t=1))
        notes += _lines(decisions)
    buy = next(o for o in state.cycle.resting if o.side is Side.BUY)
    state, decisions = run(cfg, state, OrderFilled(buy.client_order_id, buy.qty, buy.limit_price, at(4), True),
                           quote(99, t=5))
    sell = next(o for o in state.cycle.resting if o.side is Side.SELL)
    state, sold = run(cfg, state, OrderFilled(sell.client_order_id, sell.qty, sell.limit_price, at(6), True))
    assert notes + _lines(decisions) + _lines(sold) == [
        "base order at ask 100 → buy 1 @ 100 (dca-test1-1-7-1)",
        "dca-test1-1-7-1 filled 1 BTC @ avg 100 USD (fee 0 BTC)",
        "base order filled: holding 1 BTC at avg 100 USD",
        "take-profit placed ahead at 101.5 (trigger 101.5) → resting sell 1 @ 101.5 (dca-test1-1-7-2)",
        "safety order 1 placed ahead at its level 98 → resting buy 1.020408163 @ 98 (dca-test1-1-7-3)",
        "dca-test1-1-7-3 filled 1.020408163 BTC @ avg 98 USD (fee 0 BTC)",
        "resting safety buy dca-test1-1-7-3 filled: holding 2.020408163 BTC at avg 98.99 USD",
        "the position changed (now 2.020408163 BTC, take-profit price 100.48): replacing the take-profit "
        "dca-test1-1-7-2: cancelling the resting take_profit sell dca-test1-1-7-2",
        "dca-test1-1-7-2 filled 1 BTC @ avg 101.5 USD (fee 0 USD)",
        "resting take_profit sell dca-test1-1-7-2 filled: holding 1.020408163 BTC at avg 98.99 USD",
    ]
