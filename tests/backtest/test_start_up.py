"""What a backtest loads: a bar file without a configured database needs neither SQLAlchemy nor
alpaca-py (nor matplotlib with --no-chart, nor pandas); `--help` needs no pydantic; only adapters/
import dask. Timings are benchmarks (bench/backtest_process.py), never tests."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from tests.backtest.helpers import random_bars, write_csv
from tests.cli.helpers import ROOT

PROBE = """
import json, sys
sys.path.insert(0, {root!r})
import supervisor
code = supervisor.main({argv!r})
print(json.dumps({{"code": code, "modules": sorted({{m.split('.')[0] for m in sys.modules}})}}))
"""


def loaded(tmp_path, *argv: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT), argv=list(argv))], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["code"], set(found["modules"])


def test_a_backtest_of_a_file_without_a_database_loads_no_database_broker_or_chart_library(tmp_path):
    bars = write_csv(tmp_path / "btc.csv", random_bars(2, 600))
    code, modules = loaded(tmp_path, "backtest", "--symbols", "BTC/USD", "--data", f"csv:{bars}", "--out", "o",
                           "--no-chart")
    assert code == 0
    assert not modules & {"sqlalchemy", "alembic", "alpaca", "matplotlib", "pandas", "dask", "distributed"}
    assert not (tmp_path / "data").exists()  # and creates no database either


def test_help_loads_no_settings_model(tmp_path):
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                           "import supervisor; supervisor.build_parser(); "
                           "print(sorted({m.split('.')[0] for m in sys.modules}))"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pydantic" not in done.stdout and "numpy" not in done.stdout


def test_only_adapters_import_dask():
    for path in ROOT.glob("*/**/*.py"):
        top = path.relative_to(ROOT).parts[0]
        if top in ("adapters", "tests", ".venv", "bench") or ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            assert not any(n.split(".")[0] in ("dask", "distributed") for n in names), path
