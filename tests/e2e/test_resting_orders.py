"""Orders placed ahead (issue 16, items 3 and 4) on the real actor tree against the simulator (a
scripted market): a ladder of safety orders resting at their levels (`active_safety_orders`) and a
limit take-profit resting at its price (`take_profit_order_type=limit`).

Under Alpaca's wash-trade rule (the simulator's default, `wash_trade_check=crossing`) the bot must never
be refused: it cancels its resting orders before a market sale and never places a crossing limit. Every
scenario ends with the books matching the simulator (`settle_and_check`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import ROUND_UP, Decimal

import pytest
from sqlalchemy import select

from actors.messages import CancelOrders, CloseCycle
from adapters.db.models import DcaCycle
from adapters.sim.orders import Liquidity, OrderRequest
from app.report_text import cycle_text
from app.reports import cycle_story, status
from dca.cycle import CycleStatus
from dca.market import Quote
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

# BTC/USD trades on a $1 price grid in the simulator: prices near 60 000 keep the levels apart.
LADDER = {**QUICK, "max_safety_orders": 5, "active_safety_orders": 3, "cooldown_period": 10**6}
LIMIT_TP = {**QUICK, "take_profit_order_type": "limit", "active_safety_orders": 1, "cooldown_period": 10**6}
BUDGET = Decimal(130)  # the base order and 5 safety orders of 20 fit; a ladder beyond it would not
MAKER_FEE = Decimal("0.0015")  # the simulator's default maker rate (15 bps)


def _btc(harness: BotHarness) -> object:
    return harness.state("BTC/USD").cycle


def _holding(harness: BotHarness) -> None:
    harness.quote("BTC/USD", "60000", "60005")  # the base order goes out (a limit at the ask)
    harness.quote("BTC/USD", "60000", "60005")  # and fills at 60005
    wait_for(lambda: _btc(harness).quantity > 0, 10, "the base order to fill")


def _placed_ahead(harness: BotHarness, ready: Callable[[], object], what: str) -> None:
    """Holding the base order's coin, the next quote places the resting orders; wait until `ready`."""
    _holding(harness)
    harness.quote("BTC/USD", "60000", "60005")
    wait_for(ready, 10, what)


def _ladder_of_three(harness: BotHarness) -> Callable[[], bool]:
    return lambda: len(_resting_on_venue(harness, "buy")) == 3


def _take_profit_and_safety_order(harness: BotHarness) -> Callable[[], bool]:
    return lambda: len(harness.exchange.open_orders("BTC/USD")) == 2


def _resting_on_venue(harness: BotHarness, side: str) -> list[object]:
    return sorted((o for o in harness.exchange.open_orders("BTC/USD") if o.side.value == side),
                  key=lambda o: o.limit_price, reverse=True)


def _executions(harness: BotHarness, client_order_ids: set[str]) -> list[object]:
    return [e for e in harness.exchange.engine.executions if e.client_order_id in client_order_ids]


def _ended(harness: BotHarness, status: CycleStatus) -> list[DcaCycle]:
    with harness.db.transaction() as session:
        rows = session.execute(select(DcaCycle).where(DcaCycle.status == status.value)).scalars().all()
        session.expunge_all()
        return list(rows)


def _within_budget(harness: BotHarness) -> None:
    """What the bot has committed (cost held + every live buy's unfilled part) and the cash its open buys
    hold back on the venue never exceed the capital budget."""
    runtime = harness.bot.runtime
    assert runtime.risk.snapshot(harness.exchange.clock.now()).committed_total <= BUDGET
    cycle = _btc(harness)
    assert cycle.cost + harness.exchange.engine.reserved_cash <= BUDGET


@pytest.mark.parametrize("maker_fill_price", ["limit", "quote"])
def test_a_flash_crash_fills_the_resting_ladder_at_its_levels_and_the_ladder_is_topped_up(
        tmp_path, sqlite_url, maker_fill_price):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": LADDER}, pacing="manual",
                    quirks={"maker_fill_price": maker_fill_price},
                    settings_overrides={"capital_budget": BUDGET}) as harness:
        _placed_ahead(harness, _ladder_of_three(harness), "three resting safety orders")
        ladder = _resting_on_venue(harness, "buy")
        assert [o.limit_price for o in ladder] == [Decimal(59854), Decimal(59704), Decimal(59554)]  # 0.25 % apart
        assert {o.client_order_id for o in ladder} == {o.client_order_id for o in _btc(harness).resting}
        _within_budget(harness)

        harness.quote("BTC/USD", "59900", "59905")  # the crash: above the first level...
        harness.quote("BTC/USD", "59500", "59505")  # ...through all three within one quote...
        harness.quote("BTC/USD", "59700", "59705")  # ...and back up (below the take-profit)
        wait_for(lambda: _btc(harness).safety_orders == 3, 10, "the three safety fills to be applied")
        filled = _executions(harness, {o.client_order_id for o in ladder})
        assert len(filled) == 3 and all(e.liquidity is Liquidity.MAKER for e in filled)
        expected = ({o.limit_price for o in ladder} if maker_fill_price == "limit" else {Decimal(59505)})
        assert {e.price for e in filled} == expected  # at its limit, or improved to the crossing quote
        assert all(e.fee == (e.qty * MAKER_FEE).quantize(Decimal("1e-9"), ROUND_UP) for e in filled)  # maker rate
        cycle = _btc(harness)
        bought = sum((e.qty * e.price for e in filled), Decimal(0))
        base_cost = Decimal("60005") * (cycle.bought_qty - sum((e.qty for e in filled), Decimal(0)))
        assert cycle.cost == base_cost + bought  # the books follow the venue's fill prices

        harness.quote("BTC/USD", "59700", "59705")  # the ladder is topped up: safety orders 4 and 5
        wait_for(lambda: len(_resting_on_venue(harness, "buy")) == 2, 10, "the ladder to be topped up")
        last = min(e.price for e in filled)
        assert _resting_on_venue(harness, "buy")[0].limit_price < last
        _within_budget(harness)
        assert harness.exchange.engine.wash_trade_refusals == 0
        harness.settle_and_check()


def test_resting_safety_orders_that_fill_while_the_bot_is_stopped_are_applied_once_after_it_restarts(
        tmp_path, database_url):
    with BotHarness(tmp_path, database_url, assets={"BTC/USD": LADDER}, pacing="manual") as harness:
        _placed_ahead(harness, _ladder_of_three(harness), "three resting safety orders")
        ladder = {o.client_order_id for o in _resting_on_venue(harness, "buy")}
        harness.stop_bot()
        for bid, ask in (("59700", "59705"), ("59600", "59605"), ("60000", "60005")):  # no bot: only the market
            now = harness.exchange.clock.now() + timedelta(seconds=1)
            harness.exchange.push_quote(Quote("BTC/USD", Decimal(bid), Decimal(ask), now))
        on_venue = {o.client_order_id: o for o in harness.exchange.orders() if o.client_order_id in ladder}
        assert sorted(o.status.value for o in on_venue.values()) == ["filled", "filled", "new"]

        harness.start_bot()
        wait_for(lambda: _btc(harness).safety_orders == 2, 20, "the fills made while stopped to be applied")
        cycle = _btc(harness)
        still = {o.client_order_id for o in cycle.resting}
        assert still == {i for i, o in on_venue.items() if o.is_open}  # the one still open is still resting
        harness.quote("BTC/USD", "60000", "60005")  # tops the ladder up again (no duplicate of the open one)
        wait_for(lambda: len(_resting_on_venue(harness, "buy")) == 3, 10, "the ladder to be topped up")
        assert harness.exchange.engine.wash_trade_refusals == 0
        harness.settle_and_check()


def test_a_limit_take_profit_rests_at_its_price_is_replaced_after_a_safety_fill_and_never_sells_below_it(
        tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": LIMIT_TP}, pacing="manual",
                    quirks={"maker_fill_price": "quote"}) as harness:
        _placed_ahead(harness, lambda: _resting_on_venue(harness, "sell") and _resting_on_venue(harness, "buy"),
                      "the resting take-profit and safety order")
        (first_tp,) = _resting_on_venue(harness, "sell")
        cycle = _btc(harness)
        trigger = cycle.average_price * Decimal("1.003")
        assert first_tp.limit_price == trigger.to_integral_value(rounding="ROUND_CEILING")  # the grid is $1
        assert first_tp.qty <= cycle.quantity
        (row,) = status(harness.db, None)  # what `status` and `cycle N` show: each resting order
        assert [(o.kind, o.side, o.limit_price, o.filled_qty) for o in row.resting] == [
            ("take_profit", "sell", first_tp.limit_price, 0), ("safety", "buy", Decimal(59854), 0)]
        shown = cycle_text(cycle_story(harness.db, harness.namespace(), cycle.id))
        assert f"take profit sell limit {first_tp.limit_price} qty {first_tp.qty}, filled 0" in shown, shown
        assert "safety buy limit 59854" in shown

        harness.quote("BTC/USD", "59900", "59905")  # the safety order's first quote: above its level, it rests
        harness.quote("BTC/USD", "59800", "59805")  # then it fills (a maker): the position changed
        wait_for(lambda: _btc(harness).safety_orders == 1, 10, "the safety fill")

        def replaced() -> bool:  # the old take-profit is cancelled first, then the new one placed
            harness.quote("BTC/USD", "59800", "59805")
            return [o.client_order_id for o in _resting_on_venue(harness, "sell")] not in ([],
                                                                                          [first_tp.client_order_id])

        wait_for(replaced, 20, "the replaced take-profit")
        assert harness.exchange.order(first_tp.id).status.value == "canceled"
        (second_tp,) = _resting_on_venue(harness, "sell")
        cycle = _btc(harness)
        trigger = cycle.average_price * Decimal("1.003")
        assert second_tp.limit_price >= trigger and second_tp.limit_price < first_tp.limit_price
        assert second_tp.qty == cycle.quantity.quantize(Decimal("1e-9"), rounding="ROUND_DOWN")

        harness.quote("BTC/USD", "59800", "59805")  # its first quote: below it, so it rests (a maker from now on)
        harness.quote("BTC/USD", "61000", "61005")  # a spike through it: it fills (improved to the bid)
        wait_for(lambda: _ended(harness, CycleStatus.COMPLETE), 10, "the take-profit to complete the cycle")
        (sale,) = _executions(harness, {second_tp.client_order_id})
        assert sale.liquidity is Liquidity.MAKER and sale.price >= second_tp.limit_price >= trigger
        (done,) = _ended(harness, CycleStatus.COMPLETE)
        assert done.sell_price == sale.price and done.realized_pnl > 0
        assert not harness.exchange.open_orders("BTC/USD")  # the rest of the ladder went with the cycle
        assert harness.exchange.engine.wash_trade_refusals == 0
        harness.settle_and_check()


@pytest.mark.parametrize("ending", ["market_take_profit", "stop_loss", "close"])
def test_a_market_sale_cancels_the_resting_ladder_first_and_the_cycle_ends_with_nothing_open(
        tmp_path, sqlite_url, ending):
    values = {**LADDER, "stop_loss_percent": "1", "stop_loss_timeout": 0} if ending == "stop_loss" else LADDER
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": values}, pacing="manual") as harness:
        _placed_ahead(harness, _ladder_of_three(harness), "three resting safety orders")
        if ending == "market_take_profit":
            prices = ("60500", "60505")  # above the take-profit trigger (0.3 % over the cost, fee included)
        elif ending == "stop_loss":
            prices = ("58500", "58505")  # through every level (the ladder fills first) and the stop-loss level
        else:
            answer = harness.bot.runtime.asset_handle("BTC/USD").ask(CloseCycle(), timeout=10)
            assert "cancelling the safety buy" in answer.text, answer
            prices = ("60000", "60005")
        for _ in range(4):  # the cancels are confirmed, then the sale goes out, then it fills
            harness.quote("BTC/USD", *prices)
        status = {"market_take_profit": CycleStatus.COMPLETE, "stop_loss": CycleStatus.STOPPED,
                  "close": CycleStatus.CLOSED}[ending]
        wait_for(lambda: _ended(harness, status), 10, f"the cycle to end {status}")
        assert not harness.exchange.open_orders("BTC/USD")
        assert harness.exchange.engine.wash_trade_refusals == 0
        sale = [o for o in harness.exchange.orders() if o.side.value == "sell"]
        assert len(sale) == 1 and sale[0].type.value == "market"
        harness.settle_and_check()


def test_cancel_orders_cancels_every_resting_order(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": LIMIT_TP}, pacing="manual") as harness:
        _placed_ahead(harness, _take_profit_and_safety_order(harness), "the take-profit and safety order")
        harness.bot.runtime.asset_handle("BTC/USD").ask(CancelOrders(), timeout=10)
        wait_for(lambda: not harness.exchange.open_orders("BTC/USD"), 10, "every resting order to be cancelled")
        assert harness.exchange.engine.wash_trade_refusals == 0
        harness.settle_and_check()


def test_a_foreign_resting_buy_makes_the_venue_refuse_the_market_take_profit_as_a_wash_trade(tmp_path, sqlite_url):
    """Alpaca's rule is per account: an operator's own resting buy on the pair blocks the bot's market
    sale. The bot cannot cancel what is not its own: the refusal is typed and counted, the cycle waits
    and retries (and sells once the order is gone), and the books stay right."""
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _holding(harness)
        harness.exchange.submit_order(OrderRequest("BTC/USD", "buy", "limit", "gtc", qty=Decimal("0.001"),
                                                   limit_price=Decimal(50000), client_order_id="by-hand"))
        harness.quote("BTC/USD", "60500", "60505")  # above the take-profit: the market sale is refused
        metric = harness.bot.runtime.metrics.orders_rejected.labels("BTC/USD", "sell", "wash_trade")
        wait_for(lambda: metric._value.get() == 1, 10, "the refusal to be counted as a wash trade")
        assert harness.exchange.engine.wash_trade_refusals == 1
        cycle = _btc(harness)
        assert cycle.order is None and cycle.retry_at is not None and cycle.quantity > 0
        foreign = harness.exchange.order_by_client_id("by-hand")
        assert foreign.is_open  # never touched
        harness.exchange.cancel_order(foreign.id)  # the operator takes it away: the next try sells
        harness.quote("BTC/USD", "60500", "60505", after=10)  # past the retry wait
        harness.quote("BTC/USD", "60500", "60505")
        wait_for(lambda: _ended(harness, CycleStatus.COMPLETE), 10, "the take-profit to complete the cycle")
        assert harness.exchange.engine.wash_trade_refusals == 1
        harness.settle_and_check()


def test_orders_placed_ahead_stay_right_under_every_venue_quirk_at_once(tmp_path, sqlite_url):
    """The ladder and the limit take-profit through a whole cycle with every quirk at once but the
    position lag (the wash-trade check on, refusals as 422, resting fills improved to the quote, cancels
    pending until the next quote, other fee rates posted only at the end of the day, no position_qty in
    fills, ...): nothing is refused as a wash trade, every fill is applied once and the books match the
    venue (the fee rates differ from the configured ones: the position check before the new take-profit
    corrects the holding)."""
    from tests.e2e.test_venue_quirks import ALL_BUT_LAG

    quirks = {**ALL_BUT_LAG, "wash_trade_check": "crossing", "wash_trade_status": "422",
              "maker_fill_price": "quote"}
    assets = {"BTC/USD": {**LIMIT_TP, "active_safety_orders": 2}}
    with BotHarness(tmp_path, sqlite_url, assets=assets, pacing="manual", quirks=quirks) as harness:
        _holding(harness)

        def placed_ahead() -> bool:
            harness.quote("BTC/USD", "60000", "60005")
            return len(harness.exchange.open_orders("BTC/USD")) == 3  # the take-profit and two safety orders

        wait_for(placed_ahead, 20, "the take-profit and the ladder to rest")

        def crashed_and_replaced() -> bool:  # both levels fill; the take-profit is replaced for the new position
            harness.quote("BTC/USD", "59650", "59655")
            cycle = _btc(harness)
            sells = _resting_on_venue(harness, "sell")
            return cycle.safety_orders == 2 and len(sells) == 1 and sells[0].qty == cycle.quantity.quantize(
                Decimal("1e-9"), rounding="ROUND_DOWN")

        wait_for(crashed_and_replaced, 30, "the safety fills and the replaced take-profit")

        def sold() -> bool:
            harness.quote("BTC/USD", "61000", "61005")
            return bool(_ended(harness, CycleStatus.COMPLETE))

        wait_for(sold, 30, "the take-profit to fill and complete the cycle")
        (sale,) = [o for o in harness.exchange.orders() if o.side.value == "sell" and o.filled_qty]
        assert sale.type.value == "limit" and sale.filled_avg_price >= sale.limit_price  # never below its price
        assert harness.exchange.engine.wash_trade_refusals == 0
        assert not harness.exchange.open_orders("BTC/USD")
        harness.settle_and_check()


def test_the_order_janitor_never_cancels_a_resting_order_however_old(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": LIMIT_TP}, pacing="manual") as harness:
        _placed_ahead(harness, _take_profit_and_safety_order(harness), "the take-profit and safety order")
        resting = {o.client_order_id for o in harness.exchange.open_orders("BTC/USD")}
        harness.tick(3700)  # past the stale threshold (60 min in the harness) and twice the stuck-sell limit
        janitor = harness.bot.runtime.metrics.caretaker_runs.labels("order_janitor")
        runs = janitor._value.get()
        wait_for(lambda: harness.tick(1) or janitor._value.get() >= runs + 2, 20, "two janitor runs", poll=0.3)
        assert {o.client_order_id for o in harness.exchange.open_orders("BTC/USD")} == resting
        assert {o.client_order_id for o in _btc(harness).resting} == resting
        harness.settle_and_check()


def test_a_ladder_order_that_fills_while_its_cancel_is_pending_is_applied_and_then_sold(tmp_path, sqlite_url):
    """`pending_events`: a cancel ends only on the next quote, which may fill the order first. The take-
    profit cancels the ladder; the next quote dips through the first level before the cancels end: that
    fill belongs to the cycle, which carries on and sells it all at the next take-profit."""
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": LADDER}, pacing="manual",
                    quirks={"pending_events": ""}) as harness:
        _placed_ahead(harness, _ladder_of_three(harness), "three resting safety orders")
        first = _resting_on_venue(harness, "buy")[0]
        harness.quote("BTC/USD", "60500", "60505")  # the take-profit: the ladder's cancels are asked
        wait_for(lambda: all(o.cancel_requested_at for o in _btc(harness).resting), 10, "the cancels to be asked")
        harness.quote("BTC/USD", "59800", "59805")  # fills the first level, then the cancels end
        wait_for(lambda: _btc(harness).safety_orders == 1, 10, "the fill made during the cancel to be applied")
        assert harness.exchange.order(first.id).status.value == "filled"

        def sold() -> bool:
            harness.quote("BTC/USD", "60700", "60705")
            return bool(_ended(harness, CycleStatus.COMPLETE))

        wait_for(sold, 20, "the take-profit to sell everything")
        (sale,) = [o for o in harness.exchange.orders() if o.side.value == "sell"]
        bought = sum((o.filled_qty - o.fees for o in harness.exchange.orders() if o.side.value == "buy"), Decimal(0))
        assert sale.filled_qty == bought  # the coins bought during the cancel were sold too
        assert harness.exchange.engine.wash_trade_refusals == 0
        harness.settle_and_check()


def test_coins_sold_by_hand_while_only_the_ladder_rests_are_found_by_the_reconciler(tmp_path, sqlite_url):
    """Resting buys can only add coin, so while only they are live a shortfall is still one: the
    reconciler's readings correct the cycle without waiting for the ladder to go."""
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": LADDER}, pacing="manual") as harness:
        _placed_ahead(harness, _ladder_of_three(harness), "three resting safety orders")
        held = _btc(harness).quantity
        by_hand = (held * Decimal("0.4")).quantize(Decimal("1e-9"), ROUND_UP)
        harness.exchange.submit_order(OrderRequest("BTC/USD", "sell", "limit", "gtc", qty=by_hand,
                                                   limit_price=Decimal(59990), client_order_id="sold-by-hand"))
        harness.push("BTC/USD", "60000", "60005")  # it fills (above every ladder limit: no wash trade)
        assert harness.exchange.order_by_client_id("sold-by-hand").status.value == "filled"
        wait_for(lambda: harness.tick(1) or _btc(harness).quantity == held - by_hand, 30,
                 "the reconciler to correct the cycle", poll=0.3)
        assert len(_btc(harness).resting) == 3  # the ladder rests on
        assert harness.bot.runtime.metrics.discrepancies.labels("holding_missing")._value.get() >= 1
        harness.settle_and_check()


BOTH_SIDES = {**LADDER, "active_safety_orders": 2, "take_profit_order_type": "limit"}


def _trigger(harness: BotHarness) -> Decimal:
    return _btc(harness).average_price * Decimal("1.003")


def _bid_at(harness: BotHarness, price: Decimal) -> None:
    bid = price.to_integral_value(rounding="ROUND_CEILING")
    harness.quote("BTC/USD", str(bid), str(bid + 5))


def test_under_the_strict_wash_trade_rule_one_refusal_teaches_the_bot_to_rest_one_side_at_a_time(
        tmp_path, sqlite_url):
    """`wash_trade_check=any_opposite`: the venue refuses any order while an opposite one is open. The
    first ladder order placed next to the resting take-profit is refused, once; from then on one side
    rests at a time: the take-profit gives way to the safety order when the ask reaches the first level,
    the ladder rests below the trigger and gives way (cancelled first) to the take-profit at it. One
    refusal, no breaker, buys at or below their levels, the sale at or above its trigger, the books match."""
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": BOTH_SIDES}, pacing="manual",
                    quirks={"wash_trade_check": "any_opposite"}) as harness:
        _holding(harness)
        harness.quote("BTC/USD", "60000", "60005")  # the take-profit goes out first...
        harness.quote("BTC/USD", "60000", "60005")  # ...then one ladder order: refused
        wait_for(lambda: harness.state("BTC/USD").one_side_at_a_time, 10, "the refusal to teach one side")
        assert harness.exchange.engine.wash_trade_refusals == 1
        (tp,) = _resting_on_venue(harness, "sell")
        harness.quote("BTC/USD", "59900", "59905")  # above the first level: the take-profit rests alone
        assert harness.exchange.order(tp.id).is_open and not _resting_on_venue(harness, "buy")

        harness.quote("BTC/USD", "59840", "59845")  # the ask at the first level: the take-profit goes first
        wait_for(lambda: not _btc(harness).resting, 10, "the take-profit's cancel")
        harness.quote("BTC/USD", "59840", "59845")  # then the safety order, at the ask
        harness.quote("BTC/USD", "59840", "59845")
        wait_for(lambda: _btc(harness).safety_orders == 1, 10, "the safety fill")
        harness.quote("BTC/USD", "59840", "59845")  # below the trigger the ladder rests, alone
        wait_for(lambda: len(_resting_on_venue(harness, "buy")) == 2, 10, "the ladder")
        ladder = _resting_on_venue(harness, "buy")
        assert [o.limit_price for o in ladder] == [Decimal(59695), Decimal(59545)]  # 0.25 % below 59845, twice
        assert not _resting_on_venue(harness, "sell")

        harness.quote("BTC/USD", "59690", "59694")  # the first level fills at its limit, as a maker...
        wait_for(lambda: _btc(harness).safety_orders == 2, 10, "the ladder fill")
        (level,) = _executions(harness, {ladder[0].client_order_id})
        assert level.price == Decimal(59695) and level.liquidity is Liquidity.MAKER
        harness.quote("BTC/USD", "59690", "59694")  # ...and the ladder is topped up, still without a sell
        wait_for(lambda: len(_resting_on_venue(harness, "buy")) == 2, 10, "the ladder to be topped up")

        trigger = _trigger(harness)
        _bid_at(harness, trigger)  # the bid reaches the trigger: the ladder is cancelled first
        wait_for(lambda: not _btc(harness).resting, 10, "the ladder's cancels")
        assert not harness.exchange.open_orders("BTC/USD")
        _bid_at(harness, trigger)  # then the take-profit goes out, at the trigger rounded up
        wait_for(lambda: _resting_on_venue(harness, "sell"), 10, "the take-profit")
        (tp,) = _resting_on_venue(harness, "sell")
        assert tp.limit_price == trigger.to_integral_value(rounding="ROUND_CEILING")
        _bid_at(harness, trigger)  # and fills
        wait_for(lambda: _ended(harness, CycleStatus.COMPLETE), 10, "the take-profit to complete the cycle")
        buys = [e for e in harness.exchange.engine.executions if e.side.value == "buy"]
        assert [e.price for e in buys] == [Decimal(60005), Decimal(59845), Decimal(59695)]
        (sale,) = [e for e in harness.exchange.engine.executions if e.side.value == "sell"]
        assert sale.price >= tp.limit_price >= trigger
        assert harness.exchange.engine.wash_trade_refusals == 1
        assert not harness.bot.runtime.risk.snapshot(harness.exchange.clock.now()).breakers
        assert not harness.exchange.open_orders("BTC/USD")
        harness.settle_and_check()
