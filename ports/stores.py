"""Storage ports: the books (cycles and their orders), the mirror of the exchange's orders, the
configured assets, bars and the operators' requests (small key/value metadata: ports/meta.py). The SQL adapters
in adapters/db implement them; the driver and the actors see only these."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from dca.assets import AssetRecord
from dca.cycle import AssetState, Cycle, FeeSource, Side
from dca.exchange import ExchangeOrder
from dca.market import Bar
from dca.strategy import Decision


class StoredFee(Protocol):
    """One finished order's fee as the books hold it."""

    @property
    def client_order_id(self) -> str: ...
    @property
    def cycle_id(self) -> int | None: ...
    @property
    def side(self) -> Side: ...
    @property
    def fee(self) -> Decimal: ...
    @property
    def source(self) -> FeeSource: ...
    @property
    def filled_qty(self) -> Decimal: ...
    @property
    def symbol(self) -> str: ...


class StoredCycleRow(Protocol):
    """A current cycle with the asset it belongs to (for caretakers and reports)."""

    @property
    def asset_id(self) -> int: ...
    @property
    def symbol(self) -> str: ...
    @property
    def cycle(self) -> Cycle: ...


class CycleStore(Protocol):
    """The books. `save` stores one decision in one transaction, a new order's row included, before
    anything is sent; it returns the state as stored (a new cycle gets its id)."""

    def load(self, asset: AssetRecord) -> AssetState: ...

    def save(self, asset_id: int, before: AssetState, decision: Decision, at: datetime) -> AssetState: ...

    def save_peak(self, cycle_id: int, peak: Decimal | None) -> None: ...

    def realized_total(self, asset_id: int) -> Decimal: ...

    def realized_since(self, moment: datetime) -> Decimal: ...

    def order_fee(self, client_order_id: str) -> StoredFee | None: ...

    def estimated_fees(self, limit: int = 200) -> Sequence[StoredFee]: ...

    def current_cycles(self) -> Sequence[StoredCycleRow]: ...


class OrderMirror(Protocol):
    """The exchange's orders as last seen (the bot's and foreign ones)."""

    def record(self, order: ExchangeOrder) -> None: ...

    def latest_exchange_update(self) -> datetime | None: ...

    def unsettled(self, created_before: datetime) -> list[str]: ...

    def mark_never_sent(self, client_order_id: str) -> bool: ...


class AssetRepository(Protocol):
    def by_id(self, asset_id: int) -> AssetRecord | None: ...

    def all(self) -> list[AssetRecord]: ...

    def enabled(self) -> list[AssetRecord]: ...


class BarStore(Protocol):
    def upsert(self, asset_id: int, bars: Sequence[Bar], extras: Sequence[tuple[Any, ...]] | None = None) -> int: ...

    def latest_time(self, asset_id: int) -> datetime | None: ...

    def iter_prices(self, asset_id: int, start: datetime, end: datetime
                    ) -> Iterator[tuple[datetime, Decimal, Decimal, Decimal, Decimal]]:
        """(time, open, high, low, close) with start ≤ time < end, oldest first."""
        ...


class PendingRequest(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """What an operator's request (`adopt`, `close`, `cancel-orders`) came to: the text for the operator
    and whether it was refused, which the command's exit code follows (the text says so in words)."""

    text: str
    refused: bool = False

    def __str__(self) -> str:
        return self.text


class RequestStore(Protocol):
    """Requests from the command line to the running supervisor (adopt, close, cancel-orders)."""

    def pending(self) -> Sequence[PendingRequest]: ...

    def finish(self, request_id: int, answer: Answer) -> None: ...


class FetchedBars(Protocol):
    """One chunk of a symbol's bars from the venue, with their trade counts and VWAPs."""

    @property
    def end(self) -> datetime: ...
    @property
    def bars(self) -> list[Bar]: ...
    @property
    def extras(self) -> list[tuple[Decimal | None, Decimal | None]]: ...


class BarSource(Protocol):
    """Historical bars from the venue, in chunks."""

    def fetch(self, symbol: str, start: datetime, end: datetime) -> Iterator[FetchedBars]: ...
