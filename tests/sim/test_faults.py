"""Fault injection as the real alpaca-py clients experience it."""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.live.crypto import CryptoDataStream
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import MarketOrderRequest
from alpaca.trading.stream import TradingStream

from adapters.sim.service import SimulatorService
from tests.sim.conftest import StreamThread, data_connections, make_service, trade_listeners
from tests.waiting import wait_for


def trading(sim: SimulatorService) -> TradingClient:
    return TradingClient(sim.key_id, sim.secret_key, url_override=sim.urls.trading)


def buy(client_order_id: str | None = None, qty: float = 0.001) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol="BTC/USD",
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        client_order_id=client_order_id,
    )


def auth(sim: SimulatorService) -> dict[str, str]:
    return {"APCA-API-KEY-ID": sim.key_id, "APCA-API-SECRET-KEY": sim.secret_key}


def test_504_after_processing_makes_the_sdk_retry_into_a_duplicate_client_id_422(
    sim: SimulatorService,
) -> None:
    sim.exchange.faults.update({"http_5xx_mode": "after", "http_5xx_next": 1})
    started = time.monotonic()
    with pytest.raises(APIError) as caught:
        trading(sim).submit_order(buy("retry-me"))
    assert time.monotonic() - started >= 3  # alpaca-py slept once before its retry
    assert (caught.value.status_code, caught.value.message) == (422, "client_order_id must be unique")
    orders = [order for order in sim.exchange.orders() if order.client_order_id == "retry-me"]
    assert len(orders) == 1  # the first attempt was accepted; the retry did not double it


def test_5xx_before_processing_creates_nothing_and_the_sdk_retry_succeeds(sim: SimulatorService) -> None:
    sim.exchange.faults.update({"http_5xx_mode": "before", "http_5xx_next": 1})
    order = trading(sim).submit_order(buy("once"))
    assert order.client_order_id == "once" and len(sim.exchange.orders()) == 1
    assert sim.exchange.stats["faulted_5xx"] == 1


def test_rate_limit_answers_429_which_the_sdk_waits_out() -> None:
    with make_service(rate_limit_per_minute=3, rate_limit_window_seconds=2.5) as sim:
        client = trading(sim)
        for _ in range(3):
            client.get_account()
        raw = requests.get(f"{sim.urls.trading}/v2/account", headers=auth(sim))
        assert raw.status_code == 429 and raw.json() == {"code": 42910000, "message": "rate limit exceeded"}
        started = time.monotonic()
        assert client.get_account().cash == "100000"  # 429, 3 s sleep, then allowed again
        assert time.monotonic() - started >= 3 and sim.exchange.stats["rate_limited"] >= 2


def test_http_429_fault_applies_only_to_the_chosen_paths(sim: SimulatorService) -> None:
    sim.exchange.faults.update({"http_429_rate": 1.0, "http_fault_paths": "/v2/account"})
    response = requests.get(f"{sim.urls.trading}/v2/account", headers=auth(sim))
    assert response.status_code == 429 and response.json()["code"] == 42910000
    assert requests.get(f"{sim.urls.trading}/v2/clock", headers=auth(sim)).status_code == 200
    assert sim.exchange.stats["faulted_429"] == 1


def test_reject_fault_in_http_mode_refuses_synchronously_without_an_order(sim: SimulatorService) -> None:
    sim.exchange.faults.update({"reject_rate": 1, "reject_mode": "http422"})
    with pytest.raises(APIError) as caught:
        trading(sim).submit_order(buy())
    assert caught.value.status_code == 422 and sim.exchange.orders() == []


def test_reject_fault_in_event_mode_accepts_then_sends_rejected(sim: SimulatorService) -> None:
    updates: list[Any] = []

    async def on_update(update: Any) -> None:
        updates.append(update)

    stream = TradingStream(sim.key_id, sim.secret_key, url_override=sim.urls.trading_stream)
    stream.subscribe_trade_updates(on_update)
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: trade_listeners(sim) == 1)
    sim.exchange.faults.update({"reject_rate": 1, "reject_mode": "event"})
    client = trading(sim)
    order = client.submit_order(buy())
    assert order.status == OrderStatus.PENDING_NEW
    wait_for(lambda: [u.event for u in updates] == ["new", "rejected"])
    runner.stop()
    sim.exchange.advance()
    rejected = client.get_order_by_id(order.id)
    assert rejected.status == OrderStatus.REJECTED and rejected.failed_at is not None and rejected.filled_qty == "0"


def test_partial_fill_fault_splits_a_fill(sim: SimulatorService) -> None:
    sim.exchange.faults.set("partial_fill_rate", 1)
    order = trading(sim).submit_order(buy(qty=0.01))
    events = sim.exchange.advance()
    assert [e.event for e in events] == ["partial_fill"]
    assert trading(sim).get_order_by_id(order.id).status == OrderStatus.PARTIALLY_FILLED
    sim.exchange.faults.set("partial_fill_rate", 0)
    assert [e.event for e in sim.exchange.advance()] == ["fill"]


def test_duplicated_and_dropped_trade_updates(sim: SimulatorService) -> None:
    updates: list[Any] = []

    async def on_update(update: Any) -> None:
        updates.append(update)

    stream = TradingStream(sim.key_id, sim.secret_key, url_override=sim.urls.trading_stream)
    stream.subscribe_trade_updates(on_update)
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: trade_listeners(sim) == 1)
    sim.exchange.faults.set("trade_update_duplicate_rate", 1)
    trading(sim).submit_order(buy())
    wait_for(lambda: [u.event for u in updates] == ["new", "new"])
    sim.exchange.faults.update({"trade_update_duplicate_rate": 0, "trade_update_drop_rate": 1})
    sim.exchange.advance()
    time.sleep(0.2)
    runner.stop()
    assert [u.event for u in updates] == ["new", "new"]  # the fill was dropped on the wire...
    assert sim.exchange.orders()[0].status == "filled"  # ...but happened


def test_ws_close_every_forces_reconnects_and_data_keeps_flowing(sim: SimulatorService) -> None:
    received: list[Any] = []

    async def on_quote(quote: Any) -> None:
        received.append(quote)

    stream = CryptoDataStream(sim.key_id, sim.secret_key, url_override=sim.urls.data_stream)
    stream.subscribe_quotes(on_quote, "BTC/USD")
    runner = StreamThread(stream, sim).start()
    wait_for(lambda: data_connections(sim) == 1)
    sim.exchange.faults.set("ws_close_every", 0.5)
    wait_for(lambda: data_connections(sim) == 0, timeout=5)
    sim.exchange.faults.set("ws_close_every", 0)
    wait_for(lambda: data_connections(sim) == 1, timeout=10)  # alpaca-py reconnected (with backoff)
    wait_for(lambda: sim.data_hub and any(c.subscriptions["quotes"] for c in sim.data_hub.connections))
    sim.exchange.step()
    wait_for(lambda: received)
    runner.stop()


def test_latency_is_added_to_http_responses(sim: SimulatorService) -> None:
    sim.exchange.faults.set("latency_ms", 200)
    started = time.monotonic()
    trading(sim).get_account()
    assert time.monotonic() - started >= 0.2


def test_faults_can_be_read_and_flipped_over_http(sim: SimulatorService) -> None:
    url = f"{sim.urls.trading}/sim/faults"
    changed = requests.post(url, json={"http_429_rate": 0.25, "reject_mode": "event"}, headers=auth(sim)).json()
    assert changed["http_429_rate"] == 0.25 and sim.exchange.faults.reject_mode == "event"
    bad = requests.post(url, json={"nope": 1}, headers=auth(sim))
    assert bad.status_code == 422 and "unknown fault 'nope'" in bad.json()["message"]
    assert requests.get(url).status_code == 401
    requests.post(f"{url}/reset", headers=auth(sim))
    assert sim.exchange.faults.http_429_rate == 0


def test_admin_routes_pace_a_manual_market(sim: SimulatorService) -> None:
    trading(sim).submit_order(buy())
    advanced = requests.post(f"{sim.urls.trading}/sim/advance?symbol=BTC/USD", headers=auth(sim)).json()
    assert advanced["events"] == 1
    published = requests.post(f"{sim.urls.trading}/sim/publish", headers=auth(sim)).json()
    assert published == {"published": 1}
    state = requests.get(f"{sim.urls.trading}/sim/state", headers=auth(sim)).json()
    assert D(state["positions"]["BTC/USD"]) == D("0.0009975")
