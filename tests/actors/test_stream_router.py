"""The connection handling both stream routers share (`actors.stream_router`), against a fake of the
stream port: reconnects counted from the second connection, the gauge and readiness following the
connection, the venue's connection limit and malformed messages counted, and a stream whose thread
died replaced by a fresh one through a restart of its router."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pykka
import pytest

from actors.market_data_router import MarketDataRouter
from actors.messages import Subscribe
from actors.quote_board import QuoteBoard
from actors.runtime import Intervals, Runtime
from actors.supervision import Backoff, ChildDirectory, ChildSpec, Supervisor
from actors.supervision.clock import SystemClock
from actors.supervision.scheduler import Scheduler
from adapters.metrics import Metrics
from dca.market import Quote
from ports.streams import ConnectionEvents, TradeUpdate
from tests.actors.supervision.clocks import FastClock
from tests.waiting import wait_for

STREAM = "market_data"


class FakeQuoteStream:
    def __init__(self, on_quote: Callable[[Quote], None], events: ConnectionEvents) -> None:
        self.on_quote, self.events = on_quote, events
        self.alive = True
        self.started = self.stopped = False
        self.subscribed: list[str] = []

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def subscribe(self, symbols: list[str]) -> None:
        self.subscribed.extend(symbols)

    def unsubscribe(self, symbols: list[str]) -> None:
        self.subscribed = [s for s in self.subscribed if s not in symbols]


class FakeStreams:
    """The stream factory port: records every quote stream it opens."""

    def __init__(self) -> None:
        self.opened: list[FakeQuoteStream] = []

    def quote_stream(self, on_quote: Callable[[Quote], None], events: ConnectionEvents) -> FakeQuoteStream:
        self.opened.append(FakeQuoteStream(on_quote, events))
        return self.opened[-1]

    def trade_update_stream(self, on_update: Callable[[TradeUpdate], None], events: ConnectionEvents) -> Any:
        raise AssertionError("not used here")


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    scheduler = Scheduler(FastClock(100), max_wait_s=0.05).start()
    board = QuoteBoard()
    rt = Runtime(rules=None, clock=SystemClock(), scheduler=scheduler, broker=None, assets=None,  # type: ignore[arg-type]
                 cycles=None, orders=None, bars=None, metrics=Metrics(), board=board, streams=FakeStreams(),
                 intervals=Intervals(stream_check=0.05))
    yield rt
    pykka.ActorRegistry.stop_all(timeout=10)
    scheduler.stop()


def start_router(rt: Runtime) -> ChildDirectory:
    directory = ChildDirectory()
    Supervisor.start("root", [ChildSpec("router", MarketDataRouter, args=(rt,))], scheduler=rt.scheduler,
                     directory=directory, backoff=Backoff.none())
    return directory


def value(metric: Any) -> float:
    return metric._value.get()


def test_connects_and_drops_move_the_gauge_and_reconnects_count_from_the_second(runtime: Runtime) -> None:
    start_router(runtime)
    streams: FakeStreams = runtime.streams  # type: ignore[assignment]
    wait_for(lambda: streams.opened and streams.opened[0].started, 10, "the stream to start")
    stream, gauge = streams.opened[0], runtime.metrics.stream_connected.labels(STREAM)

    stream.events.on_connected()
    wait_for(lambda: value(gauge) == 1, 10, "connected")
    assert value(runtime.metrics.stream_reconnects.labels(STREAM)) == 0
    stream.events.on_disconnected()
    wait_for(lambda: value(gauge) == 0, 10, "disconnected")
    assert "the market_data stream is not connected" in runtime.health.readiness().reasons
    stream.events.on_connected()
    wait_for(lambda: value(runtime.metrics.stream_reconnects.labels(STREAM)) == 1, 10, "a reconnect")
    assert value(gauge) == 1


def test_the_connection_limit_and_malformed_messages_are_counted_and_the_stream_goes_on(runtime: Runtime) -> None:
    directory = start_router(runtime)
    streams: FakeStreams = runtime.streams  # type: ignore[assignment]
    wait_for(lambda: streams.opened and streams.opened[0].started, 10, "the stream to start")
    stream = streams.opened[0]

    stream.events.on_connection_limit()
    stream.events.on_malformed("quote", ValueError("no bid"))

    assert value(runtime.metrics.connection_limit) == 1
    assert value(runtime.metrics.malformed_messages.labels(STREAM)) == 1
    directory.handle("router").ask(Subscribe(("ETH/USD",)), timeout=10)  # a barrier: still the same actor
    assert len(streams.opened) == 1 and stream.subscribed[-1:] == ["ETH/USD"]


def test_a_stream_whose_thread_died_is_replaced_through_a_restart_of_its_router(runtime: Runtime) -> None:
    directory = start_router(runtime)
    streams: FakeStreams = runtime.streams  # type: ignore[assignment]
    wait_for(lambda: streams.opened and streams.opened[0].started, 10, "the stream to start")
    first_router = directory.handle("router").ref

    streams.opened[0].alive = False  # the next liveness check finds it dead

    wait_for(lambda: len(streams.opened) == 2 and streams.opened[1].started, 10, "a fresh stream")
    assert streams.opened[0].stopped
    assert directory.handle("router").ref != first_router
