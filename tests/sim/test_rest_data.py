"""Conformance of the crypto market-data REST API with the real CryptoHistoricalDataClient."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.requests import (
    CryptoBarsRequest,
    CryptoLatestBarRequest,
    CryptoLatestQuoteRequest,
    CryptoLatestTradeRequest,
    CryptoSnapshotRequest,
)
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

from adapters.sim.service import SimulatorService
from tests.sim.conftest import make_service

JAN_2024 = {"start": datetime(2024, 1, 1, tzinfo=UTC), "end": datetime(2024, 1, 31, tzinfo=UTC)}


def data_client(sim: SimulatorService) -> CryptoHistoricalDataClient:
    return CryptoHistoricalDataClient(url_override=sim.urls.data)


def test_latest_quote_trade_and_bar_come_from_the_simulated_market(sim: SimulatorService) -> None:
    for _ in range(70):  # a bit more than a minute of ticks, so a minute bar completes
        sim.exchange.step()
    client = data_client(sim)
    symbols = ["BTC/USD", "ETH/USD"]
    quotes = client.get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols=symbols))
    current = sim.exchange.latest_quote("BTC/USD")
    assert quotes["BTC/USD"].bid_price == float(current.bid) and quotes["BTC/USD"].timestamp == current.time
    assert quotes["BTC/USD"].ask_price > quotes["BTC/USD"].bid_price > 1000
    trades = client.get_crypto_latest_trade(CryptoLatestTradeRequest(symbol_or_symbols=symbols))
    assert trades["ETH/USD"].price in (
        float(q) for q in (sim.exchange.latest_quote("ETH/USD").bid, sim.exchange.latest_quote("ETH/USD").ask)
    )
    bars = client.get_crypto_latest_bar(CryptoLatestBarRequest(symbol_or_symbols=symbols))
    assert bars["BTC/USD"].trade_count == 60 and bars["BTC/USD"].vwap is not None
    snapshot = client.get_crypto_snapshot(CryptoSnapshotRequest(symbol_or_symbols=["BTC/USD"]))
    assert snapshot["BTC/USD"].latest_quote.bid_price == float(current.bid)


def test_historical_bars_exist_for_any_past_range_at_realistic_levels(sim: SimulatorService) -> None:
    request = CryptoBarsRequest(symbol_or_symbols=["BTC/USD", "ETH/USD"], timeframe=TimeFrame.Hour, **JAN_2024)
    bars = data_client(sim).get_crypto_bars(request).data
    assert len(bars["BTC/USD"]) == len(bars["ETH/USD"]) == 30 * 24 + 1
    assert 30_000 < bars["BTC/USD"][0].open < 250_000 and 1_000 < bars["ETH/USD"][0].open < 8_000
    first = bars["BTC/USD"][0]
    assert first.timestamp == JAN_2024["start"] and first.low <= first.open <= first.high
    assert first.trade_count > 0 and first.low <= first.vwap <= first.high


def test_historical_bars_are_deterministic_across_runs_and_pages() -> None:
    request = CryptoBarsRequest(symbol_or_symbols=["BTC/USD", "ETH/USD"], timeframe=TimeFrame.Minute, **JAN_2024)
    with make_service(seed=5) as one, make_service(seed=5) as two:
        first = data_client(one).get_crypto_bars(request).data
        second = data_client(two).get_crypto_bars(request).data
    assert len(first["BTC/USD"]) == 30 * 1440 + 1 and first == second
    with make_service(seed=6) as other:
        few = CryptoBarsRequest(symbol_or_symbols="BTC/USD", timeframe=TimeFrame.Minute, limit=5, **JAN_2024)
        assert data_client(other).get_crypto_bars(few).data["BTC/USD"] != first["BTC/USD"][:5]


def test_limit_applies_across_symbols_and_pages_follow_next_page_token(sim: SimulatorService) -> None:
    url = f"{sim.urls.data}/v1beta3/crypto/us/bars"
    params = {
        "symbols": "BTC/USD,ETH/USD",
        "timeframe": "1Day",
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-01-03T00:00:00Z",
        "limit": 4,
    }
    first = requests.get(url, params=params).json()
    assert [len(first["bars"][s]) for s in sorted(first["bars"])] == [3, 1] and first["next_page_token"]
    second = requests.get(url, params={**params, "page_token": first["next_page_token"]}).json()
    assert {s: len(v) for s, v in second["bars"].items()} == {"ETH/USD": 2} and second["next_page_token"] is None
    assert set(first["bars"]["BTC/USD"][0]) == {"t", "o", "h", "l", "c", "v", "n", "vw"}
    limited = data_client(sim).get_crypto_bars(
        CryptoBarsRequest(
            symbol_or_symbols=["BTC/USD", "ETH/USD"],
            timeframe=TimeFrame.Day,
            limit=5,
            start=JAN_2024["start"],
            end=JAN_2024["end"],
        )
    )
    assert sum(len(v) for v in limited.data.values()) == 5


def test_empty_results_are_empty_maps_not_null(sim: SimulatorService) -> None:
    url = f"{sim.urls.data}/v1beta3/crypto/us/bars"
    future = requests.get(url, params={"symbols": "BTC/USD", "timeframe": "1Min", "start": "2030-01-01"}).json()
    assert future == {"bars": {}, "next_page_token": None}
    latest = requests.get(f"{sim.urls.data}/v1beta3/crypto/us/latest/quotes", params={"symbols": "NOPE/USD"})
    assert latest.json() == {"quotes": {}}


def test_longer_timeframes_align_to_utc(sim: SimulatorService) -> None:
    client = data_client(sim)
    weeks = client.get_crypto_bars(
        CryptoBarsRequest(symbol_or_symbols="BTC/USD", timeframe=TimeFrame.Week, **JAN_2024)
    ).data["BTC/USD"]
    assert all(bar.timestamp.weekday() == 0 for bar in weeks)
    five = client.get_crypto_bars(
        CryptoBarsRequest(
            symbol_or_symbols="BTC/USD",
            timeframe=TimeFrame(5, TimeFrameUnit.Minute),
            limit=3,
            start=datetime(2024, 1, 1, 0, 2, tzinfo=UTC),
        )
    ).data["BTC/USD"]
    assert [bar.timestamp.minute for bar in five] == [5, 10, 15]
    months = client.get_crypto_bars(
        CryptoBarsRequest(
            symbol_or_symbols="ETH/USD",
            timeframe=TimeFrame.Month,
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2025, 6, 1, tzinfo=UTC),
        )
    ).data["ETH/USD"]
    assert [bar.timestamp.month for bar in months] == [1, 2, 3, 4, 5, 6]


def test_bad_symbol_is_400_with_only_a_message(sim: SimulatorService) -> None:
    with pytest.raises(APIError) as caught:
        data_client(sim).get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols="BTCUSD"))
    assert caught.value.status_code == 400
    assert caught.value.message == "invalid symbol: BTCUSD does not match ^[A-Z]+/[A-Z]+$"
    with pytest.raises(KeyError):  # market-data errors carry no code, as on Alpaca
        _ = caught.value.code
