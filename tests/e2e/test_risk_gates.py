"""Every risk gate against the simulator, through the real actor tree."""

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from loguru import logger

from adapters.db.meta import KILL_SWITCH, MetaStore
from adapters.db.models import DcaCycle
from dca.cycle import CycleStatus
from tests.e2e.harness import QUICK, BotHarness, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _vetoed(harness, gate, symbol="BTC/USD"):
    return harness.bot.runtime.metrics.orders_vetoed.labels(symbol, gate)._value.get()


def _engage(harness):
    MetaStore(harness.db).set(KILL_SWITCH, {"reason": "test", "since": datetime.now(UTC)})
    # time passes without a quote, so nothing can trade in the moment before the risk keeper looks
    wait_for(lambda: harness.pass_time(1) or harness.bot.runtime.risk.kill_switch is not None, 20,
             "the running supervisor to see the kill switch", poll=0.3)


def test_kill_switch_mid_cycle_stops_new_orders_and_leaves_open_ones_alone(tmp_path, database_url):
    with BotHarness(tmp_path, database_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.quote("BTC/USD", "100.00", "100.05")  # the base order filled: mid-cycle, in position
        harness.quote("BTC/USD", "99.70", "99.75")  # 0.25 % down: a safety order, LIMIT 100 (BTC's tick is $1)
        harness.quote("BTC/USD", "100.40", "100.50")  # the ask moved above the limit: it rests
        resting = harness.state("BTC/USD").cycle.order
        assert resting is not None
        _engage(harness)
        assert harness.bot.runtime.metrics.kill_switch._value.get() == 1
        harness.tick(3600 * 2)  # far past the stale-order limit: the cycle would cancel it, but may not
        assert harness.exchange.order_by_client_id(resting.client_order_id).is_open
        harness.quote("BTC/USD", "99.00", "99.05")  # the resting order fills on its own (the exchange acts)...
        harness.quote("BTC/USD", "101.00", "101.05")  # ...and take-profit is due, but no new order
        assert harness.state("BTC/USD").cycle.order is None and not harness.completed("BTC/USD")
        assert _vetoed(harness, "kill_switch") >= 1
        orders_while_halted = len(harness.exchange.orders())
        MetaStore(harness.db).delete(KILL_SWITCH)  # resume
        wait_for(lambda: harness.tick(1) or harness.bot.runtime.risk.kill_switch is None, 20, "the release")
        harness.quote("BTC/USD", "101.00", "101.05")  # take-profit: MARKET SELL
        harness.quote("BTC/USD", "101.00", "101.05")  # it fills
        wait_for(lambda: harness.completed("BTC/USD"), 10, "the take-profit after resuming")
        assert len(harness.exchange.orders()) == orders_while_halted + 1
        harness.settle_and_check()


def test_a_restart_with_the_switch_still_engaged_starts_halted(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _engage(harness)
        harness.stop_bot()
        harness.start_bot()  # the switch is stored in the database: the new process starts halted
        assert harness.bot.runtime.risk.kill_switch is not None
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.quote("BTC/USD", "100.00", "100.05")
        assert harness.exchange.orders() == [] and _vetoed(harness, "kill_switch") >= 1


def test_the_circuit_breaker_trips_on_repeated_rejections(tmp_path, sqlite_url):
    faults = {"reject_rate": 1.0, "reject_mode": "http403"}
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual", faults=faults,
                    settings_overrides={"circuit_breaker_failures": 3, "order_cooldown_seconds": 1}) as harness:
        for _ in range(12):  # a new attempt after each rejection's retry delay
            harness.quote("BTC/USD", "100.00", "100.05", after=2)
        metrics = harness.bot.runtime.metrics
        rejected = sum(metrics.orders_rejected.labels("BTC/USD", "buy", reason)._value.get()
                       for reason in ("exchange", "other", "insufficient_balance", "below_minimum"))
        assert rejected == 3
        assert _vetoed(harness, "circuit_breaker") >= 1
        assert metrics.circuit_open.labels("BTC/USD")._value.get() == 1
        assert harness.exchange.orders() == []  # rejected synchronously: nothing was ever created


def test_capital_budget_lets_the_base_order_through_and_stops_the_safety_order(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual",
                    settings_overrides={"capital_budget": Decimal(30)}) as harness:
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.quote("BTC/USD", "100.00", "100.05")  # base order ($20) filled
        harness.quote("BTC/USD", "99.70", "99.75")  # a safety order ($20) is due: 40 > 30
        assert harness.state("BTC/USD").cycle.order is None and _vetoed(harness, "capital_budget") >= 1


def test_max_open_cycles_and_the_cash_check(tmp_path, sqlite_url):
    assets = {"BTC/USD": QUICK, "ETH/USD": QUICK}
    with BotHarness(tmp_path, sqlite_url, assets=assets, pacing="manual",
                    settings_overrides={"max_open_cycles": 1}) as harness:
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.quote("ETH/USD", "100.00", "100.05")
        assert harness.state("ETH/USD").cycle.order is None and _vetoed(harness, "max_open_cycles", "ETH/USD") >= 1
    with BotHarness(tmp_path / "poor", sqlite_url.replace("bot.sqlite3", "poor.sqlite3"),
                    assets={"BTC/USD": QUICK}, pacing="manual", starting_cash=Decimal(15)) as harness:
        harness.quote("BTC/USD", "100.00", "100.05")  # a $20 base order with $15 in the account
        assert harness.exchange.orders() == [] and _vetoed(harness, "cash") >= 1


def test_the_daily_loss_limit_stops_new_buys(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual",
                    settings_overrides={"daily_loss_limit": Decimal(25)}) as harness:
        harness.stop_bot()
        now = harness.exchange.clock.now()
        with harness.db.transaction() as session:  # an earlier cycle today lost $30
            session.add(DcaCycle(asset_id=1, status=CycleStatus.ERROR.value, created_at=now, updated_at=now,
                                 completed_at=now, realized_pnl=Decimal(-30)))
        harness.start_bot()  # the gates are primed before the first quote
        assert harness.bot.runtime.metrics.daily_loss_limit_hit._value.get() == 1
        harness.quote("BTC/USD", "100.00", "100.05")
        assert harness.exchange.orders() == [] and _vetoed(harness, "daily_loss_limit") >= 1


def _rejections(harness, symbol):
    metrics = harness.bot.runtime.metrics
    return sum(metrics.orders_rejected.labels(symbol, "buy", reason)._value.get()
               for reason in ("exchange", "other", "insufficient_balance", "below_minimum"))


def _rejected_until_its_breaker_opens(harness, symbol):
    """Quote `symbol` until its orders, all rejected, have opened its own circuit breaker."""
    breaker = harness.bot.runtime.metrics.circuit_open.labels(symbol)
    for _ in range(12):  # a new attempt after each rejection's retry delay
        harness.quote(symbol, "100.00", "100.05", after=2)
        if breaker._value.get() == 1:
            return
    raise AssertionError(f"{symbol}'s circuit breaker never opened")


def _error_lines(text):
    lines = []
    sink = logger.add(lambda message: lines.append(str(message)), level="ERROR",
                      filter=lambda record: text in record["message"])
    return lines, sink


def test_one_assets_rejections_open_only_its_own_breaker_and_the_others_trade_on(tmp_path, sqlite_url):
    faults = {"reject_rate": 1.0, "reject_mode": "http403"}
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK, "ETH/USD": QUICK}, pacing="manual",
                    faults=faults,
                    settings_overrides={"circuit_breaker_failures": 3, "order_cooldown_seconds": 1}) as harness:
        _rejected_until_its_breaker_opens(harness, "BTC/USD")
        assert _rejections(harness, "BTC/USD") == 3
        metrics = harness.bot.runtime.metrics
        assert metrics.circuit_open.labels("global")._value.get() == 0
        assert harness.bot.runtime.risk.open_breakers(harness.exchange.clock.now()) == ["BTC/USD"]
        harness.exchange.faults.set("reject_rate", 0.0)  # whatever troubled BTC, ETH's orders are fine
        harness.quote("ETH/USD", "100.00", "100.05")
        assert harness.state("ETH/USD").cycle.order is not None and _vetoed(harness, "circuit_breaker", "ETH/USD") == 0
        assert [o.symbol for o in harness.exchange.orders()] == ["ETH/USD"]


def test_rejections_adding_up_across_assets_open_the_global_breaker_and_log_each_scope(tmp_path, sqlite_url):
    faults = {"reject_rate": 1.0, "reject_mode": "http403"}
    assets = {"BTC/USD": QUICK, "ETH/USD": QUICK, "SOL/USD": QUICK}
    lines, sink = _error_lines("circuit breaker opened")
    try:
        with BotHarness(tmp_path, sqlite_url, assets=assets, pacing="manual", faults=faults,
                        settings_overrides={"circuit_breaker_failures": 3, "order_cooldown_seconds": 1}) as harness:
            _rejected_until_its_breaker_opens(harness, "BTC/USD")
            _rejected_until_its_breaker_opens(harness, "ETH/USD")  # 3 + 3: twice the threshold, two assets
            metrics = harness.bot.runtime.metrics
            for scope in ("BTC/USD", "ETH/USD", "global"):
                assert metrics.circuit_open.labels(scope)._value.get() == 1, scope
            harness.exchange.faults.set("reject_rate", 0.0)
            harness.quote("SOL/USD", "100.00", "100.05")  # never failed, but every asset is stopped now
            assert _vetoed(harness, "circuit_breaker", "SOL/USD") >= 1 and _rejections(harness, "SOL/USD") == 0
            assert harness.state("SOL/USD").cycle.order is None
    finally:
        logger.remove(sink)
    opened = [line.split("circuit breaker opened for ")[1].split(" ")[0] for line in lines]
    assert opened == ["BTC/USD", "ETH/USD", "all"], lines


def _account_reads_per_quote(harness, symbol, quotes=30):
    """REST requests the bot makes while `quotes` quotes arrive, per quote. The quotes are a hundredth
    of a simulated second apart, so no caretaker or timer runs meanwhile: whatever is counted, the
    asset actor asked for."""
    (before,) = wait_for(lambda: _requests_settled(harness), 10, "the bot's earlier requests to be over")
    for i in range(quotes):
        harness.quote(symbol, "100.00", "100.05" if i % 2 else "100.06", after=0.01)
    return (harness.exchange.stats["requests"] - before) / quotes


def _requests_settled(harness):
    """(the request count,) once it stayed the same for half a second; None before that."""
    count = harness.exchange.stats["requests"]
    time.sleep(0.5)
    return (count,) if harness.exchange.stats["requests"] == count else None


def test_a_buy_blocked_by_the_kill_switch_costs_no_request_per_quote(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        _engage(harness)
        assert _account_reads_per_quote(harness, "BTC/USD") == 0
        assert _vetoed(harness, "kill_switch") >= 30 and harness.exchange.orders() == []


def test_a_buy_blocked_by_an_open_breaker_or_a_limit_costs_no_request_per_quote(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK, "ETH/USD": QUICK}, pacing="manual",
                    settings_overrides={"max_open_cycles": 1}) as harness:
        harness.quote("BTC/USD", "100.00", "100.05")  # BTC's cycle is open: ETH may not start one
        assert _account_reads_per_quote(harness, "ETH/USD") == 0
        assert _vetoed(harness, "max_open_cycles", "ETH/USD") >= 30


def test_a_buy_waiting_for_cash_reads_the_account_once_in_a_while_not_per_quote(tmp_path, sqlite_url):
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, pacing="manual",
                    starting_cash=Decimal(15)) as harness:  # a $20 base order with $15 in the account
        assert _account_reads_per_quote(harness, "BTC/USD") < 0.2
        assert _vetoed(harness, "cash") >= 30 and harness.exchange.orders() == []
