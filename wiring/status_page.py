"""The read-only status page (`/`) and its data as JSON (`/api/status`), served on the metrics address
for users who run no Prometheus or Grafana: what `status` and `report` show, from the books and the
live quotes, plus the health checks (`/healthz`, `/readyz`).

Nothing here changes anything, calls the exchange, or shows a key, a URL or a password.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from actors.caretakers.asset_watcher import ASSET_SUPERVISOR
from actors.health import Verdict
from actors.runtime import Runtime
from adapters.db.database import Database
from adapters.db.orders import OrderMirror
from adapters.web import Response, Route
from app.report_text import as_json_ready
from app.reports import profit_report, status
from dca.money import cents, readable

REFRESH_SECONDS = 10
RECENT_FILLS = 15
JSON = "application/json"


class BoardView:
    """`reports.status`'s market view over the live quote board: no exchange call per page view."""

    def __init__(self, runtime: Runtime) -> None:
        self._board = runtime.board

    def quotes(self, symbols: list[str]) -> dict[str, Any]:
        found = {symbol: self._board.latest(symbol) for symbol in symbols}
        return {symbol: quote for symbol, quote in found.items() if quote is not None}

    def positions(self) -> None:
        return None  # foreign coins are the reconciler's business (and its metric's)


def liveness(runtime: Runtime | None) -> Verdict:
    if runtime is None:
        return Verdict(False, ("starting",))
    idle_s = max(runtime.scheduler.idle_seconds(), runtime.real_time_scheduler.idle_seconds())
    return runtime.health.liveness(idle_s, ASSET_SUPERVISOR)


def readiness(runtime: Runtime | None) -> Verdict:
    return runtime.health.readiness() if runtime is not None else Verdict(False, ("starting",))


def gates(runtime: Runtime, dry_run: bool) -> list[str]:
    """The risk gates and switches in force, as sentences."""
    now = runtime.clock.now()
    found = []
    halted = runtime.risk.kill_switch
    if halted is not None:
        found.append(f"kill switch engaged ({halted}): no new orders")
    found += [f"circuit breaker open for {scope}" for scope in runtime.risk.open_breakers(now)]
    snapshot = runtime.risk.snapshot(now)
    limit = runtime.risk.limits.daily_loss_limit
    if limit is not None and snapshot.realized_today <= -limit:
        found.append(f"daily loss limit reached ({snapshot.realized_today} today): no new buys until 00:00 UTC")
    if dry_run:
        found.append("dry run: orders go to a local shadow exchange, not to the venue")
    return found


def status_data(db: Database, runtime: Runtime, mode: str, dry_run: bool) -> dict[str, Any]:
    live, ready = liveness(runtime), readiness(runtime)
    report = profit_report(db, None)
    return as_json_ready({
        "generated_at": runtime.clock.now(),
        "mode": mode,
        "assets": status(db, BoardView(runtime)),
        "profit": {"by_asset": report["by_asset"], "total": report["total"]},
        "recent_fills": OrderMirror(db, runtime.rules.namespace).recent_fills(RECENT_FILLS),
        "gates": gates(runtime, dry_run),
        "health": {"live": live.as_dict(), "ready": ready.as_dict()},
        "alerts": [*live.reasons, *ready.reasons],
    })


def routes(db: Database, runtime: Callable[[], Runtime | None], mode: str, dry_run: bool) -> dict[str, Route]:
    """The pages, reading the runtime when asked (the server starts before the actor tree)."""
    def data() -> dict[str, Any] | None:
        current = runtime()
        return status_data(db, current, mode, dry_run) if current is not None else None

    def api() -> Response:
        found = data()
        return _json(200, found) if found is not None else _json(503, {"starting": True})

    def page() -> Response:
        found = data()
        return Response(200, "text/html; charset=utf-8", render(found).encode())

    def check(verdict: Callable[[Runtime | None], Verdict]) -> Route:
        def route() -> Response:
            result = verdict(runtime())
            return _json(200 if result.ok else 503, result.as_dict())
        return route

    return {"/": page, "/api/status": api, "/healthz": check(liveness), "/readyz": check(readiness)}


def _json(status_code: int, body: Any) -> Response:
    return Response(status_code, JSON, json.dumps(body, indent=1).encode())


# --- the page ---------------------------------------------------------------------------------------

STYLE = """
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.4em 0 .4em}
table{border-collapse:collapse;background:#fff}td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.up{color:#127a12}.down{color:#b3261e}.muted{color:#777}
.alert{background:#fde8e6;border-left:4px solid #b3261e;padding:.3em .7em;margin:.2em 0}
.ok{background:#e7f4e7;border-left:4px solid #127a12;padding:.3em .7em}
"""


SIGNED = {"unrealized P/L", "realized P/L", "return %"}  # coloured: green above zero, red below
MONEY = {"unrealized P/L", "realized P/L", "fees"}  # to the cent, with the currency
PRICES = {"avg cost", "bid", "price"}  # with the currency
PERCENT = {"return %"}  # two decimals


def _cell(value: Any, header: str, currency: str) -> str:
    if value is None or value == "":
        return '<td class="muted">-</td>'
    css = ""
    if header in SIGNED and isinstance(value, str) and _is_number(value):
        css = ' class="down"' if Decimal(value) < 0 else (' class="up"' if Decimal(value) > 0 else "")
    return f"<td{css}>{html.escape(_labelled(value, header, currency))}</td>"


def _labelled(value: Any, header: str, currency: str) -> str:
    if not (isinstance(value, str) and _is_number(value)) or header not in MONEY | PRICES | PERCENT:
        return _short(value)
    if header in PERCENT:
        return f"{cents(Decimal(value)):f}"
    figure = f"{cents(Decimal(value)):f}" if header in MONEY else _short(value)
    return f"{figure} {currency}".rstrip()


def _currency(symbols: list[str]) -> str:
    """The quote currency of these pairs ('USD' for BTC/USD), or '' when they are quoted in several."""
    found = {symbol.partition("/")[2] for symbol in symbols}
    return found.pop() if len(found) == 1 else ""


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _short(value: Any) -> str:
    """Prices and quantities to a readable precision (the JSON keeps every digit)."""
    if isinstance(value, str) and _is_number(value) and "." in value:
        return readable(Decimal(value))
    if isinstance(value, str) and "T" in value and value[:4].isdigit():
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _table(headers: list[str], rows: list[list[Any]], empty: str, currencies: list[str]) -> str:
    """`currencies[i]` labels row i's money and prices."""
    if not rows:
        return f'<p class="muted">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v, h, currency) for h, v in zip(headers, row, strict=True)) + "</tr>"
                   for row, currency in zip(rows, currencies, strict=True))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(data: dict[str, Any] | None) -> str:
    content = "<p>The supervisor is starting…</p>" if data is None else _sections(data)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>DCA bot status</title><style>{STYLE}</style></head><body>"
            f"<h1>DCA bot</h1>{content}</body></html>")


def _live_orders(asset: dict[str, Any]) -> str:
    """The acting order, and how many orders rest on the book beside it (the ladder, a limit take-profit)."""
    resting = asset.get("resting") or []
    return " ".join(part for part in (asset["live_order"], f"+{len(resting)} resting" if resting else "") if part)


def _sections(data: dict[str, Any]) -> str:
    warnings = data["alerts"] + data["gates"]
    banner = ("".join(f'<div class="alert">{html.escape(w)}</div>' for w in warnings) if warnings
              else '<div class="ok">Running and ready; no gate or alert in force.</div>')
    assets = [[a["symbol"], "yes" if a["enabled"] else "no", a["cycle_id"], a["status"], a["quantity"],
               a["average_price"], a["last_bid"], a["unrealized_pnl"], a["safety_orders"], _live_orders(a)]
              for a in data["assets"]]
    profit = [[symbol, row["cycles"], row["errors"], row["realized_pnl"], row["fees"], row["return_percent"]]
              for symbol, row in data["profit"]["by_asset"].items()]
    profit_currencies = [_currency([symbol]) for symbol in data["profit"]["by_asset"]]
    profit_currencies.append(_currency([*data["profit"]["by_asset"], *(a["symbol"] for a in data["assets"])]))
    total = data["profit"]["total"]
    profit.append(["all", total["cycles"], total["errors"], total["realized_pnl"], total["fees"],
                   total["return_percent"]])
    fills = [[f["symbol"], f["cycle_id"], f["kind"], f["side"], f["qty"], f["price"], f["filled_at"]]
             for f in data["recent_fills"]]
    asset_currencies = [_currency([a["symbol"]]) for a in data["assets"]]
    fill_currencies = [_currency([f["symbol"]]) for f in data["recent_fills"]]
    return (f'<p class="muted" id="generated">{html.escape(data["mode"])} · updated '
            f'{html.escape(_short(data["generated_at"]))} UTC · refreshes every {REFRESH_SECONDS} s · '
            f'<a href="/api/status">JSON</a></p>{banner}'
            "<h2>Assets</h2>" + _table(["asset", "on", "cycle", "state", "quantity", "avg cost", "bid",
                                        "unrealized P/L", "safety orders", "live order"], assets,
                                       "no assets configured", asset_currencies) +
            "<h2>Completed cycles</h2>" + _table(["asset", "cycles", "errors", "realized P/L", "fees", "return %"],
                                                 profit, "", profit_currencies) +
            "<h2>Recent fills</h2>" + _table(["asset", "cycle", "kind", "side", "quantity", "price", "filled at (UTC)"],
                                             fills, "no fills yet", fill_currencies))
