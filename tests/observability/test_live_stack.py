"""The exporter, the dashboards and the alert rules against live data: a real supervisor trading on
its embedded simulator, scraped every second by a real Prometheus that also evaluates the rules.

Every dashboard query is run the way Grafana would run it (after substituting its macros and
`$symbol`): it must parse, use only metrics the supervisor exports, evaluate without error, and
return data, except the event-driven series in EVENT_DRIVEN, which legitimately stay empty while
nothing goes wrong.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import promql_parser
import pytest

from tests.observability.dashboard_model import (
    Target,
    exporter_names,
    load_dashboards,
    metric_names,
    substitute,
    targets,
)
from tests.observability.live import Prometheus, Supervisor
from tests.observability.rule_files import alert_rules
from tests.observability.tools import run_tool
from tests.waiting import wait_for

pytestmark = [pytest.mark.prometheus]

# Every counter exists at 0 from start-up (adapters/metrics.py): only the firing-alerts table may be
# empty, because a healthy run fires no alert.
EVENT_DRIVEN = {"ALERTS"}
SCRAPES_BEFORE_CHECKING = 20  # enough samples for rate() windows and several caretaker runs
LABEL_NAMES = {"symbol", "side", "kind", "reason", "gate", "error", "status", "outcome", "stream", "actor", "caretaker",
               "endpoint", "operation", "mode", "scope", "le",
               "version", "implementation", "major", "minor", "patchlevel"}  # the last five: python_info


@dataclass
class LiveStack:
    supervisor: Supervisor
    prometheus: Prometheus
    started: float  # when Prometheus first scraped the supervisor (Unix time)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    supervisor = Supervisor(tmp_path_factory.mktemp("supervisor"))
    prometheus = None
    try:
        prometheus = Prometheus(tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{supervisor.port}")
        wait_for(lambda: prometheus.value('up{job="dca-supervisor"}') == 1, 30, "the first scrape")
        started = time.time()
        wait_for(lambda: _has_enough_data(prometheus), 120, "fills, closed cycles and repeated caretaker runs")
        yield LiveStack(supervisor, prometheus, started)
    finally:
        if prometheus is not None:
            prometheus.stop()
        supervisor.stop()


def _has_enough_data(prometheus: Prometheus) -> bool:
    checks = (
        f'count_over_time(up{{job="dca-supervisor"}}[1h]) >= {SCRAPES_BEFORE_CHECKING}',
        'sum(dca_fills_total{side="sell"}) > 0',  # a cycle took profit
        "min(dca_caretaker_runs_total) >= 3",
        "count(dca_position_quantity > 0) > 0",  # and one holds coin
    )
    return all(prometheus.value(check) is not None for check in checks)


# --- the exporter ---------------------------------------------------------------------------------

def test_the_live_exposition_passes_promtool_check_metrics(stack: LiveStack) -> None:
    result = run_tool("promtool", "check", "metrics", stdin=stack.supervisor.scrape().encode())
    assert result.code == 0, result.output


def test_counters_end_in_total_times_are_in_seconds_and_labels_are_bounded(stack: LiveStack) -> None:
    exposition = stack.supervisor.scrape()
    families = re.findall(r"^# TYPE (dca_\S+) (\S+)$", exposition, flags=re.MULTILINE)
    for name, kind in [(n, k) for n, k in families if not n.endswith("_created")]:  # creation times, as gauges
        assert (kind == "counter") == name.endswith("_total"), name
        assert not re.search(r"_(ms|milliseconds|minutes|hours)(_|$)", name), name
        if "duration" in name or "latency" in name or "timestamp" in name or "interval" in name:
            assert name.endswith("_seconds"), name
    for labels in re.findall(r"^\w+\{(.*)\} ", exposition, flags=re.MULTILINE):
        for label, value in re.findall(r'(\w+)="([^"]*)"', labels):
            assert label in LABEL_NAMES, f"unexpected label {label}"
            assert not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-.*|dca-\w+-\d+-\d+-\d+", value), f"an id: {value}"


# --- the dashboards -------------------------------------------------------------------------------

def symbols(stack: LiveStack) -> list[str]:
    """What the asset dashboard's $symbol variable offers: label_values(dca_cycle_status, symbol)."""
    return sorted(stack.prometheus.api("label/symbol/values", **{"match[]": "dca_cycle_status"}))


def test_the_symbol_variable_offers_every_traded_asset(stack: LiveStack) -> None:
    from wiring.bot import DEMO_ASSETS  # what a fresh database on the simulator trades

    assert symbols(stack) == sorted(DEMO_ASSETS)


SCRAPE_INTERVAL_S = 1  # the test Prometheus's (Grafana is told the real one by the datasource's timeInterval)
DEFAULT_INTERVAL_S = 2  # what $__interval is for a panel without a minimum interval, at this scrape rate


def grafana_macros(target: Target, window_s: int) -> dict[str, str]:
    """What Grafana substitutes for its macros: $__interval is at least the panel's minimum interval,
    and $__rate_interval = max(4 × scrape interval, $__interval + scrape interval)."""
    interval_s = DEFAULT_INTERVAL_S
    if target.min_interval:
        interval_s = max(interval_s, int(promql_parser.parse_duration(target.min_interval).total_seconds()))
    rate_interval_s = max(4 * SCRAPE_INTERVAL_S, interval_s + SCRAPE_INTERVAL_S)
    return {"__interval": f"{interval_s}s", "__rate_interval": f"{rate_interval_s}s",
            "__range": f"{window_s}s", "__range_s": str(window_s)}


def runs_of(target: Target, stack: LiveStack) -> list[tuple[str, str]]:
    """(description, PromQL) for each way Grafana would run this query: once per $symbol value on
    the asset dashboard, macros substituted for the time range the test covers."""
    macros = {**grafana_macros(target, max(int(time.time() - stack.started), 2)),
              "instance": f"127.0.0.1:{stack.supervisor.port}"}  # the $instance variable's one value here
    if "$symbol" not in target.expr:
        return [(target.where, substitute(target.expr, macros))]
    return [(f"{target.where} [$symbol={s}]", substitute(target.expr, {**macros, "symbol": s}))
            for s in symbols(stack)]


def has_values(result: dict) -> bool:
    """At least one finite sample (NaN from 0/0 or an empty histogram does not count as data)."""
    series = result.get("result", [])
    samples = [value for s in series for _, value in s.get("values", [s.get("value", [0, "NaN"])])]
    return any(math.isfinite(float(v)) for v in samples)


def test_every_dashboard_query_parses_uses_exported_metrics_evaluates_and_returns_data(stack: LiveStack) -> None:
    exported = exporter_names(stack.supervisor.scrape())
    end = time.time()
    problems: list[str] = []
    checked = 0
    for target in targets(load_dashboards()):
        for where, expr in runs_of(target, stack):
            checked += 1
            try:
                names = metric_names(expr)
            except ValueError as error:
                problems.append(f"{where}: does not parse: {error}")
                continue
            problems.extend(f"{where}: {name} is not exported" for name in sorted(names - exported))
            if target.instant:
                now = stack.prometheus.query(expr, at=end)
                if "error" in now:
                    problems.append(f"{where}: {now['error']}")
            over_time = stack.prometheus.query_range(expr, stack.started, end)
            if "error" in over_time:
                problems.append(f"{where}: {over_time['error']}")
            elif not has_values(over_time) and not names & EVENT_DRIVEN:
                problems.append(f"{where}: no data for {expr}")
    assert checked > 80
    assert problems == [], "\n".join(problems)


# --- the alert rules ------------------------------------------------------------------------------

def test_every_alert_rule_evaluates_without_error_on_live_data(stack: LiveStack) -> None:
    def rules() -> list[dict]:
        groups = stack.prometheus.api("rules")["groups"]
        found = [rule for group in groups for rule in group["rules"]]
        never = "0001-01-01"  # Go's zero time: not evaluated yet
        return found if found and not any(r["lastEvaluation"].startswith(never) for r in found) else []

    evaluated = wait_for(rules, 30, "every rule to be evaluated")
    assert sorted(r["name"] for r in evaluated) == sorted(r["alert"] for r in alert_rules())
    broken = [f"{r['name']}: {r.get('lastError')}" for r in evaluated if r["health"] != "ok"]
    assert broken == []


def test_counter_creation_times_reach_prometheus_for_the_rules_that_count_a_new_series_in_full(
        stack: LiveStack) -> None:
    created = stack.prometheus.query('dca_fills_created{side="buy"}')["result"]
    assert {s["metric"]["symbol"] for s in created} == set(symbols(stack))


def test_a_healthy_supervisor_raises_no_critical_alert(stack: LiveStack) -> None:
    alerts = stack.prometheus.api("alerts")["alerts"]
    critical = [a["labels"]["alertname"] for a in alerts if a["labels"].get("severity") == "critical"]
    assert critical == []


def test_the_instance_variable_offers_the_supervisor_and_the_annotations_mark_fills_and_cycles(
        stack: LiveStack) -> None:
    instance = f"127.0.0.1:{stack.supervisor.port}"
    offered = stack.prometheus.api("label/instance/values", **{"match[]": "dca_start_timestamp_seconds"})
    assert offered == [instance]
    end = time.time()
    macros = {"__interval": f"{DEFAULT_INTERVAL_S}s", "instance": instance, "symbol": "|".join(symbols(stack))}
    for annotation in load_dashboards()["dca-asset"]["annotations"]["list"]:
        marks = stack.prometheus.query_range(substitute(annotation["expr"], macros), stack.started, end)
        assert has_values(marks), annotation["name"]
