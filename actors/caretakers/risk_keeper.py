"""`RiskKeeper`: keeps the risk board's slow inputs current.

* The kill switch, from its three sources: the KILL_SWITCH setting, the kill-switch file, and the
  flag `supervisor.py halt` stores in the database (so it survives restarts and reaches a running
  supervisor within one interval). `resume` clears the flag; the other two are cleared where they
  were set.
* Today's realized profit (since 00:00 UTC), read from the database, for the daily loss limit.
* The gauges: kill switch engaged, circuit breakers open, daily loss limit hit.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from actors.caretakers.base import Caretaker
from actors.runtime import Runtime
from dca.notices import kill_switch_engaged
from dca.risk import GLOBAL
from ports.meta import KILL_SWITCH


class RiskKeeper(Caretaker):
    name = "risk_keeper"
    on_wall_clock = True  # the kill switch must be noticed even while a separate simulator is paused

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.risk_keeper)

    def run_once(self) -> None:
        refresh_risk(self._rt, self._log)


def refresh_risk(rt: Runtime, log: Any) -> None:
    """Read the kill switch and today's realized profit into the risk board, and set the gauges.
    The Bot calls it once before the tree starts, so the gates are right from the first quote."""
    reason = kill_switch_reason(rt.kill_switch_env, rt.kill_switch_file, rt.meta.get(KILL_SWITCH))
    rt.metrics.kill_switch.set(1 if reason else 0)  # before the gate: whoever sees the gate also sees the gauge
    if rt.risk.set_kill_switch(reason):
        if reason is None:
            log.warning("kill switch released: orders may be placed again")
        else:
            log.critical("KILL SWITCH ENGAGED ({}): no new orders from now on; open orders left alone", reason)
            rt.notifier.post(kill_switch_engaged(reason))
    now = rt.clock.now()
    midnight = datetime.combine(now.date(), time(0), now.tzinfo)
    realized = rt.cycles.realized_since(midnight)
    rt.risk.set_realized_today(now.date(), realized)
    rt.metrics.daily_realized_profit.set(float(realized))
    limit = rt.risk.limits.daily_loss_limit
    rt.metrics.daily_loss_limit_hit.set(1 if limit is not None and realized <= -limit else 0)
    open_now = set(rt.risk.open_breakers(now))
    for scope in {GLOBAL, *rt.board.symbols()}:
        rt.metrics.circuit_open.labels(scope).set(1 if scope in open_now else 0)


def kill_switch_reason(from_settings: bool, path: Path, stored: object) -> str | None:
    """Why the kill switch is engaged (the first source that says so), or None."""
    if from_settings:
        return "KILL_SWITCH is set"
    if path.exists():
        note = path.read_text(errors="replace").strip()[:200]
        return f"file {path}" + (f": {note}" if note else "")
    if isinstance(stored, dict):
        since = _to_the_second(stored.get("since"))
        return f"halted{(': ' + str(stored['reason'])) if stored.get('reason') else ''} at {since}"
    return None


def _to_the_second(since: object) -> object:
    """'2026-12-06 01:44:49 UTC' for the stored time (users read it on the status page and their phone)."""
    try:
        moment = since if isinstance(since, datetime) else datetime.fromisoformat(str(since))
    except ValueError:
        return since
    return (moment.astimezone(UTC) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M:%S UTC")
