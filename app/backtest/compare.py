"""Are two runs the same? Used by `backtest --verify`, the benchmark and the tests to hold the fast
path to the reference loop: the same orders, fills, cycles, account timeline and final state."""

from __future__ import annotations

from app.backtest.runner import RunOutcome


def differences(one: RunOutcome, other: RunOutcome) -> list[str]:
    """What differs (empty when the runs are identical)."""
    a, b = one.session, other.session
    found = []
    for name in ("orders", "fills", "cycles", "timeline"):
        left, right = getattr(a.log, name), getattr(b.log, name)
        if left != right:
            index = next((i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
                         min(len(left), len(right)))
            found.append(f"{name} differ at #{index} ({len(left)} vs {len(right)} records)")
    if a.state != b.state:
        found.append("final states differ")
    if a.start != b.start:
        found.append("starting accounts differ")
    return found
