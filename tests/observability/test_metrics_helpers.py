"""The exporter's helpers: what the alerts and dashboards rely on is set, and dropped with its asset."""

from __future__ import annotations

import ast
import math
from datetime import UTC, datetime
from decimal import Decimal

from adapters.metrics import REJECT_REASONS, VETO_GATES, BookTotals, Metrics
from dca.events import RejectionKind
from dca.market import Quote
from tests.observability.tools import ROOT

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


def _string_arguments(path: str, call: str) -> set[str]:
    """The first string argument of every `call(...)` and the strings a function `call` returns."""
    tree = ast.parse((ROOT / path).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == call and node.args \
                and isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
        if isinstance(node, ast.FunctionDef) and node.name == call:
            found |= {n.value for ret in ast.walk(node) if isinstance(ret, ast.Return)
                      for n in ast.walk(ret) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


def test_every_label_value_the_code_can_set_is_created_at_zero() -> None:
    assert _string_arguments("dca/risk.py", "Veto") == set(VETO_GATES)
    assert {kind.value for kind in RejectionKind} == set(REJECT_REASONS)


def test_a_started_asset_has_every_counter_at_zero_and_the_books_set_its_lifetime_figures() -> None:
    metrics = Metrics()
    metrics.load_books([BookTotals("DOGE/USD", Decimal("1.77"), {"complete": 3})])
    exposed = samples(metrics)
    assert exposed['dca_realized_profit{symbol="DOGE/USD"}'] == 1.77
    assert exposed['dca_cycles_completed_total{outcome="complete",symbol="DOGE/USD"}'] == 3
    assert exposed['dca_cycles_completed_total{outcome="error",symbol="DOGE/USD"}'] == 0
    assert exposed['dca_orders_vetoed_total{gate="cash",symbol="DOGE/USD"}'] == 0
    assert exposed['dca_orders_canceled_total{reason="stale_buy",side="buy",symbol="DOGE/USD"}'] == 0
