"""Migration 0005 (start condition, price range, stop loss columns) on a database that holds books:
every asset, cycle and order stays, the new columns read as off, and it downgrades cleanly. On SQLite
a batch table rebuild would have dropped `dca_assets` and cascaded to every cycle: this guards that."""

from __future__ import annotations

from sqlalchemy import text

from adapters.db import migrate
from adapters.db.assets import AssetRepository
from adapters.db.database import Database
from dca.cycle import OrderType
from tests.db.conftest import columns, downgrade, row_counts

TABLES = ("dca_assets", "dca_cycles", "dca_cycle_events")
NEW_COLUMNS = {"start_condition", "min_price", "max_price", "stop_loss_percent", "stop_loss_timeout"}


def test_upgrading_books_to_0005_and_on_keeps_every_row_and_the_new_parameters_are_off(empty_url):
    db = Database(empty_url)
    try:
        migrate.run_chain(db.engine, "0004")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO dca_assets (asset_symbol, created_at, updated_at) "
                                    "VALUES ('BTC/USD', '2026-01-01', '2026-01-01')"))
            connection.execute(text("INSERT INTO dca_cycles (asset_id, status, created_at, updated_at) "
                                    "VALUES (1, 'watching', '2026-01-01', '2026-01-01')"))
            connection.execute(text("INSERT INTO dca_cycle_events (cycle_id, asset_id, at, detail) "
                                    "VALUES (1, 1, '2026-01-01', 'cycle started')"))
        before = row_counts(db, TABLES)
        migrate.run_chain(db.engine, "0005")
        assert migrate.current_revision(db.engine) == "0005" and row_counts(db, TABLES) == before == (1, 1, 1)
        assert columns(db, "dca_assets") >= NEW_COLUMNS
        migrate.run_chain(db.engine, "0007")  # the repository reads the head's columns
        assert row_counts(db, TABLES) == before
        params = AssetRepository(db).get("BTC/USD").params
        assert (params.start_condition, params.min_price, params.max_price, params.stop_loss_percent,
                params.stop_loss_timeout) == (None, None, None, None, 0)
        assert (params.take_profit_order_type, params.active_safety_orders) == (OrderType.MARKET, 0)
        downgrade(db, "0004")
        assert not NEW_COLUMNS & columns(db, "dca_assets")
        assert row_counts(db, TABLES) == before
    finally:
        db.dispose()
