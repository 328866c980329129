"""Alpaca's two WebSockets (market data, trade updates) on alpaca-py, each in its own thread.

alpaca-py owns the socket, the handshake and the reconnect-with-backoff loop. These wrappers add
what the bot needs on top: raw messages turned into exact values, a callback on every (re)connect
(the bot catches up on what it missed) and on every disconnect (metrics), and no message that can
kill the stream: a malformed one is reported and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from alpaca.data.live.crypto import CryptoDataStream
from alpaca.trading.stream import TradingStream
from loguru import logger as log

from adapters.alpaca.convert import TradeUpdate, quote_from_raw, trade_update_from_raw
from dca.market import Quote
from ports.streams import ConnectionEvents

Callback = Callable[[], None]
ErrorCallback = Callable[[str, BaseException], None]


class _Observed:
    """Mixin for alpaca-py streams: report connects and disconnects."""

    _on_connected: Callback
    _on_disconnected: Callback

    async def _start_ws(self) -> None:
        await super()._start_ws()  # type: ignore[misc]
        self._on_connected()

    async def close(self) -> None:
        was_open = getattr(self, "_ws", None) is not None
        await super().close()  # type: ignore[misc]
        if was_open:
            self._on_disconnected()


CONNECTION_LIMIT_TEXT = "connection limit exceeded"


class _ObservedDataStream(_Observed, CryptoDataStream):
    """alpaca-py 0.44 can lose a subscription made while it connects: `_subscribe` sends only when
    `_running`, and `_run_forever` builds its subscribe message before it sets `_running`. A symbol
    added in between gets a handler but never reaches the venue, so its asset hears no quotes until
    the next reconnect. Here every change of the handlers happens on the stream's event loop, and
    the connect-time subscribe is sent again until it covers every handler.

    It also reports Alpaca's 406 "connection limit exceeded" (one market-data socket per account):
    alpaca-py raises it from `_auth` as a ValueError that `_run_forever` logs and retries for ever, so
    without this hook the bot would wait for quotes that never come. Reported once per episode: an
    episode ends when a connection is authenticated."""

    _on_connection_limit: Callback
    _limited = False

    async def _auth(self) -> None:
        try:
            await super()._auth()
        except ValueError as error:
            if CONNECTION_LIMIT_TEXT in str(error) and not self._limited:
                self._limited = True
                self._on_connection_limit()
            raise
        self._limited = False

    def _subscribe(self, handler: Callable[..., Any], symbols: tuple[str, ...], handlers: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or not loop.is_running():  # not started: the first subscribe message takes it
            super()._subscribe(handler, symbols, handlers)
            return
        asyncio.run_coroutine_threadsafe(self._subscribe_on_loop(handler, symbols, handlers), loop).result()

    async def _subscribe_on_loop(self, handler: Callable[..., Any], symbols: tuple[str, ...],
                                 handlers: dict[str, Any]) -> None:
        self._ensure_coroutine(handler)
        for symbol in symbols:
            handlers[symbol] = handler
        if self._running:
            await super()._send_subscribe_msg()

    async def _send_subscribe_msg(self) -> None:
        while True:
            sent = self._subscribed_symbols()
            await super()._send_subscribe_msg()
            if self._subscribed_symbols() == sent:  # nothing was added while the message was on its way
                return

    def _subscribed_symbols(self) -> frozenset[tuple[str, str]]:
        return frozenset((channel, symbol) for channel, handlers in self._handlers.items() for symbol in handlers)


class _ObservedTradingStream(_Observed, TradingStream):
    pass


class _StreamThread:
    def __init__(self, name: str, stream: Any) -> None:
        self._stream = stream
        self._thread = threading.Thread(target=stream.run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        loop = getattr(self._stream, "_loop", None)
        if loop is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._stop_now(), loop).result(timeout)
            except Exception as error:  # the loop may already be closing; the join below decides
                log.debug("stopping {} raised {!r}", self._thread.name, error)
        self._thread.join(timeout)

    async def _stop_now(self) -> None:
        """alpaca-py's own stop is noticed only when the pending receive times out (up to 5 s per
        stream); closing the socket too ends that receive at once."""
        _STOPPING.add(self._thread.ident)
        await self._stream.stop_ws()
        await self._stream.close()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


class _QuietWhenStopping(logging.Filter):
    """alpaca-py reports the socket we closed to stop a stream as an error it will recover from
    ("websocket error, restarting connection"); on a stream being stopped that is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.thread in _STOPPING and "restarting" in record.getMessage())


_STOPPING: set[int | None] = set()  # idents of stream threads being stopped
for _name in ("alpaca.data.live.websocket", "alpaca.trading.stream"):
    logging.getLogger(_name).addFilter(_QuietWhenStopping())


class QuoteStream(_StreamThread):
    """Crypto quotes for a changing set of symbols; `on_quote` runs on the stream's thread."""

    def __init__(self, key_id: str, secret_key: str, url: str | None, on_quote: Callable[[Quote], None],
                 on_connected: Callback, on_disconnected: Callback, on_error: ErrorCallback,
                 on_connection_limit: Callback = lambda: None) -> None:
        stream = _ObservedDataStream(key_id, secret_key, raw_data=True, url_override=url)
        stream._on_connected, stream._on_disconnected = on_connected, on_disconnected
        stream._on_connection_limit = on_connection_limit
        self._on_quote, self._on_error = on_quote, on_error
        super().__init__("quote-stream", stream)

    def subscribe(self, symbols: list[str]) -> None:
        if symbols:
            self._stream.subscribe_quotes(self._handle, *symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        if symbols:
            self._stream.unsubscribe_quotes(*symbols)

    async def _handle(self, message: dict[str, Any]) -> None:
        try:
            quote = quote_from_raw(message)
        except Exception as error:  # a malformed message is reported and skipped, never fatal
            self._on_error("quote", error)
            return
        self._on_quote(quote)


class TradeUpdateStream(_StreamThread):
    """The account's trade updates; `on_update` runs on the stream's thread."""

    def __init__(self, key_id: str, secret_key: str, url: str | None, paper: bool,
                 on_update: Callable[[TradeUpdate], None], on_connected: Callback, on_disconnected: Callback,
                 on_error: ErrorCallback) -> None:
        stream = _ObservedTradingStream(key_id, secret_key, paper=paper, raw_data=True, url_override=url)
        stream._on_connected, stream._on_disconnected = on_connected, on_disconnected
        self._on_update, self._on_error = on_update, on_error
        stream.subscribe_trade_updates(self._handle)
        super().__init__("trade-update-stream", stream)

    async def _handle(self, message: dict[str, Any]) -> None:
        try:
            update = trade_update_from_raw(message)
        except Exception as error:  # a malformed message is reported and skipped, never fatal
            self._on_error("trade_update", error)
            return
        self._on_update(update)


class AlpacaStreams:
    """The `ports.streams.StreamFactory` of the venue: keys and endpoints stay in here."""

    def __init__(self, key_id: str, secret_key: str, data_stream_url: str | None, trading_stream_url: str | None,
                 paper: bool) -> None:
        self._key_id, self._secret_key = key_id, secret_key
        self._data_url, self._trading_url, self._paper = data_stream_url, trading_stream_url, paper

    def quote_stream(self, on_quote: Callable[[Quote], None], events: ConnectionEvents) -> QuoteStream:
        return QuoteStream(self._key_id, self._secret_key, self._data_url, on_quote, events.on_connected,
                           events.on_disconnected, events.on_malformed, events.on_connection_limit)

    def trade_update_stream(self, on_update: Callable[[TradeUpdate], None],
                            events: ConnectionEvents) -> TradeUpdateStream:
        return TradeUpdateStream(self._key_id, self._secret_key, self._trading_url, self._paper, on_update,
                                 events.on_connected, events.on_disconnected, events.on_malformed)

    def __repr__(self) -> str:  # never the keys
        return f"AlpacaStreams(data={self._data_url!r}, trading={self._trading_url!r}, paper={self._paper})"
