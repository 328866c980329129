"""The opt-in paper-account integration test: it skips without keys, refuses live, and its scenarios
pass against the built-in simulator (so the script itself is known to work)."""

import os
import subprocess
import sys

import pytest

from tests.cli.helpers import ROOT, SCRUBBED

pytestmark = pytest.mark.timeout(300)


def _run(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    return subprocess.run([sys.executable, str(ROOT / "integration_test.py"), *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=280, cwd=ROOT)


def test_it_skips_with_a_clear_message_without_keys():
    result = _run()
    assert result.returncode == 0 and "SKIPPED" in result.stdout and "APCA_API_KEY_ID" in result.stdout


def test_it_refuses_the_live_endpoint():
    result = _run(env={"APCA_API_KEY_ID": "AK", "APCA_API_SECRET_KEY": "S", "APCA_API_BASE_URL":
                       "https://api.alpaca.markets"})
    assert result.returncode == 2 and "paper" in result.stdout


def test_every_scenario_passes_against_the_simulator():
    result = _run("--simulator")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS") == 6 and "all scenarios passed" in result.stdout
    assert "quirks that make the simulator match: (none: the simulator's defaults match)" in result.stdout
