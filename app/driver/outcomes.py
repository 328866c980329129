"""What an asset driver reports after a decision was stored: the log, the metrics, the risk board's
figures and the trade notices. Nothing here changes the cycle; everything branches on the event's
and the decision's types and fields, never on the notes' text."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.driver.services import DriverPorts
from dca.cycle import AssetState, CycleStatus, LiveOrder, Side
from dca.events import CloseReason, Event, FeeConfirmed, HoldingsChecked, OrderClosed, OrderNotFound
from dca.notices import breaker_opened, cycle_ended, order_filled
from dca.params import AssetConfig, OrderTiming
from dca.risk import GLOBAL
from dca.strategy import Decision, coin_text, money_text
from ports.clock import describe_delay

if TYPE_CHECKING:
    from loguru import Logger


class OutcomeRecorder:
    """One asset's reporter. `record` is called once per stored decision, before its commands run."""

    def __init__(self, symbol: str, ports: DriverPorts, log: Logger) -> None:
        self._symbol, self._p, self._log = symbol, ports, log
        self.operator_cancels: set[str] = set()  # orders the operator had cancelled: labelled "canceled"

    def record(self, config: AssetConfig, before: AssetState, decision: Decision, event: Event) -> None:
        metrics, symbol = self._p.metrics, self._symbol
        for note in decision.lines:
            self._log.info("cycle {}: {}", before.cycle.id, note)
        for old in before.cycle.live_orders:  # the orders this event moved (acting or resting)
            new = (decision.finished_order if decision.finished_order is not None
                   and decision.finished_order.client_order_id == old.client_order_id
                   else decision.state.cycle.live_order(old.client_order_id))
            if new is None:
                continue
            if new.filled_qty > old.filled_qty:
                metrics.fills.labels(symbol, new.side.value).inc()
            if new is decision.finished_order and isinstance(event, OrderClosed | OrderNotFound):
                self._order_ended_unfilled(new, event, config.timing, resting=old in before.cycle.resting)
        self._notify(decision, event)
        if decision.completed is not None:
            metrics.cycles_completed.labels(symbol, decision.completed.status.value).inc()
            if decision.completed.status is CycleStatus.STOPPED:
                metrics.stop_losses.labels(symbol).inc()
            metrics.realized_profit.labels(symbol).inc(float(decision.completed.realized_pnl))
            self._p.risk.add_realized(decision.completed.completed_at or self._p.clock.now(),
                                    decision.completed.realized_pnl)
        if isinstance(event, HoldingsChecked):
            self._holdings_corrected(before, decision)
        if isinstance(event, FeeConfirmed) and decision.confirmed_fee is not None \
                and event.confirmed != event.estimated:
            metrics.fee_corrections.labels(symbol).inc()
            amount = coin_text if event.side is Side.BUY else money_text  # a buy's fee is in coin
            self._log.info("{}: fee corrected from the venue's activities: {} → {}", event.client_order_id,
                           amount(config, event.estimated), amount(config, event.confirmed))

    def order_result(self, succeeded: bool) -> None:
        """Count an order's outcome for the circuit breakers; announce any breaker it opened."""
        risk = self._p.risk
        cooldown = describe_delay(risk.limits.breaker_cooldown.total_seconds(), self._p.clock)
        for scope in risk.record_order_result(self._symbol, succeeded, self._p.clock.now()):
            self._p.metrics.circuit_open.labels(scope).set(1)
            self._p.notifier.post(breaker_opened(scope, risk.limits.breaker_cooldown))
            if scope == GLOBAL:
                self._log.error("circuit breaker opened for all assets: order failures of several assets ({} just "
                                "now) add up to {} with no success anywhere; no orders for {}", self._symbol,
                                risk.limits.global_threshold, cooldown)
            else:
                self._log.error("circuit breaker opened for {} after {} consecutive order failures; no orders "
                                "for it for {}", scope, risk.limits.failure_threshold, cooldown)

    def _order_ended_unfilled(self, order: LiveOrder, event: OrderClosed | OrderNotFound, timing: OrderTiming,
                              resting: bool) -> None:
        reason = event.reason if isinstance(event, OrderClosed) else CloseReason.EXPIRED
        side = order.side.value
        if isinstance(event, OrderClosed) and reason is CloseReason.REJECTED:
            self._p.metrics.orders_rejected.labels(self._symbol, side, event.rejection.value).inc()
            self.order_result(False)
        else:
            # a resting order is never stale: the cycle cancels it on purpose (before a sale, a replacement)
            operator = order.client_order_id in self.operator_cancels or resting
            label = CloseReason.CANCELED.value if operator else cancel_label(order, reason, event.time, timing)
            self._p.metrics.orders_canceled.labels(self._symbol, side, label).inc()

    def _holdings_corrected(self, before: AssetState, decision: Decision) -> None:
        """The venue's holding was checked against the cycle: count what the correction was."""
        if decision.completed is not None or decision.state.cycle.cost < before.cycle.cost:  # coins left the bot
            self._p.metrics.discrepancies.labels("holding_missing").inc()
        elif decision.state.held_quantity < before.held_quantity:
            self._p.metrics.discrepancies.labels("holding_corrected").inc()

    def _notify(self, decision: Decision, event: Event) -> None:
        finished = decision.finished_order
        if finished is not None and finished.filled_qty > 0 and not isinstance(event, OrderClosed | OrderNotFound):
            cycle = decision.completed if finished.side is Side.SELL and decision.completed else decision.state.cycle
            self._p.notifier.post(order_filled(self._symbol, cycle, finished))
        if decision.completed is not None:
            self._p.notifier.post(cycle_ended(self._symbol, decision.completed))


def cancel_label(order: LiveOrder, reason: CloseReason, at: datetime, timing: OrderTiming) -> str:
    """Why an order ended unfilled, as a metric label. An order past its limit is a stale buy or a
    stuck sell whoever cancelled it: the cycle itself, or the order janitor's backstop (which
    cancels on the exchange directly, so the cycle never asked)."""
    stale = "stale_buy" if order.side is Side.BUY else "stuck_sell"
    if order.cancel_requested_at is not None:
        return stale
    limit = timing.stale_buy_after if order.side is Side.BUY else timing.stuck_sell_after
    if reason is CloseReason.CANCELED and at - order.created_at >= limit:
        return stale
    return reason.value
