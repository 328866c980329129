"""`OrderHistorySync`: mirrors every exchange order into `dca_orders`, paging past the API's
per-call limit (the original fetched only the newest 100, so busy accounts lost history).

Each run also settles our rows that are still open or `submitting` in the mirror, whatever their age:
each is read back by its client id, so a row a dropped or reordered trade update left wrong is right
again within one interval, and a row whose order the exchange never received is marked `never_sent`.
The live order of a current cycle is left to its asset actor (it reads it back itself)."""

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
        self._settle_open_rows()

    def _settle_open_rows(self) -> None:
        rt = self._rt
        live = {order.client_order_id for c in rt.cycles.current_cycles() for order in c.cycle.live_orders}
        settle_before = rt.clock.now() - timedelta(seconds=self._interval)  # an order younger than this is in flux
        for client_order_id in rt.orders.unsettled(settle_before):
            if client_order_id in live:
                continue
            found = rt.broker.order_by_client_id(client_order_id)
            if found is not None:
                rt.orders.record(found)
            elif rt.orders.mark_never_sent(client_order_id):
                self._log.info("{} never reached the exchange; its row is marked never_sent", client_order_id)
