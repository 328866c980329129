"""`status`, `report`, `cycle` and `adopt`, as a user runs them, on books the real tree wrote."""

import json
import os
from decimal import Decimal

import pytest

from adapters.sim.orders import OrderRequest
from cli.common import book_owner
from dca.cycle import CycleStatus
from tests.cli.helpers import supervisor
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _cli_env(harness, database_url):
    return {"DATABASE_URL": database_url, "ALPACA_SIM_URL": harness.simulator.urls.trading,
            "APCA_API_KEY_ID": harness.simulator.key_id, "APCA_API_SECRET_KEY": harness.simulator.secret_key}


def _while_time_passes(harness, tmp_path, env, *args):
    """Run the command in the background while simulated time moves (the scripted market's clock only
    moves when told, and the supervisor's caretakers run on it)."""
    import threading

    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=supervisor(tmp_path, *args, env=env, timeout=90)))
    worker.start()
    while worker.is_alive():
        harness.tick(1)
        worker.join(0.3)
    return outcome["result"]


def _halt(harness):
    from datetime import UTC, datetime

    from adapters.db.meta import KILL_SWITCH, MetaStore

    MetaStore(harness.db).set(KILL_SWITCH, {"reason": "test", "since": datetime.now(UTC)})
    harness.stop_bot()
    harness.start_bot()  # halted from its first quote on


def _complete_a_cycle(harness):
    for bid, ask in (("100.00", "100.05"), ("100.00", "100.05"), ("101.00", "101.05"), ("101.00", "101.05")):
        harness.quote("BTC/USD", bid, ask)
    wait_for(lambda: harness.completed("BTC/USD"), 10, "the cycle to complete")


def test_status_report_and_cycle_tell_the_story(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _complete_a_cycle(harness)
        harness.quote("BTC/USD", "101.00", "101.05", after=61)  # cooldown over: the next base order
        harness.quote("BTC/USD", "101.00", "101.05")  # it fills: a cycle holds coin
        env = _cli_env(harness, sqlite_url)
        status = json.loads(supervisor(tmp_path, "status", "--json", env=env).stdout)
        (btc,) = status["assets"]
        assert btc["status"] == "watching" and Decimal(btc["quantity"]) > 0 and btc["last_bid"] == "101"
        assert Decimal(btc["committed"]) > 19 and btc["foreign_quantity"] == "0"
        assert Decimal(status["cash"]) == harness.exchange.cash
        assert Decimal(status["buying_power"]) == harness.exchange.buying_power
        assert "buying power for crypto" in supervisor(tmp_path, "status", env=env).stdout
        report = json.loads(supervisor(tmp_path, "report", "--since", "all", "--json", env=env).stdout)
        assert report["total"]["cycles"] == 1 and Decimal(report["total"]["realized_pnl"]) > 0
        assert Decimal(report["by_asset"]["BTC/USD"]["fees"]) > 0
        completed = harness.completed("BTC/USD")[0]["id"]
        story = json.loads(supervisor(tmp_path, "cycle", str(completed), "--json", env=env).stdout)
        assert [o["kind"] for o in story["orders"]] == ["base", "take_profit"]
        assert [e["to"] for e in story["events"] if e["to"]] == ["watching", "buying", "watching", "selling",
                                                                 "complete"]
        table = supervisor(tmp_path, "cycle", str(completed), env=env).stdout
        assert "realized P/L" in table and "what happened" in table
        assert supervisor(tmp_path, "cycle", "9999", env=env).returncode == 1


def test_foreign_coins_are_reported_then_adopted_by_the_running_supervisor(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _halt(harness)  # no base order of its own: the coins on the exchange are all foreign
        harness.exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc", qty=Decimal("0.5"),
                                                   client_order_id="bought-by-hand"))
        harness.quote("BTC/USD", "100.00", "100.05")  # the manual buy fills
        env = _cli_env(harness, sqlite_url)
        status = supervisor(tmp_path, "status", env=env).stdout
        assert "is not the bot's; it is never sold" in status
        assert book_owner(harness.db).pid == os.getpid()  # the harness's bot holds the book
        result = _while_time_passes(harness, tmp_path, env, "adopt", "BTC/USD")
        assert result.returncode == 0 and "adopted 0.4987" in result.stdout, result.stdout + result.stderr
        cycle, entry = harness.state("BTC/USD").cycle, harness.exchange.position("BTCUSD").avg_entry_price
        assert cycle.quantity == Decimal("0.49875") and cycle.last_fill_price == entry  # 0.5 less the taker fee
        assert cycle.status is CycleStatus.WATCHING
        again = _while_time_passes(harness, tmp_path, env, "adopt", "BTC/USD")
        assert again.returncode == 1 and "no foreign coins" in again.stdout


def test_adoption_without_a_running_supervisor_is_done_directly(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _halt(harness)
        harness.exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc", qty=Decimal("0.2"),
                                                   client_order_id="bought-by-hand"))
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.stop_bot()
        harness.bot = None
        env = _cli_env(harness, sqlite_url)
        assert book_owner(harness.db) is None  # a clean stop hands the book back at once
        result = supervisor(tmp_path, "adopt", "BTC/USD", "--quantity", "0.1", "--price", "99", env=env)
        assert result.returncode == 0 and "adopted 0.1 at 99" in result.stdout, result.stdout + result.stderr
        bad = supervisor(tmp_path, "adopt", "BTC/USD", "--quantity", "-1", env=env)
        assert bad.returncode == 2 and "--quantity" in bad.stderr
