"""The exporter's helpers: what the alerts and dashboards rely on is set, and dropped with its asset."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

from adapters.metrics import Metrics
from dca.market import Quote

NOW = datetime(2026, 11, 21, tzinfo=UTC)


def samples(metrics: Metrics) -> dict[str, float]:
    """`name{labels}` → value for every sample of the exposition."""
    found: dict[str, float] = {}
    for line in metrics.exposition().decode().splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


def test_each_quote_is_counted_and_stamps_its_arrival_time() -> None:
    metrics = Metrics()
    received = metrics.quote_counter("BTC/USD")
    received()
    received()
    exposed = samples(metrics)
    assert exposed['dca_quotes_total{symbol="BTC/USD"}'] == 2
    assert exposed['dca_last_quote_received_timestamp_seconds{symbol="BTC/USD"}'] > 1.7e9


def test_the_newest_quote_is_read_as_bid_and_ask_prices_at_scrape_time() -> None:
    metrics = Metrics()
    newest: list[Quote | None] = [None]
    metrics.watch_quotes("ETH/USD", lambda: newest[0])
    before = samples(metrics)
    newest[0] = Quote("ETH/USD", Decimal("3000.5"), Decimal("3001"), NOW)
    after = samples(metrics)
    assert math.isnan(before['dca_quote_bid_price{symbol="ETH/USD"}'])
    assert after['dca_quote_bid_price{symbol="ETH/USD"}'] == 3000.5
    assert after['dca_quote_ask_price{symbol="ETH/USD"}'] == 3001


def test_a_started_caretaker_exposes_its_interval_and_a_zero_failure_count() -> None:
    metrics = Metrics()
    metrics.caretaker_started("reconciler", 300)
    exposed = samples(metrics)
    assert exposed['dca_caretaker_interval_seconds{caretaker="reconciler"}'] == 300
    assert exposed['dca_caretaker_failures_total{caretaker="reconciler"}'] == 0


def test_forgetting_an_asset_drops_its_quote_series_so_no_quotes_alert_stays_quiet() -> None:
    metrics = Metrics()
    metrics.quote_counter("SOL/USD")()
    metrics.watch_quotes("SOL/USD", lambda: Quote("SOL/USD", Decimal(150), Decimal(151), NOW))
    metrics.set_status("SOL/USD", "watching")
    metrics.forget(["SOL/USD"])
    gauges = ("dca_last_quote_received_timestamp_seconds", "dca_quote_bid_price", "dca_quote_ask_price",
              "dca_cycle_status")
    left = [key for key in samples(metrics) if 'symbol="SOL/USD"' in key and key.startswith(gauges)]
    assert left == []
