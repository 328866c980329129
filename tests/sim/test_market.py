"""The synthetic market, the bar history and the replay loader, without a server."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest

from adapters.sim.assets import AssetCatalog, canonical_symbol, make_asset
from adapters.sim.history import SyntheticHistory
from adapters.sim.market import SyntheticMarket
from adapters.sim.replay import load_bars_csv

T0 = datetime(2026, 1, 5, tzinfo=UTC)
SYMBOLS = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD", "SYM0042/USD"]


def market(seed: int = 1, symbols: list[str] = SYMBOLS) -> SyntheticMarket:
    specs = list(AssetCatalog(symbols))
    return SyntheticMarket(specs, seed, {spec.symbol: float(spec.price) for spec in specs})


def path(m: SyntheticMarket, steps: int, dt: float = 60.0) -> list[list]:
    return [m.step(T0 + timedelta(seconds=dt * i), dt) for i in range(steps)]


def test_same_seed_gives_the_same_quotes_and_another_seed_does_not() -> None:
    assert path(market(7), 50) == path(market(7), 50)
    assert path(market(7), 5) != path(market(8), 5)


def test_quotes_sit_on_the_price_grid_with_bid_below_ask() -> None:
    for quotes in path(market(), 200):
        for quote in quotes:
            increment = make_asset(quote.symbol).price_increment
            assert 0 < quote.bid < quote.ask
            assert quote.bid % increment == 0 and quote.ask % increment == 0
            assert quote.bid_size > 0 and quote.ask_size > 0


def test_pairs_move_together_through_the_common_factor() -> None:
    mids = np.array([[float(q.bid + q.ask) / 2 for q in quotes] for quotes in path(market(), 3000)])
    returns = np.diff(np.log(mids), axis=0)
    assert np.corrcoef(returns[:, 0], returns[:, 1])[0, 1] > 0.5  # BTC and ETH


def _minute_returns(seed: int, minutes: int) -> np.ndarray:
    mids = [float(q.bid + q.ask) / 2 for (q,) in path(market(seed, ["BTC/USD"]), minutes)]
    return np.diff(np.log(mids))


def _autocorrelation(x: np.ndarray, lag: int) -> float:
    x = x - x.mean()
    return float((x[:-lag] * x[lag:]).sum() / (x * x).sum())


def test_returns_have_fat_tails_from_the_jumps() -> None:
    returns = _minute_returns(3, 20_000)
    kurtosis = ((returns - returns.mean()) ** 4).mean() / returns.var() ** 2
    assert kurtosis > 6  # a Gaussian walk has 3
    assert (np.abs(returns) > 6 * returns.std()).sum() >= 3  # practically never for a Gaussian


def test_volatility_clusters_while_the_direction_stays_unpredictable() -> None:
    returns = _minute_returns(3, 20_000)  # about 14 days of minutes: 1/sqrt(n) noise is about 0.007
    assert abs(_autocorrelation(returns, 1)) < 0.02
    assert all(_autocorrelation(np.abs(returns), lag) > 0.02 for lag in (1, 30, 60))  # big moves follow big ones


def test_price_levels_start_near_the_real_ones() -> None:
    first = {q.symbol: q for q in market().step(T0, 1.0)}
    assert 90_000 < first["BTC/USD"].bid < 100_000 and 3_000 < first["ETH/USD"].bid < 3_600
    assert 150 < first["SOL/USD"].bid < 210 and 0.2 < first["DOGE/USD"].bid < 0.5


def test_unknown_symbols_get_stable_generated_parameters() -> None:
    spec = make_asset("SYM0042/USD")
    assert spec == make_asset("sym0042usd") and spec.price > 0 and spec.price_increment > 0
    assert 0.6 <= spec.annual_volatility <= 1.4 and spec.min_trade_increment == D("0.000000001")
    thousand = market(symbols=[f"SYM{i:04d}/USD" for i in range(1000)])
    assert len(thousand.step(T0, 1.0)) == 1000


def test_symbols_normalise_from_either_spelling() -> None:
    assert canonical_symbol("btcusd") == "BTC/USD" == canonical_symbol("BTC/USD")
    assert canonical_symbol("ETHUSDT") == "ETH/USDT"
    with pytest.raises(ValueError):
        canonical_symbol("BTC USD")


def test_the_catalog_finds_a_pair_by_either_spelling_or_its_id_and_nothing_else() -> None:
    odd = replace(make_asset("ETH/USD"), symbol="eth/usd")  # an override whose symbol is not canonical
    catalog = AssetCatalog(["BTC/USD", "SOL/USD"], overrides={"eth": odd})
    btc = catalog.get("BTC/USD")
    assert catalog.find("btcusd") is catalog.find(" btc/usd ") is catalog.find(str(btc.id)) is btc
    assert catalog.find(str(odd.id)) is odd
    # found only by its id, as before the canonical spellings were looked up in one read
    assert catalog.find("eth/usd") is None and catalog.find("ETH/USD") is None
    assert catalog.find("DOGE/USD") is None and catalog.find("BTC USD") is None and "BTC USD" not in catalog


def test_history_days_join_without_gaps_and_repeat_exactly() -> None:
    spec = make_asset("ETH/USD")
    first, second = (
        SyntheticHistory(3).day_bars(spec, date(2024, 1, 1)),
        SyntheticHistory(3).day_bars(spec, date(2024, 1, 1)),
    )
    assert np.array_equal(first.close, second.close)
    following = SyntheticHistory(3).day_bars(spec, date(2024, 1, 2))
    assert abs(following.open[0] / first.close[-1] - 1) < 0.001  # one midnight, one price
    assert np.all(first.low <= np.minimum(first.open, first.close))
    assert np.all(first.high >= np.maximum(first.open, first.close))


def test_replay_csv_loads_gzip_and_names_missing_columns(tmp_path: Path) -> None:
    good = tmp_path / "bars.csv.gz"
    with gzip.open(good, "wt") as handle:
        handle.write("timestamp,open,high,low,close,volume\n2024-07-26T14:15:00Z,1,2,0.5,1.5,3\n")
    bars, extras = load_bars_csv(good, "BTC/USD")
    assert bars[0].time == datetime(2024, 7, 26, 14, 15, tzinfo=UTC) and bars[0].close == D("1.5")
    assert extras == {}
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,close\n")
    with pytest.raises(ValueError, match="missing column"):
        load_bars_csv(bad, "BTC/USD")
