"""`AssetDriver`: one asset's order loop — decide, vet, persist, submit, apply — as a plain object.

The actor that hosts it (actors/asset_actor.py) turns messages into calls; everything else goes
through ports: the broker, the books, the risk board, metrics, notices, the clocks and the host's
timers. No threads, no vendor code, no clock reads but the ports'.

The loop. Every call puts one or more events on a queue (a `deque`) and drains it. Each event is
decided on the current state (`dca.strategy.decide`); a decision that would sell is first checked
against the venue's position; one that sends anything is vetted by the risk gates; then it is
stored (one transaction, a new order's row included) and only then are its commands carried out.
What the venue answers to a command (accepted, filled, rejected, not found, read back) becomes new
events at the back of the queue. So:

* A decision's commands all run, in order, before any event they produce is decided on. They were
  decided together on one state, which is the state when they run: none of them is ever stale.
  (Today a decision has at most one order command and the timer that watches it.)
* The one exception is the position read before a buy: it is stored before the POST, because the
  buy's exact coin fee is learned from it later. The core answers it with no command, so storing it
  at once never starts a second loop.
* A sell the venue cannot fill as decided is not carried out; the venue's figures go to the front
  of the queue (`HoldingsChecked`, `SellableChecked`), followed by the same event again, marked as
  checked, so the core re-decides it on what the venue has.
* Work that must follow an event's decision (learning from a rejection, noting that a read-back
  found a missed update) is queued after that event, so it sees the state the event left.

Before a flat watching cycle decides on a quote, its deal start condition is read for the quote's
minute from the stored bars (`app.start_conditions`, through the bars port). The operator's
`close` and `cancel-orders` are events like any other (`CloseRequested`, `CancelRequested`);
after `cancel-orders` the driver sends no new order until the asset is enabled again (a new driver).

The backtest session (dca/backtest/session.py) keeps its own, recursive loop on purpose: it lives in
the pure core (Dask workers import it without app/ or any port), it has none of the steps between
`decide` and the commands (venue checks, risk gates, storage), and its venue answers synchronously,
so applying an order's answers at once gives the same result as queueing them (the only other
command of such a decision is the order's timer, which goes on a heap either way). Queue items per
event would only cost allocations in a loop that runs over every bar of every sweep point.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger

from app.driver.outcomes import OutcomeRecorder
from app.driver.sell_guard import SellGuard, held_by_own_sells
from app.driver.services import AssetHost, DriverPorts
from app.driver.venue_checks import GO, CashReading, PendingFee, Verdict
from app.start_conditions import ASK_AGAIN_AFTER, StoredBarsReader
from dca.adoption import AdoptionRefused, plan_adoption
from dca.assets import AssetRecord
from dca.commands import CancelOrder, Command, ScheduleTimer, SubmitOrder
from dca.cycle import AssetState, CycleStatus, FeeSource, LiveOrder, Side
from dca.events import (
    CancelRequested,
    CloseReason,
    CloseRequested,
    ConditionChecked,
    Event,
    FeeConfirmed,
    HoldingsChecked,
    OrderAccepted,
    OrderClosed,
    OrderFilled,
    OrderNotFound,
    PositionAdopted,
    PositionBeforeOrder,
    Tick,
)
from dca.exchange import sellable_for_bot
from dca.fees import fee_from_position
from dca.market import Quote
from dca.money import ZERO
from dca.order_reports import event_for
from dca.params import AssetConfig, ExchangeRules
from dca.risk import Veto, buy_cost, cycle_committed, cycle_reserved, vet
from dca.strategy import (
    ALWAYS,
    Decision,
    Triggers,
    coin_text,
    decide,
    money_text,
    start_reading_due,
    triggers,
)
from ports.asset_host import OrderLookup
from ports.broker import (
    BelowMinimum,
    BrokerUnavailable,
    DuplicateClientOrderId,
    InsufficientBalance,
    NotFound,
    OrderRejected,
    TradingStopped,
    WashTradeRefused,
)
from ports.stores import Answer

if TYPE_CHECKING:
    from loguru import Logger

NOTE_REPEAT_SECONDS = 60.0  # the same informational note is logged at most once a minute
LOOKUP_RETRY_SECONDS = 5.0  # after an unknown submit outcome, look the order up again this often
FEE_RECHECK_SECONDS, FEE_RECHECK_FOR = 1.0, 10.0  # a lagging position is read again this often, this long
_NUMBER = re.compile(r"[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?")  # prices, quantities, times in a note


# --- what the queue holds ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Decide:
    event: Event
    venue_checked: bool = False  # the venue was asked already: a sell decided now goes out as decided
    entry: bool = False  # the event the caller handed in: its decision is the call's answer


@dataclass(frozen=True, slots=True)
class _LearnFromRejection:
    command: SubmitOrder
    error: OrderRejected


@dataclass(frozen=True, slots=True)
class _ReadBackDone:
    client_order_id: str
    reason: OrderLookup
    status: str
    before: AssetState


_Work = _Decide | _LearnFromRejection | _ReadBackDone


class AssetDriver:
    def __init__(self, asset_id: int, ports: DriverPorts, host: AssetHost) -> None:
        self._asset_id = asset_id
        self._p, self._host = ports, host
        self._config: AssetConfig | None = None
        self._state: AssetState | None = None
        self._symbol = ""
        self._triggers: Triggers = ALWAYS  # where the core may act; recomputed on every change
        self._peak_dirty = False
        self._noted: dict[str, float] = {}
        self._rules_read_at = host.stopwatch.seconds()
        self._fee_pending: PendingFee | None = None
        self._sells = SellGuard(ports, host.stopwatch, self._note)
        self._cash = CashReading(host.stopwatch)
        self._log: Logger = logger
        self._outcomes: OutcomeRecorder | None = None
        self._start_reader: StoredBarsReader | None = None  # deal start conditions, made on first use
        self._start_read_at = datetime.min.replace(tzinfo=UTC)
        self._paused = False  # `cancel-orders`: no new order until the asset is enabled again (a new driver)
        self._trading_stopped: str | None = None  # the gate refused a request: closed for good in this process

    # --- the host's calls -------------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        return self._symbol

    @property
    def log(self) -> Logger:
        """The asset's logger (bound to its symbol once started)."""
        return self._log

    @property
    def triggers(self) -> Triggers:
        """Where the next quote may act; outside it `decide` provably changes nothing."""
        return self._triggers

    def snapshot(self) -> tuple[AssetConfig | None, AssetState | None]:
        return self._config, self._state

    def start(self) -> None:
        """Rebuild the cycle from the books and, before anything else, ask the exchange about every
        order the books hold as live, acting or resting (a fill or cancel while the bot was down is
        applied once)."""
        p = self._p
        record = p.assets.by_id(self._asset_id)
        if record is None:
            raise LookupError(f"asset {self._asset_id} is not configured")
        self._symbol = record.symbol
        self._log = logger.bind(actor=f"asset:{record.symbol}")
        self._outcomes = OutcomeRecorder(record.symbol, p, self._log)
        self._sells.started(record.symbol, self._log)
        self._config = self._config_for(record)
        self._state = p.cycles.load(record)
        self._log.info("cycle {} {}; {}", self._state.cycle.id, self._state.cycle.status,
                       _holding(self._config, self._state))
        if self._state.cycle.live_orders:  # live when we last stopped: ask the exchange first
            self.check_order(OrderLookup.RECOVERING)
        self._refresh_triggers()
        self._arm_deadlines()
        p.metrics.asset_started(record.symbol)
        p.metrics.realized_profit.labels(record.symbol).set(float(p.cycles.realized_total(record.id)))
        self._post_exposure()
        self._publish_metrics()

    def stop(self) -> None:
        self._flush_peak()

    def on_quote(self, quote: Quote) -> None:
        self._read_start_condition(quote.time)
        if self._triggers.may_act_on(quote):  # otherwise the core provably changes nothing: skip the maths
            self._run(_Decide(quote, entry=True))

    def on_order_report(self, event: Event) -> None:
        self._run(_Decide(event, entry=True))

    def on_timer(self) -> None:
        self._run(_Decide(Tick(self._p.clock.now()), entry=True))

    def check_order(self, reason: OrderLookup) -> None:
        """Read every live order back from the exchange and apply what the cycle has not seen yet."""
        self._run(*self._read_back(reason))

    def check_holdings(self, quantity: Decimal, expected: Decimal, requested_at: float) -> None:
        """The reconciler's reading of the venue's position (the list endpoint), requested at
        `requested_at` (stopwatch seconds) while the cycle held `expected`."""
        assert self._state is not None
        if self._state.held_quantity != expected:  # it changed after the reconciler looked: next time
            return
        confirmed = self._sells.shortfall_confirmed(quantity, expected, requested_at, from_list=True)
        if quantity < expected and not confirmed:
            return  # positions can lag fills: a shortfall counts once readings apart agree on it (app.shortfall)
        self._run(_Decide(HoldingsChecked(quantity, self._p.clock.now()), venue_checked=True, entry=True))

    def fee_learned(self, client_order_id: str, fee: Decimal) -> None:
        """The venue's fee for a finished order replaces the books' estimate, once (the stored order
        says whether it already did)."""
        assert self._state is not None
        stored = self._p.cycles.order_fee(client_order_id)
        if stored is None or stored.source is FeeSource.VENUE:
            return
        self._run(_Decide(FeeConfirmed(client_order_id, stored.side, stored.fee, fee,
                                       stored.cycle_id == self._state.cycle.id, self._p.clock.now()), entry=True))

    def recheck_fee(self, client_order_id: str) -> None:
        assert self._state is not None and self._config is not None
        pending = self._fee_pending
        if pending is None or pending.client_order_id != client_order_id:
            return
        if _position_may_have_moved(self._state):  # another order moved the position meanwhile: the venue's
            self._fee_pending = None                # fee activities will settle it
            return
        try:
            position: Decimal | None = self._p.broker.position_qty(self._symbol)
        except BrokerUnavailable:
            position = None
        fees = self._config.fees
        fee = None if position is None else fee_from_position(pending.filled_qty, pending.position_before, position,
                                                              max(fees.taker_bps, fees.maker_bps))
        if fee is None and self._host.stopwatch.seconds() - pending.since < FEE_RECHECK_FOR:
            self._host.timers.recheck_fee_in(FEE_RECHECK_SECONDS, client_order_id)
            return
        self._fee_pending = None
        if fee is not None:
            self.fee_learned(client_order_id, fee)

    def params_changed(self, record: AssetRecord) -> None:
        self._config = self._config_for(record)
        self._refresh_triggers()
        self._log.info("parameters reloaded: {}", record.params)

    def housekeeping(self) -> None:
        self._flush_peak()
        self._publish_metrics()
        if self._host.stopwatch.seconds() - self._rules_read_at >= self._p.rules.rules_refresh_seconds:
            self._refresh_rules("the refresh period")

    def adopt(self, quantity: Decimal, price: Decimal) -> Answer:
        """Take foreign coins into a flat cycle (`supervisor.py adopt`); the answer for the operator."""
        assert self._state is not None
        position = self._p.broker.position(self._symbol)
        held, entry = (position.qty, position.avg_entry_price) if position else (ZERO, ZERO)
        try:
            qty, cost = plan_adoption(held, entry, self._state.held_quantity, quantity, price)
        except AdoptionRefused as error:
            return Answer(f"refused: {error}", refused=True)
        before = self._state
        decision = self._run(_Decide(PositionAdopted(qty, cost, self._p.clock.now()), entry=True))
        return Answer(decision.last_line("nothing to do"), refused=decision.state is before)

    def close_cycle(self) -> Answer:
        """`supervisor.py close`: the core marks the cycle (cancelling a live buy); the next quote sells.
        The answer for the operator."""
        assert self._state is not None
        before = self._state
        decision = self._run(_Decide(CloseRequested(self._p.clock.now()), entry=True))
        return Answer(decision.last_line("nothing to do"), refused=decision.state is before)

    def cancel_orders(self) -> Answer:
        """`supervisor.py cancel-orders`: cancel every live order (acting and resting), read their ends
        back, place nothing more."""
        assert self._state is not None
        self._paused = True
        decision = self._run(_Decide(CancelRequested(self._p.clock.now()), entry=True))
        if self._state.cycle.live_orders:
            self.check_order(OrderLookup.OPERATOR_CANCEL)
        live = ", ".join(order.client_order_id for order in self._state.cycle.live_orders)
        after = (f"; {live} still live on the exchange (the cancel is asked again when the asset is enabled)"
                 if live else "")
        return Answer(decision.last_line("nothing to cancel") + after)

    def _read_start_condition(self, now: datetime) -> None:
        """Before a flat watching cycle decides on a quote, its deal start condition is read for the
        quote's minute from the stored bars (`app.start_conditions`); a reading still missing the
        minute's bar is asked again `ASK_AGAIN_AFTER` later."""
        assert self._config is not None and self._state is not None
        minute = now.replace(second=0, microsecond=0)
        condition = start_reading_due(self._config, self._state, minute)
        last = self._state.start_reading
        if condition is None and last is not None and last.as_of == minute and not last.complete:
            again = start_reading_due(self._config, self._state.evolve(start_reading=None), minute)
            condition = again if now - self._start_read_at >= ASK_AGAIN_AFTER else None
        if condition is None:
            return
        if self._start_reader is None:
            self._start_reader = StoredBarsReader(self._p.bars, self._asset_id, self._symbol, self._p.bar_fetcher)
        self._start_read_at = now
        self._run(_Decide(ConditionChecked(self._start_reader(condition, minute), now), entry=True))
        self._peak_dirty = False  # a reading is not stored, and a flat cycle has no trailing peak to store

    # --- the loop -----------------------------------------------------------------------------------

    def _run(self, *work: _Work) -> Decision:
        """Drain the queue; the answer is the decision on the caller's event (the last one, if it was
        decided again after a venue check)."""
        assert self._state is not None
        queue: deque[_Work] = deque(work)
        answer = Decision(self._state)
        while queue:
            item = queue.popleft()
            match item:
                case _Decide():
                    decision = self._decide(item, queue)
                    if item.entry:
                        answer = decision
                case _LearnFromRejection(command=command, error=error):
                    queue.extend(self._learn_from_rejection(command, error))
                case _ReadBackDone():
                    self._read_back_done(item)
        return answer

    def _decide(self, item: _Decide, queue: deque[_Work]) -> Decision:
        """Decide one event; check, vet and store the decision; carry out its commands, queueing
        the events their answers make."""
        assert self._config is not None and self._state is not None
        event, before = self._with_position(item.event), self._state
        decision = decide(self._config, before, event)
        if decision.state is before and not decision.commands and decision.confirmed_fee is None:
            self._note(decision.lines)
            return decision
        check = GO if item.venue_checked else self._sells.check(self._config, before, decision,
                                                                 self._fee_pending is not None)
        if check.verdict is Verdict.AGAIN:  # the venue's figures first, then this event decided on them
            retry = [_Decide(correction, venue_checked=True) for correction in check.corrections]
            queue.extendleft(reversed([*retry, replace(item, event=event, venue_checked=True)]))
            return Decision(before)
        if check.verdict is Verdict.WAIT:
            return Decision(before)
        if self._paused and any(isinstance(c, SubmitOrder) for c in decision.commands):
            self._note(("paused by cancel-orders: no new order (enable the asset to resume)",))
            return Decision(before)
        if self._trading_stopped and any(isinstance(c, SubmitOrder | CancelOrder) for c in decision.commands):
            # Shutting down (or the lease is lost): booking orders that cannot be sent would only leave
            # more `submitting` rows for the next start to resolve. Fills and closes still apply.
            self._note((f"trading stopped ({self._trading_stopped}): no new order or cancel",))
            return Decision(before)
        if decision.commands:
            veto = self._vet(decision)
            if veto is not None:  # dropped whole: nothing stored, nothing sent, asked again later
                self._p.metrics.orders_vetoed.labels(self._symbol, veto.gate).inc()
                self._note((f"vetoed by the {veto.gate.replace('_', ' ')} gate: {veto.reason}",))
                return Decision(before)
        self._persist(before, decision, event)
        if isinstance(event, CloseRequested | CancelRequested):  # the operator's cancels end as `canceled`
            assert self._outcomes is not None
            self._outcomes.operator_cancels.update(c.client_order_id for c in decision.commands
                                                   if isinstance(c, CancelOrder))
        for command in decision.commands:
            queue.extend(self._execute(command))
        return decision

    def _persist(self, before: AssetState, decision: Decision, event: Event) -> None:
        assert self._outcomes is not None and self._config is not None
        if decision.durable or decision.commands or decision.completed is not None:
            self._state = self._p.cycles.save(self._asset_id, before, decision, event.time)
            self._peak_dirty = False
        else:  # only the trailing peak moved: stored by housekeeping, not on every tick
            self._state = decision.state
            self._peak_dirty = True
        if self._state.held_quantity != before.held_quantity:  # older position readings prove nothing now
            self._sells.books_moved()
        self._refresh_triggers()
        self._post_exposure()
        self._outcomes.record(self._config, before, decision, event)
        if decision.durable:
            self._publish_metrics()
        self._watch_buy_fee(decision)

    def _store_now(self, event: Event) -> None:
        """Decide and store `event` at once, inside a command (see the module's docstring): only for
        events the core answers without a command."""
        assert self._state is not None
        queue: deque[_Work] = deque()
        self._decide(_Decide(event, venue_checked=True), queue)
        assert not queue, f"{type(event).__name__} made commands: it must be queued, not stored at once"

    # --- the risk gates --------------------------------------------------------------------------------

    def _vet(self, decision: Decision) -> Veto | None:
        """Ask the risk gates. The cheap ones (kill switch, breakers, limits, caps) go first, so a
        blocked buy costs no request; only a buy they let through reads the account (B16)."""
        risk = self._p.risk
        limits, snapshot = risk.limits, risk.snapshot(self._p.clock.now())
        veto = vet(limits, snapshot, self._symbol, decision.commands)
        cost = buy_cost(decision.commands)
        if veto is not None or cost is None:
            return veto
        power = self._buying_power_for(cost)
        if power is None:
            return Veto("cash", "the account's buying power could not be read; no buy without it")
        return vet(limits, replace(snapshot, buying_power=power), self._symbol, decision.commands)

    def _buying_power_for(self, cost: Decimal) -> Decimal | None:
        """The account's buying power for crypto (`non_marginable_buying_power`, not `cash`) for a buy of
        `cost`. A recent reading that was too small is reused (the buy waits a few seconds longer at
        worst); any buy that may go ahead is checked against a reading taken just now, so a stale one
        can never let a buy through (never leverage)."""
        reused = self._cash.reusable_for(cost)
        if reused is not None:
            return reused
        try:
            power = self._p.broker.account().buying_power
        except BrokerUnavailable:
            return None
        self._cash.read(power, cost)
        return power

    # --- commands ----------------------------------------------------------------------------------------

    def _execute(self, command: Command) -> list[_Work]:
        match command:
            case SubmitOrder():
                return self._submit(command)
            case CancelOrder():
                return self._cancel(command)
            case ScheduleTimer(at=at):
                self._host.timers.tick_at(at)
        return []

    def _submit(self, command: SubmitOrder) -> list[_Work]:
        assert self._outcomes is not None
        p, order_id = self._p, command.client_order_id
        now = p.clock.now()
        if command.side is Side.BUY and self._alone_on_the_venue(order_id):
            # stored before the POST: the exact coin fee is learned from it later
            try:
                self._store_now(PositionBeforeOrder(order_id, p.broker.position_qty(command.symbol), now))
            except BrokerUnavailable as error:
                self._log.warning("position before {} unknown ({}); its fee will be estimated", order_id, error)
        try:
            order = p.broker.submit(command)
        except TradingStopped as stopped:  # its row stays `submitting`: the next start finds it was never sent
            self._log.info("{} not sent: {}", order_id, stopped)
            self._trading_stopped = str(stopped)
            return []
        except DuplicateClientOrderId:
            self._log.info("{} already exists on the exchange; reading it back", order_id)
            return self._read_back(OrderLookup.DUPLICATE_ID, order_id)
        except OrderRejected as error:
            self._log.warning("{} rejected: {}", order_id, error)
            closed = OrderClosed(order_id, CloseReason.REJECTED, now, message=str(error), rejection=error.kind)
            return [_Decide(closed), _LearnFromRejection(command, error)]
        except BrokerUnavailable as error:
            self._log.warning("{} outcome unknown ({}); will look it up", order_id, error)
            self._outcomes.order_result(False)
            self._host.timers.check_order_in(LOOKUP_RETRY_SECONDS, OrderLookup.UNKNOWN_SUBMIT_OUTCOME)
            return []
        p.metrics.orders_submitted.labels(command.symbol, command.side.value, command.kind.value).inc()
        self._outcomes.order_result(True)
        work: list[_Work] = [_Decide(OrderAccepted(order_id, order.id, now))]
        follow_up = event_for(order, now)
        if follow_up is not None and not isinstance(follow_up, OrderAccepted):
            work.append(_Decide(follow_up))
        return work

    def _explain_wash_trade(self, command: SubmitOrder) -> None:
        """Say who stood opposite. The refusal was already decided: with one of the bot's own orders
        opposite, the asset learned to rest one side at a time (the venue refuses any order while an
        opposite one is open); without, an order that is not the bot's stands in the way."""
        opposite = "buy" if command.side is Side.SELL else "sell"
        if self._state is not None and self._state.one_side_at_a_time and any(
                o.side is not command.side for o in self._state.cycle.live_orders):
            self._log.warning("{} refused as a potential wash trade next to the bot's own open {} order: this venue "
                              "refuses any order while an opposite one is open, so {} now rests one side at a time",
                              command.client_order_id, opposite, self._symbol)
            return
        self._log.warning("{} refused as a potential wash trade: an open {} order of the account on {} that is not "
                          "the bot's stands in the way; the cycle tries again after its wait (cancel that order to "
                          "let it through)", command.client_order_id, opposite, self._symbol)

    def _learn_from_rejection(self, command: SubmitOrder, error: OrderRejected) -> list[_Work]:
        """A refusal that says something about the venue is used, so the next try differs: a minimum
        (they move with the price) has the pair's rules read again; "insufficient balance" on a sell
        caps the next sell at what the venue says is available, less foreign coins."""
        if isinstance(error, BelowMinimum):
            self._refresh_rules("a minimum-size rejection")
        if isinstance(error, WashTradeRefused):
            self._explain_wash_trade(command)
        if not isinstance(error, InsufficientBalance) or command.side is not Side.SELL or self._state is None:
            return []
        try:
            position = self._p.broker.position(self._symbol)
        except BrokerUnavailable as failure:
            self._log.warning("could not read the position after {} was refused ({})", command.client_order_id,
                              failure)
            return []
        sellable = sellable_for_bot(position, self._state.held_quantity, error.available) + held_by_own_sells(
            self._state)
        if sellable < command.qty:
            assert self._config is not None
            available = coin_text(self._config, error.available)
            return [_Decide(self._sells.sellable_short(self._config, self._state, sellable,
                                                       f"the venue's answer: available {available}"))]
        return []

    def _cancel(self, command: CancelOrder) -> list[_Work]:
        exchange_id = command.exchange_id
        try:
            if exchange_id is None:
                found = self._p.broker.order_by_client_id(command.client_order_id)
                if found is None:
                    return [_Decide(OrderNotFound(command.client_order_id, self._p.clock.now()))]
                exchange_id = found.id
            self._p.broker.cancel(exchange_id)
            self._log.info("cancel requested for {} ({})", command.client_order_id, command.reason)
        except TradingStopped as stopped:
            self._log.info("cancel of {} not sent: {}", command.client_order_id, stopped)
            self._trading_stopped = str(stopped)
        except (NotFound, OrderRejected) as error:  # already filled, canceled or gone: read its final state
            self._log.info("cancel of {} refused ({}); reading it back", command.client_order_id, error)
            return self._read_back(OrderLookup.CANCEL_REFUSED, command.client_order_id)
        except BrokerUnavailable as error:
            self._log.warning("cancel of {} failed ({}); the cycle asks again later", command.client_order_id, error)
        return []

    # --- looking things up ---------------------------------------------------------------------------------

    def _read_back(self, reason: OrderLookup, client_order_id: str | None = None) -> list[_Work]:
        """Live orders as the exchange has them (every one, or the one named), as events for the cycle
        (it applies only what it has not seen), then a note of whether that changed anything."""
        assert self._state is not None
        live = [order for order in self._state.cycle.live_orders
                if client_order_id is None or order.client_order_id == client_order_id]
        work: list[_Work] = []
        for order in live:
            work.extend(self._read_back_one(order, reason))
        return work

    def _read_back_one(self, live: LiveOrder, reason: OrderLookup) -> list[_Work]:
        assert self._state is not None
        try:
            found = self._p.broker.order_by_client_id(live.client_order_id)
        except BrokerUnavailable as error:
            self._log.warning("could not look up {} ({}): {}", live.client_order_id, reason, error)
            return []
        now = self._p.clock.now()
        if found is None:
            return [_Decide(OrderNotFound(live.client_order_id, now))]
        work: list[_Work] = []
        if live.exchange_id is None:
            work.append(_Decide(OrderAccepted(live.client_order_id, found.id, now)))
        event = event_for(found, now)
        if event is not None and not isinstance(event, OrderAccepted):
            work.append(_Decide(event))
        return [*work, _ReadBackDone(live.client_order_id, reason, found.status, self._state)]

    def _read_back_done(self, done: _ReadBackDone) -> None:
        if self._state is done.before:
            return
        self._log.info("{} read back ({}): the exchange says {}", done.client_order_id, done.reason, done.status)
        if done.reason.finds_missed_updates:
            self._p.metrics.discrepancies.labels("missed_order_update").inc()

    def _with_position(self, event: Event) -> Event:
        """A final buy report gets the exchange's position after it, if the report did not carry
        one: the core learns the exact fee taken in coin from it."""
        if not isinstance(event, OrderFilled | OrderClosed) or (isinstance(event, OrderFilled) and not event.final):
            return event
        if event.position_qty is not None or event.fee is not None or event.filled_qty == 0:
            return event
        order = self._state.cycle.live_order(event.client_order_id) if self._state is not None else None
        if order is None or order.side is not Side.BUY or order.position_before is None:
            return event  # without the position before it (a resting buy) the position after tells nothing
        try:
            return replace(event, position_qty=self._p.broker.position_qty(self._symbol))
        except BrokerUnavailable:
            return event

    def _watch_buy_fee(self, decision: Decision) -> None:
        """A buy that ended with its fee only estimated (the position did not show the fill yet): read
        the position again shortly; until then the cycle does not sell (it may hold less than it thinks)."""
        order = decision.finished_order
        if (order is None or order.side is not Side.BUY or order.filled_qty == 0 or order.position_before is None
                or order.fee_source is FeeSource.VENUE):
            return
        self._fee_pending = PendingFee(order.client_order_id, order.filled_qty, order.position_before,
                                       self._host.stopwatch.seconds())
        self._host.timers.recheck_fee_in(FEE_RECHECK_SECONDS, order.client_order_id)

    # --- bookkeeping -----------------------------------------------------------------------------------------

    def _refresh_triggers(self) -> None:
        if self._config is not None and self._state is not None:
            self._triggers = triggers(self._config, self._state)

    def _config_for(self, record: AssetRecord) -> AssetConfig:
        rules = self._p.rules
        return AssetConfig(record.id, record.symbol, rules.namespace, record.params,
                           self._p.exchange_rules(record.symbol), rules.fees, rules.timing)

    def _refresh_rules(self, why: str) -> None:
        assert self._config is not None
        try:
            rules: ExchangeRules = self._p.refresh_exchange_rules(self._symbol)
        except BrokerUnavailable as error:
            self._log.warning("could not read {}'s rules again after {} ({})", self._symbol, why, error)
            return
        self._rules_read_at = self._host.stopwatch.seconds()
        if rules != self._config.rules:
            self._log.info("{}'s rules read again after {}: {}", self._symbol, why, rules)
            self._config = replace(self._config, rules=rules)
            self._refresh_triggers()

    def _arm_deadlines(self) -> None:
        assert self._state is not None
        cycle, timers = self._state.cycle, self._host.timers
        if cycle.status is CycleStatus.COOLDOWN and cycle.cooldown_until is not None:
            timers.tick_at(cycle.cooldown_until)
        if cycle.order is not None and self._config is not None:
            timing = self._config.timing
            limit = timing.stale_buy_after if cycle.order.side is Side.BUY else timing.stuck_sell_after
            timers.tick_at(cycle.order.created_at + limit)

    def _flush_peak(self) -> None:
        if self._peak_dirty and self._state is not None and self._state.cycle.id is not None:
            self._p.cycles.save_peak(self._state.cycle.id, self._state.cycle.peak_price)
            self._peak_dirty = False

    def _post_exposure(self) -> None:
        """What the cycle commits (the cost it holds plus every live buy's unfilled part, resting ladder
        orders included) and the cash its live buys hold back, for the risk gates."""
        assert self._state is not None
        cycle = self._state.cycle
        reserved = cycle_reserved(cycle)
        self._p.risk.update_asset(self._symbol, cycle_committed(cycle),
                                  is_open=cycle.quantity > 0 or bool(cycle.live_orders), reserved=reserved)

    def _alone_on_the_venue(self, client_order_id: str) -> bool:
        """Whether the order just stored is the cycle's acting order and nothing else of the cycle is live:
        only then does the position before it and after it tell its exact coin fee (a resting order
        fills whenever the market reaches it, between other orders' fills)."""
        assert self._state is not None
        cycle = self._state.cycle
        return (cycle.order is not None and cycle.order.client_order_id == client_order_id
                and not cycle.resting)

    def _publish_metrics(self) -> None:
        if self._state is None:
            return
        cycle, metrics = self._state.cycle, self._p.metrics
        metrics.set_status(self._symbol, cycle.status.value)
        latest = self._host.quotes.latest(self._symbol)
        bid = latest.bid if latest is not None else None
        metrics.set_position(self._symbol, cycle.quantity, cycle.cost, cycle.safety_orders, bid)

    def _note(self, notes: tuple[str, ...]) -> None:
        now = self._host.stopwatch.seconds()
        for note in notes:
            key = note_kind(note)
            if now - self._noted.get(key, -NOTE_REPEAT_SECONDS) >= NOTE_REPEAT_SECONDS:
                self._noted[key] = now
                self._log.info("{}", note)


def note_kind(note: str) -> str:
    """What makes two notes "the same" for repeat suppression: the text without its numbers (prices,
    quantities, times move with every quote) and without the detail after the first colon. Used for
    log suppression only, never to decide anything."""
    return _NUMBER.sub("#", note.split(":")[0])[:80]


def _holding(config: AssetConfig, state: AssetState) -> str:
    cycle = state.cycle
    if cycle.is_flat:
        return "flat"
    return f"holding {coin_text(config, cycle.quantity)} at avg {money_text(config, cycle.average_price)}"


def _position_may_have_moved(state: AssetState) -> bool:
    """Whether another order of the cycle may change the venue's position after a buy ended (a resting
    order fills whenever the market reaches it), so the position no longer tells the buy's fee."""
    return bool(state.cycle.live_orders)
