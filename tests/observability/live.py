"""A real supervisor (`python supervisor.py` on its embedded simulator) and a real Prometheus
scraping it, both on loopback, for the tests that need live data. Each runs as a child process in
a temporary directory and is stopped (then killed if need be) when the test module ends."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.observability.tools import ROOT, tool
from tests.waiting import wait_for

SUPERVISOR_SPEED = "1200"  # simulated seconds per real second: cycles complete within seconds
SAFETY_DURATION = "600"  # the supervisor stops by itself even if this test process dies
# short, so every caretaker runs several times while the test watches: real seconds here, and the settings
# are on the venue's clock (docs/operations.md, "Time bases"), so they are given times the speed
CARETAKER_INTERVALS = {name: str(real_s * int(SUPERVISOR_SPEED)) for name, real_s in {
    "ORDER_JANITOR_INTERVAL_SECONDS": 2, "COOLDOWN_KEEPER_INTERVAL_SECONDS": 2,
    "RECONCILER_INTERVAL_SECONDS": 3, "ASSET_WATCHER_INTERVAL_SECONDS": 2,
    "ORDER_HISTORY_SYNC_INTERVAL_SECONDS": 5, "BARS_SYNC_INTERVAL_SECONDS": 5,
}.items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        return bytes(response.read())


def orphan_proof(command: list[str]) -> list[str]:
    """The command, made to receive SIGTERM if this test process dies before stopping it
    (util-linux's setpriv sets the parent-death signal, which survives the exec)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Supervisor:
    """`python supervisor.py --speed 1200` in `workdir` (no .env there, no Alpaca keys: the embedded
    simulator with its demo assets), serving metrics on a free port it reports in its log."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        from config.settings import Settings  # none of this machine's settings may leak into the run

        settings = {name.upper() for name in Settings.model_fields}
        env = {k: v for k, v in os.environ.items() if k.upper() not in settings}
        env.update(CARETAKER_INTERVALS, METRICS_HOST="127.0.0.1", METRICS_PORT="0", LOG_LEVEL="INFO",
                   DATA_DIR=str(workdir / "data"), LOG_DIR=str(workdir / "logs"))
        self.console = workdir / "console.log"
        with self.console.open("wb") as out:
            command = [sys.executable, str(ROOT / "supervisor.py"), "--speed", SUPERVISOR_SPEED,
                       "--duration", SAFETY_DURATION]
            self.process = subprocess.Popen(orphan_proof(command), cwd=workdir, env=env, stdout=out,
                                            stderr=subprocess.STDOUT)
        self.port = wait_for(self._reported_port, 60, "the supervisor to report its metrics port")

    def _reported_port(self) -> int | None:
        if self.process.poll() is not None:
            raise AssertionError(f"the supervisor exited with {self.process.returncode}:\n{self.console.read_text()}")
        found = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", self.console.read_text())
        return int(found.group(1)) if found else None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def scrape(self) -> str:
        """The exposition as a plain HTTP client gets it (Prometheus text format 0.0.4)."""
        return http_get(self.metrics_url).decode()

    def stop(self) -> None:
        stop_process(self.process)


class Prometheus:
    """Debian's `prometheus` on a free loopback port, scraping `target` every second and loading
    the repository's alert rules, with its TSDB in `workdir`."""

    def __init__(self, workdir: Path, target: str) -> None:
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(ROOT / "prometheus" / "rules" / "*.yml")],
            "scrape_configs": [{"job_name": "dca-supervisor", "static_configs": [{"targets": [target]}]}],
        }
        config_file = workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        self.log = workdir / "prometheus.log"
        with self.log.open("wb") as out:
            command = [tool("prometheus"), f"--config.file={config_file}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                       f"--web.listen-address=127.0.0.1:{self.port}"]
            self.process = subprocess.Popen(orphan_proof(command), stdout=out, stderr=subprocess.STDOUT)
        wait_for(self._ready, 30, "Prometheus to be ready")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            return http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) is not None
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; returns `data`. A PromQL error comes back as {"error": ...}."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            body = json.loads(http_get(url))
        except urllib.error.HTTPError as error:  # 400/422: a query Prometheus refused
            return {"error": json.loads(error.read()).get("error", str(error))}
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> Any:
        return self.api("query", query=expr, **({"time": f"{at:.3f}"} if at is not None else {}))

    def query_range(self, expr: str, start: float, end: float, step: str = "1s") -> Any:
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=step)

    def value(self, expr: str) -> float | None:
        """The single value of an instant query, or None when it returns nothing."""
        result = self.query(expr)
        return float(result["result"][0]["value"][1]) if result.get("result") else None

    def stop(self) -> None:
        stop_process(self.process)
