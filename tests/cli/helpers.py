"""Run `python supervisor.py ...` as a user would, in a scratch folder with its own environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRUBBED = ("APCA_", "DB_", "DATABASE_URL", "ALPACA_", "ALLOW_LIVE", "ORDER_", "SIM_", "METRICS_", "LOG_")


def supervisor(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
               ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED)}
    return subprocess.run([sys.executable, str(ROOT / "supervisor.py"), *args], cwd=cwd, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
