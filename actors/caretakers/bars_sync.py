"""`BarsSync`: keeps `historical_1min_bars` current for every enabled asset (incremental)."""

from __future__ import annotations

from actors.caretakers.base import Caretaker
from actors.runtime import Runtime
from app.bars import DEFAULT_BACKFILL, floor_minute, incremental_start, sync_symbol


class BarsSync(Caretaker):
    name = "bars_sync"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.bars_sync)
        # assets whose bars are current: their routine few new minutes are logged at DEBUG (a fast
        # simulator would otherwise log a line every real second); a catch-up after the start or
        # after a failed fetch is logged at INFO once
        self._current: set[int] = set()

    def run_once(self) -> None:
        rt = self._rt
        if rt.bar_fetcher is None:
            return
        end = floor_minute(rt.clock.now())
        failures = []
        for asset in rt.assets.enabled():
            start = incremental_start(rt.bars, asset.id, end)
            if start < (horizon := floor_minute(end - DEFAULT_BACKFILL)):
                # bars a year old (the seed bot's, fetched for one backtest) would mean a year of minutes
                # to fetch here, holding this caretaker for hours; the gap is for `bars fetch` to fill
                self._log.info("{}: the newest stored bar is from {:%Y-%m-%d}; fetching the last {} days only "
                               "(`supervisor.py bars fetch` fills the gap)", asset.symbol, start,
                               DEFAULT_BACKFILL.days)
                start = horizon
            if start >= end:
                continue
            result = sync_symbol(rt.bar_fetcher, rt.bars, asset.id, asset.symbol, start, end)
            if result.error:
                failures.append(f"{asset.symbol}: {result.error}")
                self._current.discard(asset.id)
                continue
            if result.new:
                level = "DEBUG" if asset.id in self._current else "INFO"
                self._log.log(level, "{}: {} new bars up to {}", asset.symbol, result.new, end.isoformat())
            self._current.add(asset.id)
        if failures:
            raise RuntimeError("; ".join(failures))
