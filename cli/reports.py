"""`supervisor.py status | report | cycle ID`: where each asset stands, what the bot earned, one cycle's story."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cli.common import book_owner, open_database, settings_from, table
from cli.errors import EXIT_FAILURE, UsageError


def register(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser("status", help="per asset: state, open cycle, average cost, last price, "
                                 "unrealized P/L, capital committed, foreign coins")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)
    report = commands.add_parser("report", help="completed cycles, P/L and fees, by asset and in total")
    report.add_argument("--since", default="7d", help="7d, 24h, 30m, 2w, an ISO date, or 'all' (default 7d)")
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.set_defaults(handler=_report)
    cycle = commands.add_parser("cycle", help="one cycle's orders, fills and transitions, in order")
    cycle.add_argument("cycle_id", type=int, metavar="ID")
    cycle.add_argument("--json", action="store_true", help="machine-readable output")
    cycle.set_defaults(handler=_cycle)


def _status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings)
    from adapters.db.meta import KILL_SWITCH, MetaStore
    from adapters.db.seed_schema import TAKEOVER
    from app.reports import ForeignHoldings, as_json_ready, foreign_holdings, status
    from dca.order_ids import make_namespace
    from wiring.market_view import open_market_view

    foreign, funds = ForeignHoldings([], {}), None
    try:
        view = open_market_view(settings, db)
        rows = status(db, view)
        funds = view.funds() if view is not None else None
        if view is not None:
            foreign = foreign_holdings(db, view, make_namespace(settings.order_prefix, db.installation_tag()))
    except Exception as error:  # an unreachable venue still leaves the books worth showing
        view, rows = None, status(db, None)
        note = f"prices and positions unavailable: {error}"
    else:
        note = f"prices and positions from {view.source}" if view else "no prices or positions (nothing to read)"
    meta = MetaStore(db)
    halted = meta.get(KILL_SWITCH)
    owner = book_owner(db)
    if args.json:
        print(json.dumps({"assets": as_json_ready(rows), "kill_switch": as_json_ready(halted),
                          "cash": as_json_ready(funds.cash if funds else None),
                          "buying_power": as_json_ready(funds.buying_power if funds else None),
                          "supervisor_running": owner is not None,
                          "owner": None if owner is None else {"command": owner.holder, "host": owner.host,
                                                               "pid": owner.pid, "since": owner.started_at.isoformat()},
                          "foreign_open_orders": as_json_ready(foreign.open_orders),
                          "foreign_coins": as_json_ready(foreign.coins), "source": note,
                          "seed_takeover": meta.get(TAKEOVER),
                          "refused_pairs": as_json_ready(meta.get("refused_pairs") or {})}, indent=2))
        return 0
    if not rows:
        print("no assets configured; add some with: supervisor.py assets add BTC/USD --enabled")
    else:
        print(table(["asset", "on", "cycle", "state", "quantity", "avg cost", "last bid", "unrealized", "committed",
                     "SOs", "foreign", "live order"],
                    [[r.symbol, "yes" if r.enabled else "no", r.cycle_id, r.status, _n(r.quantity),
                      _n(r.average_price, 2), _n(r.last_bid), _n(r.unrealized_pnl, 2), _n(r.committed, 2),
                      r.safety_orders, _n(r.foreign_quantity), r.live_order] for r in rows],
                    right=(2, 4, 5, 6, 7, 8, 10)))
    print(f"\n{note}; {'owned by ' + owner.describe() if owner else 'no supervisor running'}"
          + (f"; KILL SWITCH ENGAGED ({halted.get('reason') or 'halt'})" if isinstance(halted, dict) else ""))
    if funds is not None:
        print(f"account: cash {_n(funds.cash, 2)}, buying power for crypto {_n(funds.buying_power, 2)} "
              "(non_marginable_buying_power: what the bot's buys draw on)")
    refused = meta.get("refused_pairs")
    for symbol, why in (refused.items() if isinstance(refused, dict) else ()):
        print(f"{symbol}: enabled, but the venue does not trade it ({why.replace('_', ' ')}): not started")
    from app.takeover import takeover_note

    if taken := takeover_note(meta):
        print(taken)
    for row in (r for r in rows if r.foreign_quantity):
        print(f"{row.symbol}: {_n(row.foreign_quantity)} on the exchange is not the bot's; it is never sold or "
              f"averaged into (adopt it with `supervisor.py adopt {row.symbol}`)")
    for symbol, quantity in foreign.coins.items():
        print(f"{symbol}: {_n(quantity)} on the exchange in a pair that is not configured; the bot never touches it")
    for order in foreign.open_orders:
        amount = f"{_n(order.qty)}" if order.qty is not None else f"{_n(order.notional)} notional"
        price = f" at {_n(order.limit_price)}" if order.limit_price is not None else ""
        print(f"open order {order.client_order_id} ({order.side} {amount} {order.symbol}{price}) is not the bot's; "
              "it is left alone")
    return 0


def _report(args: argparse.Namespace) -> int:
    from app.reports import as_json_ready, parse_since, profit_report

    since = None
    if args.since.strip().lower() != "all":
        try:
            since = parse_since(args.since, datetime.now(UTC))
        except ValueError:
            raise UsageError(f"--since: {args.since!r} is not 7d, 24h, 30m, 2w, an ISO date or 'all'") from None
    report = profit_report(open_database(settings_from(args)), since)
    if args.json:
        print(json.dumps(as_json_ready(report), indent=2))
        return 0
    headers = ["asset", "cycles", "wins", "errors", "realized P/L", "fees", "invested", "return %", "avg hours",
               "SOs used"]
    rows = [_report_row(symbol, row) for symbol, row in report["by_asset"].items()]
    rows.append(_report_row("total", report["total"]))
    print(f"completed cycles since {since.isoformat(timespec='minutes') if since else 'the beginning'}")
    print(table(headers, rows, right=range(1, 10)))
    return 0


def _report_row(name: str, row: dict[str, Any]) -> list[object]:
    return [name, row["cycles"], row["wins"], row["errors"], _n(row["realized_pnl"], 2), _n(row["fees"], 2),
            _n(row["invested"], 2), _n(row["return_percent"], 2), f"{row['average_hours']:.1f}", row["safety_orders"]]


def _cycle(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings)
    from app.reports import as_json_ready, cycle_story
    from dca.order_ids import make_namespace

    story = cycle_story(db, make_namespace(settings.order_prefix, db.installation_tag()), args.cycle_id)
    if story is None:
        print(f"no cycle {args.cycle_id}")
        return EXIT_FAILURE
    if args.json:
        print(json.dumps(as_json_ready(story), indent=2))
        return 0
    c = story["cycle"]
    print(f"cycle {c['id']} of {c['symbol']}: {c['status']}, started {c['created_at']:%Y-%m-%d %H:%M:%S}"
          + (f", ended {c['completed_at']:%Y-%m-%d %H:%M:%S}" if c["completed_at"] else ""))
    print(f"  holds {_n(c['quantity'])} at avg {_n(c['average_price'], 4)} (cost {_n(c['cost'], 2)}), "
          f"{c['safety_orders']} safety orders, last fill {_n(c['last_fill_price'])}, peak {_n(c['peak_price'])}")
    if c["sell_price"] is not None:
        print(f"  sold at {_n(c['sell_price'])}: realized P/L {_n(c['realized_pnl'], 4)} after fees "
              f"(buy fees {_n(c['buy_fees_coin'])} in coin, sell fees {_n(c['sell_fees'], 4)})")
    print("\norders")
    print(table(["client order id", "kind", "side", "type", "qty", "limit", "status", "filled", "avg price", "fee"],
                [[o["client_order_id"], o["kind"], o["side"], o["type"], _n(o["qty"]), _n(o["limit_price"]),
                  o["status"], _n(o["filled_qty"]), _n(o["filled_avg_price"]), _n(o["fee"])] for o in story["orders"]],
                right=(4, 5, 7, 8, 9)))
    print("\nwhat happened")
    for event in story["events"]:
        change = f"[{event['from'] or '·'} → {event['to']}] " if event["to"] else ""
        print(f"  {event['at']:%Y-%m-%d %H:%M:%S}  {change}{event['what']}")
    return 0


def _n(value: Decimal | None, places: int | None = None) -> str:
    if value is None:
        return "-"
    if places is not None:
        value = round(value, places)
    return f"{value.normalize():f}"
