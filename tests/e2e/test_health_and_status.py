"""Health checks and the status page on the metrics address: the real actor tree on the simulator,
read over HTTP as a process manager, an orchestrator or a browser would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from actors.health import SCHEDULER_FROZEN_AFTER_S, Health
from tests.e2e.harness import QUICK, QUICK_TRAILING, BotHarness
from tests.waiting import wait_for


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def get_json(port: int, path: str) -> tuple[int, Any]:
    status, body = get(port, path)
    return status, json.loads(body)


def test_ready_once_both_streams_are_up_and_the_books_reconciled_and_not_ready_while_the_venue_is_down(
        tmp_path, sqlite_url: str) -> None:
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, serve=True) as h:
        assert h.bot is not None and h.bot.metrics_port is not None and h.simulator is not None
        port = h.bot.metrics_port
        assert wait_for(lambda: get_json(port, "/readyz")[0] == 200, 30, "readiness")
        assert get_json(port, "/readyz")[1] == {"ok": True, "reasons": []}
        assert get_json(port, "/healthz") == (200, {"ok": True, "reasons": []})
        assert get(port, "/metrics")[1].count("dca_start_timestamp_seconds") >= 1

        h.simulator.stop()
        h.simulator = None

        def not_ready() -> Any:
            status, body = get_json(port, "/readyz")
            return body if status == 503 else None

        body = wait_for(not_ready, 60, "readiness to fail")
        assert "the market_data stream is not connected" in body["reasons"]
        assert get_json(port, "/healthz")[0] == 200  # a venue outage is no reason to restart the process


def test_liveness_fails_when_the_scheduler_is_frozen_or_the_asset_supervisor_gave_up() -> None:
    health = Health()
    assert health.liveness(scheduler_idle_s=1.0, asset_supervisor="assets").ok
    frozen = health.liveness(scheduler_idle_s=SCHEDULER_FROZEN_AFTER_S + 1, asset_supervisor="assets")
    assert not frozen.ok and "scheduler" in frozen.reasons[0]
    health.gave_up("caretakers")
    assert health.liveness(scheduler_idle_s=1.0, asset_supervisor="assets").ok
    health.gave_up("assets")
    assert health.liveness(scheduler_idle_s=1.0, asset_supervisor="assets").reasons == \
        ("the asset supervisor gave up",)


def test_the_scheduler_of_a_running_bot_keeps_turning(tmp_path, sqlite_url: str) -> None:
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}) as h:
        assert h.bot is not None and h.bot.runtime is not None
        scheduler = h.bot.runtime.scheduler
        first = scheduler.idle_seconds()
        assert first < SCHEDULER_FROZEN_AFTER_S
        scheduler.stop()
        wait_for(lambda: scheduler.idle_seconds() > first + 1, 10, "the stopped scheduler to fall idle")


def test_the_status_api_shows_every_asset_its_cycle_pl_and_recent_fills_without_secrets(
        tmp_path, sqlite_url: str) -> None:
    with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK, "ETH/USD": QUICK_TRAILING}, serve=True) as h:
        assert h.bot is not None and h.bot.metrics_port is not None and h.simulator is not None
        port = h.bot.metrics_port
        wait_for(lambda: h.completed("BTC/USD"), 120, "a completed cycle")
        status, data = get_json(port, "/api/status")
        assert status == 200
        assert [a["symbol"] for a in data["assets"]] == ["BTC/USD", "ETH/USD"]
        assert data["profit"]["by_asset"]["BTC/USD"]["cycles"] >= 1
        assert data["recent_fills"] and {f["symbol"] for f in data["recent_fills"]} <= {"BTC/USD", "ETH/USD"}
        page = get(port, "/")[1]
        assert 'http-equiv="refresh"' in page and "BTC/USD" in page and "<form" not in page
        for secret in (h.simulator.key_id, h.simulator.secret_key):
            assert secret not in page and secret not in json.dumps(data)
