"""The kill switch engaged the ways an operator engages it (`supervisor.py halt`, KILL_SWITCH, the
kill-switch file), against the real tree: from then on no new order reaches the exchange, and
releasing it the same way lets the cycle carry on."""

from datetime import UTC, datetime

import pytest

from actors.caretakers.risk_keeper import kill_switch_reason
from tests.cli.helpers import supervisor
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _vetoed(harness):
    return harness.bot.runtime.metrics.orders_vetoed.labels("BTC/USD", "kill_switch")._value.get()


def _seen(harness, engaged):
    """Let simulated time pass without a quote until the running supervisor's risk keeper has read
    the switch (nothing can trade meanwhile: there is no price to act on)."""
    risk = harness.bot.runtime.risk
    wait_for(lambda: harness.pass_time(1) or (risk.kill_switch is not None) == engaged, 20,
             f"the running supervisor to see the kill switch {'engaged' if engaged else 'released'}", poll=0.3)


def _no_new_order_while_halted(harness):
    harness.quote("BTC/USD", "100.00", "100.05")  # a base order is due at every quote
    harness.quote("BTC/USD", "100.00", "100.05")
    assert harness.exchange.orders() == [] and harness.state("BTC/USD").cycle.order is None
    assert _vetoed(harness) >= 2 and harness.bot.runtime.metrics.kill_switch._value.get() == 1


def _trades_again(harness):
    harness.quote("BTC/USD", "100.00", "100.05")
    assert [o.side for o in harness.exchange.orders()] == ["buy"]


def _command(tmp_path, database_url, *args):
    """`supervisor.py ...` in a process of its own, as an operator runs it next to the running one."""
    result = supervisor(tmp_path, *args, env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_halt_and_resume_act_on_a_running_supervisor(tmp_path, database_url):
    with BotHarness(tmp_path, database_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        said = _command(tmp_path, database_url, "halt", "--reason", "maintenance")
        assert "kill switch ENGAGED (maintenance)" in said
        _seen(harness, engaged=True)
        assert "maintenance" in harness.bot.runtime.risk.kill_switch
        _no_new_order_while_halted(harness)
        said = _command(tmp_path, database_url, "resume")
        assert "kill switch released" in said
        _seen(harness, engaged=False)
        _trades_again(harness)


def test_the_kill_switch_setting_halts_the_supervisor_from_its_start(tmp_path, sqlite_url, monkeypatch):
    monkeypatch.setenv("KILL_SWITCH", "true")
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        assert harness.bot.runtime.risk.kill_switch == "KILL_SWITCH is set"
        _no_new_order_while_halted(harness)
        harness.stop_bot()
        monkeypatch.delenv("KILL_SWITCH")  # released where it was set, then a restart
        harness.start_bot()
        _trades_again(harness)


def test_the_kill_switch_file_halts_a_running_supervisor_until_it_is_deleted(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        switch = tmp_path / "data" / "KILL_SWITCH"  # the default: DATA_DIR/KILL_SWITCH
        switch.parent.mkdir(parents=True, exist_ok=True)
        switch.write_text("disk almost full\n")
        _seen(harness, engaged=True)
        assert harness.bot.runtime.risk.kill_switch == f"file {switch}: disk almost full"
        _no_new_order_while_halted(harness)
        switch.unlink()
        _seen(harness, engaged=False)
        _trades_again(harness)


@pytest.mark.parametrize("since", [datetime(2026, 12, 6, 1, 44, 49, 363438, tzinfo=UTC),
                                   "2026-12-06T01:44:49.363438+00:00"])
def test_the_halt_reason_users_read_gives_the_time_to_the_second_in_utc(tmp_path, since):
    reason = kill_switch_reason(False, tmp_path / "no-kill-file", {"reason": "going on holiday", "since": since})
    assert reason == "halted: going on holiday at 2026-12-06 01:44:49 UTC"
