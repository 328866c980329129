"""Bars for a backtest from the database (both engines) and from files, exact to the last digit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

import adapters.db.bars as bars_module
from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from app.backtest.inputs import DataSource, InputError, load_series
from dca.params import AssetParams
from tests.backtest.helpers import T0, random_bars, write_csv


def test_the_database_gives_the_stored_bars_exactly_and_in_range(database, monkeypatch):
    monkeypatch.setattr(bars_module, "PAGE", 250)  # several pages
    (asset,), _ = AssetRepository(database).add(["BTC/USD"], AssetParams(), True)
    bars = random_bars(2, 1000, price=61_234.5, decimals=4)
    BarStore(database).upsert(asset.id, bars)
    series = load_series(DataSource("db"), "BTC/USD", T0 + timedelta(minutes=100), T0 + timedelta(minutes=900),
                         database)
    assert len(series) == 800 and series.time(0) == T0 + timedelta(minutes=100)
    assert [series.prices(i) for i in range(len(series))] == [(b.open, b.high, b.low, b.close) for b in bars[100:900]]


def test_no_stored_bars_is_a_lookup_error_that_says_how_to_get_them(database):
    with pytest.raises(LookupError, match="bars fetch"):
        load_series(DataSource("db"), "ETH/USD", T0, T0 + timedelta(days=1), database)


def test_a_file_per_symbol_through_placeholders(tmp_path):
    for symbol in ("BTC/USD", "ETH/USD"):
        write_csv(tmp_path / f"{symbol.replace('/', '-')}.csv", random_bars(1, 50, symbol=symbol))
    source = DataSource.parse(f"csv:{tmp_path}/{{symbol}}.csv", ["BTC/USD", "ETH/USD"])
    assert len(load_series(source, "ETH/USD", None, T0 + timedelta(minutes=20))) == 20
    with pytest.raises(InputError, match="does not exist"):
        load_series(source, "SOL/USD", None, None)
    assert DataSource.parse("csv:bars/{base}_{quote}.csv", ["BTC/USD", "X/USD"]).path_for("BTC/USD").name == \
        "BTC_USD.csv"


def test_prices_in_the_database_keep_their_digits_even_beyond_a_float(database):
    (asset,), _ = AssetRepository(database).add(["PEPE/USD"], AssetParams(), True)
    bar = random_bars(1, 1, symbol="PEPE/USD")[0]
    odd = Decimal("1234567890.1234567891")  # 20 significant digits: no float holds it
    BarStore(database).upsert(asset.id, [bar.__class__("PEPE/USD", T0, odd, odd, odd, odd)])
    series = load_series(DataSource("db"), "PEPE/USD", T0, T0 + timedelta(minutes=1), database)
    assert series.bar(0).open == odd and series.exact.keys() == {0}
