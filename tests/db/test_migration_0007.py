"""Migration 0007 (the take-profit's order type, max active safety orders, `dca_orders.resting`) on
books that hold rows: up keeps every asset, cycle, event and order and reads the new parameters as
off (a market take-profit, no resting safety orders, no resting order); down drops only its columns
and keeps the rows, and up again works. Plain ADD/DROP COLUMN: no table rebuild that could cascade."""

from __future__ import annotations

from sqlalchemy import text

from adapters.db import migrate
from adapters.db.assets import AssetRepository
from adapters.db.database import Database
from dca.cycle import OrderType
from tests.db.conftest import columns, downgrade, row_counts

ASSET_COLUMNS = {"take_profit_order_type", "active_safety_orders"}
TABLES = ("dca_assets", "dca_cycles", "dca_cycle_events", "dca_orders")


def _books_at_0006(db: Database) -> None:
    migrate.run_chain(db.engine, "0006")
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO dca_assets (asset_symbol, max_safety_orders, created_at, updated_at) "
                                "VALUES ('BTC/USD', 4, '2026-01-01', '2026-01-01')"))
        connection.execute(text("INSERT INTO dca_cycles (asset_id, status, created_at, updated_at) "
                                "VALUES (1, 'watching', '2026-01-01', '2026-01-01')"))
        connection.execute(text("INSERT INTO dca_cycle_events (cycle_id, asset_id, at, detail) "
                                "VALUES (1, 1, '2026-01-01', 'cycle started')"))
        connection.execute(text(
            "INSERT INTO dca_orders (client_order_id, symbol, status, time_in_force, created_at, fetched_at, "
            "updated_by_fetch_at, cycle_id, dca_asset_id) VALUES ('dca-x-1', 'BTC/USD', 'filled', 'gtc', "
            "'2026-01-01', '2026-01-01', '2026-01-01', 1, 1)"))


def test_migration_0007_up_and_down_keeps_every_row_and_the_new_parameters_start_off(empty_url):
    db = Database(empty_url)
    try:
        _books_at_0006(db)
        before = row_counts(db, TABLES)
        assert before == (1, 1, 1, 1)
        migrate.run_chain(db.engine, "0007")
        assert migrate.current_revision(db.engine) == "0007" and row_counts(db, TABLES) == before
        assert columns(db, "dca_assets") >= ASSET_COLUMNS and "resting" in columns(db, "dca_orders")
        repo = AssetRepository(db)
        params = repo.get("BTC/USD").params
        assert (params.take_profit_order_type, params.active_safety_orders, params.max_safety_orders) == (
            OrderType.MARKET, 0, 4)
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT resting FROM dca_orders")).scalar_one() in (False, 0)
        changed = repo.update_params("BTC/USD", {"take_profit_order_type": "limit", "ttp_enabled": "false",
                                                 "active_safety_orders": "3"}).params
        assert (changed.take_profit_order_type, changed.active_safety_orders) == (OrderType.LIMIT, 3)
        assert repo.get("BTC/USD").params == changed  # stored and read back

        downgrade(db, "0006")
        assert migrate.current_revision(db.engine) == "0006" and row_counts(db, TABLES) == before
        assert not ASSET_COLUMNS & columns(db, "dca_assets") and "resting" not in columns(db, "dca_orders")
        migrate.run_chain(db.engine, "0007")  # and up again: the columns come back, off
        assert row_counts(db, TABLES) == before
        again = AssetRepository(db).get("BTC/USD").params
        assert (again.take_profit_order_type, again.active_safety_orders, again.ttp_enabled) == (
            OrderType.MARKET, 0, False)
    finally:
        db.dispose()
