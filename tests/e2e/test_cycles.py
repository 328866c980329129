"""Whole cycles on the real actor tree against the simulator, on both databases.

The first test lets the simulator's synthetic market run at high speed; the others script every
quote (manual pacing) so that each transition happens exactly when the test says.
"""

import pytest
from loguru import logger

from dca.cycle import CycleStatus
from tests.e2e.harness import QUICK, QUICK_TRAILING, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_cycles_complete_with_safety_orders_plain_and_trailing_take_profit(tmp_path, database_url):
    with BotHarness(tmp_path, database_url) as harness:
        wait_for(lambda: harness.completed("BTC/USD") and harness.completed("ETH/USD"), 200,
                 "a completed cycle on both pairs (plain take-profit on BTC, trailing on ETH)")
        wait_for(lambda: any(c["safety_orders"] for c in harness.completed())
                 or any(c.cycle.safety_orders for c in harness.cycles()), 150, "a safety order to fill")
        assert harness.events("trailing armed") and harness.events("trailing take-profit")
        assert harness.events("take-profit: bid")
        # Each sell was decided at or above its trigger (trailing never below the take-profit floor);
        # the market sell then fills at the next bid, so with QUICK's 0.3 % take-profit against a
        # 0.25 % sell fee a cycle may realize a few cents either way: the books must match exactly.
        sells = [event for event in harness.events("take-profit: bid") if "at market" in event]
        assert len(sells) >= len(harness.completed())
        harness.settle_and_check()


def _buy_and_take_profit(harness, symbol="BTC/USD"):
    """A scripted base buy at 100.05 and a take-profit at 101: the cycle completes."""
    harness.quote(symbol, "100.00", "100.05")  # base order: LIMIT BUY at the ask
    harness.quote(symbol, "100.00", "100.05")  # it fills (taker) on the next quote
    cycle = harness.state(symbol).cycle
    assert cycle.quantity > 0 and cycle.average_price > 100  # the 0.25 % fee in coin raised the cost
    harness.quote(symbol, "100.50", "100.55")  # below avg × 1.003 (≈ 100.60): nothing
    assert harness.state(symbol).cycle.order is None
    harness.quote(symbol, "101.00", "101.05")  # take-profit: MARKET SELL
    harness.quote(symbol, "101.00", "101.05")  # it fills at the bid
    wait_for(lambda: harness.completed(symbol), 10, "the cycle to complete")


def test_cooldown_ends_by_the_clock(tmp_path, database_url):
    assets = {"BTC/USD": {**QUICK, "cooldown_period": 300}}
    with BotHarness(tmp_path, database_url, assets=assets, pacing="manual") as harness:
        _buy_and_take_profit(harness)
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        harness.quote("BTC/USD", "101.00", "101.05", after=200)  # 4 minutes in: still cooling down
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        harness.quote("BTC/USD", "101.00", "101.05", after=101)  # 5 minutes in: over, base order at once
        assert harness.state("BTC/USD").cycle.status is CycleStatus.BUYING
        assert harness.events("cooldown over")
        harness.settle_and_check()


def test_a_price_drop_ends_the_cooldown_early(tmp_path, database_url):
    assets = {"BTC/USD": {**QUICK, "cooldown_period": 86_400 * 30, "buy_order_price_deviation_percent": "0.1"}}
    with BotHarness(tmp_path, database_url, assets=assets, pacing="manual") as harness:
        _buy_and_take_profit(harness)
        harness.quote("BTC/USD", "100.85", "100.90")  # sold at 101: 0.1 % below is 100.899
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        harness.quote("BTC/USD", "100.85", "100.89")
        assert harness.state("BTC/USD").cycle.status is CycleStatus.BUYING
        assert harness.events("price-triggered restart")
        harness.settle_and_check()


def test_a_note_repeated_with_a_moving_price_is_logged_once(tmp_path, sqlite_url):
    """Trailing, with the bid below the stop but also below the take-profit floor: the cycle holds and
    says so. Said at every quote with a new bid, it would flood the log (184 lines in 8 s once)."""
    holding = []
    sink = logger.add(lambda message: holding.append(str(message)), level="INFO",
                      filter=lambda record: "trailing stop hit" in record["message"])
    try:
        with BotHarness(tmp_path, sqlite_url, assets={"ETH/USD": QUICK_TRAILING}, pacing="manual") as harness:
            harness.quote("ETH/USD", "100.00", "100.05")  # base order
            harness.quote("ETH/USD", "100.00", "100.05")  # it fills: average ≈ 100.30, take-profit ≈ 100.60
            harness.quote("ETH/USD", "101.00", "101.05")  # trailing armed at peak 101, stop ≈ 100.90
            assert harness.state("ETH/USD").cycle.status is CycleStatus.TRAILING
            for cents in range(20):  # below the floor, above the safety trigger, a new bid every time
                bid = f"100.{55 - cents:02d}"
                harness.quote("ETH/USD", bid, f"100.{60 - cents:02d}")
            assert harness.state("ETH/USD").cycle.status is CycleStatus.TRAILING and not harness.exchange.orders()[1:]
    finally:
        logger.remove(sink)
    assert len(holding) == 1, holding
    assert "trailing stop hit at bid 100.55 below the take-profit floor" in holding[0]
