"""The text and JSON of `status`, `report` and `cycle`: the command line only prints what these return.

Amounts are shown exactly (no float, no exponent, no trailing zeros) or rounded to the places a column
asks for; JSON carries every amount as an exact string (`as_json_ready`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # light on purpose: every command imports `table`, and `--help` must stay instant
    from app.reports import AssetStatus, RestingOrder, StatusReport


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> str:
    """A plain aligned table; columns whose index is in `right` are right-aligned (numbers)."""
    cells = [[str(h) for h in headers], *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = (v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True)))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def amount(value: Decimal | None, places: int | None = None) -> str:
    """An amount as plain text, rounded to `places` if given; `-` for none."""
    if value is None:
        return "-"
    if places is not None:
        value = round(value, places)
    return f"{value.normalize():f}"


def as_json_ready(value: Any) -> Any:
    """Decimals as exact strings, times as ISO 8601, dataclasses as dicts."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return as_json_ready(asdict(value))
    if isinstance(value, dict):
        return {str(k): as_json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json_ready(v) for v in value]
    return value


# --- status ------------------------------------------------------------------------------------------


def status_json(report: StatusReport) -> str:
    owner, funds = report.owner, report.funds
    return json.dumps({
        "assets": as_json_ready(report.rows), "kill_switch": as_json_ready(report.kill_switch),
        "cash": as_json_ready(funds.cash if funds else None),
        "buying_power": as_json_ready(funds.buying_power if funds else None),
        "supervisor_running": owner is not None,
        "owner": None if owner is None else {"command": owner.holder, "host": owner.host, "pid": owner.pid,
                                             "since": owner.started_at.isoformat()},
        "foreign_open_orders": as_json_ready(report.foreign.open_orders),
        "foreign_coins": as_json_ready(report.foreign.coins), "source": report.source,
        "seed_takeover": report.seed_takeover, "refused_pairs": as_json_ready(report.refused_pairs)}, indent=2)


def status_text(report: StatusReport) -> str:
    rows, owner, halted, funds = report.rows, report.owner, report.kill_switch, report.funds
    if not rows:
        lines = ["no assets configured; add some with: supervisor.py assets add BTC/USD --enabled"]
    else:
        lines = [table(["asset", "on", "cycle", "state", "quantity", "avg cost", "last bid", "unrealized", "committed",
                        "SOs", "foreign", "live order"],
                       [[r.symbol, "yes" if r.enabled else "no", r.cycle_id, r.status, amount(r.quantity),
                         amount(r.average_price, 2), amount(r.last_bid), amount(r.unrealized_pnl, 2),
                         amount(r.committed, 2), r.safety_orders, amount(r.foreign_quantity), r.live_order]
                        for r in rows],
                       right=(2, 4, 5, 6, 7, 8, 10))]
    lines.append(f"\n{report.source}; {'owned by ' + owner.describe() if owner else 'no supervisor running'}"
                 + (f"; KILL SWITCH ENGAGED ({halted.get('reason') or 'halt'})" if isinstance(halted, dict) else ""))
    if funds is not None:
        lines.append(f"account: cash {amount(funds.cash, 2)}, buying power for crypto {amount(funds.buying_power, 2)} "
                     "(non_marginable_buying_power: what the bot's buys draw on)")
    lines += [line for line in map(_start_gate_line, rows) if line]
    for symbol, why in report.refused_pairs.items():
        lines.append(f"{symbol}: enabled, but the venue does not trade it ({why.replace('_', ' ')}): not started")
    if report.takeover_note:
        lines.append(report.takeover_note)
    for row in rows:
        for order in row.resting:
            lines.append(f"{row.symbol}: resting {resting_text(order)}")
    for row in rows:
        if row.close_requested_at is not None:
            lines.append(f"{row.symbol}: closing (asked {row.close_requested_at:%Y-%m-%d %H:%M:%S}): sold at market "
                         "at the next quote")
        elif row.stop_loss_since is not None:
            lines.append(f"{row.symbol}: stop loss pending: the bid has been at or below "
                         f"{amount(row.stop_loss_level)} since {row.stop_loss_since:%Y-%m-%d %H:%M:%S}")
    for row in (r for r in rows if r.foreign_quantity):
        lines.append(f"{row.symbol}: {amount(row.foreign_quantity)} on the exchange is not the bot's; it is never "
                     f"sold or averaged into (adopt it with `supervisor.py adopt {row.symbol}`)")
    for symbol, quantity in report.foreign.coins.items():
        lines.append(f"{symbol}: {amount(quantity)} on the exchange in a pair that is not configured; the bot never "
                     "touches it")
    for order in report.foreign.open_orders:
        size = f"{amount(order.qty)}" if order.qty is not None else f"{amount(order.notional)} notional"
        price = f" at {amount(order.limit_price)}" if order.limit_price is not None else ""
        lines.append(f"open order {order.client_order_id} ({order.side} {size} {order.symbol}{price}) is not the "
                     "bot's; it is left alone")
    return "\n".join(lines)


def _start_gate_line(row: AssetStatus) -> str:
    """One line on what holds a new cycle back: the price range, and the start condition's reading
    (which says itself whether it holds, what it waits for and the indicator values)."""
    if row.price_range_wait:
        held = f"no new cycle until {row.price_range_wait}"
    elif row.waiting_for:
        held = "no new cycle" if row.start_condition else f"no new cycle until {row.waiting_for}"
    else:
        held = ""
    reading = f"start condition {row.start_condition}" if row.start_condition else ""
    parts = [part for part in (held, reading) if part]
    return f"{row.symbol}: {'; '.join(parts)}" if parts else ""


# --- report ------------------------------------------------------------------------------------------


def profit_json(report: dict[str, Any]) -> str:
    return json.dumps(as_json_ready(report), indent=2)


def profit_text(report: dict[str, Any], since: datetime | None) -> str:
    headers = ["asset", "cycles", "wins", "errors", "realized P/L", "fees", "invested", "return %", "avg hours",
               "SOs used"]
    rows = [_profit_row(symbol, row) for symbol, row in report["by_asset"].items()]
    rows.append(_profit_row("total", report["total"]))
    return (f"completed cycles since {since.isoformat(timespec='minutes') if since else 'the beginning'}\n"
            + table(headers, rows, right=range(1, 10)))


def _profit_row(name: str, row: dict[str, Any]) -> list[object]:
    return [name, row["cycles"], row["wins"], row["errors"], amount(row["realized_pnl"], 2), amount(row["fees"], 2),
            amount(row["invested"], 2), amount(row["return_percent"], 2), f"{row['average_hours']:.1f}",
            row["safety_orders"]]


# --- cycle -------------------------------------------------------------------------------------------


def cycle_json(story: dict[str, Any]) -> str:
    return json.dumps(as_json_ready(story), indent=2)


def cycle_text(story: dict[str, Any]) -> str:
    c = story["cycle"]
    lines = [f"cycle {c['id']} of {c['symbol']}: {c['status']}, started {c['created_at']:%Y-%m-%d %H:%M:%S}"
             + (f", ended {c['completed_at']:%Y-%m-%d %H:%M:%S}" if c["completed_at"] else ""),
             f"  holds {amount(c['quantity'])} at avg {amount(c['average_price'], 4)} (cost {amount(c['cost'], 2)}), "
             f"{c['safety_orders']} safety orders, last fill {amount(c['last_fill_price'])}, "
             f"peak {amount(c['peak_price'])}"]
    if c["sell_price"] is not None:
        lines.append(f"  sold at {amount(c['sell_price'])}: realized P/L {amount(c['realized_pnl'], 4)} after fees "
                     f"(buy fees {amount(c['buy_fees_coin'])} in coin, sell fees {amount(c['sell_fees'], 4)})")
    lines += ["\norders",
              table(["client order id", "kind", "side", "type", "qty", "limit", "status", "filled", "avg price", "fee"],
                    [[o["client_order_id"], o["kind"], o["side"], o["type"], amount(o["qty"]), amount(o["limit_price"]),
                      o["status"], amount(o["filled_qty"]), amount(o["filled_avg_price"]), amount(o["fee"])]
                     for o in story["orders"]],
                    right=(4, 5, 7, 8, 9))]
    if story.get("resting"):
        lines += ["\nresting orders (placed ahead, waiting on the book for their price)",
                  *(f"  {resting_text(order)}" for order in story["resting"])]
    lines += ["\nwhat happened"]
    for event in story["events"]:
        change = f"[{event['from'] or '·'} → {event['to']}] " if event["to"] else ""
        lines.append(f"  {event['at']:%Y-%m-%d %H:%M:%S}  {change}{event['what']}")
    return "\n".join(lines)


def resting_text(order: RestingOrder) -> str:
    """One resting order on one line: kind, side, limit, quantity, how much has filled."""
    return (f"{order.kind.replace('_', ' ')} {order.side} limit {amount(order.limit_price)} qty {amount(order.qty)}, "
            f"filled {amount(order.filled_qty)} ({order.client_order_id})")
