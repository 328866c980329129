"""The caretakers at work on the real tree (scripted market: simulated time moves only when told)."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from loguru import logger
from sqlalchemy import select

from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.models import DcaOrder
from adapters.sim.orders import OrderRequest
from dca.cycle import CycleStatus
from dca.market import Bar
from dca.params import AssetParams, with_overrides
from tests.e2e.harness import FAST_INTERVALS, QUICK, SCRIPT_START, BotHarness, wait_for

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
    """... and says so at INFO once, for the catch-up: the routine new minutes after it go to DEBUG
    (at a fast simulator's pace they came every real second)."""
    said = []
    sink = logger.add(lambda message: said.append(str(message)), level="INFO",
                      filter=lambda record: "new bars up to" in record["message"])
    try:
        with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual", keep_bars=True,
                        intervals=replace(FAST_INTERVALS, bars_sync=60)) as harness:
            store = BarStore(harness.db)
            asset = AssetRepository(harness.db).get("BTC/USD")
            wait_for(lambda: harness.tick(1) or store.count(asset.id) >= 30 * 1440 - 5, 60, "30 days of bars")
            latest = store.latest_time(asset.id)
            assert harness.exchange.clock.now() - latest < timedelta(minutes=5)
            wait_for(lambda: harness.tick(30) or store.latest_time(asset.id) >= latest + timedelta(minutes=3), 60,
                     "three more minutes of bars")
    finally:
        logger.remove(sink)
    assert len(said) == 1 and "BTC/USD: " in said[0], said


def test_bars_sync_catches_up_at_most_the_backfill_after_old_bars(tmp_path, sqlite_url):
    """A database whose newest bar is a year old (the seed bot fetched bars for one backtest, then
    never again) gets the last 30 days, not a year of minutes that would hold the caretaker for hours."""
    old = SCRIPT_START - timedelta(days=365)

    def prepare(harness):
        harness.db.upgrade()
        AssetRepository(harness.db).add(["BTC/USD"], with_overrides(AssetParams(), QUICK), enabled=True)
        asset = AssetRepository(harness.db).get("BTC/USD")
        BarStore(harness.db).upsert(asset.id, [Bar("BTC/USD", old, *[Decimal(100)] * 4, Decimal(1))])

    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual", keep_bars=True,
                    prepare=prepare) as harness:
        store = BarStore(harness.db)
        asset = AssetRepository(harness.db).get("BTC/USD")
        wait_for(lambda: harness.tick(1) or store.count(asset.id) >= 30 * 1440 - 5, 60, "30 days of bars")
        month_ago = harness.exchange.clock.now() - timedelta(days=31)
        assert store.count(asset.id, old + timedelta(minutes=1), month_ago) == 0
        assert harness.exchange.clock.now() - store.latest_time(asset.id) < timedelta(minutes=5)


def _janitor_runs(harness):
    return harness.bot.runtime.metrics.caretaker_runs.labels("order_janitor")._value.get()


def _let_the_janitor_run(harness, times=2):
    """Let simulated time pass (no quotes) until the janitor has run `times` more times."""
    target = _janitor_runs(harness) + times
    wait_for(lambda: harness.pass_time(1) or _janitor_runs(harness) >= target, 20, "the janitor's runs", poll=0.2)


def _resting_base_order(harness):
    harness.quote("BTC/USD", "100.00", "100.05")  # base order: LIMIT BUY at 101 (BTC's tick is $1)
    harness.quote("BTC/USD", "102.00", "102.05")  # the ask moved above it: it rests
    order = harness.state("BTC/USD").cycle.order
    assert order is not None and harness.exchange.order_by_client_id(order.client_order_id).is_open
    return order


def test_janitor_leaves_every_order_alone_while_the_kill_switch_is_engaged(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        tracked = _resting_base_order(harness)
        orphan = _resting_buy(harness, f"{harness.namespace()}-1-999-1")
        switch = tmp_path / "data" / "KILL_SWITCH"
        switch.parent.mkdir(parents=True, exist_ok=True)
        switch.touch()
        risk = harness.bot.runtime.risk
        wait_for(lambda: harness.pass_time(1) or risk.kill_switch is not None, 20, "the kill switch", poll=0.3)
        harness.pass_time(3 * 3600)  # past twice the stale limit (60 min in the harness) for both orders
        _let_the_janitor_run(harness)
        assert harness.exchange.order(orphan.id).is_open
        assert harness.exchange.order_by_client_id(tracked.client_order_id).is_open
        switch.unlink()  # released: the janitor does its work again
        wait_for(lambda: harness.pass_time(1) or not harness.exchange.order(orphan.id).is_open, 20,
                 "the janitor to cancel the orphan after the release", poll=0.3)


def test_janitor_backstop_cancel_of_a_stale_buy_is_counted_as_a_stale_buy(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        order = _resting_base_order(harness)
        runtime = harness.bot.runtime
        runtime.scheduler.cancel_all_for(runtime.asset_handle("BTC/USD").ref)  # the cycle's own timeout is lost
        harness.pass_time(2 * 3600 + 60)  # twice the stale limit: the janitor cancels it on the exchange
        canceled = runtime.metrics.orders_canceled
        wait_for(lambda: harness.pass_time(1) or harness.state("BTC/USD").cycle.order is None, 20,
                 "the janitor's cancel to reach the cycle", poll=0.3)
        assert not harness.exchange.order_by_client_id(order.client_order_id).is_open
        assert canceled.labels("BTC/USD", "buy", "stale_buy")._value.get() == 1
        assert canceled.labels("BTC/USD", "buy", "canceled")._value.get() == 0


def test_janitor_sees_every_open_order_past_the_first_page_of_500(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        for n in range(500):  # a full REST page of somebody else's orders, a millisecond apart, oldest first
            _resting_buy(harness, f"manual-{n}")
            harness.exchange.clock.advance(timedelta(milliseconds=1))
        orphan = _resting_buy(harness, f"{harness.namespace()}-1-999-1")  # ours, on the second page
        harness.pass_time(3700)  # older than the stale threshold (60 min in the harness)
        wait_for(lambda: harness.pass_time(1) or not harness.exchange.order(orphan.id).is_open, 30,
                 "the janitor to cancel the orphan on the second page", poll=0.5)
        assert len(harness.exchange.open_orders()) == 500  # the foreign ones: never touched


def test_order_rows_left_wrong_by_lost_updates_or_a_crash_are_settled_within_one_interval(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        namespace, long_ago = harness.namespace(), harness.exchange.clock.now() - timedelta(hours=1)
        canceled = _resting_buy(harness, f"{namespace}-1-998-1")
        harness.exchange.cancel_order(canceled.id)
        never_sent = f"{namespace}-1-999-1"
        mirrored = select(DcaOrder).where(DcaOrder.client_order_id == canceled.client_order_id)

        def row_of_the_canceled_order():
            harness.tick(1)
            with harness.db.transaction() as session:
                return session.execute(mirrored).scalar_one_or_none() is not None

        wait_for(row_of_the_canceled_order, 30, "the order's row")
        with harness.db.transaction() as session:  # its cancel's update was lost; a crash came before a submit
            row = session.execute(mirrored).scalar_one()
            row.status, row.updated_at, row.created_at = "new", None, long_ago
            session.add(DcaOrder(client_order_id=never_sent, status="submitting", time_in_force="gtc",
                                 created_at=long_ago, fetched_at=long_ago, updated_by_fetch_at=long_ago))

        def statuses():
            harness.tick(1)
            with harness.db.transaction() as session:
                rows = session.execute(select(DcaOrder).where(
                    DcaOrder.client_order_id.in_([canceled.client_order_id, never_sent]))).scalars()
                return {row.client_order_id: row.status for row in rows}

        wait_for(lambda: statuses() == {canceled.client_order_id: "canceled", never_sent: "never_sent"}, 30,
                 "the order history sync to settle both rows")
