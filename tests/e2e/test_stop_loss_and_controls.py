"""The stop loss, `close` and `cancel-orders` on the real actor tree against the simulator (a scripted
market), and the books agreeing with the simulator afterwards."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from actors.messages import ParamsChanged
from adapters.db.assets import AssetRepository
from adapters.db.models import DcaCycle
from dca.cycle import CycleStatus
from dca.market import Quote
from tests.cli.helpers import supervisor
from tests.e2e.harness import QUICK, BotHarness, wait_for
from tests.e2e.test_reports_and_adoption import _cli_env, _while_time_passes

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _ended(harness, status: CycleStatus) -> list[DcaCycle]:
    with harness.db.transaction() as session:
        rows = session.execute(select(DcaCycle).where(DcaCycle.status == status.value)).scalars().all()
        session.expunge_all()
        return list(rows)


def _with_stop_loss(harness, percent: str, timeout: int) -> None:
    """Give the running actor a stop loss while it holds a position, the way a changed row reaches it."""
    record = AssetRepository(harness.db).get("BTC/USD")
    params = replace(record.params, stop_loss_percent=Decimal(percent), stop_loss_timeout=timeout,
                     max_safety_orders=0)
    harness.bot.runtime.asset_handle("BTC/USD").tell(ParamsChanged(replace(record, params=params)))


def _holding(harness) -> None:
    harness.quote("BTC/USD", "100.00", "100.05")  # the base order goes out
    harness.quote("BTC/USD", "100.00", "100.05")  # and fills at 100.05
    wait_for(lambda: harness.state("BTC/USD").cycle.quantity > 0, 10, "the base order to fill")


def test_a_crash_sets_off_the_stop_loss_only_once_the_bid_has_stayed_below_the_level_for_the_timeout(
        tmp_path, database_url):
    with BotHarness(tmp_path, database_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _holding(harness)
        _with_stop_loss(harness, percent="2", timeout=30)  # level ≈ 98.29 (2 % under 100.05 plus the fee)
        harness.quote("BTC/USD", "98.00", "98.05")  # below: the timeout starts
        harness.quote("BTC/USD", "97.50", "97.55", after=10)
        harness.quote("BTC/USD", "99.00", "99.05", after=10)  # a bounce above the level starts it again
        harness.quote("BTC/USD", "97.00", "97.05", after=5)
        harness.quote("BTC/USD", "96.50", "96.55", after=25)  # 25 s below: still waiting
        env = _cli_env(harness, database_url)
        (btc,) = json.loads(supervisor(tmp_path, "status", "--json", env=env).stdout)["assets"]
        assert btc["stop_loss_since"] is not None and btc["status"] == "watching"
        assert "stop loss pending" in supervisor(tmp_path, "status", env=env).stdout
        assert harness.state("BTC/USD").cycle.status is CycleStatus.WATCHING and not _ended(harness,
                                                                                         CycleStatus.STOPPED)
        harness.quote("BTC/USD", "96.00", "96.05", after=6)  # 31 s below: the market sale goes out
        harness.quote("BTC/USD", "96.00", "96.05")  # and fills
        wait_for(lambda: _ended(harness, CycleStatus.STOPPED), 10, "the stop loss to end the cycle")
        (stopped,) = _ended(harness, CycleStatus.STOPPED)
        assert stopped.realized_pnl < 0 and stopped.sell_price is not None and stopped.sell_price < Decimal(97)
        assert harness.events("stop loss pending") and harness.events("stop loss reset")
        assert harness.events("cycle stopped by the stop loss")
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        assert harness.bot.runtime.metrics.stop_losses.labels("BTC/USD")._value.get() == 1
        assert harness.bot.runtime.metrics.cycles_completed.labels("BTC/USD", "stopped")._value.get() == 1
        harness.settle_and_check()


STOP_LOSS_30S = {**QUICK, "stop_loss_percent": "2", "stop_loss_timeout": 30, "max_safety_orders": 0}  # level ≈ 98.29


def _while_down(harness, bid: str, ask: str, after: float) -> None:
    """The market moves while no supervisor runs: the quote is current on the venue and its stream
    sends it to nobody (the restarted bot sees only what comes after it)."""
    when = harness.exchange.clock.now() + timedelta(seconds=after)
    harness.exchange.push_quote(Quote("BTC/USD", Decimal(bid), Decimal(ask), when))
    harness.exchange.publish("BTC/USD")


def _stop_loss_since(harness):
    with harness.db.transaction() as session:
        return session.execute(select(DcaCycle.stop_loss_since).where(DcaCycle.status == "watching")).scalar_one()


def test_a_restart_in_the_middle_of_the_stop_loss_timeout_keeps_counting_from_the_first_breach(
        tmp_path, database_url):
    with BotHarness(tmp_path, database_url, assets={"BTC/USD": STOP_LOSS_30S}, pacing="manual") as harness:
        _holding(harness)
        breach = harness.quote("BTC/USD", "98.00", "98.05")  # below the level: the 30 s start
        harness.quote("BTC/USD", "97.50", "97.55", after=8)
        harness.stop_bot()
        assert _stop_loss_since(harness) == breach  # stored with the cycle, to the second
        _while_down(harness, "97.40", "97.45", after=10)  # still below while nobody watches
        harness.start_bot()
        assert harness.state("BTC/USD").cycle.stop_loss_since == breach
        harness.quote("BTC/USD", "97.30", "97.35", after=4)  # 23 s after the breach: still waiting
        assert harness.state("BTC/USD").cycle.status is CycleStatus.WATCHING and not _ended(harness,
                                                                                         CycleStatus.STOPPED)
        harness.quote("BTC/USD", "97.20", "97.25", after=8)  # 31 s after the breach, 13 s after the restart
        harness.quote("BTC/USD", "97.20", "97.25")  # the market sale fills
        wait_for(lambda: _ended(harness, CycleStatus.STOPPED), 10, "the stop loss to end the cycle")
        (stopped,) = _ended(harness, CycleStatus.STOPPED)
        assert stopped.sell_price is not None and stopped.sell_price < Decimal("97.3")
        assert not harness.events("stop loss reset")
        harness.settle_and_check()


def test_a_bid_back_above_the_level_while_the_supervisor_is_down_restarts_the_timeout(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": STOP_LOSS_30S}, pacing="manual") as harness:
        _holding(harness)
        breach = harness.quote("BTC/USD", "98.00", "98.05")
        harness.stop_bot()
        _while_down(harness, "99.00", "99.05", after=20)  # recovered while nobody watched
        harness.start_bot()
        assert harness.state("BTC/USD").cycle.stop_loss_since == breach  # nothing seen yet
        harness.quote("BTC/USD", "99.00", "99.05", after=5)  # the first quote the restarted bot sees: above
        wait_for(lambda: harness.events("stop loss reset"), 10, "the stop loss to reset")
        assert harness.state("BTC/USD").cycle.stop_loss_since is None
        again = harness.quote("BTC/USD", "97.50", "97.55", after=5)  # 30 s after the first breach: a new start
        assert harness.state("BTC/USD").cycle.stop_loss_since == again
        harness.quote("BTC/USD", "97.50", "97.55", after=20)  # 20 s of the new timeout: no sale
        assert harness.state("BTC/USD").cycle.status is CycleStatus.WATCHING and not _ended(harness,
                                                                                         CycleStatus.STOPPED)
        harness.quote("BTC/USD", "97.40", "97.45", after=10)  # 30 s: the sale
        harness.quote("BTC/USD", "97.40", "97.45")
        wait_for(lambda: _ended(harness, CycleStatus.STOPPED), 10, "the stop loss to end the cycle")
        harness.settle_and_check()


def test_close_on_a_running_supervisor_sells_the_cycle_at_market_and_cycle_n_says_so(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _holding(harness)
        env = _cli_env(harness, sqlite_url)
        result = _while_time_passes(harness, tmp_path, env, "close", "BTC/USD")
        assert result.returncode == 0 and "close requested by the operator" in result.stdout, result.stdout
        harness.quote("BTC/USD", "100.00", "100.05")  # the sale goes out (if no tick carried it out yet)
        harness.quote("BTC/USD", "100.00", "100.05")
        wait_for(lambda: _ended(harness, CycleStatus.CLOSED), 10, "the close to end the cycle")
        (closed,) = _ended(harness, CycleStatus.CLOSED)
        story = json.loads(supervisor(tmp_path, "cycle", str(closed.id), "--json", env=env).stdout)
        assert [o["kind"] for o in story["orders"]] == ["base", "close"]
        assert [e["to"] for e in story["events"] if e["to"]][-2:] == ["selling", "closed"]
        assert any("close requested by the operator" in e["what"] for e in story["events"]), story["events"]
        again = _while_time_passes(harness, tmp_path, env, "close", "BTC/USD")  # the new cycle holds nothing
        assert again.returncode == 1 and "close refused" in again.stdout
        harness.settle_and_check()
        stopped = supervisor(tmp_path, "close", "BTC/USD", env=env)
        assert stopped.returncode == 1 and "no supervisor is running" in stopped.stdout


def test_cancel_orders_cancels_the_live_buy_and_pauses_the_asset_until_it_is_enabled(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")  # the base order: a limit buy at 100.05
        harness.quote("BTC/USD", "101.00", "101.05")  # the market moved away: it rests
        live = harness.state("BTC/USD").cycle.order
        assert live is not None and harness.exchange.order_by_client_id(live.client_order_id).is_open
        env = _cli_env(harness, sqlite_url)
        result = _while_time_passes(harness, tmp_path, env, "cancel-orders", "BTC/USD")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "cancelling the base buy" in result.stdout and "assets enable BTC/USD" in result.stdout
        assert harness.exchange.order_by_client_id(live.client_order_id).status == "canceled"
        assert not AssetRepository(harness.db).get("BTC/USD").enabled
        runtime = harness.bot.runtime
        assert runtime.metrics.orders_canceled.labels("BTC/USD", "buy", "canceled")._value.get() == 1  # not stale
        wait_for(lambda: not runtime.asset_handle("BTC/USD").is_alive(), 10, "the asset's actor to stop")
        (current,) = harness.cycles()
        assert current.cycle.order is None and current.cycle.status is CycleStatus.WATCHING
        harness.push("BTC/USD", "100.00", "100.05")
        assert not harness.exchange.open_orders()  # paused: nothing new is placed
        enabled = supervisor(tmp_path, "assets", "enable", "BTC/USD", env=env)
        assert enabled.returncode == 0, enabled.stderr
        harness.tick(2)
        wait_for(lambda: runtime.asset_handle("BTC/USD").is_alive(), 20, "the asset's actor to start again")
        # a quote published while the new actor is still being wired to the market data is not seen:
        # quotes go on until it sees one (a single quote made this test time out now and then)
        wait_for(lambda: harness.tick(1) or harness.last_quote("BTC/USD") is not None, 20,
                 "the restarted actor to see quotes", poll=0.3)
        harness.quote("BTC/USD", "100.00", "100.05")
        wait_for(lambda: harness.exchange.open_orders() or harness.state("BTC/USD").cycle.quantity > 0, 10,
                 "trading to resume")
        harness.settle_and_check()
