"""`OrderHistorySync`: mirrors every exchange order into `dca_orders`, paging past the API's
per-call limit (the original fetched only the newest 100, so busy accounts lost history)."""

from __future__ import annotations

from datetime import datetime, timedelta

from actors.caretakers.base import Caretaker
from actors.runtime import Runtime

OVERLAP = timedelta(days=1)  # re-read a day of orders each run: they may have changed since


class OrderHistorySync(Caretaker):
    name = "order_history_sync"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.order_history_sync)
        self._after: datetime | None = None

    def init(self) -> None:
        newest = self._rt.orders.latest_exchange_update()
        self._after = newest - OVERLAP if newest is not None else None
        super().init()

    def run_once(self) -> None:
        count, newest = 0, self._after
        for order in self._rt.broker.iter_orders(status="all", after=self._after):
            self._rt.orders.record(order)
            count += 1
            stamp = order.submitted_at or order.created_at
            newest = stamp if newest is None or stamp > newest else newest
        if newest is not None:
            self._after = newest - OVERLAP
        self._log.debug("mirrored {} orders", count)
