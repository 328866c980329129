"""`python supervisor.py` itself: the embedded default, clean stops, refusals."""

import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.cli.helpers import ROOT, SCRUBBED, supervisor
from tests.waiting import wait_for

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


def test_two_sigints_half_a_millisecond_apart_and_a_third_while_stopping_end_it_within_10_s(tmp_path):
    """A wrapper forwarding Ctrl-C to the process group delivers it twice within a millisecond."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)} | QUIET
    process = subprocess.Popen([sys.executable, str(ROOT / "supervisor.py"), "run", "--speed", "600"], cwd=tmp_path,
                               env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "stderr.txt").open("w"))
    console = tmp_path / "stderr.txt"
    wait_for(lambda: "enabled assets" in console.read_text(), 90, "the supervisor to start")
    wait_for(lambda: _orders_placed(tmp_path) > 0, 60, "the first orders: the signals arrive mid-trading")
    first = time.monotonic()
    process.send_signal(signal.SIGINT)
    while time.monotonic() - first < 0.0005:
        pass
    process.send_signal(signal.SIGINT)
    wait_for(lambda: "stopping (stopped by SIGINT)" in console.read_text(), 10, "the shutdown to begin")
    process.send_signal(signal.SIGINT)  # a third one, during the shutdown

    assert process.wait(10) == 0, console.read_text()[-3000:]
    assert time.monotonic() - first < 10
    output = console.read_text()
    assert "stopped with exit code 0" in output and "exiting hard" not in output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


def _orders_placed(folder) -> int:
    with sqlite3.connect(folder / "data" / "dca.sqlite3") as db:
        return db.execute("SELECT COUNT(*) FROM dca_orders WHERE id IS NOT NULL").fetchone()[0]


def test_a_database_url_in_a_folder_that_does_not_exist_is_refused_and_nothing_is_created(tmp_path):
    missing = tmp_path / "no" / "such" / "dir"
    result = supervisor(tmp_path, "run", env=QUIET | {"DATABASE_URL": f"sqlite:///{missing}/dca.sqlite3"})
    assert result.returncode == 2
    assert f"DATABASE_URL: the folder {missing} of the SQLite file does not exist" in result.stderr
    assert not (tmp_path / "no").exists() and not (tmp_path / "data").exists()


def test_a_damaged_simulator_state_file_is_named(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "simulator-state.json").write_text('{"version": 1, "sta')
    result = supervisor(tmp_path, "run", env=QUIET)
    assert result.returncode == 2
    assert "simulator's state file is damaged: data/simulator-state.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_separate_simulator_exits_1_with_one_line(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keys = {"APCA_API_KEY_ID": "sim-key", "APCA_API_SECRET_KEY": "sim-secret"}
    result = supervisor(tmp_path, "run", env=QUIET | keys | {"ALPACA_SIM_URL": f"http://127.0.0.1:{port}"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"supervisor.py run: ALPACA_SIM_URL: no simulator answers at http://127.0.0.1:{port} "
        "(get_clock: connection refused)"]


def test_a_speed_that_is_not_a_number_is_named(tmp_path):
    result = supervisor(tmp_path, "run", "--speed", "fast", env=QUIET)
    assert result.returncode == 2 and "--speed: invalid _decimal value" not in result.stderr
    assert "'fast' is not a number" in result.stderr and "Traceback" not in result.stderr


def test_the_separate_simulator_offers_the_demo_pairs_by_default():
    from cli.sim import DEMO_PAIRS
    from wiring.bot import DEMO_ASSETS

    assert list(DEMO_PAIRS) == list(DEMO_ASSETS)


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


def test_a_notify_url_apprise_does_not_understand_is_named_and_nothing_is_written(tmp_path):
    result = supervisor(tmp_path, "run", env=QUIET | {"NOTIFY_URLS": "json://127.0.0.1:9/ok nosuchscheme://tok-123",
                                                      "LOG_DIR": str(tmp_path / "logs")})
    assert result.returncode == 2
    assert "NOTIFY_URLS: entry 2 is not a URL apprise understands" in result.stderr and "tok-123" not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == []
