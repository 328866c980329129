"""Fixtures for the simulator suite: a fresh in-process simulator per test (ephemeral port, manual
pacing unless asked otherwise) and helpers to run alpaca-py's streams in threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.sim.config import SimConfig
from adapters.sim.service import SimulatorService
from tests.waiting import wait_for

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def make_service(**overrides: Any) -> SimulatorService:
    settings: dict[str, Any] = {"port": 0, "pacing": "manual", "start": T0, "symbols": ["BTC/USD", "ETH/USD"]}
    settings.update(overrides)
    return SimulatorService(SimConfig(**settings)).start()


@pytest.fixture
def sim() -> Iterator[SimulatorService]:
    service = make_service()
    yield service
    service.stop()


class StreamThread:
    """Runs an alpaca-py stream's blocking `run()` in a thread; `stop()` ends it promptly."""

    def __init__(self, stream: Any, service: SimulatorService) -> None:
        self.stream, self.service = stream, service
        self.thread = threading.Thread(target=stream.run, daemon=True)

    def start(self) -> StreamThread:
        self.thread.start()
        wait_for(lambda: self.stream._loop is not None and self.stream._loop.is_running())
        return self

    def stop(self) -> None:
        self.stream.stop()
        # the SDK notices a stop only on its next message or after a 5 s receive timeout; closing the
        # sockets from the server side makes it notice at once
        self.service.disconnect_clients()
        self.thread.join(10)
        assert not self.thread.is_alive(), "stream thread did not stop"


def data_connections(service: SimulatorService) -> int:
    assert service.data_hub is not None
    return len(service.data_hub.connections)


def trade_listeners(service: SimulatorService) -> int:
    assert service.trade_hub is not None
    return len(service.trade_hub.connections)


def listen_to_trade_updates(service: SimulatorService, raw_data: bool = False) -> tuple[list[Any], StreamThread]:
    """An alpaca-py TradingStream listening in a thread: (the updates it received, its runner to stop)."""
    from alpaca.trading.stream import TradingStream

    updates: list[Any] = []

    async def handler(update: Any) -> None:
        updates.append(update)

    stream = TradingStream(service.key_id, service.secret_key, url_override=service.urls.trading_stream,
                           raw_data=raw_data)
    stream.subscribe_trade_updates(handler)
    runner = StreamThread(stream, service).start()
    wait_for(lambda: trade_listeners(service) == 1)
    return updates, runner
