"""The committed Grafana dashboards, checked without Grafana: generated from the code, valid for
the SDK's typed model, laid out on the 24-column grid, and wired to what is provisioned.
(test_live_stack.py runs every query against a real Prometheus.)"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import promql_parser
import pytest
import yaml

from tests.observability.dashboard_model import (
    PROVISIONING_DIR,
    load_dashboards,
    panels,
    substitute,
    targets,
    variables_used,
)
from tests.observability.tools import ROOT

GRAFANA_VERSION, SCHEMA_VERSION = "11.6", 41
MACROS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h", "__range_s": "3600"}
DASHBOARDS = load_dashboards()


def test_the_committed_json_is_exactly_what_the_code_generates() -> None:
    from grafana.build import stale_files

    assert stale_files() == [], "run: .venv/bin/python -m grafana.build"


def test_there_are_the_fleet_asset_and_system_health_dashboards_for_the_stated_grafana_version() -> None:
    assert set(DASHBOARDS) == {"dca-fleet", "dca-asset", "dca-system-health"}
    assert {d["schemaVersion"] for d in DASHBOARDS.values()} == {SCHEMA_VERSION}
    assert f"Grafana {GRAFANA_VERSION}" in (ROOT / "grafana" / "README.md").read_text()
    assert f"Grafana {GRAFANA_VERSION}" in (ROOT / "docs" / "operations.md").read_text()


def lost_keys(original: Any, round_tripped: Any, path: str = "") -> list[str]:
    """Keys of `original` missing from `round_tripped`: the SDK's model drops what it does not know."""
    if isinstance(original, dict):
        if not isinstance(round_tripped, dict):
            return [path or "/"]
        return [lost for key, value in original.items()
                for lost in ([f"{path}/{key}"] if key not in round_tripped
                             else lost_keys(value, round_tripped[key], f"{path}/{key}"))]
    if isinstance(original, list) and isinstance(round_tripped, list) and len(original) == len(round_tripped):
        return [lost for i, (a, b) in enumerate(zip(original, round_tripped, strict=True))
                for lost in lost_keys(a, b, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_every_key_is_known_to_the_grafana_11_6_dashboard_model(uid: str) -> None:
    import json

    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    register_default_plugins()
    original = DASHBOARDS[uid]
    again = json.loads(JSONEncoder().encode(Dashboard.from_json(original)))
    assert lost_keys(original, again) == []


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_panels_fit_the_24_column_grid_without_overlapping(uid: str) -> None:
    boxes = [(p["id"], p["gridPos"]) for p in panels(DASHBOARDS[uid])]
    for panel_id, box in boxes:
        assert box["w"] > 0 and box["h"] > 0 and box["x"] >= 0 and box["y"] >= 0, panel_id
        assert box["x"] + box["w"] <= 24, f"panel {panel_id} ends at column {box['x'] + box['w']}"
    for (a_id, a), (b_id, b) in itertools.combinations(boxes, 2):
        apart = (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
                 or a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"])
        assert apart, f"panels {a_id} and {b_id} overlap"


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_panel_ids_and_each_panels_ref_ids_are_unique(uid: str) -> None:
    ids = Counter(p["id"] for p in panels(DASHBOARDS[uid]))
    assert [i for i, n in ids.items() if n > 1] == []
    for panel in panels(DASHBOARDS[uid]):
        ref_ids = [t.get("refId") for t in panel.get("targets", [])]
        assert all(ref_ids) and len(set(ref_ids)) == len(ref_ids), panel["title"]


def datasource_refs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [ref for value in node.values() for ref in datasource_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in datasource_refs(value)]
    return []


def test_every_query_uses_the_datasource_variable_whose_default_is_provisioned() -> None:
    provisioned = {(ds["uid"], ds["type"]) for path in (PROVISIONING_DIR / "datasources").glob("*.yml")
                   for ds in yaml.safe_load(path.read_text())["datasources"]}
    for uid, dashboard in DASHBOARDS.items():
        assert {(ref["uid"], ref["type"]) for ref in datasource_refs(dashboard)} == {("${datasource}", "prometheus")}
        [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
        assert variable["name"] == "datasource" and variable["query"] == "prometheus", uid
        assert (variable["current"]["value"], "prometheus") in provisioned


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_every_series_is_narrowed_to_one_supervisor(uid: str) -> None:
    """Several supervisors on one Prometheus are shown one at a time, never summed together."""
    [instance] = [v for v in DASHBOARDS[uid]["templating"]["list"] if v["name"] == "instance"]
    assert not instance["multi"] and not instance["includeAll"]
    for target in targets({uid: DASHBOARDS[uid]}):
        expr = substitute(target.expr, {**MACROS, "symbol": "BTC/USD", "instance": "bot:10588"})
        selectors = _selectors(promql_parser.parse(expr))
        assert selectors and all('instance="bot:10588"' in str(node) for node in selectors), target.where


def _selectors(node: Any) -> list[Any]:
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    found = []
    for name in ("expr", "lhs", "rhs", "args", "vector_selector", "param"):
        child = getattr(node, name, None)
        for item in child if isinstance(child, list) else [child]:
            if item is not None and not isinstance(item, str | int | float):
                found += _selectors(item)
    return found


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_every_number_a_panel_shows_has_a_unit(uid: str) -> None:
    for panel in panels(DASHBOARDS[uid]):
        if panel["type"] in ("stat", "timeseries", "bargauge"):
            assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
        if panel["type"] == "table":
            organize = next((t["options"] for t in panel.get("transformations", []) if t["id"] == "organize"), {})
            renamed, hidden = organize.get("renameByName", {}), organize.get("excludeByName", {})
            numbers = {shown for column, shown in renamed.items()
                       if column.startswith("Value") and not hidden.get(column)}
            with_unit = {o["matcher"]["options"] for o in panel.get("fieldConfig", {}).get("overrides", [])
                         if any(p["id"] == "unit" for p in o["properties"])}
            assert numbers <= with_unit, panel["title"]


def test_the_asset_dashboard_offers_all_assets_at_once_and_marks_fills_and_completed_cycles() -> None:
    asset = DASHBOARDS["dca-asset"]
    [symbol] = [v for v in asset["templating"]["list"] if v["name"] == "symbol"]
    assert symbol["multi"] and symbol["includeAll"]
    marks = {a["name"]: a["expr"] for a in asset["annotations"]["list"]}
    assert set(marks) == {"Fills", "Completed cycles"}
    for expr in marks.values():
        promql_parser.parse(substitute(expr, {**MACROS, "symbol": "BTC/USD", "instance": "bot:10588"}))


def test_the_dashboard_provider_loads_json_files_from_one_folder() -> None:
    config = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "dca.yml").read_text())
    assert config["apiVersion"] == 1
    [provider] = config["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


@pytest.mark.parametrize("uid", sorted(DASHBOARDS))
def test_every_variable_a_query_uses_is_defined(uid: str) -> None:
    dashboard = DASHBOARDS[uid]
    defined = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    used = {name for t in targets({uid: dashboard}) for name in variables_used(t.expr)}
    assert used <= defined
    assert "instance" in used
    if uid == "dca-asset":
        assert used == {"symbol", "instance"}


def test_every_panel_has_a_query_and_every_query_parses_as_promql() -> None:
    everything = targets(DASHBOARDS)
    assert len(everything) > 50
    for target in everything:
        assert target.expr, target.where
        try:
            promql_parser.parse(substitute(target.expr, {**MACROS, "symbol": "BTC/USD", "instance": "bot:10588"}))
        except ValueError as error:
            pytest.fail(f"{target.where}: {error}")
