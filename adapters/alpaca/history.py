"""Historical 1-minute crypto bars from Alpaca's market-data REST API (alpaca-py's
CryptoHistoricalDataClient), fetched a chunk of time at a time.

alpaca-py follows `next_page_token` itself; asking for one chunk (a week: about one 10 000-bar page)
at a time keeps memory flat over years of data and gives a progress bar something to count. A 429
that survives alpaca-py's own three retries is waited out here, until the X-RateLimit-Reset time
Alpaca sends (which alpaca-py ignores) or `rate_limit_wait` seconds without one (one symbol's
failure is the caller's to report; it does not stop the others).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.requests import CryptoBarsRequest
from alpaca.data.timeframe import TimeFrame

from adapters.alpaca.convert import decimal_or_none, timestamp
from dca.market import Bar

CHUNK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class BarChunk:
    """The bars of one symbol between `start` and `end` (end exclusive), with their trade counts
    and VWAPs (which the bars table keeps but the backtest does not need)."""

    symbol: str
    start: datetime
    end: datetime
    bars: list[Bar]
    extras: list[tuple[Decimal | None, Decimal | None]]


class BarFetcher:
    def __init__(self, key_id: str | None, secret_key: str | None, data_url: str | None, *,
                 rate_limit_wait: float = 60.0, max_rate_limit_waits: int = 5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = CryptoHistoricalDataClient(key_id, secret_key, raw_data=True, url_override=data_url)
        self._wait, self._max_waits, self._sleep = rate_limit_wait, max_rate_limit_waits, sleep

    def chunks(self, start: datetime, end: datetime, size: timedelta = CHUNK) -> list[tuple[datetime, datetime]]:
        spans, cursor = [], start
        while cursor < end:
            spans.append((cursor, min(cursor + size, end)))
            cursor += size
        return spans

    def fetch(self, symbol: str, start: datetime, end: datetime, size: timedelta = CHUNK) -> Iterator[BarChunk]:
        """Every 1-minute bar with start ≤ time < end, one chunk at a time, oldest first."""
        for chunk_start, chunk_end in self.chunks(start, end, size):
            raw = self._request(symbol, chunk_start, chunk_end)
            bars, extras = [], []
            for item in raw:
                bar = _bar(symbol, item)
                if chunk_start <= bar.time < chunk_end:  # the API's `end` is inclusive
                    bars.append(bar)
                    extras.append((decimal_or_none(item.get("n")), decimal_or_none(item.get("vw"))))
            yield BarChunk(symbol, chunk_start, chunk_end, bars, extras)

    def _request(self, symbol: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        request = CryptoBarsRequest(symbol_or_symbols=[symbol], timeframe=TimeFrame.Minute, start=start, end=end)
        for attempt in range(self._max_waits + 1):
            try:
                result = self._client.get_crypto_bars(request)
                return list(result.get(symbol, [])) if isinstance(result, dict) else []
            except APIError as error:
                if error.status_code != 429 or attempt == self._max_waits:
                    raise
                self._sleep(self._wait_after(error))
        return []

    def _wait_after(self, error: APIError) -> float:
        """Seconds until the rate-limit window resets (at least 1, at most `rate_limit_wait`)."""
        reset = getattr(error.response, "headers", {}).get("X-RateLimit-Reset")
        try:
            return min(self._wait, max(1.0, float(reset) - time.time())) if reset else self._wait
        except ValueError:
            return self._wait


def _bar(symbol: str, item: dict[str, Any]) -> Bar:
    return Bar(symbol, timestamp(item["t"]), _d(item["o"]), _d(item["h"]), _d(item["l"]), _d(item["c"]),  # type: ignore[arg-type]
               _d(item.get("v", 0)))


def _d(value: Any) -> Decimal:
    result = decimal_or_none(value)
    return result if result is not None else Decimal(0)
