"""Keeping `historical_1min_bars` filled: bulk ranges and incremental top-ups.

Used by `supervisor.py bars fetch` and by the BarsSync caretaker, so both store bars the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MINUTE = timedelta(minutes=1)
DEFAULT_BACKFILL = timedelta(days=30)  # incremental mode with no bars yet starts this far back


@dataclass(frozen=True, slots=True)
class SyncResult:
    symbol: str
    start: datetime
    end: datetime
    fetched: int = 0
    new: int = 0
    error: str | None = None


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def incremental_start(store: Any, asset_id: int, end: datetime, backfill: timedelta = DEFAULT_BACKFILL,
                      first: datetime | None = None) -> datetime:
    """The minute after the newest stored bar; when there is none, `first` if given, else
    `backfill` before `end`."""
    latest = store.latest_time(asset_id)
    if latest is not None:
        return latest + MINUTE
    return first if first is not None else floor_minute(end - backfill)


def sync_symbol(fetcher: Any, store: Any, asset_id: int, symbol: str, start: datetime, end: datetime,
                on_chunk: Callable[[int], None] | None = None) -> SyncResult:
    """Fetch [start, end) and upsert it; an error is returned in the result, not raised, so one
    symbol's failure does not stop the others."""
    fetched = new = 0
    try:
        for chunk in fetcher.fetch(symbol, start, end):
            if chunk.bars:
                new += store.upsert(asset_id, chunk.bars, chunk.extras)
                fetched += len(chunk.bars)
            if on_chunk is not None:
                on_chunk(len(chunk.bars))
    except Exception as error:  # any failure of this symbol is reported with the others' results
        return SyncResult(symbol, start, end, fetched, new, f"{type(error).__name__}: {error}")
    return SyncResult(symbol, start, end, fetched, new)


# --- where bars come from (`supervisor.py bars fetch`) ---------------------------------------------


@dataclass
class BarEndpoint:
    """A market-data endpoint to fetch bars from, and how to let go of it."""

    fetcher: Any
    description: str
    close: Callable[[], None]


def open_bar_endpoint(settings: Any, symbols: list[str], source: str = "auto") -> BarEndpoint:
    """`auto`: ALPACA_SIM_URL → that simulator; Alpaca keys → Alpaca's data API; neither → the
    embedded simulator, started in this process (deterministic history for any past range).
    `alpaca` forces Alpaca's data API (keys are optional for crypto data, they raise the rate limit);
    `embedded` forces the in-process simulator."""
    from adapters.alpaca.history import BarFetcher

    key = settings.apca_api_key_id.get_secret_value() if settings.apca_api_key_id else None
    secret = settings.apca_api_secret_key.get_secret_value() if settings.apca_api_secret_key else None
    if source == "auto" and settings.alpaca_sim_url is not None:
        url = settings.alpaca_sim_url
        return BarEndpoint(BarFetcher(key, secret, url), f"the simulator at {url} (ALPACA_SIM_URL)", _nothing)
    if source == "alpaca" or (source == "auto" and key is not None):
        url = settings.apca_data_url
        who = "with keys" if key is not None else "without keys: the lower rate limit"
        return BarEndpoint(BarFetcher(key, secret, url), f"Alpaca's market-data API ({url or 'default URL'}, {who})",
                           _nothing)
    return _embedded(settings, symbols)


def _embedded(settings: Any, symbols: list[str]) -> BarEndpoint:
    from adapters.alpaca.history import BarFetcher
    from adapters.sim.config import SimConfig
    from adapters.sim.service import SimulatorService

    service = SimulatorService(SimConfig(symbols=list(symbols) or ["BTC/USD"], port=0, pacing="manual",
                                         seed=settings.sim_seed, rate_limit_per_minute=0))
    service.start()
    fetcher = BarFetcher(service.key_id, service.secret_key, service.urls.data)
    return BarEndpoint(fetcher, f"the embedded simulator (synthetic history, seed {settings.sim_seed}; "
                                "no Alpaca keys and no ALPACA_SIM_URL)", service.stop)


def _nothing() -> None:
    return None


def asset_rows(repo: Any, symbols: list[str]) -> tuple[list[Any], list[str]]:
    """Each symbol's `dca_assets` row, in order, and the symbols that had none. The bars table
    references dca_assets, so a pair that is not configured gets a row: DISABLED (the bot will not
    trade it) with the default parameters; `assets enable` or `assets set` change that later."""
    from dca.params import AssetParams

    missing = [symbol for symbol in symbols if repo.get(symbol) is None]
    if missing:
        repo.add(missing, AssetParams(), enabled=False)
    return [repo.get(symbol) for symbol in symbols], missing
