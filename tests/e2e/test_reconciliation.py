"""The reconciler's repairs, through the asset actor (the one writer of its cycle)."""

from decimal import Decimal

import pytest

from actors.messages import CheckHoldings, Snapshot
from adapters.db.assets import AssetRepository
from adapters.sim.orders import OrderRequest
from dca.cycle import CycleStatus
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
ASSETS = {"BTC/USD": QUICK}


def _bought(harness):
    harness.quote("BTC/USD", "100.00", "100.05")
    harness.quote("BTC/USD", "100.00", "100.05")
    return harness.state("BTC/USD").cycle


def _tell_and_wait(harness, message):
    handle = harness.bot.runtime.asset_handle("BTC/USD")
    handle.tell(message)
    return handle.ask(Snapshot(), timeout=10)[1]  # processed in order: the reply comes after the check


def test_a_position_read_before_a_fill_does_not_end_the_cycle(tmp_path, sqlite_url):
    """The reconciler saw the cycle flat and the exchange empty; by the time its message arrives the
    base order has filled. The stale reading must change nothing (it once ended the cycle in error)."""
    with BotHarness(tmp_path, sqlite_url, assets=ASSETS, pacing="manual") as harness:
        cycle = _bought(harness)
        state = _tell_and_wait(harness, CheckHoldings(quantity=Decimal(0), expected=Decimal(0)))
        assert state.cycle.id == cycle.id and state.cycle.status is CycleStatus.WATCHING
        assert state.cycle.quantity == cycle.quantity
        harness.settle_and_check()


def test_coins_sold_outside_the_bot_end_the_cycle_in_error(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets=ASSETS, pacing="manual") as harness:
        cycle = _bought(harness)
        harness.exchange.close_position("BTCUSD")  # somebody sold the coins by hand
        harness.quote("BTC/USD", "100.00", "100.05")  # the closing sell fills
        wait_for(lambda: not harness.exchange.positions(), 10, "the manual sell to fill")
        state = _tell_and_wait(harness, CheckHoldings(quantity=Decimal(0), expected=cycle.quantity))
        assert state.cycle.id == cycle.id  # positions can lag fills: one reading is not enough
        check = CheckHoldings(quantity=Decimal(0), expected=cycle.quantity)
        wait_for(lambda: _tell_and_wait(harness, check).cycle.id != cycle.id, 10, "a second reading to agree")
        state = harness.state("BTC/USD")
        assert state.cycle.quantity == 0
        assert harness.events("the coins left the bot")


def test_foreign_coins_are_reported_and_never_sold(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets=ASSETS, pacing="manual") as harness:
        harness.exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc", qty=Decimal("0.5"),
                                                   client_order_id="manual-purchase"))
        cycle = _bought(harness)  # the manual market buy fills on the same quotes
        foreign = harness.exchange.position("BTCUSD").qty - cycle.quantity
        assert foreign > Decimal("0.49")
        reconciler_sees = harness.bot.runtime.metrics.foreign_positions.labels("BTC/USD")
        for _ in range(5):  # move the simulated clock so the reconciler's timer fires
            harness.quote("BTC/USD", "100.00", "100.05", after=2)
        wait_for(lambda: reconciler_sees._value.get() > 0.49, 15, "the foreign coins to be reported")
        harness.quote("BTC/USD", "101.00", "101.05")  # take-profit: the sell is sized from the cycle only
        harness.quote("BTC/USD", "101.00", "101.05")
        wait_for(lambda: harness.completed("BTC/USD"), 10, "the cycle to complete")
        assert harness.exchange.position("BTCUSD").qty == foreign + harness.state("BTC/USD").dust


def _switch_btc_off(harness):
    runtime = harness.bot.runtime
    AssetRepository(harness.db).set_enabled("BTC/USD", False)
    wait_for(lambda: harness.pass_time(1) or not runtime.asset_handle("BTC/USD").is_alive(), 20,
             "BTC's actor to stop")


def _foreign_after_two_reconciler_runs(harness):
    """(foreign BTC reported, foreign-position discrepancies counted) by the reconciler's next two runs.
    (A run racing the buy itself may count one, harmlessly: the fill lands between its two readings.)"""
    metrics = harness.bot.runtime.metrics
    runs, found = metrics.caretaker_runs.labels("reconciler"), metrics.discrepancies.labels("foreign_position")
    target, earlier = runs._value.get() + 2, found._value.get()
    wait_for(lambda: harness.pass_time(1) or runs._value.get() >= target, 20, "two reconciler runs", poll=0.2)
    return metrics.foreign_positions.labels("BTC/USD")._value.get(), found._value.get() - earlier


def test_a_disabled_assets_cycle_coins_are_never_called_foreign(tmp_path, sqlite_url):
    """Switching an asset off stops its actor, not its cycle: the coins the cycle holds are still the
    bot's, and the reconciler must not report them as somebody else's."""
    with BotHarness(tmp_path, sqlite_url, assets=ASSETS, pacing="manual") as harness:
        assert _bought(harness).quantity > 0
        _switch_btc_off(harness)
        assert _foreign_after_two_reconciler_runs(harness) == (0, 0)


def test_a_buy_that_fills_while_its_asset_is_off_is_not_called_foreign(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets=ASSETS, pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")  # base order: LIMIT BUY at 101 (BTC's tick is $1)
        harness.quote("BTC/USD", "102.00", "102.05")  # it rests
        _switch_btc_off(harness)
        _, fills = harness.push("BTC/USD", "100.00", "100.05")  # it fills while nobody applies it
        assert fills and harness.exchange.position("BTCUSD").qty > 0
        assert _foreign_after_two_reconciler_runs(harness) == (0, 0)
