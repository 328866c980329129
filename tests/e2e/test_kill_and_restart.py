"""kill -9 of the whole supervisor mid-cycle, then a restart: nothing duplicated, nothing lost.

Real processes: `supervisor.py sim` as a separate exchange that outlives the bot, and `supervisor.py
run` pointed at it with ALPACA_SIM_URL. The exchange keeps matching while the bot is dead, so fills
happen that only the restarted bot's recovery (and the reconciler) can account for.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.db.assets import AssetRepository
from adapters.db.cycles import CycleStore
from adapters.db.database import Database
from adapters.db.lease import LeaseStore
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]
KEYS = {"APCA_API_KEY_ID": "PKTESTKILL9", "APCA_API_SECRET_KEY": "kill-nine-secret"}
PARAMS = ["--base-order-amount", "20", "--safety-order-amount", "20", "--max-safety-orders", "3",
          "--safety-order-deviation", "0.25", "--take-profit-percent", "0.3", "--ttp-enabled", "false",
          "--cooldown-period", "60"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SIM_SPEED = 900
# caretaker periods in real seconds; the settings are on the venue's clock, so they are given times the speed
CARETAKER_REAL_SECONDS = {"ORDER_JANITOR_INTERVAL_SECONDS": 2, "RECONCILER_INTERVAL_SECONDS": 3,
                          "ASSET_WATCHER_INTERVAL_SECONDS": 1, "COOLDOWN_KEEPER_INTERVAL_SECONDS": 2}


def _env(database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "DB_", "ALPACA_", "DATABASE_"))}
    return {**clean, **KEYS, "DATABASE_URL": database_url, "LOG_DIR": str(tmp / "logs"), "METRICS_PORT": "0",
            "STALE_ORDER_THRESHOLD_MINUTES": "60", "BARS_SYNC_INTERVAL_SECONDS": "0",
            **{name: str(real_s * SIM_SPEED) for name, real_s in CARETAKER_REAL_SECONDS.items()},
            "OWNER_LEASE_SECONDS": "6", **extra}  # the restart takes the killed one's book over within 6 s


def _supervisor(*args: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "supervisor.py"), *args], cwd=cwd, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _get(url: str, path: str) -> object:
    request = urllib.request.Request(url + path, headers={"APCA-API-KEY-ID": KEYS["APCA_API_KEY_ID"],
                                                          "APCA-API-SECRET-KEY": KEYS["APCA_API_SECRET_KEY"]})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _post(url: str, path: str) -> None:
    request = urllib.request.Request(url + path, method="POST", data=b"",
                                     headers={"APCA-API-KEY-ID": KEYS["APCA_API_KEY_ID"],
                                              "APCA-API-SECRET-KEY": KEYS["APCA_API_SECRET_KEY"]})
    urllib.request.urlopen(request, timeout=10).close()


def _books_differ(db: Database, sim: str) -> list[str]:
    state = _get(sim, "/sim/state")
    orders = _get(sim, "/sim/orders")
    positions = {symbol.replace("/", ""): Decimal(qty) for symbol, qty in state["positions"].items()}
    assets = {a.symbol: a for a in AssetRepository(db).all()}
    cycles = {c.symbol: c for c in CycleStore(db).current_cycles()}
    problems = []
    for symbol, stored in cycles.items():
        held = stored.cycle.quantity + assets[symbol].dust
        if held != positions.get(symbol.replace("/", ""), Decimal(0)):
            problems.append(f"{symbol}: cycle holds {held}, the exchange {positions.get(symbol.replace('/', ''))}")
    live = {c.cycle.order.client_order_id for c in cycles.values() if c.cycle.order is not None}
    finished = ("filled", "canceled", "expired", "rejected")
    for order in orders:
        if order["status"] not in finished and order["client_order_id"] not in live:
            problems.append(f"open order {order['client_order_id']} is not its cycle's live order")
    by_symbol: dict[str, list[dict]] = {}
    for order in orders:
        by_symbol.setdefault(order["symbol"], []).append(order)
    for symbol, placed in by_symbol.items():
        placed.sort(key=lambda o: o["created_at"])
        for earlier, later in itertools.pairwise(placed):
            open_until = earlier["updated_at"] if earlier["status"] in ("filled", "canceled", "expired") else None
            if open_until is None or later["created_at"] < open_until:
                problems.append(f"{symbol}: {later['client_order_id']} overlaps {earlier['client_order_id']}")
    return problems


def test_kill_9_mid_cycle_then_restart_duplicates_nothing_and_loses_no_fill(tmp_path, database_url):
    port = _free_port()
    sim = f"http://127.0.0.1:{port}"
    env = _env(database_url, tmp_path, ALPACA_SIM_URL=sim)
    log = tmp_path / "processes.log"
    simulator = _supervisor("sim", "--port", str(port), "--symbols", "BTC/USD,ETH/USD", "--speed", str(SIM_SPEED),
                            "--seed", "11", "--rate-limit", "0", "--fault", "latency_ms=40",
                            "--state-file", str(tmp_path / "sim.json"), env=env, cwd=tmp_path, log=log)
    bot = None
    try:
        wait_for(lambda: _reachable(sim), 30, "the simulator to listen")
        added = subprocess.run([sys.executable, str(ROOT / "supervisor.py"), "assets", "add", "BTC/USD,ETH/USD",
                                "--enabled", *PARAMS], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert added.returncode == 0, added.stderr
        db = Database(database_url)
        bot = _supervisor("run", env=env, cwd=tmp_path, log=log)
        wait_for(lambda: any(c.cycle.quantity > 0 for c in CycleStore(db).current_cycles()), 90,
                 "a cycle holding coin (mid-cycle)")
        wait_for(lambda: any(c.cycle.order is not None for c in CycleStore(db).current_cycles()), 60,
                 "an order in flight", poll=0.02)
        bot.send_signal(signal.SIGKILL)  # no shutdown, no flush: the exchange carries on without us
        bot.wait(10)
        time.sleep(3)  # trades keep happening on the exchange while the bot is dead
        bot = _supervisor("run", env=env, cwd=tmp_path, log=log)
        lease = LeaseStore(database_url)
        try:  # the killed owner's lease runs out first; only then is the new process the bot
            wait_for(lambda: (holder := lease.holder()) is not None and holder.pid == bot.pid, 90,
                     "the restarted bot to own the book")
        finally:
            lease.dispose()
        time.sleep(10)  # the restarted bot recovers and trades on
        assert bot.poll() is None, log.read_text()[-3000:]
        _post(sim, "/sim/pause")
        wait_for(lambda: not _books_differ(db, sim), 45, "the books to agree with the exchange", poll=0.5)
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(30) == 0
        assert not _books_differ(db, sim), _books_differ(db, sim)
    finally:
        for process in (bot, simulator):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


def _reachable(url: str) -> bool:
    try:
        _get(url, "/sim/state")
    except OSError:
        return False
    return True
