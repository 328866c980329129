"""`supervisor.py status | report | cycle ID`: where each asset stands, what the bot earned, one cycle's story."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cli.common import book_owner, open_database, settings_from
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
    from app.report_text import status_json, status_text
    from app.reports import status_report
    from dca.order_ids import make_namespace
    from wiring.market_view import open_market_view

    namespace = make_namespace(settings.order_prefix, db.installation_tag())
    report = status_report(db, lambda: open_market_view(settings, db), namespace, book_owner(db))
    print(status_json(report) if args.json else status_text(report))
    return 0


def _report(args: argparse.Namespace) -> int:
    from app.report_text import profit_json, profit_text
    from app.reports import parse_since, profit_report

    since = None
    if args.since.strip().lower() != "all":
        try:
            since = parse_since(args.since, datetime.now(UTC))
        except ValueError:
            raise UsageError(f"--since: {args.since!r} is not 7d, 24h, 30m, 2w, an ISO date or 'all'") from None
    report = profit_report(open_database(settings_from(args)), since)
    print(profit_json(report) if args.json else profit_text(report, since))
    return 0


def _cycle(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings)
    from app.report_text import cycle_json, cycle_text
    from app.reports import cycle_story
    from dca.order_ids import make_namespace

    story = cycle_story(db, make_namespace(settings.order_prefix, db.installation_tag()), args.cycle_id)
    if story is None:
        print(f"no cycle {args.cycle_id}")
        return EXIT_FAILURE
    print(cycle_json(story) if args.json else cycle_text(story))
    return 0
