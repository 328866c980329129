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
