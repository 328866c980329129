"""Switching over from the seed bot, end to end, on SQLite and MariaDB: a database built from the seed's
DDL with the rows its bot wrote, its orders on the simulator (placed, as it did, without a client id),
then `db upgrade` and `run`. The open cycle carries on and completes its take-profit, the history
stays, nothing is duplicated, the seed bot's other order is left alone; and while the seed bot still
looks active, the takeover refuses to start."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from adapters.db import migrate
from adapters.db.meta import MetaStore
from adapters.db.models import DcaCycle, HistoricalBar
from adapters.sim.orders import OrderRequest
from app.takeover import SeedBotActive, takeover_note
from config.settings import ConfigError
from dca.cycle import CycleStatus
from dca.market import Quote
from tests.e2e.harness import QUICK, BotHarness
from tests.takeover.seed_db import create_seed_schema, dump, insert
from tests.takeover.test_seed_upgrade import cli
from tests.waiting import wait_for

PAIRS = {"BTC/USD": QUICK, "ETH/USD": QUICK, "SOL/USD": QUICK}  # the simulator's pairs
HAND_TRADED = frozenset({"SOL/USD"})  # the seed bot's user trades it by hand: no asset, no actor
QUICK_ASSET = {"is_enabled": 1, "base_order_amount": "20", "safety_order_amount": "20", "max_safety_orders": 3,
               "safety_order_deviation": "0.2500", "take_profit_percent": "0.3000", "ttp_enabled": 0,
               "buy_order_price_deviation_percent": "0.5000", "cooldown_period": 60}


@dataclass
class SeedBot:
    """What the seed bot left: its orders on the simulator and its rows in the database."""

    started: datetime | None = None
    base_order: Any = None
    safety_order: Any = None
    foreign_order: Any = None
    position: Any = None
    history: dict[int, tuple] = field(default_factory=dict)


def _stamp(moment: datetime) -> str:
    return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")


def _quote(harness: BotHarness, symbol: str, bid: str, ask: str) -> list:
    exchange = harness.exchange
    return exchange.push_quote(Quote(symbol, Decimal(bid), Decimal(ask), exchange.clock.now() + timedelta(seconds=1)))


def seed_bot_was_here(seed: SeedBot, extra_orders: int = 0, eth_sold_by_hand: bool = False):  # type: ignore[no-untyped-def]
    """A `prepare` for the harness: the seed bot's trading, as it would have done it."""

    def prepare(harness: BotHarness) -> None:
        exchange, url = harness.exchange, harness.database_url
        for symbol, bid, ask in (("BTC/USD", "50000", "50010"), ("ETH/USD", "2000", "2001"),
                                 ("SOL/USD", "150", "150.1")):
            _quote(harness, symbol, bid, ask)
        seed.started = exchange.clock.now()
        # its base order (a market buy in this scenario: no client id, as the seed bot sent none)
        seed.base_order = exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc",
                                                             qty=Decimal("0.0004")))
        _quote(harness, "BTC/USD", "50000", "50010")
        seed.base_order = exchange.order(str(seed.base_order.id))
        seed.position = exchange.position("BTCUSD")
        # its safety order, live below the market, and an order its user placed by hand on another pair
        seed.safety_order = exchange.submit_order(OrderRequest(
            "BTC/USD", "buy", "limit", "gtc", qty=Decimal("0.0004"), limit_price=Decimal("49870")))
        seed.foreign_order = exchange.submit_order(OrderRequest(
            "SOL/USD", "buy", "limit", "gtc", qty=Decimal("1"), limit_price=Decimal("10")))
        _quote(harness, "BTC/USD", "50000", "50010")
        for _ in range(extra_orders):  # placed by a seed bot still running: in no book
            exchange.submit_order(OrderRequest("ETH/USD", "buy", "limit", "gtc", qty=Decimal("0.01"),
                                               limit_price=Decimal("1900")))
        now = exchange.clock.now()
        create_seed_schema(url)
        insert(url, "dca_assets", [{"id": 1, "asset_symbol": "BTC/USD", **QUICK_ASSET, "last_sell_price": "50300",
                                    "created_at": _stamp(now - timedelta(days=9)), "updated_at": _stamp(now)},
                                   {"id": 2, "asset_symbol": "ETH/USD", **QUICK_ASSET,
                                    "created_at": _stamp(now - timedelta(days=9)), "updated_at": _stamp(now)}])
        old = now - timedelta(days=2)
        insert(url, "dca_cycles", [
            {"id": 1, "asset_id": 1, "status": "complete", "quantity": "0.000399600000000",
             "average_purchase_price": "50100.0000000000", "safety_orders": 1, "last_order_fill_price": "49975",
             "completed_at": _stamp(old), "sell_price": "50300", "created_at": _stamp(old - timedelta(hours=3)),
             "updated_at": _stamp(old)},
            {"id": 2, "asset_id": 2, "status": "complete", "quantity": "0.009990000000000",
             "average_purchase_price": "2001.0000000000", "safety_orders": 0, "last_order_fill_price": "2001",
             "completed_at": _stamp(now - timedelta(seconds=20)), "sell_price": "2008",
             "created_at": _stamp(now - timedelta(hours=1)), "updated_at": _stamp(now - timedelta(seconds=20))},
            {"id": 3, "asset_id": 1, "status": "buying", "quantity": str(seed.position.qty),
             "average_purchase_price": str(seed.position.avg_entry_price), "safety_orders": 0,
             "last_order_fill_price": str(seed.base_order.filled_avg_price),
             "latest_order_id": str(seed.safety_order.id),
             "latest_order_created_at": _stamp(now), "created_at": _stamp(old), "updated_at": _stamp(now)},
            {"id": 4, "asset_id": 2, "status": "cooldown", "created_at": _stamp(now - timedelta(seconds=20)),
             "updated_at": _stamp(now - timedelta(seconds=20))},
        ])
        if eth_sold_by_hand:  # its books say ETH is held; the user sold the coins on Alpaca's website
            _sql(url, "UPDATE dca_cycles SET status = 'watching', quantity = 0.00999, average_purchase_price = 1990, "
                      "last_order_fill_price = 1990, updated_at = created_at WHERE id = 4")
        insert(url, "dca_orders", [_mirrored(exchange.order(str(o.id)), now)
                                   for o in (seed.base_order, seed.safety_order, seed.foreign_order)])
        insert(url, "historical_1min_bars", [
            {"asset_id": 1, "timestamp": _stamp(old + timedelta(minutes=m)), "open": "50000", "high": "50020",
             "low": "49990", "close": f"5001{m}", "volume": "0.5"} for m in range(10)])
        seed.history = _history(url)

    return prepare


def _sql(url: str, statement: str, **values: Any) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(statement), values)
    engine.dispose()


def _mirrored(order: Any, at: datetime) -> dict[str, Any]:
    """A row as the seed bot's fetch_orders.py wrote it."""
    return {"id": str(order.id), "client_order_id": order.client_order_id, "symbol": order.symbol,
            "asset_class": "crypto", "order_class": "", "order_type": str(order.type), "type": str(order.type),
            "side": str(order.side), "qty": str(order.qty), "filled_qty": str(order.filled_qty),
            "filled_avg_price": str(order.filled_avg_price) if order.filled_avg_price is not None else None,
            "limit_price": str(order.limit_price) if order.limit_price is not None else None,
            "status": str(order.status), "time_in_force": "gtc", "created_at": _stamp(order.created_at),
            "submitted_at": _stamp(order.created_at), "fetched_at": _stamp(at), "updated_by_fetch_at": _stamp(at)}


def _history(url: str) -> dict[int, tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, status, quantity, average_purchase_price, safety_orders, "
                                       "sell_price FROM dca_cycles WHERE id IN (1, 2)")).all()
    engine.dispose()
    return {row[0]: (row[1], Decimal(str(row[2])), Decimal(str(row[3])), row[4], Decimal(str(row[5])))
            for row in rows}


@pytest.fixture
def upgraded(database_url, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    """`supervisor.py db upgrade` on the seed bot's database, as the user runs it."""

    def upgrade(harness: BotHarness) -> None:
        code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
        assert code == 0, out

    return upgrade


def _prepare_and_upgrade(seed: SeedBot, upgrade: Any, **variant: Any):  # type: ignore[no-untyped-def]
    build = seed_bot_was_here(seed, **variant)

    def prepare(harness: BotHarness) -> None:
        build(harness)
        upgrade(harness)

    return prepare


def test_the_open_cycle_is_taken_over_and_completes_its_take_profit(tmp_path, database_url, upgraded, monkeypatch,
                                                                     capsys) -> None:
    seed = SeedBot()
    harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual",
                         prepare=_prepare_and_upgrade(seed, upgraded))
    with harness:
        state = harness.state("BTC/USD")
        live = state.cycle.order
        assert (state.cycle.id, state.cycle.status) == (3, CycleStatus.BUYING)
        assert (live.exchange_id, live.client_order_id) == (str(seed.safety_order.id),
                                                            seed.safety_order.client_order_id)
        assert (state.cycle.quantity, state.cycle.average_price) == (seed.position.qty, seed.position.avg_entry_price)
        assert state.cycle.last_fill_price == seed.base_order.filled_avg_price
        assert harness.state("ETH/USD").cycle.status is CycleStatus.COOLDOWN
        assert takeover_note(MetaStore(harness.db)).startswith("taken over from the seed bot on ")
        assert "cycles 3, 4" in takeover_note(MetaStore(harness.db))
        assert harness.events("taken over from the seed bot: BTC/USD buying")

        harness.quote("BTC/USD", "49860", "49865")  # the seed bot's safety order fills
        wait_for(lambda: harness.state("BTC/USD").cycle.status is CycleStatus.WATCHING, 10, "the safety fill")
        assert harness.state("BTC/USD").cycle.safety_orders == 1
        harness.quote("BTC/USD", "50300", "50305")  # above the take-profit: sold
        harness.quote("BTC/USD", "50300", "50305")
        wait_for(lambda: any(c["id"] == 3 for c in harness.completed("BTC/USD")), 10, "the take-profit")
        harness.quote("BTC/USD", "50300", "50305")
        harness.exchange.pause()
        wait_for(lambda: not [p for p in harness.problems() if seed.foreign_order.client_order_id not in p], 20,
                 "the books to match the simulator")
        foreign = harness.exchange.order(str(seed.foreign_order.id))
        assert foreign.is_open and foreign.filled_qty == 0  # the seed bot's other order, untouched
        assert harness.overlapping_orders() == []  # nothing duplicated
        harness.stop_bot()
    db = harness.db
    with db.transaction() as session:
        done = session.get(DcaCycle, 3)
        assert (done.status, done.safety_orders) == ("complete", 1)
        assert done.sold_qty > seed.position.qty and done.realized_pnl > 0  # both buys' coins, sold at a profit
        assert len(session.execute(select(HistoricalBar)).scalars().all()) == 10
    assert _history(database_url) == seed.history  # the seed bot's completed cycles, as they were
    before = dump(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 0 and f"revision {migrate.head_revision()} (current)" in out
    assert dump(database_url) == before  # a second upgrade is a no-op
    code, out = cli(monkeypatch, capsys, database_url, "db", "status")
    assert code == 0 and "taken over from the seed bot on " in out and ": cycles 3, 4 " in out


def test_a_fill_between_the_two_bots_is_applied_once_at_the_takeover(tmp_path, database_url, upgraded) -> None:
    seed = SeedBot()
    build = _prepare_and_upgrade(seed, upgraded)

    def prepare(harness: BotHarness) -> None:
        build(harness)
        assert _quote(harness, "BTC/USD", "49860", "49865")  # the safety order fills while no bot runs

    harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual", prepare=prepare)
    with harness:
        wait_for(lambda: harness.state("BTC/USD").cycle.status is CycleStatus.WATCHING, 10, "the fill read back")
        cycle = harness.state("BTC/USD").cycle
        assert (cycle.id, cycle.safety_orders, cycle.order) == (3, 1, None)
        assert cycle.last_fill_price == Decimal("49870")
        assert cycle.quantity == harness.exchange.position("BTCUSD").qty  # exactly once, net of the coin fee
        harness.quote("BTC/USD", "49860", "49865")
        assert harness.state("BTC/USD").cycle.quantity == harness.exchange.position("BTCUSD").qty


def test_a_selling_cycle_whose_sell_filled_between_the_two_bots_completes(tmp_path, database_url, upgraded) -> None:
    seed = SeedBot()
    build = seed_bot_was_here(seed)

    def prepare(harness: BotHarness) -> None:
        build(harness)  # then the seed bot took profit (a market sell) and was stopped before the fill
        exchange = harness.exchange
        exchange.cancel_order(str(seed.safety_order.id))
        sell = exchange.submit_order(OrderRequest("BTC/USD", "sell", "market", "gtc", qty=seed.position.qty))
        _sql(harness.database_url, "UPDATE dca_cycles SET status = 'selling', latest_order_id = :sell, "
                                   "updated_at = updated_at WHERE id = 3", sell=str(sell.id))
        assert _quote(harness, "BTC/USD", "50200", "50210")  # it fills while no bot runs
        upgraded(harness)

    harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual", prepare=prepare)
    with harness:
        wait_for(lambda: harness.state("BTC/USD").cycle.id != 3, 10, "the sell read back")
        (done,) = [c for c in harness.completed("BTC/USD") if c["id"] == 3]
        assert done["sell_price"] == Decimal("50200") and done["realized_pnl"] > 0
        assert harness.state("BTC/USD").cycle.status is CycleStatus.COOLDOWN
        assert not [p for p in harness.exchange.positions() if p.symbol == "BTC/USD"]


def test_a_cycle_whose_coins_are_gone_is_reported_then_ended_by_the_reconciler(tmp_path, database_url,
                                                                              upgraded) -> None:
    harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual",
                         prepare=_prepare_and_upgrade(SeedBot(), upgraded, eth_sold_by_hand=True))
    with harness:
        assert harness.events("books disagree at the takeover: the cycle holds 0.00999 ETH, the exchange 0 ETH")
        wait_for(lambda: harness.pass_time(1) or harness.state("ETH/USD").cycle.id != 4, 30,
                 "the reconciler to end the cycle", poll=0.2)
        assert harness.events("the coins left the bot")
        with harness.db.transaction() as session:
            assert session.get(DcaCycle, 4).status == "error"


def test_the_takeover_refuses_while_orders_nobody_explains_appear_on_the_exchange(tmp_path, database_url,
                                                                                   upgraded) -> None:
    seed = SeedBot()
    harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual",
                         prepare=_prepare_and_upgrade(seed, upgraded, extra_orders=1))
    with pytest.raises(SeedBotActive) as refused:
        harness.__enter__()
    harness.__exit__(None, None, None)
    message = str(refused.value)
    assert isinstance(refused.value, ConfigError)  # `run` exits 2
    assert "the exchange shows 1 order(s) placed in the last 5 minutes that neither bot's books explain" in message
    assert "remove its cron entries (watchdog.py and the caretakers)" in message
    assert MetaStore(harness.db).get("takeover").get("pending") == [3, 4]  # nothing taken over yet


def test_the_takeover_refuses_while_the_seed_bots_pid_file_names_a_running_process(tmp_path, database_url,
                                                                                    upgraded) -> None:
    seed_dir = tmp_path / "dcaTrader"
    seed_dir.mkdir()
    main_app = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "src/main_app.py"])
    try:
        (seed_dir / "main_app.pid").write_text(f"{main_app.pid}\n")
        harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual",
                             prepare=_prepare_and_upgrade(SeedBot(), upgraded),
                             settings_overrides={"seed_bot_dir": seed_dir})
        with pytest.raises(SeedBotActive, match=f"main_app.pid names the running process {main_app.pid}"):
            harness.__enter__()
        harness.__exit__(None, None, None)
    finally:
        main_app.kill()
        main_app.wait()
    # (once the process has stopped, the stale PID file no longer stands in the way: see
    # test_seed_upgrade.py's test of `supervisor.py run`)


def test_the_takeover_refuses_while_the_seed_bot_keeps_writing_its_books(tmp_path, database_url, upgraded) -> None:
    seed = SeedBot()
    build = _prepare_and_upgrade(seed, upgraded)

    def prepare(harness: BotHarness) -> None:
        build(harness)
        _sql(database_url, "UPDATE dca_cycles SET updated_at = :at WHERE id = 3",  # its consistency checker
             at=_wall_minus(minutes=1))

    harness = BotHarness(tmp_path, database_url, assets=PAIRS, disabled=HAND_TRADED, pacing="manual", prepare=prepare)
    with pytest.raises(SeedBotActive, match=r"it updated its books at .* UTC, less than 5 minutes ago"):
        harness.__enter__()
    harness.__exit__(None, None, None)


def _wall_minus(minutes: int) -> datetime:
    from datetime import UTC

    return (datetime.now(UTC) - timedelta(minutes=minutes)).replace(tzinfo=None)
