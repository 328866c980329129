"""`BarFetcher`: chunks, paging (through the simulator) and waiting out a persistent 429."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from alpaca.common.exceptions import APIError

from adapters.alpaca.history import BarFetcher

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_a_week_of_minutes_arrives_in_one_chunk_across_pages(simulator):
    fetcher = BarFetcher(None, None, simulator.urls.data)
    (chunk,) = list(fetcher.fetch("BTC/USD", START, START + timedelta(days=7)))
    assert len(chunk.bars) == 7 * 1440  # more than one 10,000-bar page
    assert chunk.bars[0].time == START and chunk.bars[-1].time == START + timedelta(days=7, minutes=-1)


def _rate_limited() -> APIError:
    return APIError(json.dumps({"code": 42910000, "message": "rate limit exceeded"}),
                    SimpleNamespace(response=SimpleNamespace(status_code=429), request=None))


def test_a_rate_limit_that_outlasts_the_sdk_retries_is_waited_out_until_the_reset_time(simulator):
    """alpaca-py retries a 429 three times (3 s apart, ignoring the headers); the fifth 429 in a row
    reaches the fetcher, which waits until X-RateLimit-Reset (the simulator's: about a second)."""
    waits: list[float] = []
    fetcher = BarFetcher(None, None, simulator.urls.data, rate_limit_wait=60, sleep=waits.append)
    simulator.exchange.faults.update({"http_429_next": 5, "http_fault_paths": "/v1beta3"})
    try:
        (chunk,) = list(fetcher.fetch("ETH/USD", START, START + timedelta(hours=1)))
    finally:
        simulator.exchange.faults.reset()
    assert len(chunk.bars) == 60
    assert len(waits) == 1 and 1 <= waits[0] <= 2  # the reset time, not the 60 s fallback
    assert simulator.exchange.stats["faulted_429"] >= 5


def test_it_gives_up_after_its_waits_and_waits_the_fallback_without_a_reset_header(simulator):
    waits: list[float] = []
    fetcher = BarFetcher(None, None, simulator.urls.data, rate_limit_wait=7, max_rate_limit_waits=2,
                         sleep=waits.append)

    def always_limited(request):  # type: ignore[no-untyped-def]
        raise _rate_limited()

    fetcher._client.get_crypto_bars = always_limited
    with pytest.raises(APIError):
        list(fetcher.fetch("ETH/USD", START, START + timedelta(hours=1)))
    assert waits == [7, 7]
