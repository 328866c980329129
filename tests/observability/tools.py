"""The real Prometheus tools the observability tests run (Debian packages, installed by
scripts/ensure-test-services). A missing tool fails the test: nothing here is mocked or skipped."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ToolResult:
    code: int
    output: str  # stdout and stderr together, for assertion messages


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/ensure-test-services (installs Debian's prometheus, "
                    "prometheus-alertmanager and faketime)", pytrace=False)
    return path


def run_tool(name: str, *args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> ToolResult:
    result = subprocess.run([tool(name), *args], input=stdin, capture_output=True, cwd=cwd, timeout=120)
    return ToolResult(result.returncode, (result.stdout + result.stderr).decode(errors="replace"))
