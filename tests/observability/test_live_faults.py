"""The alert rules against real faults: the real actor tree trading on the simulator, scraped every
second by a real Prometheus that evaluates the repository's rules every second. Each fault is staged
for real (coins bought by hand, the exchange refusing every order, a database table gone, the
kill-switch file, the whole venue down) and each alert it should raise must fire while the fault is
still in place.

The time from fault to firing is printed (run with -s) and stated per alert in docs/operations.md.
The rest (foreign coins, missing positions, slow decisions, ...) are covered by promtool unit tests.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from adapters.sim.orders import OrderRequest
from tests.e2e.harness import QUICK, QUICK_TRAILING, BotHarness
from tests.observability.live import Prometheus
from tests.waiting import wait_for

pytestmark = [pytest.mark.prometheus]

MEASURED: dict[str, float] = {}


def firing(prometheus: Prometheus, alertname: str) -> list[dict]:
    alerts = prometheus.api("alerts")["alerts"]
    return [a["labels"] for a in alerts if a["labels"]["alertname"] == alertname and a["state"] == "firing"]


def fire(prometheus: Prometheus, expected: dict[str, dict[str, str]], since: float,
         timeout: float) -> dict[str, list[dict]]:
    """Wait until every alert in `expected` (name: labels it must carry) fires; note each one's seconds
    from `since` (the fault) as first seen, polling twice a second; return their labels."""
    fired: dict[str, list[dict]] = {}

    def all_fired() -> bool:
        for name, labels in expected.items():
            found = [a for a in firing(prometheus, name) if labels.items() <= a.items()]
            if found and name not in fired:
                fired[name] = found
                which = f"{name} {labels}" if labels else name
                MEASURED[which] = time.time() - since
                print(f"{which}: fired {MEASURED[which]:.0f} s after the fault")
        return len(fired) == len(expected)

    wait_for(all_fired, timeout, f"{sorted(set(expected) - set(fired))} to fire", poll=0.5)
    return fired


@pytest.fixture(scope="module")
def trading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BotHarness, Prometheus]]:
    workdir = tmp_path_factory.mktemp("faults")
    overrides = {"kill_switch_file": workdir / "KILL_SWITCH",
                 "circuit_breaker_cooldown_seconds": 10**7}  # stays open: the alert waits for a minute of it
    harness = BotHarness(workdir, f"sqlite:///{workdir / 'bot.sqlite3'}",
                         assets={"BTC/USD": QUICK, "ETH/USD": QUICK_TRAILING}, settings_overrides=overrides)
    with harness as h:
        assert h.bot is not None
        port = h.bot.metrics.serve("127.0.0.1", 0).port
        prometheus = Prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{port}")
        try:
            wait_for(lambda: prometheus.value('sum(dca_fills_total{job="dca-supervisor"}) > 0') is not None, 120,
                     "the first fills to be scraped")
            yield h, prometheus
        finally:
            prometheus.stop()
            print("measured:", {name: round(seconds) for name, seconds in MEASURED.items()})


def test_foreign_coins_make_their_alert_pending_at_once(trading: tuple[BotHarness, Prometheus]) -> None:
    """DcaForeignPosition waits an hour (`for: 1h`) before it fires; the test sees its pending start."""
    h, prometheus = trading
    bought = time.time()
    h.exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc", qty=Decimal("0.1"),
                                         client_order_id="bought-by-hand"))

    def pending() -> bool:
        return any(a["labels"]["alertname"] == "DcaForeignPosition" and a["state"] == "pending"
                   for a in prometheus.api("alerts")["alerts"])

    wait_for(pending, 60, "DcaForeignPosition to be pending", poll=0.5)
    MEASURED["DcaForeignPosition (pending)"] = time.time() - bought
    print(f"DcaForeignPosition: pending {MEASURED['DcaForeignPosition (pending)']:.0f} s after the purchase")


def test_refused_orders_a_broken_database_the_kill_switch_and_an_open_breaker_alert_while_they_last(
        trading: tuple[BotHarness, Prometheus]) -> None:
    h, prometheus = trading
    assert h.simulator is not None
    assert firing(prometheus, "DcaOrdersRejected") == []

    refused = time.time()
    h.simulator.exchange.faults.update({"reject_rate": 1.0, "reject_mode": "http403"})
    rejected = fire(prometheus, {"DcaOrdersRejected": {}}, refused, 60)["DcaOrdersRejected"]
    assert {a["symbol"] for a in rejected} <= {"BTC/USD", "ETH/USD"}
    wait_for(lambda: prometheus.value("max(dca_circuit_breaker_open) == 1") is not None, 120,
             "the refusals to open a breaker (before the kill switch stops all orders)", poll=0.5)

    broken = time.time()
    database = sqlite3.connect(h.tmp_path / "bot.sqlite3")
    database.execute("ALTER TABLE dca_meta RENAME TO dca_meta_hidden")  # the risk keeper's heartbeat fails
    database.commit()
    try:
        fire(prometheus, {"DcaDatabaseErrors": {"error": "OperationalError"},
                          "DcaCaretakerFailing": {"caretaker": "risk_keeper"}}, broken, 60)
    finally:
        database.execute("ALTER TABLE dca_meta_hidden RENAME TO dca_meta")
        database.commit()
        database.close()

    halted = time.time()
    (h.tmp_path / "KILL_SWITCH").touch()
    fire(prometheus, {"DcaKillSwitchEngaged": {}}, halted, 60)
    fire(prometheus, {"DcaCircuitBreakerOpen": {}}, refused, 180)  # opened by the refusals, still open


def test_a_venue_that_is_down_alerts_while_it_is_still_down(trading: tuple[BotHarness, Prometheus]) -> None:
    h, prometheus = trading
    assert h.simulator is not None
    down = time.time()
    h.simulator.stop()  # REST refuses connections, both WebSockets drop
    try:
        fired = fire(prometheus, {"DcaBrokerUnavailable": {}, "DcaStreamDisconnected": {},
                                  "DcaCaretakerFailing": {"caretaker": "reconciler"},
                                  "DcaCaretakerStale": {"caretaker": "reconciler"}}, down, 300)
        assert {a["stream"] for a in fired["DcaStreamDisconnected"]} <= {"market_data", "trade_updates"}
    finally:
        h.simulator = None  # stopped for good: the harness must not stop it twice
