"""Alpaca allows one market-data WebSocket per account: the second gets 406 and alpaca-py retries for ever."""

from adapters.alpaca.streams import QuoteStream
from adapters.sim.config import SimConfig
from adapters.sim.service import SimulatorService
from tests.waiting import wait_for


def _stream(service, events, name):
    def note(kind):
        return lambda *_: events.append((name, kind))

    stream = QuoteStream(service.key_id, service.secret_key, service.urls.data_stream, lambda quote: None,
                         on_connected=note("connected"), on_disconnected=note("disconnected"),
                         on_error=note("error"), on_connection_limit=note("connection limit"))
    stream.subscribe(["BTC/USD"])
    return stream


def test_a_second_consumer_on_the_same_keys_is_reported_once_per_episode_and_recovers():
    with SimulatorService(SimConfig(symbols=["BTC/USD"], port=0, rate_limit_per_minute=0)) as service:
        events: list[tuple[str, str]] = []
        first, second = _stream(service, events, "first"), _stream(service, events, "second")
        first.start()
        wait_for(lambda: ("first", "connected") in events, 20, "the first stream to connect")
        second.start()
        wait_for(lambda: ("second", "connection limit") in events, 20, "the second stream to be refused")
        wait_for(lambda: service.data_hub.refused[406] >= 2, 20, "alpaca-py to retry")
        assert events.count(("second", "connection limit")) == 1  # once per episode, not once per retry
        first.stop()
        wait_for(lambda: ("second", "connected") in events, 40, "the second stream to connect once the slot is free")
        second.stop()
