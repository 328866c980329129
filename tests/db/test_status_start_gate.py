"""`status` reads what holds a new cycle back from the books as the asset actor would: the price range
against the latest quote and the start condition from the stored bars; a paused asset shows none."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from adapters.db.assets import AssetRepository
from adapters.db.cycles import CycleStore
from app.reports import status
from dca.market import Quote
from dca.params import AssetParams

T = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)


class _Venue:
    """The venue view `status` reads: BTC/USD's quote, no positions."""

    def quotes(self, symbols: list[str]) -> dict[str, Quote]:
        return {"BTC/USD": Quote("BTC/USD", Decimal(100), Decimal("100.5"), T)}

    def positions(self) -> dict:
        return {}


def test_status_shows_the_start_gates_of_an_enabled_asset_and_none_of_a_paused_one(database):
    repo = AssetRepository(database)
    params = AssetParams(start_condition="close < 50", max_price=Decimal(90))
    (asset,), _ = repo.add(["BTC/USD"], params, True)
    CycleStore(database).load(asset)  # the watching cycle a running supervisor creates
    (row,) = status(database, _Venue())
    assert row.price_range_wait.endswith("to fall to max_price 90") and row.waiting_for == row.price_range_wait
    assert row.start_condition.startswith("waiting for")  # no bars stored: the reading says what it lacks
    repo.set_enabled("BTC/USD", False)
    (paused,) = status(database, _Venue())
    assert (paused.waiting_for, paused.start_condition, paused.price_range_wait) == ("", "", "")
