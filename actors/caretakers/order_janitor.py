"""`OrderJanitor`: our open orders that nobody tracks, or that outlived their limits.

Only our own orders are ever touched (client_order_id in this installation's namespace); foreign
orders are counted and left alone, whatever their age (the original cancelled every untracked
order in the account, B5). For each open order of ours:

* not the live order of any current cycle (an orphan) and older than the stale threshold →
  cancelled here;
* a resting order of a cycle (a ladder safety order, the limit take-profit) → left alone, whatever
  its age: it waits on the book for its price by design;
* the acting order of a cycle, past its limit (a stale BUY limit, a stuck market SELL) → its asset
  actor is told to check it, and the cycle's own timeout cancels it (B3, B6); only if it is still
  open at twice the limit does the janitor cancel it on the exchange as a backstop.

While the kill switch is engaged it does nothing at all: existing orders are left exactly as they
are (issue 7), whatever their age. Every open order is seen, page by page (the REST API returns at
most 500 per call). Its cancels are counted as `orphan` here; a tracked order's cancel is counted
by its asset actor when the event arrives, as `stale_buy`/`stuck_sell` since the order is past its
limit by then.
"""

from __future__ import annotations

from datetime import timedelta

from actors.caretakers.base import Caretaker
from actors.messages import CheckOrder
from actors.runtime import Runtime
from actors.supervision.clock import describe_delay
from actors.trading_gate import TradingStopped
from dca.order_ids import is_ours
from ports.asset_host import OrderLookup
from ports.broker import BrokerError


class OrderJanitor(Caretaker):
    name = "order_janitor"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.order_janitor)

    def run_once(self) -> None:
        rt = self._rt
        if rt.risk.kill_switch is not None:
            self._log.debug("kill switch engaged ({}): open orders left alone", rt.risk.kill_switch)
            return
        timing = rt.rules.timing
        now = rt.clock.now()
        current = rt.cycles.current_cycles()
        tracked = {c.cycle.order.client_order_id: c for c in current if c.cycle.order}
        resting = {order.client_order_id for c in current for order in c.cycle.resting}
        foreign = 0
        for order in rt.broker.iter_orders(status="open"):
            if rt.risk.kill_switch is not None:  # engaged while we page through: stop at once
                return
            if not is_ours(order.client_order_id, rt.rules.namespace):
                foreign += 1
                continue
            if order.client_order_id in resting:
                continue
            age = now - (order.submitted_at or order.created_at)
            stored = tracked.get(order.client_order_id)
            if stored is None:
                if age >= timing.stale_buy_after:
                    self._cancel(order.id, order.client_order_id, order.symbol, order.side, "orphan", age)
                continue
            limit = timing.stale_buy_after if order.side == "buy" else timing.stuck_sell_after
            if age >= limit:
                rt.asset_handle(stored.symbol).tell(CheckOrder(OrderLookup.ORDER_JANITOR))
            if age >= 2 * limit:
                reason = "stale_buy" if order.side == "buy" else "stuck_sell"
                self._cancel(order.id, order.client_order_id, order.symbol, order.side, reason, age)
        if foreign:
            self._log.debug("{} open orders are not ours; left alone", foreign)

    def _cancel(self, exchange_id: str, client_id: str, symbol: str, side: str, reason: str, age: timedelta) -> None:
        try:
            self._rt.broker.cancel(exchange_id)
        except TradingStopped:
            return  # stopping, or the book has another owner now: its orders are not ours to touch
        except BrokerError as error:
            self._log.warning("could not cancel {} {} ({}): {}", reason, client_id, self._age(age), error)
            return
        if reason == "orphan":  # a tracked order's cancel is counted by its asset when the event arrives
            self._rt.metrics.orders_canceled.labels(symbol, side, reason).inc()
        self._log.warning("cancelled {} order {} after {}", reason.replace("_", " "), client_id, self._age(age))

    def _age(self, age: timedelta) -> str:
        return describe_delay(age.total_seconds(), self._rt.clock)
