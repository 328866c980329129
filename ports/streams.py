"""The stream ports: what the stream routers need from the venue's two WebSockets.

A `StreamFactory` opens a quote stream and a trade-update stream. The wiring builds one with the
venue's endpoints and keys inside (`adapters.alpaca.streams.AlpacaStreams`; in a dry run
`adapters.dryrun.DryRunStreams` takes the trade updates from the shadow exchange), so the routers
never see an API key and import nothing from `adapters/`.

Every callback runs on the stream's own thread; a router turns them into messages to itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from dca.exchange import ExchangeOrder
from dca.market import Quote


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """One trade_updates message: the event, the order after it, and this execution's figures."""

    event: str
    order: ExchangeOrder
    time: datetime
    price: Decimal | None = None
    qty: Decimal | None = None
    position_qty: Decimal | None = None
    execution_id: str | None = None


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class ConnectionEvents:
    """How a stream reports its connection. `on_connected` fires after every (re)connect (the router
    catches up on what it missed), `on_disconnected` after every drop (the stream reconnects by itself
    with backoff), `on_malformed(kind, error)` for a message it skipped, and `on_connection_limit`
    once per episode of the venue refusing the socket because another client holds the account's
    only one."""

    on_connected: Callable[[], None]
    on_disconnected: Callable[[], None]
    on_malformed: Callable[[str, BaseException], None]
    on_connection_limit: Callable[[], None] = _nothing


class Stream(Protocol):
    """A running WebSocket on its own thread, reconnecting by itself until stopped."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def alive(self) -> bool:
        """False once the stream's thread has died (the router then crashes and is restarted)."""
        ...


class QuoteStream(Stream, Protocol):
    """Quotes for a changing set of symbols."""

    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...


class StreamFactory(Protocol):
    """Opens the venue's streams (not started: the router starts them once it is ready)."""

    def quote_stream(self, on_quote: Callable[[Quote], None], events: ConnectionEvents) -> QuoteStream: ...

    def trade_update_stream(self, on_update: Callable[[TradeUpdate], None], events: ConnectionEvents) -> Stream: ...
