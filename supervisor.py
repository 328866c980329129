#!/usr/bin/env python3
"""`python supervisor.py [COMMAND]`: the DCA supervisor's composition root and command line.

With no command it runs the supervisor (`run`). Every command lives in `cli/`, one module per
group; this file only assembles the parser and turns errors into exit codes.
"""

from __future__ import annotations

import argparse
import sys

from cli import COMMANDS
from cli.errors import EXIT_CONFIG, EXIT_FAILURE, EXIT_USAGE, Unavailable, UsageError
from config.errors import ConfigError

DESCRIPTION = """\
An actor-based dollar-cost-averaging bot for Alpaca crypto.

Without Alpaca keys it trades against a built-in simulator (SQLite under ./data/), so
`python supervisor.py` is safe to try. Paper trading needs APCA_API_KEY_ID/APCA_API_SECRET_KEY;
live trading additionally needs APCA_API_BASE_URL=https://api.alpaca.markets and
ALLOW_LIVE_TRADING=true. Configuration: environment variables or .env (see .env.example)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supervisor.py", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in COMMANDS:
        module.register(commands)
    return parser


def main(argv: list[str]) -> int:
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # `python supervisor.py --speed 120` means `run --speed 120`
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ConfigError as error:
        print(f"supervisor.py: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except UsageError as error:
        print(f"supervisor.py {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Unavailable as error:
        print(f"supervisor.py {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
