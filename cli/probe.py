"""`python supervisor.py probe`: measure a paper account's venue behaviour with the smallest orders it
accepts and print which simulator quirks make `supervisor.py sim` behave the same.

Imports of alpaca-py happen inside the handler, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from decimal import Decimal
from urllib.parse import urlsplit

from cli.errors import UsageError
from cli.inputs import arg_type, positive, positive_seconds

DESCRIPTION = """\
First contact with a real account: with PAPER keys (APCA_API_KEY_ID / APCA_API_SECRET_KEY, from the
environment or .env) it measures, on your paper account, what our simulator can only guess:
whether trade updates' position_qty is net of the fee, how fees are rounded, when the CFEE/FEE
activities appear, which buying-power field an open buy reserves, whether a sell below $10 is
accepted, the HTTP status of a duplicate client_order_id, the error codes and rate-limit headers the
venue sends, and which pending events it streams. It prints a table of findings and the
`supervisor.py sim --quirk ...` set that makes the simulator behave the same.

It places about four small orders on one pair (a resting buy far below the market that it cancels, a
~$12 market buy, a ~$5 sell and a sell of the rest), about $12 at risk for a minute, and pays the fees
of those trades. It touches only its own orders (client ids `probe-...`) and sells back only the coins
its buy added. It refuses the live endpoint. With ALPACA_SIM_URL it probes that simulator instead
(its keys in APCA_API_KEY_ID / APCA_API_SECRET_KEY), e.g. to check that a quirk is recognised.

Exit codes: 0 measured and cleaned up; 1 something could not be sold back or cancelled (the message
says what); 2 bad configuration (no keys, a live URL)."""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("probe", help="measure the paper account's venue behaviour (small real orders)",
                                   description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--symbol", default="BTC/USD", help="the USD pair to probe with (default BTC/USD)")
    add("--notional", type=arg_type(positive), default=Decimal(12),
        help="USD of the probe's buy (default 12; the floor is 10)")
    add("--fee-wait", type=arg_type(positive_seconds), default=60.0, metavar="SECONDS",
        help="how long to wait for a fee activity before concluding fees are posted at the end of the day "
             "(default 60)")
    add("--lag-wait", type=arg_type(positive_seconds), default=30.0, metavar="SECONDS",
        help="how long to wait for the position to show a fill (default 30)")
    add("--fill-wait", type=arg_type(positive_seconds), default=60.0, metavar="SECONDS",
        help="how long to wait for an order to fill or cancel (default 60)")
    parser.set_defaults(handler=run)


def target_from_environment() -> object:
    """Where to probe: ALPACA_SIM_URL (a simulator), else Alpaca paper. Refuses live and missing keys."""
    from adapters.alpaca.probe import ProbeTarget
    from config.settings import LIVE_URL, PAPER_URL, load_alpaca_keys

    key, secret = load_alpaca_keys()
    if not key or not secret:
        raise UsageError("APCA_API_KEY_ID / APCA_API_SECRET_KEY: set them to a PAPER account's keys (or to a "
                         "simulator's, with ALPACA_SIM_URL)")
    sim_url = (os.environ.get("ALPACA_SIM_URL") or "").strip().rstrip("/")
    base = (os.environ.get("APCA_API_BASE_URL") or PAPER_URL).strip().rstrip("/")
    if _host(base) == _host(LIVE_URL) or (sim_url and _host(sim_url) == _host(LIVE_URL)):
        raise UsageError(f"APCA_API_BASE_URL: the probe places real orders and runs only on paper "
                         f"({PAPER_URL}) or a simulator, never on {LIVE_URL}")
    if sim_url:
        if _host(sim_url).endswith("alpaca.markets"):
            raise UsageError("ALPACA_SIM_URL: that is Alpaca, not a simulator")
        ws = "ws" + sim_url.removeprefix("http")
        return ProbeTarget(key, secret, sim_url, sim_url, f"{ws}/stream", f"the simulator at {sim_url}")
    if _host(base) != _host(PAPER_URL):
        raise UsageError(f"APCA_API_BASE_URL: the probe runs only on Alpaca paper ({PAPER_URL}) or a simulator "
                         f"(ALPACA_SIM_URL), not on {base}")
    return ProbeTarget(key, secret, None, None, None, "Alpaca paper")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def run(args: argparse.Namespace) -> int:
    from cli.inputs import symbols

    [args.symbol] = symbols(args.symbol, "--symbol")[:1]
    if not args.symbol.endswith("/USD"):
        raise UsageError(f"--symbol: the probe trades a USD pair, e.g. BTC/USD (got {args.symbol})")
    if args.notional < 10:
        raise UsageError(f"--notional: must be at least 10 (Alpaca's minimum buy), got {args.notional}")
    target = target_from_environment()
    from adapters.alpaca.probe import ProbeLimits, VenueProbe

    limits = ProbeLimits(symbol=args.symbol, notional=args.notional, fill_wait=args.fill_wait,
                         lag_wait=args.lag_wait, fee_wait=args.fee_wait)
    print(f"probing {target.name} with {args.symbol} (about ${args.notional} at risk; fees are real)", flush=True)
    findings = VenueProbe(target, limits).run()
    print(findings.table())
    print(f"quirks: {findings.quirk_arguments()}")
    print("  (data_connection_limit is not probed: opening a second market-data socket would disturb a bot "
          "running on these keys)")
    for leftover in findings.leftovers:
        print(f"probe: {leftover}", file=sys.stderr)
    return 1 if findings.leftovers else 0
