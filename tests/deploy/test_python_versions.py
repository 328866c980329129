"""Python 3.11 to 3.13: the project admits them, and no pinned dependency's own metadata forbids one."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = ("3.11", "3.12", "3.13")


def _pins(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("==")[0].strip() for line in lines if "==" in line and not line.startswith("#")]


def test_requires_python_admits_3_11_through_3_13():
    allowed = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    assert all(version in allowed for version in SUPPORTED)


def test_no_pinned_dependency_forbids_a_supported_python():
    refusing = {}
    for name in _pins("requirements.txt") + _pins("requirements-dev.txt"):
        wanted = importlib.metadata.distribution(name).metadata.get("Requires-Python")
        if wanted and not all(version in SpecifierSet(wanted) for version in SUPPORTED):
            refusing[name] = wanted
    assert refusing == {}
