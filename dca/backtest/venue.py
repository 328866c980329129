"""What the backtest session needs from an exchange: the fill model, injected.

`dca` must not import `adapters`, so the session talks to this protocol; `app/backtest/venue.py`
implements it on the simulator's `MatchingEngine`. Every method answers with the core's own events,
in the order the exchange produced them, so the session feeds them to `decide` unchanged.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from dca.commands import CancelOrder, SubmitOrder
from dca.events import Event
from dca.immutable import immutable
from dca.market import Quote


@immutable
class Holdings:
    """The account as the exchange keeps it: quote-currency cash and the coin held in one symbol."""

    cash: Decimal
    quantity: Decimal


class BacktestVenue(Protocol):
    def submit(self, order: SubmitOrder, now: datetime) -> list[Event]:
        """Accept (`OrderAccepted`) or refuse (`OrderClosed` rejected) an order. An accepted order is
        matched from the NEXT quote on: never against the quote that made the decision."""
        ...

    def cancel(self, order: CancelOrder, now: datetime) -> list[Event]:
        """Cancel an open order (`OrderClosed` canceled); nothing if it has already ended."""
        ...

    def on_quote(self, quote: Quote) -> list[Event]:
        """Make `quote` current and match the open orders against it: fills and closes, in order."""
        ...

    def holdings(self, symbol: str) -> Holdings: ...
