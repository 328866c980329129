"""The bot against a venue that does not behave as the bot assumed: coins sold by hand mid-cycle."""

from decimal import Decimal

import pytest

from adapters.sim.orders import OrderRequest
from dca.money import round_down
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def _bots_sells(harness):
    namespace = harness.namespace()
    return [o for o in harness.exchange.orders() if o.side == "sell" and o.client_order_id.startswith(namespace)]


def test_a_manual_partial_sell_mid_cycle_still_exits_cleanly_without_refused_sells(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": {**QUICK, "base_order_amount": "60"}},
                    pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.quote("BTC/USD", "100.00", "100.05")  # the base order fills
        bought = harness.state("BTC/USD").cycle.quantity
        by_hand = round_down(bought * Decimal("0.4"), Decimal("0.000000001"))
        harness.exchange.submit_order(OrderRequest("BTC/USD", "sell", "market", "gtc", qty=by_hand,
                                                   client_order_id="sold-by-hand"))
        harness.quote("BTC/USD", "100.00", "100.05")  # the manual sell fills
        # take-profit: the sell waits for a second reading of the position, then sells what is left
        wait_for(lambda: harness.quote("BTC/USD", "101.00", "101.05") and harness.completed("BTC/USD"), 20,
                 "the cycle to complete")
        (sell,) = _bots_sells(harness)  # one sell, of what was left, accepted and filled
        assert sell.status == "filled" and sell.qty == bought - by_hand
        # The sell guard and the reconciler share one shortfall watch (app.shortfall), and whichever
        # takes the confirming reading corrects the cycle: once, either way. Only the sell guard's
        # correction counts as a capped sell.
        (correction,) = harness.events("left the bot; the cycle keeps")
        assert f"{by_hand} left the bot; the cycle keeps {bought - by_hand}" in correction
        shortfalls = harness.bot.runtime.metrics.sell_shortfalls.labels("BTC/USD")._value.get()
        rejected = harness.bot.runtime.metrics.orders_rejected.collect()[0].samples
        assert shortfalls in (0, 1) and all(s.value == 0 for s in rejected if s.name.endswith("_total"))
        assert not harness.problems()
        harness.settle_and_check()


def test_an_enabled_pair_the_venue_does_not_trade_gets_no_actor_and_is_reported(tmp_path, sqlite_url):
    from adapters.db.assets import AssetRepository
    from dca.params import AssetParams

    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        AssetRepository(harness.db).add(["XRP/USDD"], AssetParams(), enabled=True)
        runtime = harness.bot.runtime
        refused = runtime.metrics.pairs_refused.labels("XRP/USDD", "not_usd_quoted")
        wait_for(lambda: harness.tick(1) or refused._value.get() == 1, 20, "the watcher to refuse the pair")
        assert not runtime.asset_handle("XRP/USDD").is_alive()
        assert runtime.meta.get("refused_pairs") == {"XRP/USDD": "not_usd_quoted"}
        harness.settle_and_check()
