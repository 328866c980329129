"""Prometheus configuration and alert rules, checked and unit-tested with the real promtool, and the
example Alertmanager configuration checked with the real amtool."""

from __future__ import annotations

import re

import pytest
import yaml

from config.settings import Settings
from tests.observability.rule_files import RULE_TESTS, RULES, alert_rules
from tests.observability.tools import ROOT, run_tool

pytestmark = pytest.mark.prometheus

RUNBOOK = ROOT / "docs" / "operations.md"
SEVERITIES = {"critical", "warning", "info"}


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+?)\s*$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_prometheus_yml_and_the_rule_files_it_loads_are_valid() -> None:
    result = run_tool("promtool", "check", "config", "prometheus.yml")
    assert result.code == 0, result.output
    assert f"SUCCESS: {len(RULES)} rule files found" in result.output, result.output


def test_every_rule_file_passes_promtool_check_rules() -> None:
    result = run_tool("promtool", "check", "rules", *map(str, RULES))
    assert result.code == 0, result.output


def test_every_rule_unit_test_passes() -> None:
    result = run_tool("promtool", "test", "rules", *map(str, RULE_TESTS))
    assert result.code == 0, result.output
    assert result.output.count("SUCCESS") == len(RULE_TESTS), result.output


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "alerts never seen firing in a unit test"
    assert names - quiet == set(), "alerts never seen staying quiet in a unit test"


def test_every_alert_has_a_for_a_severity_and_annotations_that_link_to_its_runbook_section() -> None:
    anchors = github_anchors(RUNBOOK.read_text())
    for rule in alert_rules():
        name = rule["alert"]
        assert "for" in rule, f"{name}: say how long the condition must hold, even if 0m"
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert annotations.get("summary") and annotations.get("description"), name
        page, _, anchor = annotations["runbook"].partition("#")
        assert page == "docs/operations.md" and anchor == name.lower(), f"{name}: runbook {annotations['runbook']}"
        assert anchor in anchors, f"{name}: docs/operations.md has no section #{anchor}"


def test_prometheus_scrapes_the_supervisor_on_its_default_port_and_loads_every_rule_file() -> None:
    config = yaml.safe_load((ROOT / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = [t for sc in jobs["dca-supervisor"]["static_configs"] for t in sc["targets"]]
    default_port = Settings.model_fields["metrics_port"].default
    assert targets == [f"127.0.0.1:{default_port}"]
    loaded = {p for pattern in config["rule_files"] for p in ROOT.glob(pattern)}
    assert loaded == set(RULES)


def test_the_alertmanager_example_is_valid_and_routes_to_telegram_email_and_a_webhook() -> None:
    result = run_tool("amtool", "check-config", "alertmanager.yml")
    assert result.code == 0, result.output
    expected = {"critical": "telegram,email", "warning": "email", "info": "webhook"}
    for severity, receivers in expected.items():
        routed = run_tool("amtool", "config", "routes", "test", "--config.file=alertmanager.yml",
                          f"severity={severity}", "alertname=DcaExample")
        assert routed.code == 0, routed.output
        assert routed.output.splitlines()[0].strip() == receivers, f"{severity}: {routed.output}"

