"""The broker port: what the bot asks of a venue (Alpaca, our simulator, a dry run's shadow
exchange), the values it answers with, and the kinds of error it raises.

The caller must act differently on each kind of error, so they are types, never text:

* `OrderRejected` — a definite "no" (HTTP 4xx): the order does not exist on the exchange. Its
  `kind` (a `RejectionKind`) says why, as far as the adapter that read the answer could tell;
  `BelowMinimum` and `InsufficientBalance` are the refusals the bot learns from; `WashTradeRefused`
  says an open opposite order of the account stood in the way.
  `DuplicateClientOrderId` is the special answer for an id the exchange already has: the order
  *does* exist (an earlier attempt got through), so look it up.
* `NotFound` — 404 for a lookup or a cancel.
* `BrokerUnavailable` — 5xx, rate limits, connection errors (`BrokerTimeout` for a request that
  timed out): the outcome is unknown. After a submit, the caller must look the order up by its
  client_order_id before deciding anything.
* `TradingStopped` — the trading gate is closed (shutdown, lease lost): nothing was sent.

Adapters raise these (and only these) and keep the venue's own words in the message, for the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from dca.commands import SubmitOrder
from dca.events import RejectionKind
from dca.exchange import ExchangeOrder, Position
from dca.fees import Execution, FeeRecord
from dca.market import Quote
from dca.params import ExchangeRules
from ports.streams import TradeUpdate  # one definition, beside the stream that carries it

# --- error kinds -------------------------------------------------------------------------------------


class BrokerError(Exception):
    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class OrderRejected(BrokerError):
    """The exchange refused the request (HTTP 4xx); nothing was created."""

    kind = RejectionKind.OTHER

    def __init__(self, message: str, status: int | None = None, code: int | None = None,
                 kind: RejectionKind | None = None) -> None:
        super().__init__(message, status, code)
        if kind is not None:
            self.kind = kind


class DuplicateClientOrderId(OrderRejected):
    """The exchange already has an order with this client_order_id."""


class BelowMinimum(OrderRejected):
    """The order is under the pair's minimum (cost basis, `min_order_size`); the minimums move with
    the price, so the pair's rules are worth reading again."""

    kind = RejectionKind.BELOW_MINIMUM


class InsufficientBalance(OrderRejected):
    """Not enough of `asset` for the order; `available` is what the venue says it can use (None when
    the answer did not say)."""

    kind = RejectionKind.INSUFFICIENT_BALANCE

    def __init__(self, message: str, status: int | None, code: int | None, asset: str,
                 available: Decimal | None) -> None:
        super().__init__(message, status, code)
        self.asset, self.available = asset, available


class WashTradeRefused(OrderRejected):
    """The order could trade against an open opposite order of the account ("potential wash trade
    detected", 403 or 422): the bot's own resting order must be cancelled first."""

    kind = RejectionKind.WASH_TRADE


class NotFound(BrokerError):
    """The venue does not know the order (or position) asked about."""


class BrokerUnavailable(BrokerError):
    """5xx, rate limit or connection failure: the request may or may not have taken effect."""


class BrokerTimeout(BrokerUnavailable):
    """The request timed out: it may or may not have reached the venue."""


class TradingStopped(Exception):
    """The trading gate is closed: the process is stopping or no longer owns the book. Nothing was sent."""


# --- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    cash: Decimal
    buying_power: Decimal
    equity: Decimal
    status: str
    number: str = ""  # Alpaca's account_number: which account the books belong to
    crypto_status: str = "ACTIVE"  # not ACTIVE: Alpaca refuses crypto orders on the account


@dataclass(frozen=True, slots=True)
class VenueFees:
    """Fills by exchange order id, and the fee records the venue posted."""

    fills: dict[str, list[Execution]]
    records: list[FeeRecord]

    @property
    def executions(self) -> list[Execution]:
        return [execution for executions in self.fills.values() for execution in executions]


# --- ports -------------------------------------------------------------------------------------------


class TradingBroker(Protocol):
    """What one asset's driver asks of the venue: place, cancel, look up, position, account."""

    def submit(self, command: SubmitOrder) -> ExchangeOrder: ...

    def cancel(self, exchange_id: str) -> None: ...

    def order_by_client_id(self, client_order_id: str) -> ExchangeOrder | None: ...

    def position(self, symbol: str) -> Position | None: ...

    def position_qty(self, symbol: str) -> Decimal: ...

    def positions(self) -> dict[str, Position]:
        """Every position by pair, from the list endpoint (a shortfall seen by one endpoint is
        cross-checked with the other)."""
        ...

    def account(self) -> Account: ...


class Broker(TradingBroker, Protocol):
    """Everything the actor tree asks of the venue (caretakers, rules, start-up checks)."""

    def order_by_id(self, exchange_id: str) -> ExchangeOrder | None: ...

    def orders(self, *, status: str = "all", after: datetime | None = None, until: datetime | None = None,
               limit: int = 500, symbols: list[str] | None = None, direction: str = "asc") -> list[ExchangeOrder]: ...

    def iter_orders(self, *, status: str = "all", after: datetime | None = None,
                    until: datetime | None = None, page: int = 500) -> Iterator[ExchangeOrder]: ...

    def fee_activities(self, after: datetime) -> VenueFees: ...

    def pair_problems(self, symbols: list[str]) -> dict[str, str]: ...

    def rules(self, symbol: str, min_notional: Decimal) -> ExchangeRules: ...

    def all_rules(self, min_notional: Decimal) -> dict[str, ExchangeRules]: ...

    def latest_quotes(self, symbols: list[str]) -> dict[str, Quote]: ...


class ShadowVenue(Protocol):
    """A dry run's shadow exchange (adapters/dryrun.py): it takes the orders (it is also the broker),
    matches them against live quotes and emits the trade updates."""

    def subscribe(self, listener: Callable[[TradeUpdate], None]) -> None: ...

    def on_quote(self, quote: Quote) -> None: ...

    def save(self) -> None: ...
