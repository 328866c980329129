"""What `/v2/positions` shows. By default the ledger itself; under the `position_lag=SECONDS` quirk a
copy that learns of each fill only SECONDS of real time later (positions can lag orders on Alpaca,
Alpaca-API issue #276), while the engine still checks sells against the true balance."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from adapters.sim.accounting import Ledger, Position


class ShownPositions:
    def __init__(self, ledger: Ledger, lag_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ledger, self._lag, self._clock = ledger, lag_seconds, clock
        self._shown: dict[str, Position] = dict(ledger.positions)
        self._due: deque[tuple[float, str, Position | None]] = deque()

    def record(self, symbols: Iterable[str]) -> None:
        """The positions of `symbols` just changed (fills): show them once the lag has passed."""
        if self._lag <= 0:
            return
        due = self._clock() + self._lag
        for symbol in sorted(symbols):
            self._due.append((due, symbol, self._ledger.positions.get(symbol)))

    def get(self, symbol: str) -> Position | None:
        if self._lag <= 0:
            return self._ledger.positions.get(symbol)
        self._catch_up()
        return self._shown.get(symbol)

    def all(self) -> list[Position]:
        if self._lag <= 0:
            positions = self._ledger.positions
        else:
            self._catch_up()
            positions = self._shown
        return sorted(positions.values(), key=lambda position: position.symbol)

    def _catch_up(self) -> None:
        now = self._clock()
        while self._due and self._due[0][0] <= now:
            _, symbol, position = self._due.popleft()
            if position is None:
                self._shown.pop(symbol, None)
            else:
                self._shown[symbol] = position
