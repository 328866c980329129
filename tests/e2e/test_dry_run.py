"""Dry run: live quotes, real decisions and records, orders only on the local shadow exchange."""

import pytest

from dca.cycle import CycleStatus
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_a_dry_run_trades_whole_cycles_without_sending_a_single_order(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual",
                    settings_overrides={"dry_run": True}) as harness:
        shadow = harness.bot.runtime.shadow
        assert shadow is not None and harness.bot.metrics.dry_run._value.get() == 1
        harness.quote("BTC/USD", "100.00", "100.05")  # base order, on the shadow exchange
        harness.quote("BTC/USD", "100.00", "100.05")  # it fills there, against the venue's quote
        # the shadow exchange reports its fill on its own thread (the harness only waits for the venue's)
        wait_for(lambda: harness.state("BTC/USD").cycle.quantity > 0, 10, "the shadow fill to be applied")
        cycle = harness.state("BTC/USD").cycle
        assert cycle.quantity == shadow.position_qty("BTC/USD")
        harness.quote("BTC/USD", "101.00", "101.05")
        harness.quote("BTC/USD", "101.00", "101.05")
        wait_for(lambda: harness.completed("BTC/USD"), 10, "the dry-run cycle to complete")
        assert harness.exchange.orders() == [] and harness.exchange.positions() == []  # nothing reached the venue
        assert harness.events("take-profit") and harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        cash = shadow.account().cash
        assert cash > 10_000  # the shadow wallet made the cycle's profit
        harness.stop_bot()
        harness.start_bot()  # the shadow account is kept on disk: the restarted dry run carries on
        assert harness.bot.runtime.shadow.account().cash == cash
