"""`db status` recognises the seed bot's database and `db upgrade` converts it in place, keeping every
row; any other schema is refused and left as it is. Each test runs on SQLite and on MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapters.db import migrate
from adapters.db.database import Database
from adapters.db.models import DcaAsset, DcaCycle, DcaOrder, HistoricalBar
from adapters.db.seed_schema import SchemaKind, inspect_schema
from supervisor import main
from tests.takeover.seed_db import create_seed_schema, dump, insert, seed_engine

LIVE_ORDER = "6f1f3a52-9d1c-4c1e-a3c4-1d2b3c4d5e6f"
FOREIGN_ORDER = "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
ASSETS = [
    {"id": 1, "asset_symbol": "BTC/USD", "is_enabled": 1, "base_order_amount": "20.0000000000",
     "safety_order_amount": "25.5000000000", "max_safety_orders": 3, "safety_order_deviation": "0.2500",
     "take_profit_percent": "0.3000", "ttp_enabled": 0, "last_sell_price": "51000.5000000000",
     "cooldown_period": 60, "created_at": "2025-06-01 10:00:00", "updated_at": "2025-06-02 10:00:00"},
    {"id": 2, "asset_symbol": "ETH/USD", "is_enabled": 1, "ttp_enabled": 1, "ttp_deviation_percent": "0.1000",
     "cooldown_period": 300, "created_at": "2025-06-01 10:00:00", "updated_at": "2025-06-02 10:00:00"},
]
CYCLES = [
    {"id": 1, "asset_id": 1, "status": "complete", "quantity": "0.000399600000000",
     "average_purchase_price": "50000.1234567891", "safety_orders": 1, "last_order_fill_price": "49875.0000000000",
     "highest_trailing_price": None, "completed_at": "2025-06-01 12:00:00", "sell_price": "51000.5000000000",
     "created_at": "2025-06-01 10:00:00", "updated_at": "2025-06-01 12:00:00"},
    {"id": 2, "asset_id": 2, "status": "complete", "quantity": "0.009900000000000",
     "average_purchase_price": "2000.5000000000", "safety_orders": 0, "last_order_fill_price": "2000.5000000000",
     "highest_trailing_price": "2012.2500000000", "completed_at": "2025-06-02 09:59:00",
     "sell_price": "2010.0000000000", "created_at": "2025-06-02 08:00:00", "updated_at": "2025-06-02 09:59:00"},
    {"id": 3, "asset_id": 1, "status": "buying", "quantity": "0.000399600000000",
     "average_purchase_price": "50000.0000000000", "safety_orders": 0, "latest_order_id": LIVE_ORDER,
     "latest_order_created_at": "2025-06-02 09:00:00", "last_order_fill_price": "50000.0000000000",
     "created_at": "2025-06-01 12:00:00", "updated_at": "2025-06-02 09:00:00"},
    {"id": 4, "asset_id": 2, "status": "cooldown", "created_at": "2025-06-02 09:59:00",
     "updated_at": "2025-06-02 09:59:00"},
]
ORDERS = [
    {"id": LIVE_ORDER, "client_order_id": "3c0e7b0e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "symbol": "BTC/USD",
     "asset_class": "crypto", "order_class": "", "order_type": "limit", "type": "limit", "side": "buy",
     "qty": "0.000500000000000", "filled_qty": "0", "limit_price": "49875.0000000000", "status": "new",
     "time_in_force": "gtc", "created_at": "2025-06-02 09:00:00", "submitted_at": "2025-06-02 09:00:00",
     "fetched_at": "2025-06-02 09:05:00", "updated_by_fetch_at": "2025-06-02 09:05:00"},
    {"id": FOREIGN_ORDER, "client_order_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "symbol": "SOL/USD",
     "order_class": "", "type": "limit", "side": "buy", "qty": "1.000000000000000", "limit_price": "100.0000000000",
     "status": "new", "time_in_force": "gtc", "created_at": "2025-06-02 08:30:00",
     "fetched_at": "2025-06-02 09:05:00", "updated_by_fetch_at": "2025-06-02 09:05:00",
     "legs": None},
]
BARS = [{"asset_id": 1, "timestamp": f"2025-06-01 10:0{m}:00", "open": "50000.1000000000", "high": "50010.0000000000",
         "low": "49990.0000000000", "close": f"5000{m}.0000000000", "volume": "1.234567890123456",
         "trade_count": "12.0000000000", "vwap": "50001.2345678901"} for m in range(5)]


def seed_database(url: str, **options: bool) -> None:
    create_seed_schema(url, **options)
    assets = ASSETS
    if options.get("drop_later_columns"):
        assets = [{k: v for k, v in a.items() if k not in ("ttp_deviation_percent", "cooldown_period")} for a in ASSETS]
    insert(url, "dca_assets", assets)
    cycles = CYCLES
    if options.get("drop_later_columns"):
        cycles = [{k: v for k, v in c.items() if k not in ("highest_trailing_price", "sell_price")} for c in CYCLES]
    insert(url, "dca_cycles", cycles)
    insert(url, "dca_orders", ORDERS)
    if options.get("with_bars", True):
        insert(url, "historical_1min_bars", BARS)


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def utc(text_value: str) -> datetime:
    return datetime.fromisoformat(text_value).replace(tzinfo=UTC)


def test_status_names_the_seed_bots_schema_and_what_upgrade_will_do(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "db", "status")
    assert code == 1
    assert "the seed bot's schema (dca_assets 2 rows, dca_cycles 4 rows, dca_orders 2 rows, " \
           "historical_1min_bars 5 rows), not converted yet" in out
    assert ("Back the database up first: `mysqldump --single-transaction -h 127.0.0.1 -P 3306 -u root -p dca_e2e_"
            in out) or ("Back the database up first: `sqlite3 " in out and '.before-upgrade"`' in out)
    assert "Then `supervisor.py db upgrade` will, keeping every row:" in out
    assert "dca_orders: key it by a surrogate `pk`" in out or "rebuild dca_orders" in out
    assert "record the old bot's open cycles" in out


@pytest.mark.parametrize("options", [{"with_bars": False}, {"drop_later_columns": True}],
                         ids=["without-bars", "before-the-later-columns"])
def test_status_recognises_the_seed_schema_without_bars_or_its_later_columns(database_url, options, monkeypatch,
                                                                               capsys) -> None:
    seed_database(database_url, **options)
    code, out = cli(monkeypatch, capsys, database_url, "db", "status")
    assert code == 1 and "the seed bot's schema" in out


def test_an_unknown_schema_is_refused_and_left_alone(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    engine = seed_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE dca_cycles ADD COLUMN strategy_name varchar(20)")
    engine.dispose()
    before = dump(database_url)
    for args in (("db", "status"), ("db", "upgrade"), ("status",)):
        code, out = cli(monkeypatch, capsys, database_url, *args)
        assert code == 2, out
        assert "dca_cycles has columns the seed bot never had: strategy_name" in out
    assert dump(database_url) == before


def test_other_tables_without_alembic_are_refused(database_url, monkeypatch, capsys) -> None:
    engine = seed_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE dca_assets (id INTEGER PRIMARY KEY, symbol varchar(25))")
        connection.exec_driver_sql("CREATE TABLE trades (id INTEGER PRIMARY KEY)")
    engine.dispose()
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 2
    assert "no table dca_cycles, dca_orders; tables trades belong to neither bot" in out


def test_other_commands_refuse_the_seed_schema_until_it_is_upgraded(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    before = dump(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "status")
    assert code == 2
    assert "the database has the seed bot's schema; back it up, then convert it with `supervisor.py db upgrade`" in out
    assert dump(database_url) == before


def test_dry_run_prints_the_plan_and_changes_nothing(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    before = dump(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade", "--dry-run")
    assert code == 0
    assert "Then `supervisor.py db upgrade` would, keeping every row:" in out
    assert f"stamp Alembic revision 0001, then apply the migrations up to {migrate.head_revision()}" in out
    assert dump(database_url) == before


def test_upgrade_keeps_every_asset_cycle_order_and_bar_with_its_values(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 0, out
    assert "rows kept (after/before): dca_assets 2/2, dca_cycles 4/4, dca_orders 2/2, historical_1min_bars 5/5" in out
    assert "open cycles to take over at the first `run`: 3, 4" in out
    assert f"schema now at revision {migrate.head_revision()}" in out
    db = Database(database_url)
    try:
        assert migrate.current_revision(db.engine) == migrate.head_revision()
        with db.transaction() as session:
            btc, eth = session.execute(select(DcaAsset).order_by(DcaAsset.id)).scalars()
            assert (btc.asset_symbol, btc.safety_order_amount, btc.max_safety_orders, btc.last_sell_price) == (
                "BTC/USD", Decimal("25.5"), 3, Decimal("51000.5"))
            assert (btc.ttp_enabled, btc.cooldown_period, btc.created_at) == (False, 60, utc("2025-06-01 10:00:00"))
            assert (eth.ttp_deviation_percent, eth.base_order_amount, eth.dust_quantity) == (
                Decimal("0.1"), Decimal("10"), Decimal(0))
            cycles = {c.id: c for c in session.execute(select(DcaCycle)).scalars()}
            done = cycles[1]
            assert (done.status, done.quantity, done.average_purchase_price, done.sell_price, done.completed_at) == (
                "complete", Decimal("0.0003996"), Decimal("50000.1234567891"), Decimal("51000.5"),
                utc("2025-06-01 12:00:00"))
            assert done.cost == Decimal("0.0003996") * Decimal("50000.1234567891")
            assert done.realized_pnl == Decimal("0.0003996") * (Decimal("51000.5") - Decimal("50000.1234567891"))
            assert cycles[2].highest_trailing_price == Decimal("2012.25")
            live = cycles[3]
            assert (live.status, live.latest_order_id, live.latest_order_created_at, live.last_order_fill_price) == (
                "buying", LIVE_ORDER, utc("2025-06-02 09:00:00"), Decimal("50000"))
            assert (live.cost, live.bought_qty) == (Decimal("19.98"), Decimal("0.0003996"))
            assert cycles[4].cooldown_until == utc("2025-06-02 10:04:00")  # ETH's completion + 300 s
            orders = {o.id: o for o in session.execute(select(DcaOrder)).scalars()}
            assert orders[LIVE_ORDER].client_order_id == ORDERS[0]["client_order_id"]
            assert (orders[LIVE_ORDER].limit_price, orders[LIVE_ORDER].created_at) == (
                Decimal("49875"), utc("2025-06-02 09:00:00"))
            assert orders[FOREIGN_ORDER].updated_at is None  # the seed's '0000-00-00' meant none
            assert orders[FOREIGN_ORDER].cycle_id is None
            bars = session.execute(select(HistoricalBar).order_by(HistoricalBar.timestamp)).scalars().all()
            assert [(b.timestamp, b.close, b.volume, b.vwap) for b in bars] == [
                (utc(f"2025-06-01 10:0{m}:00"), Decimal(f"5000{m}"), Decimal("1.234567890123456"),
                 Decimal("50001.2345678901")) for m in range(5)]
    finally:
        db.dispose()


def test_a_second_upgrade_is_a_no_op(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    assert cli(monkeypatch, capsys, database_url, "db", "upgrade")[0] == 0
    after_first = dump(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 0 and f"schema at revision {migrate.head_revision()} (current)" in out
    assert dump(database_url) == after_first


def test_the_seed_bots_scripts_can_still_insert_after_the_upgrade(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    assert cli(monkeypatch, capsys, database_url, "db", "upgrade")[0] == 0
    insert(database_url, "dca_assets", [{"asset_symbol": "SOL/USD", "is_enabled": 1}])  # add_asset.py's INSERT
    insert(database_url, "dca_cycles", [{"asset_id": 1, "status": "watching"}])  # asset_caretaker.py's INSERT
    db = Database(database_url)
    try:
        with db.transaction() as session:
            sol = session.execute(select(DcaAsset).where(DcaAsset.asset_symbol == "SOL/USD")).scalar_one()
            assert abs((sol.created_at - datetime.now(UTC)).total_seconds()) < 3600  # UTC, not local time
    finally:
        db.dispose()


def test_upgrade_before_the_later_columns_adds_them_with_their_defaults(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url, drop_later_columns=True)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 0, out
    db = Database(database_url)
    try:
        with db.transaction() as session:
            assert [a.cooldown_period for a in session.execute(select(DcaAsset).order_by(DcaAsset.id)).scalars()] == [
                120, 120]
            assert session.execute(select(DcaCycle.sell_price).where(DcaCycle.id == 1)).scalar() is None
    finally:
        db.dispose()


def test_orphaned_cycles_are_refused_before_anything_changes(database_url, monkeypatch, capsys) -> None:
    seed_database(database_url)
    insert(database_url, "dca_cycles", [{"id": 9, "asset_id": 42, "status": "complete"}])
    before = dump(database_url)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 2
    assert "dca_cycles 9 belong to no row of dca_assets" in out
    assert dump(database_url) == before


def test_the_converted_schema_is_the_one_our_models_describe(database_url) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from adapters.db.models import Base
    from adapters.db.seed_schema import convert

    seed_database(database_url)
    db = Database(database_url)
    try:
        convert(db.engine, inspect_schema(db.engine), db.now, progress=lambda line: None)
        assert inspect_schema(db.engine).kind is SchemaKind.OURS
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_an_interrupted_upgrade_is_finished_by_running_it_again(database_url, monkeypatch, capsys) -> None:
    from adapters.db import seed_schema

    seed_database(database_url)
    before = dump(database_url)
    real = seed_schema._record_open_cycles

    def power_cut(*args: object) -> list[int]:
        raise RuntimeError("power cut")

    monkeypatch.setattr(seed_schema, "_record_open_cycles", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        cli(monkeypatch, capsys, database_url, "db", "upgrade")
    if database_url.startswith("sqlite"):
        assert dump(database_url) == before  # one transaction: nothing happened
    else:  # MariaDB committed its ALTERs: the rerun sees a half-converted seed schema
        assert "partly converted by an interrupted `db upgrade`" in cli(monkeypatch, capsys, database_url,
                                                                         "db", "status")[1]
    monkeypatch.setattr(seed_schema, "_record_open_cycles", real)
    code, out = cli(monkeypatch, capsys, database_url, "db", "upgrade")
    assert code == 0, out
    assert "rows kept (after/before): dca_assets 2/2, dca_cycles 4/4, dca_orders 2/2, historical_1min_bars 5/5" in out
    db = Database(database_url)
    try:
        with db.transaction() as session:
            assert session.get(DcaCycle, 3).cost == Decimal("19.98")  # filled in once, not twice
            assert session.get(DcaCycle, 1).realized_pnl == Decimal("0.0003996") * (
                Decimal("51000.5") - Decimal("50000.1234567891"))
    finally:
        db.dispose()


def test_run_exits_2_with_the_remedy_while_the_seed_bot_runs_then_takes_over_once_it_is_stopped(tmp_path) -> None:
    import subprocess
    import sys

    from tests.cli.helpers import supervisor

    database = tmp_path / "data" / "dca.sqlite3"
    database.parent.mkdir()
    seed_database(f"sqlite:///{database}")
    seed_dir = tmp_path / "dcaTrader"
    seed_dir.mkdir()
    env = {"SEED_BOT_DIR": str(seed_dir), "LOG_LEVEL": "WARNING", "METRICS_PORT": "0",
           "BARS_SYNC_INTERVAL_SECONDS": "0"}
    assert supervisor(tmp_path, "db", "upgrade", env=env).returncode == 0
    main_app = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "src/main_app.py"])
    try:
        (seed_dir / "main_app.pid").write_text(f"{main_app.pid}\n")
        refused = supervisor(tmp_path, "run", "--duration", "5", "--speed", "60", env=env, timeout=90)
    finally:
        main_app.kill()
        main_app.wait()
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert f"main_app.pid names the running process {main_app.pid}" in refused.stderr
    assert "stop main_app.py (`python scripts/app_control.py stop`)" in refused.stderr
    assert "its open cycles (3, 4) are taken over at the next `run`" in supervisor(tmp_path, "db", "status",
                                                                                   env=env).stdout
    started = supervisor(tmp_path, "run", "--duration", "5", "--speed", "60", env=env, timeout=90)
    assert started.returncode == 0, started.stderr[-2000:]
    status = supervisor(tmp_path, "db", "status", env=env).stdout
    assert "taken over from the seed bot on " in status and ": cycles 3, 4 " in status
