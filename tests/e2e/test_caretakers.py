"""The caretakers at work on the real tree (scripted market: simulated time moves only when told)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.models import DcaOrder
from adapters.sim.orders import OrderRequest
from dca.cycle import CycleStatus
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _resting_buy(harness, client_order_id, price="50"):
    order = harness.exchange.submit_order(OrderRequest("BTC/USD", "buy", "limit", "gtc", qty=Decimal("0.2"),
                                                       limit_price=Decimal(price), client_order_id=client_order_id))
    return order


def test_janitor_cancels_our_orphaned_orders_and_never_touches_foreign_ones(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")  # the bot places its base order (tracked)
        orphan = _resting_buy(harness, f"{harness.namespace()}-1-999-1")  # ours, but no cycle knows it
        foreign = _resting_buy(harness, "manual-order-1")
        harness.tick(3700)  # older than the stale threshold (60 min in the harness)
        metrics = harness.bot.runtime.metrics.orders_canceled.labels("BTC/USD", "buy", "orphan")
        wait_for(lambda: harness.tick(1) or metrics._value.get() >= 1, 20, "the janitor's next run", poll=0.3)
        assert not harness.exchange.order(orphan.id).is_open
        assert harness.exchange.order(foreign.id).is_open  # foreign: never touched, whatever its age


def test_asset_watcher_starts_stops_and_reloads_assets_without_a_restart(tmp_path, sqlite_url):
    assets = {"BTC/USD": QUICK, "ETH/USD": QUICK}
    with BotHarness(tmp_path, sqlite_url, assets=assets, disabled=frozenset({"ETH/USD"}), pacing="manual") as harness:
        runtime, repo = harness.bot.runtime, AssetRepository(harness.db)
        assert not runtime.asset_handle("ETH/USD").is_alive()
        repo.set_enabled("ETH/USD", True)
        wait_for(lambda: harness.tick(1) or runtime.asset_handle("ETH/USD").is_alive(), 20, "ETH's actor to start")
        repo.update_params("BTC/USD", {"take_profit_percent": "5"})
        wait_for(lambda: harness.tick(1) or harness.snapshot("BTC/USD")[0].params.take_profit_percent == 5, 20,
                 "the new take-profit to reach the running actor")
        repo.set_enabled("ETH/USD", False)
        wait_for(lambda: harness.tick(1) or not runtime.asset_handle("ETH/USD").is_alive(), 20, "ETH's actor to stop")


def test_order_history_sync_mirrors_orders_the_bot_did_not_place(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        foreign = [_resting_buy(harness, f"manual-{i}") for i in range(3)]

        def mirrored():
            harness.tick(1)
            with harness.db.transaction() as session:
                rows = session.execute(select(DcaOrder).where(DcaOrder.client_order_id.like("manual-%"))).scalars()
                return {row.client_order_id: row.cycle_id for row in rows}

        rows = wait_for(lambda: len(mirrored()) == 3 and mirrored(), 30, "the foreign orders in dca_orders")
        assert set(rows) == {o.client_order_id for o in foreign} and set(rows.values()) == {None}


def test_cooldown_keeper_ends_a_cooldown_whose_timer_was_lost(tmp_path, sqlite_url):
    assets = {"BTC/USD": {**QUICK, "cooldown_period": 300}, "ETH/USD": QUICK}
    with BotHarness(tmp_path, sqlite_url, assets=assets, disabled=frozenset({"ETH/USD"}), pacing="manual") as harness:
        for bid, ask in (("100.00", "100.05"), ("100.00", "100.05"), ("101.00", "101.05"), ("101.00", "101.05")):
            harness.quote("BTC/USD", bid, ask)
        wait_for(lambda: harness.completed("BTC/USD"), 10, "the cycle to complete")
        runtime = harness.bot.runtime
        runtime.scheduler.cancel_all_for(runtime.asset_handle("BTC/USD").ref)  # the actor's own timers are lost
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        harness.tick(301, symbol="ETH/USD")  # time passes; BTC gets no quote, so only the keeper can act
        wait_for(lambda: harness.tick(1, symbol="ETH/USD") or harness.state("BTC/USD").cycle.status
                 is CycleStatus.WATCHING, 20, "the keeper to end the cooldown", poll=0.5)
        assert harness.events("cooldown over")


def test_bars_sync_keeps_history_current_for_enabled_assets(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual", keep_bars=True) as harness:
        store = BarStore(harness.db)
        asset = AssetRepository(harness.db).get("BTC/USD")
        wait_for(lambda: harness.tick(1) or store.count(asset.id) >= 30 * 1440 - 5, 60, "30 days of bars")
        latest = store.latest_time(asset.id)
        assert harness.exchange.clock.now() - latest < timedelta(minutes=5)
