"""Every import points down the layers; vendors are imported only by adapters.

    supervisor.py ─► cli ─► wiring ─► actors ─► app ─► dca
                              └──────► adapters ─────────┘   (ports: beside dca, importable by all)

`wiring` (the composition root) and `cli` may open any layer; `actors` may use `app` services and the
domain; `app` holds plain application services over the domain; `adapters` implement the edges over
vendor libraries and speak domain types. A package not listed here fails the test until it is placed.

An import that breaks a rule fails with the importing file, its line and the imported module. Existing
breaks are listed in EXCEPTIONS, each with the reason it is still there; an exception that no longer
matches any import fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_LAYERED = {  # first-party code outside the layers, with why
    "tests": "the test suite drives every layer",
    "bench": "benchmarks are run by hand and reach wherever they measure",
    "scripts": "operator scripts",
    "integration_test": "a by-hand end-to-end check against a venue, like bench/",
    "grafana": "the dashboards' generator, run by hand; imports no bot code",
}
LAYERS: dict[str, set[str]] = {  # package → the other first-party packages its modules may import
    "supervisor": {"cli", "config"},
    "cli": {"wiring", "actors", "app", "adapters", "config", "dca", "ports"},
    "wiring": {"actors", "app", "adapters", "config", "dca", "ports"},
    "actors": {"app", "dca", "ports"},
    "app": {"dca", "ports"},
    "adapters": {"dca", "ports"},
    "ports": {"dca"},
    "config": {"dca"},
    "dca": set(),
}
VENDORS = {"alpaca", "sqlalchemy", "alembic", "prometheus_client", "dask", "distributed", "apprise", "aiohttp",
           "requests"}
VENDOR_USERS = {"adapters"}

# (importing module, imported module or package) → why it is allowed for now. Keep each entry narrow.
DB_PENDING = "an app service over the concrete store until the stores have ports (issue 13.2)"
SIM_ENGINE = "the backtester's fill model is the simulator's matching engine: one engine, two drivers"
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("app.backtest.inputs", "adapters.sim.assets"): SIM_ENGINE + " (its asset catalog gives the increments)",
    ("app.backtest.runner", "adapters.sim.assets"): SIM_ENGINE + " (its asset catalog gives the increments)",
    ("app.backtest.venue", "adapters.sim"): SIM_ENGINE,
    ("app.backtest.fast", "adapters.sim.rules"): SIM_ENGINE + " (the fill model decides when a resting order fills)",
    ("app.backtest.inputs", "adapters.db"): DB_PENDING + " (a backtest reads bars and parameters from the db)",
    ("app.backtest.sweep", "adapters.dask_cluster"): "`--cluster` hands the sweep to Dask; a runner port would be "
                                                     "one implementation deep",
    ("app.bars", "adapters.alpaca.history"): "bars fetch/sync use the venue's history client; no port yet",
    ("app.bars", "adapters.sim"): "bars fetch without keys reads the built-in simulator's history; no port yet",
    ("app.books", "adapters.db.meta"): DB_PENDING,
    ("app.books", "config.settings"): "its refusals name the setting to change (DATABASE_URL, DATA_DIR)",
    ("app.ownership", "adapters.db.lease"): DB_PENDING,
    ("app.reports", "adapters.db"): DB_PENDING,
    ("app.takeover", "adapters.db"): DB_PENDING,
    ("app.takeover", "config.settings"): "it raises ConfigError (exit 2) while the seed bot still runs",
}


def _first_party() -> dict[str, Path]:
    """Top-level package or module name → its path, for everything first-party in the repository."""
    found = {p.name: p for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    found |= {p.stem: p for p in ROOT.glob("*.py")}
    return found


def _modules() -> list[tuple[str, Path]]:
    modules = []
    for name, path in sorted(_first_party().items()):
        if name in NOT_LAYERED:
            continue
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            parts = file.relative_to(ROOT).with_suffix("").parts
            modules.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), file))
    return modules


def _imports(module: str, file: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, TYPE_CHECKING and function-local ones too."""
    package = module.split(".") if file.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package[: len(package) - node.level + 1]
                found.append((node.lineno, ".".join([*base, *([node.module] if node.module else [])])))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def _excepted(module: str, imported: str) -> tuple[str, str] | None:
    for key in EXCEPTIONS:
        importer, target = key
        if (module == importer or module.startswith(importer + ".")) and (
                imported == target or imported.startswith(target + ".")):
            return key
    return None


def _breaks() -> tuple[list[str], set[tuple[str, str]]]:
    first_party = set(_first_party())
    problems, used = [], set()
    for layer in sorted(set(first_party) - set(LAYERS) - set(NOT_LAYERED)):
        problems.append(f"{layer}: a first-party package in no layer; place it in LAYERS (or NOT_LAYERED) "
                        f"in {Path(__file__).relative_to(ROOT)}")
    for module, file in _modules():
        layer = module.split(".")[0]
        where = file.relative_to(ROOT)
        if layer not in LAYERS:
            continue
        for line, imported in _imports(module, file):
            top = imported.split(".")[0]
            if top == layer:
                continue
            if top in first_party:
                allowed = top in LAYERS[layer]
                rule = f"{layer} may import {', '.join(sorted(LAYERS[layer])) or 'only itself'}"
            elif top in VENDORS:
                allowed = layer in VENDOR_USERS
                rule = f"only {', '.join(sorted(VENDOR_USERS))} import vendor libraries"
            else:
                continue
            if allowed:
                continue
            key = _excepted(module, imported)
            if key is not None:
                used.add(key)
                continue
            problems.append(f"{where}:{line} ({module}) imports {imported}: {rule}")
    return problems, used


def test_every_import_points_down_the_layers_and_vendors_stay_in_adapters():
    problems, _ = _breaks()
    assert not problems, "imports against the layering (tests/core/test_layering.py):\n  " + "\n  ".join(problems)


def test_every_listed_exception_is_still_needed():
    _, used = _breaks()
    stale = [f"{importer} → {target}" for importer, target in EXCEPTIONS if (importer, target) not in used]
    assert not stale, ("these EXCEPTIONS in tests/core/test_layering.py match no import any more; delete them so "
                       "the layering cannot slip back:\n  " + "\n  ".join(stale))


def test_every_exception_gives_its_reason():
    assert all(reason.strip() for reason in EXCEPTIONS.values())
