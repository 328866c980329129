"""Reading the committed Grafana dashboards the way the tests need them: panels, query targets, the
PromQL inside them with Grafana's macros substituted, and the metric names that PromQL uses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from tests.observability.tools import ROOT

DASHBOARDS_DIR = ROOT / "grafana" / "dashboards"
PROVISIONING_DIR = ROOT / "grafana" / "provisioning"
_VARIABLE = re.compile(r"\$\{?(\w+)(?::\w+)?\}?")
_PROMETHEUS_MADE = {"up", "ALERTS"}  # series Prometheus itself creates, not the exporter


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel_id: int
    panel_title: str
    panel_type: str
    ref_id: str
    expr: str
    instant: bool
    min_interval: str | None

    @property
    def where(self) -> str:
        return f"{self.dashboard} panel {self.panel_id} '{self.panel_title}' query {self.ref_id}"


def load_dashboards() -> dict[str, dict[str, Any]]:
    """uid → dashboard JSON, for every committed dashboard."""
    dashboards = {}
    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        dashboard = json.loads(path.read_text())
        dashboards[dashboard["uid"]] = dashboard
    return dashboards


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(dashboards: dict[str, dict[str, Any]]) -> list[Target]:
    return [Target(uid, panel["id"], panel.get("title", ""), panel["type"], target.get("refId", ""),
                   target.get("expr", ""), bool(target.get("instant")), panel.get("interval"))
            for uid, dashboard in dashboards.items() for panel in panels(dashboard)
            for target in panel.get("targets", [])]


def variables_used(text: str) -> set[str]:
    """User variables ($symbol, ${symbol}) referenced in a query; Grafana's own $__ macros excluded."""
    return {name for name in _VARIABLE.findall(text) if not name.startswith("__")}


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace $name and ${name} (variables and $__ macros) by the given values; longest names first
    so that $__rate_interval is not read as $__range followed by text."""
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    return expr


def metric_names(expr: str) -> set[str]:
    """Every metric name a PromQL expression selects (raises ValueError if it does not parse)."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def exporter_names(exposition: str) -> set[str]:
    """Every sample name an exposition declares, including families without samples yet: a counter
    family declares `<name>_total` and `<name>_created`, a histogram its `_bucket`, `_sum`, `_count`
    and `_created`."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, flags=re.MULTILINE):
        names.add(name)
        if kind == "counter":
            names.add(name.removesuffix("_total") + "_created")
        if kind == "histogram":
            names.update(f"{name}{suffix}" for suffix in ("_bucket", "_sum", "_count", "_created"))
    names.update(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", exposition, flags=re.MULTILINE))
    return names | _PROMETHEUS_MADE
