"""Migration 0005 (start condition, price range, stop loss columns) on a database that holds books:
every asset, cycle and order stays, the new columns read as off, and it downgrades cleanly. On SQLite
a batch table rebuild would have dropped `dca_assets` and cascaded to every cycle: this guards that."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect, text

from adapters.db import migrate
from adapters.db.assets import AssetRepository
from adapters.db.database import Database
from dca.cycle import OrderType
from tests.conftest import MARIADB_SERVER, scratch_mariadb_database

NEW_COLUMNS = {"start_condition", "min_price", "max_price", "stop_loss_percent", "stop_loss_timeout"}


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'books.sqlite3'}"
        return
    request.getfixturevalue("mariadb_url")
    with scratch_mariadb_database("dca_m5") as name:
        yield f"{MARIADB_SERVER}/{name}?charset=utf8mb4"


def _counts(db: Database) -> tuple[int, int, int]:
    with db.engine.begin() as connection:
        counts = [int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
                  for table in ("dca_assets", "dca_cycles", "dca_cycle_events")]
    return counts[0], counts[1], counts[2]


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
        before = _counts(db)
        migrate.run_chain(db.engine, "0005")
        assert migrate.current_revision(db.engine) == "0005" and _counts(db) == before == (1, 1, 1)
        assert {c["name"] for c in inspect(db.engine).get_columns("dca_assets")} >= NEW_COLUMNS
        migrate.run_chain(db.engine, "0007")  # the repository reads the head's columns
        assert _counts(db) == before
        params = AssetRepository(db).get("BTC/USD").params
        assert (params.start_condition, params.min_price, params.max_price, params.stop_loss_percent,
                params.stop_loss_timeout) == (None, None, None, None, 0)
        assert (params.take_profit_order_type, params.active_safety_orders) == (OrderType.MARKET, 0)
        config = migrate._config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert not NEW_COLUMNS & {c["name"] for c in inspect(db.engine).get_columns("dca_assets")}
        assert _counts(db) == before
    finally:
        db.dispose()
