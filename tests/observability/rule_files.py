"""The repository's alert rule files and their promtool unit tests."""

from __future__ import annotations

from typing import Any

import yaml

from tests.observability.tools import ROOT

RULES = sorted((ROOT / "prometheus" / "rules").glob("*.yml"))
RULE_TESTS = sorted((ROOT / "prometheus" / "tests").glob("*_test.yml"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for path in RULES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"] if "alert" in rule]
