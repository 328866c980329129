"""Conformance of both WebSockets with alpaca-py's CryptoDataStream and TradingStream (plus a raw
client where the SDK hides the server's answer)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal as D
from typing import Any

import msgpack
import pytest
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from alpaca.trading.stream import TradingStream
from websockets.sync.client import connect

from adapters.sim.service import SimulatorService
from dca.market import Quote
from tests.sim.conftest import StreamThread, data_connections, listen_to_trade_updates, make_service, trade_listeners
from tests.waiting import wait_for


def data_stream(sim: SimulatorService, key: str | None = None) -> CryptoDataStream:
    return CryptoDataStream(key or sim.key_id, sim.secret_key, url_override=sim.urls.data_stream)


def subscribed(sim: SimulatorService, channel: str = "quotes") -> bool:
    assert sim.data_hub is not None
    return any(c.subscriptions[channel] for c in sim.data_hub.connections)


def collector() -> tuple[list[Any], Any]:
    received: list[Any] = []

    async def handler(item: Any) -> None:
        received.append(item)

    return received, handler


def trading(sim: SimulatorService) -> TradingClient:
    return TradingClient(sim.key_id, sim.secret_key, url_override=sim.urls.trading)


def buy(qty: float = 0.001, **kw: Any) -> MarketOrderRequest:
    return MarketOrderRequest(symbol="BTC/USD", qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, **kw)


# ---------------------------------------------------------------- market data


def test_quotes_arrive_as_models_with_datetime_timestamps(sim: SimulatorService) -> None:
    received, handler = collector()
    stream = data_stream(sim)
    stream.subscribe_quotes(handler, "BTC/USD")
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: subscribed(sim))
    for _ in range(3):
        sim.exchange.step()
    wait_for(lambda: len(received) == 3)
    runner.stop()
    quote, current = received[-1], sim.exchange.latest_quote("BTC/USD")
    assert isinstance(quote.timestamp, datetime) and quote.timestamp == current.time
    assert quote.symbol == "BTC/USD" and quote.bid_price == float(current.bid) and quote.ask_size > 0


def test_trades_and_minute_bars_stream_with_wildcard(sim: SimulatorService) -> None:
    trades, on_trade = collector()
    bars, on_bar = collector()
    stream = data_stream(sim)
    stream.subscribe_trades(on_trade, "*")
    stream.subscribe_bars(on_bar, "*")
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: subscribed(sim, "bars"))
    for _ in range(62):
        sim.exchange.step()
    wait_for(lambda: len(bars) >= 2 and len(trades) >= 124)
    runner.stop()
    assert {bar.symbol for bar in bars} == {"BTC/USD", "ETH/USD"}
    assert all(bar.timestamp.second == 0 and bar.trade_count == 60 and bar.vwap for bar in bars)
    assert {trade.symbol for trade in trades} == {"BTC/USD", "ETH/USD"}


def test_fragmented_subscription_of_thousands_of_symbols_is_reassembled(sim: SimulatorService) -> None:
    received, handler = collector()
    stream = data_stream(sim)
    many = [f"SYM{i:05d}/USD" for i in range(4000)]  # ~60 KB of msgpack: sent as 2+ fragments
    stream.subscribe_quotes(handler, "BTC/USD", *many)
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: subscribed(sim))
    assert sim.data_hub is not None
    assert len(next(iter(sim.data_hub.connections)).subscriptions["quotes"]) == 4001
    sim.exchange.step()
    wait_for(lambda: received)
    runner.stop()
    assert {quote.symbol for quote in received} == {"BTC/USD"}


def test_unsubscribe_stops_delivery_of_that_symbol(sim: SimulatorService) -> None:
    received, handler = collector()
    stream = data_stream(sim)
    stream.subscribe_quotes(handler, "BTC/USD", "ETH/USD")
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: subscribed(sim))
    stream.unsubscribe_quotes("ETH/USD")
    assert sim.data_hub is not None
    wait_for(lambda: next(iter(sim.data_hub.connections)).subscriptions["quotes"] == {"BTC/USD"})
    sim.exchange.step()
    wait_for(lambda: received)
    runner.stop()
    assert {quote.symbol for quote in received} == {"BTC/USD"}


def handshake(socket: Any, key: str, secret: str) -> list[dict[str, Any]]:
    greeting = msgpack.unpackb(socket.recv(timeout=5))
    socket.send(msgpack.packb({"action": "auth", "key": key, "secret": secret}))
    return greeting + msgpack.unpackb(socket.recv(timeout=5))


def raw_data_socket(sim: SimulatorService) -> Any:
    return connect(sim.urls.data_stream, additional_headers={"Content-Type": "application/msgpack"})


def closes(socket: Any) -> bool:
    try:
        socket.recv(timeout=5)
    except Exception as error:  # ConnectionClosed
        return type(error).__name__.startswith("ConnectionClosed")
    return False


def test_bad_keys_get_402_auth_failed_then_close(sim: SimulatorService) -> None:
    with raw_data_socket(sim) as socket:
        messages = handshake(socket, sim.key_id, "wrong")
        assert messages == [
            {"T": "success", "msg": "connected"},
            {"T": "error", "code": 402, "msg": "auth failed"},
        ]
        assert closes(socket)


def test_sdk_stream_with_bad_keys_is_refused_and_keeps_retrying(sim: SimulatorService) -> None:
    received, handler = collector()
    stream = CryptoDataStream(sim.key_id, "wrong", url_override=sim.urls.data_stream)
    stream.subscribe_quotes(handler, "BTC/USD")
    runner = StreamThread(stream, sim).start()
    assert sim.data_hub is not None
    wait_for(lambda: sim.data_hub.refused[402] >= 2, timeout=10)  # 402, then alpaca-py reconnects
    sim.exchange.step()
    runner.stop()
    assert received == [] and data_connections(sim) == 0


def test_second_sdk_stream_with_the_same_key_is_refused_with_406(sim: SimulatorService) -> None:
    first, on_first = collector()
    second, on_second = collector()
    streams = [data_stream(sim), data_stream(sim)]
    streams[0].subscribe_quotes(on_first, "BTC/USD")
    streams[1].subscribe_quotes(on_second, "BTC/USD")
    runner = StreamThread(streams[0], sim).start()
    wait_for(lambda: data_connections(sim) == 1)
    other = StreamThread(streams[1], sim).start()
    assert sim.data_hub is not None
    wait_for(lambda: sim.data_hub.refused[406] >= 1)
    wait_for(lambda: subscribed(sim))
    sim.exchange.step()
    wait_for(lambda: first)
    other.stop()
    runner.stop()
    assert second == []


def test_second_connection_with_the_same_key_gets_406(sim: SimulatorService) -> None:
    received, handler = collector()
    stream = data_stream(sim)
    stream.subscribe_quotes(handler, "BTC/USD")
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: data_connections(sim) == 1)
    with raw_data_socket(sim) as socket:
        messages = handshake(socket, sim.key_id, sim.secret_key)
        assert messages[-1] == {"T": "error", "code": 406, "msg": "connection limit exceeded"}
        assert closes(socket)
    sim.exchange.step()
    wait_for(lambda: received)  # the first connection is unaffected
    runner.stop()


# ---------------------------------------------------------------- trade updates


def test_trade_updates_parse_into_trade_update_models(sim: SimulatorService) -> None:
    updates, runner = listen_to_trade_updates(sim)
    client = trading(sim)
    order = client.submit_order(buy(client_order_id="tu-1"))
    sim.exchange.push_quote(Quote("BTC/USD", D("60000"), D("60005"), sim.clock.now() + timedelta(seconds=1)))
    resting = client.submit_order(
        LimitOrderRequest(
            symbol="ETH/USD", qty=0.01, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1500
        )
    )
    client.cancel_order_by_id(resting.id)
    wait_for(lambda: len(updates) == 4)
    runner.stop()
    assert all(isinstance(update, TradeUpdate) for update in updates)
    assert [u.event for u in updates] == ["new", "fill", "new", "canceled"]
    new, fill = updates[0], updates[1]
    assert new.order.id == order.id and new.timestamp is not None and new.execution_id is None
    assert fill.order.status == "filled" and fill.order.filled_qty == "0.001" and fill.order.client_order_id == "tu-1"
    assert fill.price == 60005.0 and fill.qty == 0.001 and fill.position_qty == 0.0009975
    assert fill.execution_id is not None and fill.timestamp == fill.order.filled_at
    assert updates[3].order.canceled_at is not None


def test_partial_fill_and_expired_updates_parse(sim: SimulatorService) -> None:
    updates, runner = listen_to_trade_updates(sim)
    sim.exchange.faults.set("partial_fill_rate", 1)
    order = trading(sim).submit_order(buy(qty=0.01))
    sim.exchange.advance("BTC/USD")
    sim.exchange.expire_order(str(order.id))
    wait_for(lambda: len(updates) == 3)
    runner.stop()
    assert [u.event for u in updates] == ["new", "partial_fill", "expired"]
    partial, expired = updates[1], updates[2]
    assert partial.order.status == "partially_filled" and 0 < partial.qty < 0.01
    assert partial.position_qty == pytest.approx(partial.qty * 0.9975)
    assert expired.order.expired_at is not None and expired.order.filled_qty == partial.order.filled_qty


def test_trade_update_fill_arrives_before_the_quote_is_published(sim: SimulatorService) -> None:
    """Lockstep pacing: advance() matches and emits fills; publish() only then sends the quote."""
    quotes, on_quote = collector()
    fills, on_update = collector()
    market = data_stream(sim)
    market.subscribe_quotes(on_quote, "BTC/USD")
    updates = TradingStream(sim.key_id, sim.secret_key, url_override=sim.urls.trading_stream)
    updates.subscribe_trade_updates(on_update)
    runners = [StreamThread(market, sim).start(), StreamThread(updates, sim).start()]
    wait_for(lambda: subscribed(sim) and trade_listeners(sim) == 1)
    trading(sim).submit_order(buy())
    sim.exchange.advance("BTC/USD")
    wait_for(lambda: [u.event for u in fills] == ["new", "fill"])
    assert quotes == []
    sim.exchange.publish("BTC/USD")
    wait_for(lambda: quotes)
    for runner in runners:
        runner.stop()
    assert quotes[0].bid_price == float(sim.exchange.latest_quote("BTC/USD").bid)


def test_trading_stream_answers_bad_keys_unauthorized_and_listen_with_listening(
    sim: SimulatorService,
) -> None:
    with connect(sim.urls.trading_stream) as socket:
        socket.send(json.dumps({"action": "authenticate", "data": {"key_id": "x", "secret_key": "y"}}))
        reply = json.loads(socket.recv(timeout=5))
    assert reply == {"stream": "authorization", "data": {"status": "unauthorized", "action": "authenticate"}}
    with connect(sim.urls.trading_stream) as socket:
        auth = {"key_id": sim.key_id, "secret_key": sim.secret_key}
        socket.send(json.dumps({"action": "authenticate", "data": auth}))
        assert json.loads(socket.recv(timeout=5))["data"]["status"] == "authorized"
        socket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        assert json.loads(socket.recv(timeout=5)) == {
            "stream": "listening",
            "data": {"streams": ["trade_updates"]},
        }


@pytest.mark.parametrize("pacing", ["realtime"])
def test_realtime_pacing_streams_quotes_on_the_accelerated_clock(pacing: str) -> None:
    with make_service(pacing=pacing, speed=D(100), start=None) as sim:
        received, handler = collector()
        stream = data_stream(sim)
        stream.subscribe_quotes(handler, "BTC/USD")
        runner = StreamThread(stream, sim).start()
        wait_for(lambda: len(received) >= 20)
        runner.stop()
    times = [quote.timestamp for quote in received]
    assert times == sorted(times) and (times[-1] - times[0]).total_seconds() >= 19
