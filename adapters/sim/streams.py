"""The two WebSockets, on the REST port (alpaca-wire.md §5, §6).

* `/v1beta3/crypto/us`: MessagePack binary frames, every frame an array of maps; the server greets,
  the client authenticates, subscribes (fragmented, full set each time) and gets quotes (`q`), trades
  (`t`) and minute bars (`b`), many per frame, with `t` as a msgpack Timestamp. One connection per key
  (a second one gets 406 and is closed).
* `/stream`: JSON; the client speaks first (`authenticate`), then `listen`s to `trade_updates`.

Publishing never waits for a socket: every connection has its own queue and sender task. A data
client that falls more than `MAX_QUEUED_FRAMES` behind gets 407 "slow client" and is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgpack
from aiohttp import WSMsgType, web

from adapters.sim.events import TradeEvent
from adapters.sim.exchange import Exchange, MarketUpdate
from adapters.sim.faults import Faults
from adapters.sim.wire import trade_update_json

log = logging.getLogger(__name__)

CHANNELS = ("trades", "quotes", "orderbooks", "bars", "updatedBars", "dailyBars")
MAX_MESSAGES_PER_FRAME = 4000
MAX_QUEUED_FRAMES = 2000
AUTH_TIMEOUT_SECONDS = 10.0


def _timestamp(moment: datetime) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_datetime(moment)


def _packed(message: dict[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def _frame(parts: list[bytes]) -> bytes:
    packer = msgpack.Packer()
    return packer.pack_array_header(len(parts)) + b"".join(parts)


class _PackedUpdate:
    """The msgpack bytes of one market update, packed once however many clients receive it."""

    __slots__ = ("_bar", "_quote", "_trade", "symbol", "update")

    def __init__(self, update: MarketUpdate) -> None:
        self.update, self.symbol = update, update.quote.symbol
        self._quote: bytes | None = None
        self._trade: bytes | None = None
        self._bar: bytes | None = None

    def quote(self) -> bytes:
        if self._quote is None:
            q = self.update.quote
            self._quote = _packed(
                {
                    "T": "q",
                    "S": q.symbol,
                    "bp": float(q.bid),
                    "bs": float(q.bid_size),
                    "ap": float(q.ask),
                    "as": float(q.ask_size),
                    "t": _timestamp(q.time),
                }
            )
        return self._quote

    def trade(self) -> bytes:
        if self._trade is None:
            t = self.update.trade
            self._trade = _packed(
                {
                    "T": "t",
                    "S": t.symbol,
                    "p": float(t.price),
                    "s": float(t.size),
                    "t": _timestamp(t.time),
                    "i": t.id,
                    "tks": t.taker_side,
                }
            )
        return self._trade

    def bar(self) -> bytes | None:
        bar = self.update.bar
        if bar is None:
            return None
        if self._bar is None:
            self._bar = _packed(
                {
                    "T": "b",
                    "S": bar.symbol,
                    "o": bar.open,
                    "h": bar.high,
                    "l": bar.low,
                    "c": bar.close,
                    "v": bar.volume,
                    "t": _timestamp(bar.time),
                    "n": bar.trade_count,
                    "vw": bar.vwap,
                }
            )
        return self._bar


class _Connection:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sender: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.sender = asyncio.get_running_loop().create_task(self._send_loop())

    async def _send_loop(self) -> None:
        while (frame := await self.queue.get()) is not None:
            try:
                await self.ws.send_bytes(frame)
            except (ConnectionError, RuntimeError):
                return

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message)


class _DataConnection(_Connection):
    def __init__(self, ws: web.WebSocketResponse) -> None:
        super().__init__(ws)
        self.key: str | None = None
        self.subscriptions: dict[str, set[str]] = {channel: set() for channel in CHANNELS}

    def wants(self, channel: str, symbol: str) -> bool:
        symbols = self.subscriptions[channel]
        return symbol in symbols or "*" in symbols

    def ack(self) -> bytes:
        return msgpack.packb([{"T": "subscription", **{c: sorted(self.subscriptions[c]) for c in CHANNELS}}])


class DataStreamHub:
    def __init__(self, exchange: Exchange, key_id: str, secret_key: str) -> None:
        self.exchange, self.key_id, self.secret_key = exchange, key_id, secret_key
        self.connections: set[_DataConnection] = set()
        self.delivered = 0
        self.refused = {402: 0, 406: 0}  # handshakes refused, by error code

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=16 * 1024 * 1024, heartbeat=None)
        await ws.prepare(request)
        connection = _DataConnection(ws)
        try:
            await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "connected"}]))
            if await self._authenticate(connection):
                connection.start()
                self.connections.add(connection)
                await self._serve(connection)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(connection)
            await connection.close()
        return ws

    async def _authenticate(self, connection: _DataConnection) -> bool:
        ws = connection.ws
        while True:
            try:
                message = await asyncio.wait_for(ws.receive(), AUTH_TIMEOUT_SECONDS)
            except TimeoutError:
                await ws.send_bytes(msgpack.packb([{"T": "error", "code": 404, "msg": "auth timeout"}]))
                return False
            if message.type != WSMsgType.BINARY:
                return False
            body = _unpack(message.data)
            if body is None or body.get("action") != "auth":
                code, text = (400, "invalid syntax") if body is None else (401, "not authenticated")
                await ws.send_bytes(msgpack.packb([{"T": "error", "code": code, "msg": text}]))
                continue
            if body.get("key") != self.key_id or body.get("secret") != self.secret_key:
                self.refused[402] += 1
                await ws.send_bytes(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                return False
            limit = self.exchange.quirks.data_connection_limit  # Alpaca: 1 per key on most plans
            if limit and sum(other.key == self.key_id for other in self.connections) >= limit:
                self.refused[406] += 1
                await ws.send_bytes(
                    msgpack.packb([{"T": "error", "code": 406, "msg": "connection limit exceeded"}])
                )
                return False
            connection.key = self.key_id
            await ws.send_bytes(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
            return True

    async def _serve(self, connection: _DataConnection) -> None:
        async for message in connection.ws:
            if message.type != WSMsgType.BINARY:
                continue
            body = _unpack(message.data)
            action = body.get("action") if body is not None else None
            if action == "auth":
                connection.queue.put_nowait(
                    msgpack.packb([{"T": "error", "code": 403, "msg": "already authenticated"}])
                )
            elif action in ("subscribe", "unsubscribe") and body is not None:
                for channel in CHANNELS:
                    symbols = body.get(channel) or []
                    if action == "subscribe":
                        connection.subscriptions[channel].update(symbols)
                    else:
                        connection.subscriptions[channel].difference_update(symbols)
                connection.queue.put_nowait(connection.ack())
            else:
                connection.queue.put_nowait(
                    msgpack.packb([{"T": "error", "code": 400, "msg": "invalid syntax"}])
                )

    def subscribed(self, channel: str, symbol: str) -> bool:
        """Whether some client receives `symbol` on `channel` (a scripted test waits for this before
        its first quote, which would otherwise go to nobody)."""
        return any(connection.wants(channel, symbol) for connection in list(self.connections))

    def publish(self, updates: list[MarketUpdate]) -> None:
        """Queue the updates for every subscriber (runs on the event loop)."""
        if not self.connections:
            return
        packed = [_PackedUpdate(update) for update in updates]
        for connection in list(self.connections):
            parts = list(self._parts_for(connection, packed))
            for i in range(0, len(parts), MAX_MESSAGES_PER_FRAME):
                chunk = parts[i : i + MAX_MESSAGES_PER_FRAME]
                if connection.queue.qsize() >= MAX_QUEUED_FRAMES:
                    self._drop_slow(connection)
                    break
                connection.queue.put_nowait(_frame(chunk))
                self.delivered += sum(1 for _ in chunk)

    @staticmethod
    def _parts_for(connection: _DataConnection, packed: list[_PackedUpdate]) -> Iterable[bytes]:
        for item in packed:
            if connection.wants("trades", item.symbol):
                yield item.trade()
            if connection.wants("quotes", item.symbol):
                yield item.quote()
            if connection.wants("bars", item.symbol) and (bar := item.bar()) is not None:
                yield bar

    def _drop_slow(self, connection: _DataConnection) -> None:
        self.connections.discard(connection)
        while not connection.queue.empty():
            connection.queue.get_nowait()
        connection.queue.put_nowait(msgpack.packb([{"T": "error", "code": 407, "msg": "slow client"}]))
        asyncio.get_running_loop().create_task(connection.close())

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.close(code=1001, message=b"server closing")


class TradeStreamHub:
    """Broadcasts trade updates to every authorized, listening connection, through the fault knobs."""

    def __init__(self, exchange: Exchange, key_id: str, secret_key: str) -> None:
        self.exchange, self.key_id, self.secret_key = exchange, key_id, secret_key
        self.connections: set[_Connection] = set()
        self._outbox: asyncio.Queue[TradeEvent] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    def enqueue(self, events: list[TradeEvent]) -> None:
        for event in events:
            self._outbox.put_nowait(event)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, heartbeat=None)
        await ws.prepare(request)
        connection = _Connection(ws)
        authorized = False
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                body = _json_object(message.data)
                action = body.get("action") if body else None
                if action == "authenticate":
                    data = body.get("data") or {}  # type: ignore[union-attr]
                    authorized = (
                        data.get("key_id") == self.key_id and data.get("secret_key") == self.secret_key
                    )
                    status = "authorized" if authorized else "unauthorized"
                    await ws.send_bytes(
                        _json_bytes(
                            {"stream": "authorization", "data": {"status": status, "action": "authenticate"}}
                        )
                    )
                    if not authorized:
                        break
                elif action == "listen" and not authorized:
                    await ws.send_bytes(
                        _json_bytes(
                            {
                                "stream": "authorization",
                                "data": {"status": "unauthorized", "action": "listen"},
                            }
                        )
                    )
                elif action == "listen":
                    streams = [s for s in (body.get("data") or {}).get("streams", []) if s == "trade_updates"]  # type: ignore[union-attr]
                    await ws.send_bytes(_json_bytes({"stream": "listening", "data": {"streams": streams}}))
                    if streams and connection not in self.connections:
                        connection.start()
                        self.connections.add(connection)
                    elif not streams:
                        self.connections.discard(connection)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.connections.discard(connection)
            await connection.close()
        return ws

    async def _dispatch(self) -> None:
        faults: Faults = self.exchange.faults
        held: bytes | None = None
        while True:
            event = await self._outbox.get()
            quirks = self.exchange.quirks
            frame = _json_bytes(trade_update_json(event, quirks.legacy_symbols, not quirks.no_position_qty))
            if faults.trade_update_delay_ms:
                await asyncio.sleep(faults.trade_update_delay_ms / 1000)
            if faults.chance(faults.trade_update_drop_rate):
                continue
            if held is None and faults.chance(faults.trade_update_reorder_rate):
                held = frame
                if self._outbox.empty():  # nothing to swap with yet: wait briefly for the next update
                    await asyncio.sleep(0.05)
                    if self._outbox.empty():
                        self._broadcast(held)
                        held = None
                continue
            self._broadcast(frame)
            if faults.chance(faults.trade_update_duplicate_rate):
                self._broadcast(frame)
            if held is not None:
                self._broadcast(held)
                held = None

    def _broadcast(self, frame: bytes) -> None:
        for connection in list(self.connections):
            connection.queue.put_nowait(frame)

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.close(code=1001, message=b"server closing")
        if self._dispatcher is not None:
            self._dispatcher.cancel()


def _unpack(data: bytes) -> dict[str, Any] | None:
    try:
        body = msgpack.unpackb(data)
    except (ValueError, msgpack.UnpackException, TypeError):
        return None
    return body if isinstance(body, dict) else None


def _json_object(data: str | bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(data)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _json_bytes(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()
