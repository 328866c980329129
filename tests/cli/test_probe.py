"""`supervisor.py probe` against `supervisor.py sim --quirk ...` in another process: it recognises each
quirk (and several at once), cleans up after itself, and refuses live URLs and missing keys."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal

import pytest
from alpaca.trading.client import TradingClient

from tests.cli.helpers import ROOT, SCRUBBED
from tests.sim.test_service import sim_process

pytestmark = pytest.mark.timeout(240)
KEYS = {"APCA_API_KEY_ID": "PKPROBETEST", "APCA_API_SECRET_KEY": "probe-test-secret"}
FAST = ("--fee-wait", "3", "--lag-wait", "10", "--fill-wait", "30")


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)} | KEYS | extra


def _probe(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "supervisor.py"), "probe", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=200)


def quirk_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("quirks: "))


@pytest.mark.parametrize(("quirks", "expected"), [
    ((), "quirks: (none: the simulator's defaults match)"),
    (("gross_position_qty",), "--quirk gross_position_qty"),
    (("fees_eod",), "--quirk fees_eod"),
    (("position_lag=2",), "--quirk position_lag="),
    (("fee_tier=40/60",), "/60"),
    (("buying_power_below_cash=1000",), "--quirk buying_power_below_cash=1000"),
    (("no_position_qty",), "--quirk no_position_qty"),
])
def test_the_probe_reports_the_quirk_the_simulator_runs_with_and_cleans_up(quirks, expected, tmp_path):
    args = [arg for quirk in quirks for arg in ("--quirk", quirk)]
    with sim_process("--speed", "60", *args, cwd=tmp_path, env=_env()) as sim:
        url = re.findall(r"http://127\.0\.0\.1:\d+", sim.banner)[0]
        result = _probe(*FAST, env=_env(ALPACA_SIM_URL=url))
        client = TradingClient(KEYS["APCA_API_KEY_ID"], KEYS["APCA_API_SECRET_KEY"], url_override=url)
        positions, open_orders = client.get_all_positions(), client.get_orders()
    assert result.returncode == 0, result.stdout + result.stderr
    line = quirk_line(result.stdout)
    assert expected in line, result.stdout
    if not quirks:
        assert "position_qty in the fill update" in result.stdout and "net of the fee" in result.stdout
    assert positions == [] and open_orders == []  # sold back what it bought, cancelled what it placed


def test_the_probe_recognises_many_quirks_at_once(tmp_path):
    quirks = ("gross_position_qty", "min_notional_on_sells", "duplicate_id_status=409", "pending_events",
              "ratelimit_headers", "margin_account", "usd_fee_activity=FEE", "fee_rounding=exact",
              "post_status=accepted", "no_exponent", "legacy_symbols", "off_grid_prices=round")
    args = [arg for quirk in quirks for arg in ("--quirk", quirk)]
    with sim_process("--speed", "60", *args, cwd=tmp_path, env=_env()) as sim:
        url = re.findall(r"http://127\.0\.0\.1:\d+", sim.banner)[0]
        result = _probe(*FAST, env=_env(ALPACA_SIM_URL=url))
        client = TradingClient(KEYS["APCA_API_KEY_ID"], KEYS["APCA_API_SECRET_KEY"], url_override=url)
        positions = client.get_all_positions()
    assert result.returncode == 0, result.stdout + result.stderr
    line = quirk_line(result.stdout)
    for quirk in quirks:
        assert f"--quirk {quirk}" in line or f"--quirk {quirk}=" in line, result.stdout
    assert "HTTP 409 40910000: client_order_id must be unique" in result.stdout
    assert all(Decimal(p.qty) < Decimal("1e-9") for p in positions)  # unrounded fees leave sub-increment dust


def test_an_account_whose_crypto_is_not_active_is_reported_without_trading(tmp_path):
    with sim_process("--quirk", "crypto_status=INACTIVE", cwd=tmp_path, env=_env()) as sim:
        url = re.findall(r"http://127\.0\.0\.1:\d+", sim.banner)[0]
        result = _probe(*FAST, env=_env(ALPACA_SIM_URL=url))
    assert result.returncode == 0 and "--quirk crypto_status=INACTIVE" in quirk_line(result.stdout)
    assert "skipped" in result.stdout


@pytest.mark.parametrize("base", ["https://api.alpaca.markets", "HTTPS://API.ALPACA.MARKETS./"])
def test_the_probe_refuses_the_live_endpoint(base):
    result = _probe(env=_env(APCA_API_BASE_URL=base))
    assert result.returncode == 2 and "APCA_API_BASE_URL" in result.stderr and "paper" in result.stderr


def test_the_probe_needs_keys(tmp_path):
    env = {k: v for k, v in _env().items() if not k.startswith("APCA_")}
    result = subprocess.run([sys.executable, str(ROOT / "supervisor.py"), "probe"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "APCA_API_KEY_ID" in result.stderr


@pytest.mark.parametrize(("args", "named"), [(("--notional", "5"), "--notional"), (("--symbol", "ETH/BTC"), "--symbol"),
                                             (("--fee-wait", "soon"), "--fee-wait")])
def test_bad_probe_arguments_exit_2_naming_the_option(args, named):
    result = _probe(*args, env=_env())
    assert result.returncode == 2 and named in result.stderr
