"""`backtest --sweep --cluster`: a real `dask scheduler` and two `dask worker` processes on loopback,
started here. The cluster's results are the local run's, byte for byte; the bars reach each worker
once, not once per parameter set."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client

from adapters.dask_cluster import run_on_cluster
from tests.backtest.helpers import random_bars, write_csv
from tests.cli.helpers import ROOT, supervisor

DASK = Path(sys.executable).with_name("dask")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the workers run this project's code
    logs = tmp_path_factory.mktemp("dask")
    common = ["--no-dashboard"]
    # The scheduler as docs/backtesting.md starts it: without this project on its path (it must not need it)
    bare = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    started = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                 *common], cwd=logs, env=bare, stdout=(logs / "scheduler.log").open("w"),
                                stderr=subprocess.STDOUT)]
    try:
        for n in range(2):
            started.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1",
                                             "--host", "127.0.0.1", *common], cwd=ROOT, env=env,
                                            stdout=(logs / f"worker{n}.log").open("w"), stderr=subprocess.STDOUT))
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def executed(address: str) -> dict[str, int]:
    with Client(address) as client:
        return client.run(lambda dask_worker: dask_worker.state.executed_count)


def test_a_sweep_on_the_cluster_writes_the_same_json_as_the_local_processes(tmp_path, cluster):
    bars = write_csv(tmp_path / "btc.csv", random_bars(6, 2 * 1440, price=60_000.0, volatility=0.001))
    grid = ["--sweep", "take_profit_percent=0.4,0.8,1.2", "safety_order_deviation=0.5,1"]
    before = executed(cluster)
    remote = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bars}", "--out", "remote",
                        *grid, "--cluster", cluster, timeout=180)
    assert remote.returncode == 0, remote.stderr
    after = executed(cluster)
    ran = {worker: after[worker] - before.get(worker, 0) for worker in after}
    assert sum(ran.values()) == 6 and all(count > 0 for count in ran.values())  # both workers took sets
    local = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bars}", "--out", "local",
                       *grid, "--workers", "2", timeout=180)
    assert local.returncode == 0, local.stderr
    assert (tmp_path / "remote" / "sweep.json").read_bytes() == (tmp_path / "local" / "sweep.json").read_bytes()
    assert (tmp_path / "remote" / "sweep.csv").read_bytes() == (tmp_path / "local" / "sweep.csv").read_bytes()


def test_the_shared_data_reaches_each_worker_once_not_once_per_set(cluster):
    from tests.backtest.cluster_probe import where

    points = [{"n": str(n)} for n in range(40)]
    rows = run_on_cluster(cluster, where, (list(range(100_000)),), points)
    assert [row["point"] for row in rows] == points  # in grid order
    copies: dict[str, set[int]] = {}
    for row in rows:
        copies.setdefault(row["worker"], set()).add(row["copy"])
        assert row["size"] == 100_000
    assert len(copies) == 2, copies
    assert all(len(seen) == 1 for seen in copies.values()), copies  # one copy per worker, reused by every set


def test_a_scheduler_that_does_not_answer_is_a_clear_failure(tmp_path):
    bars = write_csv(tmp_path / "btc.csv", random_bars(6, 300))
    done = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bars}", "--out", "x",
                      "--sweep", "take_profit_percent=1,2", "--cluster", f"tcp://127.0.0.1:{free_port()}",
                      timeout=120)
    assert done.returncode == 1 and "--cluster" in done.stderr and "cannot reach" in done.stderr
    bad = supervisor(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bars}",
                     "--sweep", "take_profit_percent=1,2", "--cluster", "localhost:8786")
    assert bad.returncode == 2 and "--cluster" in bad.stderr
