"""Failures the bot must survive without a duplicate order or a lost fill."""

import pytest

from actors.messages import Snapshot
from dca.cycle import CycleStatus
from tests.e2e.harness import QUICK, QUICK_TRAILING, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


class CrashOnceAfterSubmit:
    """The cycle store, except that storing the first acceptance of an order raises: the asset
    actor dies after the order reached the exchange and before it recorded the exchange's answer."""

    def __init__(self, store):
        self._store, self.crashed = store, False

    def __getattr__(self, name):
        return getattr(self._store, name)

    def save(self, asset_id, before, decision, at):
        order, after = before.cycle.order, decision.state.cycle.order
        if not self.crashed and order is not None and after is not None and order.exchange_id is None \
                and after.exchange_id is not None:
            self.crashed = True
            raise RuntimeError("injected: the process stumbled right after submitting an order")
        return self._store.save(asset_id, before, decision, at)


def test_an_asset_actor_crashing_mid_order_is_restarted_without_a_duplicate(tmp_path, database_url):
    with BotHarness(tmp_path, database_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        runtime = harness.bot.runtime
        faulty = runtime.cycles = CrashOnceAfterSubmit(runtime.cycles)
        harness.push("BTC/USD", "100.00", "100.05")  # base order submitted; storing the answer crashes
        wait_for(lambda: faulty.crashed, 10, "the injected crash")
        restarts = runtime.metrics.actor_restarts.labels("asset:BTC/USD")

        def restarted() -> bool:  # the restart backoff runs on simulated time: let a second pass
            harness.push("BTC/USD", "100.00", "100.05")
            return restarts._value.get() >= 1 and harness.last_quote("BTC/USD") is not None

        wait_for(restarted, 20, "the asset actor's restart", poll=0.3)
        harness.quote("BTC/USD", "100.00", "100.05")
        state = harness.bot.runtime.asset_handle("BTC/USD").ask(Snapshot(), timeout=10)[1]
        assert state.cycle.quantity > 0  # the one base order filled and was applied once
        assert len(harness.exchange.orders()) == 1  # never submitted twice
        harness.quote("BTC/USD", "101.00", "101.05")
        harness.quote("BTC/USD", "101.00", "101.05")
        wait_for(lambda: harness.completed("BTC/USD"), 10, "the cycle to go on and complete")
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        harness.settle_and_check()


CHAOS = {
    "ws_close_every": 4, "http_5xx_rate": 0.05, "http_5xx_mode": "after", "http_429_rate": 0.03,
    "trade_update_duplicate_rate": 0.2, "trade_update_reorder_rate": 0.2, "trade_update_delay_ms": 30,
    "trade_update_drop_rate": 0.05, "partial_fill_rate": 0.3, "http_5xx_next": 2,
}


def test_dropped_websockets_5xx_429_and_unreliable_trade_updates_are_recovered(tmp_path, database_url):
    assets = {"BTC/USD": QUICK, "ETH/USD": QUICK_TRAILING}
    with BotHarness(tmp_path, database_url, assets=assets, faults=CHAOS, speed=600) as harness:
        metrics = harness.bot.runtime.metrics
        wait_for(lambda: len(harness.completed()) >= 2, 200, "two completed cycles despite the faults")
        wait_for(lambda: metrics.stream_reconnects.labels("trade_updates")._value.get() >= 1
                 and metrics.stream_reconnects.labels("market_data")._value.get() >= 1, 30, "both streams to reconnect")
        stats = harness.exchange.stats
        assert stats["faulted_5xx"] >= 2, stats
        harness.exchange.faults.reset()  # let the last reports through before comparing the books
        harness.settle_and_check(timeout=60)
