"""One clock story (docs/operations.md, "Time bases"): every interval a user sets runs on the venue's clock,
so an accelerated simulator scales caretaker periods and restart backoff with everything else, while
safety work runs on the wall clock: a venue clock that stands still (a paused or restarting separate
simulator; here the scripted market's clock, which moves only when told) does not freeze the kill switch
or supervision's liveness checks."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pykka
import pytest
from loguru import logger

from actors.caretakers.asset_watcher import ASSET_SUPERVISOR
from actors.caretakers.risk_keeper import RiskKeeper
from actors.messages import CheckHoldings
from actors.supervision.clock import SystemClock, describe_delay
from tests.e2e.harness import FAST_INTERVALS, QUICK, BotHarness, on_the_venue_clock, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SPEED = 1200  # venue seconds per real second
AN_HOUR = 3600  # venue seconds: 3 real seconds at SPEED


def crash(handle) -> str:
    """Crash the asset's actor (its handler fails on this message while it holds nothing); return the URN it
    had."""
    first = handle.ref.actor_urn
    handle.ref.tell(CheckHoldings(quantity="garbage", expected=Decimal(0)))
    return first


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


def test_a_crashed_risk_keeper_is_restarted_and_acts_while_the_venue_clock_stands_still(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        runtime = harness.bot.runtime
        (keeper,) = pykka.ActorRegistry.get_by_class(RiskKeeper)
        keeper.proxy().crash(RuntimeError("injected")).get(timeout=10)

        def successor() -> bool:
            return [ref.actor_urn for ref in pykka.ActorRegistry.get_by_class(RiskKeeper)] not in ([],
                                                                                                 [keeper.actor_urn])

        wait_for(successor, 20, "the risk keeper's restart on the wall clock")
        runtime.kill_switch_file.parent.mkdir(parents=True, exist_ok=True)
        runtime.kill_switch_file.write_text("operator: stop")
        wait_for(lambda: runtime.risk.kill_switch is not None, 20, "the new risk keeper's run")


def test_a_crashed_actor_waits_out_its_backoff_on_the_venue_clock_while_liveness_checks_go_on(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        runtime = harness.bot.runtime
        handle = runtime.asset_handle("BTC/USD")
        assets = runtime.root_directory.handle(ASSET_SUPERVISOR).ref
        first = crash(handle)

        wait_for(lambda: runtime.scheduler.pending_count(assets) == 1, 20, "the restart timer on the venue's clock")
        assert not handle.is_alive()  # the venue's clock stands still: its backoff has not passed
        assert runtime.real_time_scheduler.pending_count(assets) == 1  # the liveness check, on the wall clock

        harness.pass_time(1)  # more than the first backoff (0.5 venue seconds)
        wait_for(lambda: handle.is_alive() and handle.ref.actor_urn != first, 20, "the restart after its backoff")


def test_caretaker_periods_and_restart_backoff_scale_with_an_accelerated_venue_clock(tmp_path, sqlite_url):
    intervals = replace(on_the_venue_clock(FAST_INTERVALS, SPEED), order_janitor=AN_HOUR)
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), format="{message}", level="WARNING")
    try:
        # halted, so the asset holds nothing and `crash` finds it as it expects
        with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, speed=Decimal(SPEED), intervals=intervals,
                        settings_overrides={"kill_switch": True}) as harness:
            runtime = harness.bot.runtime
            runs = runtime.metrics.caretaker_runs.labels("order_janitor")
            # hourly on the venue's clock is every 3 real seconds here (in real seconds it would be once)
            wait_for(lambda: runs._value.get() >= 3, 60, "three hourly janitor runs")

            handle = runtime.asset_handle("BTC/USD")
            first = crash(handle)
            wait_for(lambda: handle.is_alive() and handle.ref.actor_urn != first, 20, "the restart")
    finally:
        logger.remove(sink)
    # the first backoff is 0.5 venue seconds, and the log says how long that is in real time
    assert any(line.startswith("Supervisor assets restarts child asset:BTC/USD in 0.000417 s (0.5 s simulated)")
               for line in lines), lines


def test_delays_are_told_in_real_time_with_the_simulated_span_beside_them():
    class Fast:
        speed = 119.0

    class Frozen:
        speed = 0.0

    assert describe_delay(952, Fast()) == "8 s (952 s simulated)"
    assert describe_delay(0.5, SystemClock()) == "0.5 s"
    assert describe_delay(3600, SystemClock()) == "3600 s"
    assert describe_delay(60, Frozen()) == "60 s simulated (whenever the simulated clock gets there)"
