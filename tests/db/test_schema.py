"""The schema: migrations apply on both engines and keep the original's columns, keys and indexes."""

from decimal import Decimal

from sqlalchemy import inspect

from adapters.db import migrate


def test_migrations_are_applied_and_idempotent(database):
    assert database.is_current()
    database.upgrade()  # a second run changes nothing
    assert migrate.current_revision(database.engine) == migrate.head_revision()


def test_original_tables_keep_their_columns_and_keys(database):
    inspector = inspect(database.engine)
    assert {"dca_assets", "dca_cycles", "dca_orders", "historical_1min_bars"} <= set(inspector.get_table_names())
    seed_cycle_columns = {
        "id", "asset_id", "status", "quantity", "average_purchase_price", "safety_orders", "latest_order_id",
        "latest_order_created_at", "last_order_fill_price", "highest_trailing_price", "completed_at", "sell_price",
        "created_at", "updated_at",
    }
    assert seed_cycle_columns <= {c["name"] for c in inspector.get_columns("dca_cycles")}
    bar_uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("historical_1min_bars")}
    assert ("asset_id", "timestamp") in bar_uniques
    order_indexes = {i["name"] for i in inspector.get_indexes("dca_orders")}
    seed_indexes = {"idx_symbol", "idx_status", "idx_side", "idx_created_at", "idx_filled_at", "idx_fetched_at"}
    assert seed_indexes <= order_indexes
    asset_uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("dca_assets")}
    assert ("asset_symbol",) in asset_uniques


def test_decimal_columns_have_the_original_precision_on_mariadb(database):
    if database.engine.dialect.name != "mysql":
        return
    columns = {c["name"]: c["type"] for c in inspect(database.engine).get_columns("dca_assets")}
    assert (columns["base_order_amount"].precision, columns["base_order_amount"].scale) == (20, 10)
    assert (columns["take_profit_percent"].precision, columns["take_profit_percent"].scale) == (10, 4)
    bars = {c["name"]: c["type"] for c in inspect(database.engine).get_columns("historical_1min_bars")}
    assert (bars["volume"].precision, bars["volume"].scale) == (30, 15)


def test_new_database_gets_a_stable_installation_tag(database):
    tag = database.installation_tag()
    assert len(tag) == 5 and tag.isalnum() and tag == database.installation_tag()


def test_decimal_values_survive_a_round_trip_exactly(database):
    from adapters.db.assets import AssetRepository
    from dca.params import AssetParams

    repo = AssetRepository(database)
    params = AssetParams(base_order_amount=Decimal("0.1000000001"), take_profit_percent=Decimal("1.2345"))
    (_added,), _ = repo.add(["BTC/USD"], params, enabled=True)
    again = repo.get("BTC/USD")
    assert again.params.base_order_amount == Decimal("0.1000000001")
    assert again.params.take_profit_percent == Decimal("1.2345")
