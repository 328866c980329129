"""`MarketDataRouter`: owns the crypto quote WebSocket and feeds the quote board.

Quotes go straight from the stream's thread into the board (no actor hop on the hot path); this
actor handles the control side: subscriptions as assets come and go, connection state, and a
periodic check that the stream's thread is alive (if it died, this actor crashes and its
supervisor starts a fresh stream).
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from actors.messages import (
    StreamCheck,
    StreamConnected,
    StreamDisconnected,
    Subscribe,
    Unsubscribe,
    tell_quietly,
)
from actors.runtime import Runtime
from actors.supervision import ExitReason, SupervisedActor
from adapters.alpaca.streams import QuoteStream

STREAM = "market_data"


class MarketDataRouter(SupervisedActor):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._rt = runtime
        self._stream: QuoteStream | None = None
        self._subscribed: set[str] = set()
        self._connections = 0
        self._log = logger.bind(actor="market-data-router")

    def _connection_limit(self) -> None:
        """On the stream's thread, once per episode: another consumer holds the account's one
        market-data connection, and alpaca-py retries without end."""
        self._rt.metrics.connection_limit.inc()
        self._log.error("the market-data stream was refused: 406 connection limit exceeded. Alpaca allows one "
                        "market-data connection per account and another program (a second bot, a notebook, a "
                        "charting tool) is using these API keys; no quotes arrive and nothing is traded until it "
                        "stops or uses other keys. Retrying.")

    def init(self) -> None:
        rt, me = self._rt, self.actor_ref
        self._stream = QuoteStream(
            rt.key_id, rt.secret_key, rt.stream_endpoints.data_stream, rt.publish_quote,
            on_connected=lambda: tell_quietly(me, StreamConnected()),
            on_disconnected=lambda: tell_quietly(me, StreamDisconnected()),
            on_error=lambda kind, error: self._malformed(kind, error),
            on_connection_limit=self._connection_limit,
        )
        self._subscribe(rt.board.symbols())
        self._stream.start()
        rt.scheduler.every(rt.clock_seconds(rt.intervals.stream_check), me, StreamCheck())

    def terminate(self, reason: ExitReason) -> None:
        if self._stream is not None:
            self._stream.stop()
        self._rt.stream_state(STREAM, connected=False)

    def on_receive(self, message: Any) -> None:
        match message:
            case Subscribe(symbols=symbols):
                self._subscribe(list(symbols))
            case Unsubscribe(symbols=symbols):
                gone = [s for s in symbols if s in self._subscribed]
                if gone and self._stream is not None:
                    self._stream.unsubscribe(gone)
                    self._subscribed.difference_update(gone)
            case StreamConnected():
                self._connections += 1
                if self._connections > 1:
                    self._rt.metrics.stream_reconnects.labels(STREAM).inc()
                self._rt.stream_state(STREAM, connected=True)
                self._log.info("market data connected ({} symbols)", len(self._subscribed))
            case StreamDisconnected():
                self._rt.stream_state(STREAM, connected=False)
                self._log.warning("market data disconnected; alpaca-py reconnects with backoff")
            case StreamCheck():
                if self._stream is not None and not self._stream.alive:
                    raise RuntimeError("the market-data stream's thread has died")

    def _subscribe(self, symbols: list[str]) -> None:
        new = [s for s in symbols if s not in self._subscribed]
        if new and self._stream is not None:
            self._stream.subscribe(new)
            self._subscribed.update(new)

    def _malformed(self, kind: str, error: BaseException) -> None:
        self._rt.metrics.malformed_messages.labels(STREAM).inc()
        self._log.warning("skipped a malformed {} message: {!r}", kind, error)
