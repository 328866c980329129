"""dca_assets through the repository (what the CLI and the AssetWatcher use)."""

from decimal import Decimal

import pytest

from adapters.db.assets import AssetRepository, UnknownAsset
from dca.params import AssetParams, InvalidParams


def test_added_assets_are_listed_in_order_and_existing_ones_skipped(database):
    repo = AssetRepository(database)
    added, existing = repo.add(["BTC/USD", "ETH/USD"], AssetParams(), enabled=True)
    assert [a.symbol for a in added] == ["BTC/USD", "ETH/USD"] and existing == []
    added, existing = repo.add(["ETH/USD", "SOL/USD"], AssetParams(), enabled=False)
    assert [a.symbol for a in added] == ["SOL/USD"] and existing == ["ETH/USD"]
    assert [(a.symbol, a.enabled) for a in repo.all()] == [("BTC/USD", True), ("ETH/USD", True), ("SOL/USD", False)]
    assert [a.symbol for a in repo.enabled()] == ["BTC/USD", "ETH/USD"]


def test_updating_parameters_validates_every_value_and_writes_nothing_on_error(database):
    repo = AssetRepository(database)
    repo.add(["BTC/USD"], AssetParams(), enabled=True)
    updated = repo.update_params("BTC/USD", {"take_profit_percent": "1.5", "max_safety_orders": "5"})
    assert updated.params.take_profit_percent == Decimal("1.5") and updated.params.max_safety_orders == 5
    with pytest.raises(InvalidParams) as error:
        repo.update_params("BTC/USD", {"take_profit_percent": "3", "safety_order_deviation": "120"})
    assert set(error.value.problems) == {"safety_order_deviation"}
    assert repo.get("BTC/USD").params.take_profit_percent == Decimal("1.5")


def test_values_the_column_would_round_are_refused(database):
    repo = AssetRepository(database)
    with pytest.raises(InvalidParams, match="take_profit_percent"):
        repo.add(["BTC/USD"], AssetParams(take_profit_percent=Decimal("1.23456")), enabled=True)
    assert repo.all() == []


def test_enable_disable_and_unknown_symbols(database):
    repo = AssetRepository(database)
    repo.add(["BTC/USD"], AssetParams(), enabled=False)
    assert repo.set_enabled("BTC/USD", True).enabled
    with pytest.raises(UnknownAsset):
        repo.set_enabled("DOGE/USD", True)


def test_start_condition_price_range_and_stop_loss_are_stored_and_default_to_off(database):
    """Migration 0005's columns, on both engines: NULL / 0 for existing rows, every value round-trips."""
    repo = AssetRepository(database)
    repo.add(["BTC/USD"], AssetParams(), enabled=True)
    plain = repo.get("BTC/USD").params
    assert (plain.start_condition, plain.min_price, plain.max_price, plain.stop_loss_percent,
            plain.stop_loss_timeout) == (None, None, None, None, 0)
    updated = repo.update_params("BTC/USD", {
        "start_condition": "rsi(14,1h)<30 and close<bb_lower(20,2)", "min_price": "20000.5",
        "max_price": "95000", "stop_loss_percent": "7.5", "stop_loss_timeout": "300"})
    again = repo.get("BTC/USD").params
    assert again == updated.params
    assert again.start_condition == "rsi(14, 1h) < 30 and close < bb_lower(20, 2)"
    assert (again.min_price, again.max_price, again.stop_loss_percent, again.stop_loss_timeout) == (
        Decimal("20000.5"), Decimal(95000), Decimal("7.5"), 300)
    with pytest.raises(InvalidParams) as error:
        repo.update_params("BTC/USD", {"start_condition": "rsi(14) << 30", "max_price": "100"})
    assert error.value.problems == {"start_condition": "unknown operator '<<' (use <, <=, > or >=) at column 9",
                                    "max_price": "must be at least min_price (20000.5)"}
    cleared = repo.update_params("BTC/USD", {"start_condition": "none", "min_price": "none"}).params
    assert cleared.start_condition is None and cleared.min_price is None
