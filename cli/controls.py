"""`supervisor.py close SYMBOL` and `supervisor.py cancel-orders SYMBOL`: the operator's hands on a cycle,
carried out by the running supervisor through the asset's own actor (`DESCRIPTIONS` says what each does)."""

from __future__ import annotations

import argparse

from cli.common import book_owner, open_database, settings_from
from cli.errors import EXIT_FAILURE, UsageError

ANSWER_WITHIN_SECONDS = 60

_BY_THE_SUPERVISOR = """
Carried out by the running supervisor, through the asset's own actor (the one writer of the cycle,
which books every order before it is sent and reads the venue's answers): the request reaches it
within seconds, and `cycle N` shows who asked and what happened. Without a running supervisor it is
refused (exit 1): nothing trades then, and a sale placed from here could not be followed to its fill.
"""

SUMMARIES = {
    "close": "sell an asset's current cycle at market and end it",
    "cancel-orders": "cancel an asset's open orders and pause the asset",
}
DESCRIPTIONS = {
    "close": """Sell the asset's current cycle at market and end it as `closed`. A live buy is cancelled
first and what it filled is sold too, orders resting ahead (safety orders, a limit take-profit) are
cancelled before the sale; a live sell is left to finish. The cooldown then applies as
after any cycle; to stop trading the asset as well, `assets disable` it.
""" + _BY_THE_SUPERVISOR,
    "cancel-orders": """Cancel the cycle's open orders (the acting one and any resting ahead) and pause the
asset: it is disabled (as by `assets disable`), so its actor stops and its cycle stays exactly as it
is, coins included. Resume with `supervisor.py assets enable SYMBOL`.
""" + _BY_THE_SUPERVISOR,
}


def register(commands: argparse._SubParsersAction) -> None:
    for name, summary in SUMMARIES.items():
        parser = commands.add_parser(name, help=summary, description=DESCRIPTIONS[name],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("symbol")
        parser.set_defaults(handler=_control, control=name)


def _control(args: argparse.Namespace) -> int:
    from dca.assets import normalize_symbol

    try:
        symbol = normalize_symbol(args.symbol)
    except ValueError as error:
        raise UsageError(f"symbol: {error}") from None
    db = open_database(settings_from(args))
    from adapters.db.assets import AssetRepository
    from adapters.db.requests import RequestStore

    if AssetRepository(db).get(symbol) is None:
        raise UsageError(f"symbol: {symbol} is not configured (see `assets list`)")
    owner = book_owner(db)
    if owner is None or owner.holder != "run":
        print(f"refused: no supervisor is running ({owner.describe() if owner else 'nobody owns the book'}), so "
              f"nothing is trading; `{args.control}` is carried out by the running supervisor's actor for "
              f"{symbol}: start it with `supervisor.py run` and ask again")
        return EXIT_FAILURE
    requests = RequestStore(db)
    request = requests.submit(args.control, symbol, {})
    result = requests.wait(request, timeout=ANSWER_WITHIN_SECONDS)
    print(result or "the running supervisor has not answered yet; it will carry the request out")
    return EXIT_FAILURE if result is not None and result.refused else 0
