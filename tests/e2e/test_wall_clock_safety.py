"""Safety work runs on the wall clock: a venue clock that stands still (a paused or restarting separate
simulator; here the scripted market's clock, which moves only when told) freezes neither the kill switch
nor supervision."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actors.supervision.clock import SystemClock, describe_delay
from actors.messages import CheckHoldings
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_the_kill_switch_file_is_noticed_while_the_venue_clock_stands_still(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        runtime = harness.bot.runtime
        before = runtime.clock.now()
        runtime.kill_switch_file.parent.mkdir(parents=True, exist_ok=True)
        runtime.kill_switch_file.write_text("operator: stop")

        wait_for(lambda: runtime.risk.kill_switch is not None, 20, "the risk keeper's next run")  # no tick at all
        assert runtime.clock.now() == before
        runtime.kill_switch_file.unlink()
        wait_for(lambda: runtime.risk.kill_switch is None, 20, "the release")


def test_a_crashed_actor_is_restarted_while_the_venue_clock_stands_still(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        handle = harness.bot.runtime.asset_handle("BTC/USD")
        first = handle.ref.actor_urn
        handle.ref.tell(CheckHoldings(quantity="garbage", expected=Decimal(0)))  # its handler crashes on it

        wait_for(lambda: handle.is_alive() and handle.ref.actor_urn != first, 20, "the restart after its backoff")


def test_delays_are_told_in_real_time_with_the_simulated_span_beside_them():
    class Fast:
        speed = 119.0

    assert describe_delay(952, Fast()) == "8 s (952 s simulated)"
    assert describe_delay(0.5, SystemClock()) == "0.5 s"
