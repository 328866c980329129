"""Deal start conditions and the price range on the real actor tree against the simulator: a start
condition read from the stored one-minute bars holds the first cycle back until it is true; a price
range holds it back until the ask is inside it. Scripted quotes (manual pacing), both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.database import Database
from app.reports import status
from dca.market import Bar
from tests.e2e.harness import QUICK, SCRIPT_START, BotHarness
from wiring.market_view import VenueView

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def store_bars(harness: BotHarness, first_minute: int, closes: list[str]) -> None:
    """One-minute bars from SCRIPT_START + first_minute on, as BarsSync would have stored them."""
    assert harness.db is not None
    asset = AssetRepository(harness.db).get("BTC/USD")
    assert asset is not None
    bars = [Bar("BTC/USD", SCRIPT_START + timedelta(minutes=first_minute + i), Decimal(c), Decimal(c), Decimal(c),
                Decimal(c)) for i, c in enumerate(closes)]
    BarStore(harness.db).upsert(asset.id, bars)


def venue_status(harness: BotHarness):
    """`status` of BTC/USD as the CLI computes it: the books, and the simulator's quotes and clock."""
    assert harness.bot is not None and harness.bot.runtime is not None
    db = Database(harness.database_url, now=harness.exchange.clock.now)
    try:
        return {row.symbol: row for row in status(db, VenueView(harness.bot.runtime.broker, "sim"))}["BTC/USD"]
    finally:
        db.dispose()


def test_a_start_condition_holds_the_first_cycle_back_until_it_is_true(tmp_path, database_url):
    assets = {"BTC/USD": {**QUICK, "start_condition": "close < sma(3) and close < 100"}}
    with BotHarness(tmp_path, database_url, assets=assets, pacing="manual") as harness:
        store_bars(harness, -10, ["101"] * 10)  # up to 23:59: close 101 = sma(3), the condition is false
        harness.quote("BTC/USD", "100.00", "100.05", after=5)
        harness.quote("BTC/USD", "99.00", "99.05", after=5)  # a lower price does not matter: bars do
        state = harness.state("BTC/USD")
        assert state.cycle.order is None and state.cycle.is_flat
        assert state.start_reading is not None and not state.start_reading.holds
        assert state.start_reading.waiting_for == "close < sma(3)"
        assert dict(state.start_reading.values)["sma(3)"] == 101.0
        waiting = venue_status(harness)
        assert "close < sma(3)" in waiting.waiting_for and "sma(3) = 101" in waiting.start_condition

        harness.quote("BTC/USD", "99.00", "99.05", after=60)  # 00:01: the bar of 00:00 is not stored yet
        state = harness.state("BTC/USD")
        assert state.cycle.order is None and not state.start_reading.complete
        assert "one-minute bar of 00:00" in state.start_reading.waiting_for

        store_bars(harness, 0, ["98"])  # the bar of 00:00 arrives: close 98 < sma(3) = 100, and < 100
        harness.quote("BTC/USD", "99.00", "99.05", after=11)  # asked again 10 s after the incomplete reading
        state = harness.state("BTC/USD")
        assert state.start_reading.holds and state.start_reading.as_of == SCRIPT_START + timedelta(minutes=1)
        assert state.cycle.order is not None and state.cycle.order.kind.value == "base"
        assert harness.events("start condition close < sma(3) and close < 100 holds (close = 98, sma(3) = 100)")
        harness.settle_and_check()


def test_a_price_range_holds_the_first_cycle_back_until_the_ask_is_inside_it(tmp_path, database_url):
    assets = {"BTC/USD": {**QUICK, "min_price": "90", "max_price": "100"}}
    with BotHarness(tmp_path, database_url, assets=assets, pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")  # the buy would pay 101 (BTC's price increment is 1)
        assert harness.state("BTC/USD").cycle.order is None
        assert venue_status(harness).waiting_for.endswith("to fall to max_price 100")
        harness.quote("BTC/USD", "99.40", "99.45")
        order = harness.state("BTC/USD").cycle.order
        assert order is not None and order.limit_price == Decimal(100)
        harness.settle_and_check()
