"""The domain core stays pure: no I/O, no threads, no clock reads, no vendors, no floats."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "dca"
FORBIDDEN_MODULES = {
    "os", "sys", "io", "socket", "threading", "asyncio", "subprocess", "time", "random", "logging", "pathlib",
    "requests", "aiohttp", "sqlalchemy", "alpaca", "pykka", "loguru", "prometheus_client", "numpy", "pandas", "apprise",
    "adapters", "actors", "config", "cli",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "time", "open", "print", "float", "sleep"}


def _modules():
    return sorted(CORE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_nothing_impure(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_reads_no_clock_and_uses_no_float(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {name}()"
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            pytest.fail(f"{path.name}:{node.lineno} has a float literal {node.value}")
