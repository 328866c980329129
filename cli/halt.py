"""`supervisor.py halt|resume`: the kill switch, from the command line.

`halt` stores the switch in the database: a running supervisor stops placing (and cancelling) orders
within RISK_CHECK_INTERVAL_SECONDS, and one started later starts halted, until `resume`. Open orders
are left exactly as they are. (The switch can also be set with KILL_SWITCH=true or by creating the
kill-switch file; those are cleared where they were set.)
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cli.common import open_database, settings_from


def register(commands: argparse._SubParsersAction) -> None:
    halt = commands.add_parser("halt", help="engage the kill switch: no new orders (running or not)",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    halt.add_argument("--reason", default="", help="why (shown in the logs and by `status`)")
    halt.set_defaults(handler=_halt)
    resume = commands.add_parser("resume", help="release the kill switch set by `halt`",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    resume.set_defaults(handler=_resume)


def _halt(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    from adapters.db.meta import KILL_SWITCH, MetaStore

    MetaStore(open_database(settings)).set(KILL_SWITCH, {"reason": args.reason, "since": datetime.now(UTC)})
    print(f"kill switch ENGAGED{f' ({args.reason})' if args.reason else ''}: a running supervisor places no new "
          f"orders within {settings.risk_check_interval_seconds} s, open orders stay as they are, and it stays "
          "engaged across restarts until `supervisor.py resume`")
    return 0


def _resume(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    from adapters.db.meta import KILL_SWITCH, MetaStore

    cleared = MetaStore(open_database(settings)).delete(KILL_SWITCH)
    print("kill switch released: orders may be placed again" if cleared else "the kill switch was not set by halt")
    others = []
    if settings.kill_switch:
        others.append("KILL_SWITCH is still set in the environment or .env")
    if settings.kill_switch_path.exists():
        others.append(f"the kill-switch file {settings.kill_switch_path} still exists")
    for other in others:
        print(f"still engaged: {other}")
    return 1 if others else 0
