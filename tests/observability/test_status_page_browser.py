"""The status page in a real browser: Debian's Chromium, headless, renders `/` of a running embedded
default (`python supervisor.py` with its demo assets) the way a user without Grafana would see it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.observability.live import Supervisor, http_get, orphan_proof
from tests.waiting import wait_for

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium(profile: Path, *arguments: str) -> str:
    browser = shutil.which("chromium")
    assert browser is not None, "Debian's chromium is missing (scripts/ensure-test-services installs it)"
    result = subprocess.run(orphan_proof([browser, *BROWSER_FLAGS, f"--user-data-dir={profile}", *arguments]),
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout.decode()


@pytest.fixture(scope="module")
def supervisor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Supervisor]:
    running = Supervisor(tmp_path_factory.mktemp("supervisor"))
    try:
        def filled() -> bool:
            data = json.loads(http_get(f"http://127.0.0.1:{running.port}/api/status"))
            return bool(data["recent_fills"]) and any(a["last_bid"] for a in data["assets"])

        wait_for(filled, 120, "fills and quotes on the status API")
        yield running
    finally:
        running.stop()


def test_the_status_page_renders_every_demo_asset_with_its_cycle_and_fills_in_headless_chromium(
        supervisor: Supervisor, tmp_path: Path) -> None:
    from wiring.bot import DEMO_ASSETS

    dom = chromium(tmp_path / "profile", "--dump-dom", f"http://127.0.0.1:{supervisor.port}/")
    rows = re.findall(r"<tr><td>([A-Z]+/USD)</td><td>(yes|no)</td><td>(\d+)</td><td>(\w+)</td>", dom)
    assert sorted(symbol for symbol, *_ in rows[:len(DEMO_ASSETS)]) == sorted(DEMO_ASSETS)
    assert {state for *_, state in rows[:len(DEMO_ASSETS)]} <= {"watching", "buying", "selling", "trailing",
                                                                  "cooldown"}
    assert "<h2>Recent fills</h2><table>" in dom
    assert 'http-equiv="refresh"' in dom and "<form" not in dom and "<button" not in dom

    shot = tmp_path / "status.png"
    chromium(tmp_path / "profile", "--window-size=1280,900", f"--screenshot={shot}",
             f"http://127.0.0.1:{supervisor.port}/")
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_the_health_checks_answer_on_the_same_address(supervisor: Supervisor) -> None:
    assert json.loads(http_get(f"http://127.0.0.1:{supervisor.port}/healthz")) == {"ok": True, "reasons": []}
    wait_for(lambda: json.loads(http_get(f"http://127.0.0.1:{supervisor.port}/readyz"))["ok"], 60, "readiness")
