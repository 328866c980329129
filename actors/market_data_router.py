"""`MarketDataRouter`: owns the crypto quote WebSocket and feeds the quote board.

Quotes go straight from the stream's thread into the board (no actor hop on the hot path); this
actor handles the control side: subscriptions as assets come and go, plus the connection handling
every stream router shares (`actors.stream_router`).
"""

from __future__ import annotations

from typing import Any

from actors.messages import Subscribe, Unsubscribe
from actors.runtime import Runtime
from actors.stream_router import StreamRouter
from ports.streams import ConnectionEvents, QuoteStream


class MarketDataRouter(StreamRouter):
    STREAM = "market_data"
    DESCRIPTION = "market data"
    _stream: QuoteStream | None

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._subscribed: set[str] = set()

    def open_stream(self, events: ConnectionEvents) -> QuoteStream:
        return self._rt.streams.quote_stream(self._rt.publish_quote, events)

    def before_start(self) -> None:
        self._subscribe(self._rt.board.symbols())

    def connected(self) -> None:
        self._log.info("market data connected ({} symbols)", len(self._subscribed))

    def on_message(self, message: Any) -> None:
        match message:
            case Subscribe(symbols=symbols):
                self._subscribe(list(symbols))
            case Unsubscribe(symbols=symbols):
                gone = [s for s in symbols if s in self._subscribed]
                if gone and self._stream is not None:
                    self._stream.unsubscribe(gone)
                    self._subscribed.difference_update(gone)

    def _subscribe(self, symbols: list[str]) -> None:
        new = [s for s in symbols if s not in self._subscribed]
        if new and self._stream is not None:
            self._stream.subscribe(new)
            self._subscribed.update(new)
