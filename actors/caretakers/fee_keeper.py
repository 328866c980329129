"""`FeeKeeper`: learns from the venue the fees the books only estimated.

Alpaca reports no fee on orders or fills. A buy's coin fee is usually learned at once from the
position; a sell's USD fee (and a buy's whose position reading proved nothing) stays an estimate
from the configured rates until the venue posts its CFEE/FEE activities, which may be only at the end
of the day. This caretaker reads them for the finished orders still on an estimate and has each
order's asset actor replace the estimate, exactly once.
"""

from __future__ import annotations

from datetime import timedelta

from actors.caretakers.base import Caretaker
from actors.messages import FeeLearned
from actors.runtime import Runtime
from dca.fees import venue_fee


class FeeKeeper(Caretaker):
    name = "fee_keeper"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.reconciler)

    def run_once(self) -> None:
        rt = self._rt
        pending = rt.cycles.estimated_fees()
        if not pending:
            return
        venue = rt.broker.fee_activities(min(order.created_at for order in pending) - timedelta(minutes=1))
        everyone = venue.executions
        for order in pending:
            fee = venue_fee(venue.fills.get(order.exchange_id or "", []), everyone, venue.records)
            handle = rt.asset_handle(order.symbol)
            if fee is not None and handle.is_alive():
                handle.tell(FeeLearned(order.client_order_id, fee))
