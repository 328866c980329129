"""`python supervisor.py` itself: the embedded default, clean stops, refusals."""

import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.cli.helpers import ROOT, SCRUBBED, supervisor

pytestmark = pytest.mark.timeout(120)
QUIET = {"METRICS_PORT": "0", "BARS_SYNC_INTERVAL_SECONDS": "0"}


def test_without_keys_it_trades_on_the_embedded_simulator_and_says_so(tmp_path):
    result = supervisor(tmp_path, "--duration", "8", "--speed", "600", env=QUIET, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SIMULATOR MODE" in result.stderr and "No real money" in result.stderr
    assert "added demo assets BTC/USD, ETH/USD, SOL/USD" in result.stderr
    assert (tmp_path / "data" / "simulator-state.json").exists() and (tmp_path / "logs" / "supervisor.log").exists()
    with sqlite3.connect(tmp_path / "data" / "dca.sqlite3") as db:
        placed = db.execute("SELECT COUNT(*) FROM dca_orders WHERE cycle_id IS NOT NULL").fetchone()[0]
    assert placed >= 3  # every demo asset placed at least its base order
    again = supervisor(tmp_path, "--duration", "4", "--speed", "600", env=QUIET, timeout=90)
    assert again.returncode == 0 and "added demo assets" not in again.stderr  # state kept under ./data


def test_sigterm_stops_it_cleanly_within_seconds(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)} | QUIET
    process = subprocess.Popen([sys.executable, str(ROOT / "supervisor.py"), "--speed", "600"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "logs" / "supervisor.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (log.exists() and "enabled assets" in log.read_text()):
        time.sleep(0.2)
    time.sleep(2)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert time.monotonic() - started < 15
    assert "stopped with exit code 0" in log.read_text()


def test_the_live_endpoint_without_the_second_switch_refuses_to_start(tmp_path):
    result = supervisor(tmp_path, "run", env={"APCA_API_KEY_ID": "AK", "APCA_API_SECRET_KEY": "S" * 20,
                                              "APCA_API_BASE_URL": "https://api.alpaca.markets"})
    assert result.returncode == 2 and "ALLOW_LIVE_TRADING" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was created


def test_speed_is_only_for_the_simulator_and_a_taken_metrics_port_is_named(tmp_path):
    paper = {"APCA_API_KEY_ID": "AK", "APCA_API_SECRET_KEY": "S" * 20}
    result = supervisor(tmp_path, "--speed", "10", env=paper)
    assert result.returncode == 2 and "--speed" in result.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = supervisor(tmp_path, "--duration", "5", env={"METRICS_PORT": str(port)}, timeout=60)
    assert result.returncode == 2 and "METRICS_PORT" in result.stderr


def test_a_database_refuses_to_trade_for_a_second_account_or_a_dry_run(tmp_path):
    first = supervisor(tmp_path, "--duration", "3", "--speed", "600", env=QUIET, timeout=90)
    assert first.returncode == 0, first.stderr[-2000:]
    database = tmp_path / "data" / "dca.sqlite3"

    def orders() -> int:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT COUNT(*) FROM dca_orders").fetchone()[0]

    placed = orders()
    other_account = supervisor(tmp_path, "--duration", "3", env=QUIET | {"SIM_SEED": "2"})
    assert other_account.returncode == 2
    assert "DATA_DIR: this database keeps the books of embedded-simulator account PA3SIM00001" in other_account.stderr
    assert "would trade on embedded-simulator account PA3SIM00002" in other_account.stderr

    dry_run = supervisor(tmp_path, "--duration", "3", env=QUIET | {"DRY_RUN": "true",
                                                                    "DATABASE_URL": f"sqlite:///{database}"})
    assert dry_run.returncode == 2 and "DATABASE_URL: " in dry_run.stderr and "(dry run)" in dry_run.stderr
    assert orders() == placed  # nothing traded, nothing recorded
    status = supervisor(tmp_path, "db", "status", env=QUIET)
    assert "books of: embedded-simulator account PA3SIM00001" in status.stdout


def test_a_fresh_simulator_on_a_kept_database_is_refused_with_a_way_out_instead_of_crash_looping(tmp_path):
    first = supervisor(tmp_path, "--duration", "3", "--speed", "600", env=QUIET, timeout=90)
    assert first.returncode == 0, first.stderr[-2000:]
    state = tmp_path / "data" / "simulator-state.json"
    saved = state.read_bytes()
    state.unlink()  # the database keeps orders whose ids the same seed would hand out again
    fresh = supervisor(tmp_path, "--duration", "3", "--speed", "600", env=QUIET, timeout=90)
    assert fresh.returncode == 2, fresh.stderr[-2000:]
    assert "DATA_DIR: this database keeps the books of embedded-simulator account PA3SIM00001-" in fresh.stderr
    assert "simulator-state.json is new or was replaced" in fresh.stderr and "IntegrityError" not in fresh.stderr
    assert not state.exists()  # the refused start left no new simulator account behind
    state.write_bytes(saved)  # the way out it names: put the state file back
    restored = supervisor(tmp_path, "--duration", "3", "--speed", "600", env=QUIET, timeout=90)
    assert restored.returncode == 0, restored.stderr[-2000:]


def test_sim_quirks_reach_the_embedded_simulator_and_a_bad_one_exits_2(tmp_path):
    from decimal import ROUND_CEILING, Decimal

    from adapters.sim.state_store import load_state

    bad = supervisor(tmp_path, "--sim-quirk", "nope", "--duration", "3", env=QUIET)
    assert bad.returncode == 2 and "--sim-quirk" in bad.stderr and "unknown quirk 'nope'" in bad.stderr
    result = supervisor(tmp_path, "--sim-quirk", "fee_tier=40/60", "--sim-quirk", "fees_eod", "--duration", "6",
                        "--speed", "600", env=QUIET, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    state = load_state(tmp_path / "data" / "simulator-state.json")
    buys = [e for e in state["engine"]["executions"] if e.side == "buy"]
    assert buys  # the demo assets bought, and the venue charged its own rates: 0.4 % maker, 0.6 % taker
    for execution in buys:
        rate = Decimal("0.004") if execution.liquidity == "maker" else Decimal("0.006")
        assert execution.fee == (execution.qty * rate).quantize(Decimal("1e-9"), ROUND_CEILING)
