"""`supervisor.py adopt SYMBOL`: turn coins the bot did not buy into a cycle of its own.

The bot never sells or averages into coins it did not buy: they are reported as foreign. Adoption
makes them the asset's current cycle, with these assumptions: the coins cost the exchange's average
entry price each (or --price), their purchase fees are unknown and left out, safety orders are
measured from that price as if it were the last fill, and no safety order has been used yet. Only a
flat cycle with no live order can adopt (the asset must be configured). A running supervisor does it
through the asset's own actor; otherwise it is done here directly, holding the book meanwhile (a
supervisor starting then waits for it).
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING

from cli.common import open_database, settings_from
from cli.errors import EXIT_FAILURE, Unavailable, UsageError
from cli.inputs import option, positive

if TYPE_CHECKING:
    from ports.stores import Answer


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("adopt", help="make foreign coins on the exchange an asset's cycle",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("symbol")
    parser.add_argument("--quantity", help="adopt only this much (default: every foreign coin)")
    parser.add_argument("--price", help="cost per coin (default: the exchange's average entry price)")
    parser.set_defaults(handler=_adopt)


def _adopt(args: argparse.Namespace) -> int:
    from dca.assets import normalize_symbol

    try:
        symbol = normalize_symbol(args.symbol)
    except ValueError as error:
        raise UsageError(f"symbol: {error}") from None
    quantity = option("--quantity", positive, args.quantity) if args.quantity is not None else None
    price = option("--price", positive, args.price) if args.price is not None else None
    settings = settings_from(args)
    db = open_database(settings)
    from adapters.db.assets import AssetRepository
    from adapters.db.lease import LeaseStore
    from adapters.db.requests import RequestStore
    from app.ownership import BookOwned, book_held_briefly

    if AssetRepository(db).get(symbol) is None:
        raise UsageError(f"symbol: {symbol} is not configured (add it with `assets add {symbol}`)")
    try:
        with book_held_briefly(LeaseStore(db.url), "adopt"):  # no supervisor trades while we write
            result = _adopt_here(settings, db, symbol, quantity, price)
        print(result)
    except BookOwned as owned:
        if owned.holder.holder != "run":
            raise Unavailable(str(owned)) from None
        requests = RequestStore(db)  # the owner's asset actor is the one writer of the cycle
        request = requests.submit("adopt", symbol, {"quantity": quantity, "price": price})
        result = requests.wait(request, timeout=60)
        print(result or "the running supervisor has not answered yet; it will carry the request out")
    return EXIT_FAILURE if result is not None and result.refused else 0


def _adopt_here(settings, db, symbol: str, quantity: Decimal | None, price: Decimal | None) -> Answer:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from adapters.db.assets import AssetRepository
    from adapters.db.cycles import CycleStore
    from dca.adoption import AdoptionRefused, plan_adoption
    from dca.events import PositionAdopted
    from dca.params import AssetConfig
    from dca.strategy import decide
    from ports.stores import Answer
    from wiring.market_view import open_market_view

    view = open_market_view(settings, db)
    if view is None:
        return Answer("refused: the exchange's position cannot be read (start the supervisor once first)", refused=True)
    position = view.positions().get(symbol)
    record = AssetRepository(db).get(symbol)
    store = CycleStore(db)
    state = store.load(record)
    try:
        qty, cost = plan_adoption(position.qty if position else Decimal(0),
                                  position.avg_entry_price if position else Decimal(0),
                                  state.held_quantity, quantity, price)
    except AdoptionRefused as error:
        return Answer(f"refused: {error}", refused=True)
    now = datetime.now(UTC)
    decision = decide(AssetConfig(record.id, symbol, "offline", record.params), state,
                      PositionAdopted(qty, cost, now))
    if decision.state is state:
        return Answer(decision.last_line("refused: nothing to adopt"), refused=True)
    store.save(record.id, state, decision, now)
    return Answer(decision.lines[-1])

