"""One supervisor per book, with real processes: a second `run` against the same database (SQLite file
or MariaDB) is refused whatever its LOG_DIR, DATA_DIR and metrics port, and a `kill -9`ed owner's book
passes to a waiting successor once the lease expires, with no manual step."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.db.database import Database
from adapters.db.lease import LeaseStore
from tests.cli.helpers import ROOT, SCRUBBED
from tests.e2e.harness import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
LEASE_S = 20  # longer than a loaded machine takes to start the successor


def _env(database_url: str, folder: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    return {**clean, "DATABASE_URL": database_url, "LOG_DIR": str(folder / "logs"), "METRICS_PORT": "0",
            "BARS_SYNC_INTERVAL_SECONDS": "0", "OWNER_LEASE_SECONDS": str(LEASE_S), "SIM_SPEED": "600"}


def _run(folder: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, str(ROOT / "supervisor.py"), "run"], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=(folder / "stderr.txt").open("w"), text=True)


def _owner_pid(store: LeaseStore) -> int | None:
    holder = store.holder()
    return holder.pid if holder is not None else None


def test_a_second_supervisor_is_refused_and_a_killed_owners_book_passes_on(tmp_path, database_url):
    Database(database_url).upgrade()
    store = LeaseStore(database_url)
    shared_data = {"DATA_DIR": str(tmp_path / "data")}  # the embedded simulator's account goes with the book
    owner = _run(tmp_path / "first", _env(database_url, tmp_path / "first") | shared_data)
    successor = None
    try:
        wait_for(lambda: _owner_pid(store) == owner.pid, 90, "the first supervisor to own the book")
        wait_for(lambda: (tmp_path / "data" / "simulator-state.json").exists()
                 and "enabled assets" in (tmp_path / "first" / "stderr.txt").read_text(), 90, "it to trade")

        other = tmp_path / "second"  # its own LOG_DIR, DATA_DIR and metrics port: only the database is shared
        second = _run(other, _env(database_url, other) | {"DATA_DIR": str(other / "data")})
        assert second.wait(60) == 2
        refusal = (other / "stderr.txt").read_text()
        assert f"host {socket.gethostname()}, pid {owner.pid}, since" in refusal, refusal
        assert _owner_pid(store) == owner.pid

        owner.send_signal(signal.SIGKILL)  # no clean stop: the lease is not released
        owner.wait(10)
        last_heartbeat = store.holder().heartbeat_at
        successor = _run(tmp_path / "third", _env(database_url, tmp_path / "third") | shared_data)
        wait_for(lambda: "the book is held by" in (tmp_path / "third" / "stderr.txt").read_text(), LEASE_S,
                 "the successor to wait for the dead owner's lease")
        wait_for(lambda: _owner_pid(store) == successor.pid, LEASE_S + 60, "the successor to take the book over")

        taken = store.holder()
        assert (taken.started_at - last_heartbeat).total_seconds() <= LEASE_S + 3  # the documented bound
        wait_for(lambda: "took over the book from" in (tmp_path / "third" / "stderr.txt").read_text(), 30,
                 "the successor to log the takeover")  # logged just after the lease row changed hands
        successor.send_signal(signal.SIGTERM)
        assert successor.wait(30) == 0
        assert store.holder() is None  # a clean stop hands the book back
    finally:
        for process in (owner, successor):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
        store.dispose()


def test_an_owner_that_finds_its_book_taken_stops_trading_and_exits_75(tmp_path, database_url):
    from sqlalchemy import select, update

    from adapters.db.models import DcaOwnerLease

    database = Database(database_url)
    database.upgrade()
    store = LeaseStore(database_url)
    folder = tmp_path / "owner"
    owner = _run(folder, _env(database_url, folder) | {"DATA_DIR": str(tmp_path / "data"), "OWNER_LEASE_SECONDS": "6"})
    try:
        wait_for(lambda: "enabled assets" in (folder / "stderr.txt").read_text(), 90, "it to trade")
        with database.engine.begin() as connection:  # what another process's takeover looks like
            connection.execute(update(DcaOwnerLease).values(token="another-process"))

        assert owner.wait(30) == 75
        output = (folder / "stderr.txt").read_text()
        assert "lost the book: another process took over the book" in output
        assert "stopped with exit code 75" in output
        with database.engine.connect() as connection:  # the row itself: by now the 6 s lease may have run out,
            # which LeaseStore.holder() reports as no holder at all (seen on a loaded machine)
            token = connection.execute(select(DcaOwnerLease.token)).scalar_one()
        assert token == "another-process"  # never released on the new owner's behalf
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait(10)
        store.dispose()
        database.dispose()
