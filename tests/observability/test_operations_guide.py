"""docs/operations.md, the guide the alerts link to, documents every metric the supervisor exports."""

from __future__ import annotations

import re

from adapters.metrics import Metrics
from tests.observability.tools import ROOT


def test_every_exported_metric_is_in_the_operations_guides_metrics_table() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    table = guide[guide.index("## Metrics"):]
    families = re.findall(r"^# TYPE (dca_\w+) ", Metrics().exposition().decode(), flags=re.MULTILINE)
    exported = {name for name in families if not name.endswith("_created")}  # creation times of counters
    documented = set(re.findall(r"`(dca_\w+)`", table))
    assert exported - documented == set()
    assert documented - exported == set(), "documented but not exported"
