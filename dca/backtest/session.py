"""`BacktestSession`: one asset's strategy against an injected exchange, one quote at a time.

The session is the backtester's asset actor: it feeds every event to `decide` and carries out the
commands, exactly as `actors/asset_actor.py` does live, with bar time instead of a clock:

* a quote first goes to the exchange, which matches the orders already open (fills are applied
  before the strategy sees the quote, as the live actor applies trade updates first);
* then every timer due by the quote's time fires (`Tick` at the quote's time: in bar time the
  clock only moves in quote steps);
* then, for a flat watching cycle with a deal start condition, the condition is read at the quote's
  minute (once a minute, from the injected `reader`, as the live actor does) and the reading given to
  the core as `ConditionChecked`;
* then the strategy decides on the quote. An order it places is matched from the next quote on.

A refused order (`OrderClosed` rejected at submission) makes the core wait `retry_after_failure`
before it tries again. In a backtest the account is the symbol's alone and nothing but this cycle's
own fills changes it, so a buy refused for cash or a minimum is refused again on every retry: the
session backs off instead, doubling the wait with each consecutive refusal up to
`MAX_REJECTION_BACKOFF` (an accepted order starts the count over). Every refusal stays in the log.

Nothing is decided here: the session only records what the core decided and what the exchange did.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from dca.backtest.records import AccountPoint, BacktestLog, CycleRecord, FillRecord, OrderRecord
from dca.backtest.venue import BacktestVenue
from dca.commands import CancelOrder, Command, ScheduleTimer, SubmitOrder
from dca.conditions import ConditionReading
from dca.cycle import AssetState, Cycle, LiveOrder, OrderKind, Side, new_cycle
from dca.events import CloseReason, ConditionChecked, Event, OrderAccepted, OrderClosed, Tick
from dca.market import Quote
from dca.money import ZERO
from dca.params import AssetConfig
from dca.risk import cycle_committed
from dca.strategy import ALWAYS, Decision, Triggers, decide, start_reading_due, take_profit_trigger, triggers

MAX_REJECTION_BACKOFF = timedelta(hours=1)
ConditionReader = Callable[[str, datetime], ConditionReading]  # (condition text, whole minute) → reading


class BacktestSession:
    def __init__(self, config: AssetConfig, venue: BacktestVenue, state: AssetState | None = None,
                 keep_notes: bool = False, reader: ConditionReader | None = None) -> None:
        self.config = config
        self._reader = reader
        self.venue = venue
        self.log = BacktestLog()
        self.keep_notes = keep_notes
        self.quotes = 0  # quotes the strategy decided on
        self._next_cycle_id = 1
        self.state = self._stored(state or AssetState(new_cycle()))
        self._timers: list[tuple[datetime, int]] = []
        self._timer_seq = 0
        self._order_rows: dict[str, int] = {}  # client_order_id → index in log.orders
        self._cycle_started: dict[int, datetime] = {}
        self._cycle_fees: dict[int, Decimal] = {}
        self._refusals = 0  # consecutive orders refused at submission
        self._account_dirty = False  # has anything been applied that may change the account since `end_bar`?
        self._triggers_of: AssetState | None = None  # the state `_triggers` are for
        self._triggers = ALWAYS
        self.start = self._account(-1, None)  # the account before the first bar (not in the timeline)

    # --- driving ---------------------------------------------------------------------------------

    def on_quote(self, quote: Quote, settle_outside_triggers: bool = False) -> None:
        """`settle_outside_triggers` (the fast path): after the exchange's fills and the timers, a quote
        outside the state's `triggers` is not given to `decide`, which provably changes nothing on it
        (tests/core/test_triggers.py); the reference loop decides on every quote. (Deciding is always
        correct: the check is skipped when nothing changed the state, as the caller checked it then.)"""
        before = self.state
        for event in self.venue.on_quote(quote):
            self.apply(event)
        while self._timers and self._timers[0][0] <= quote.time:
            heapq.heappop(self._timers)
            self.apply(Tick(quote.time))
        if self.config.params.start_condition is not None:  # (`start_reading_due` is None without one)
            self._read_start_condition(quote.time)
        if settle_outside_triggers and self.state is not before and not self.triggers().may_act_on(quote):
            return
        self.apply(quote)
        self.quotes += 1

    def _read_start_condition(self, now: datetime) -> None:
        """A flat watching cycle with a start condition gets a reading of the current minute first."""
        minute = now.replace(second=0, microsecond=0)
        condition = start_reading_due(self.config, self.state, minute)
        if condition is None:
            return
        if self._reader is None:
            raise ValueError("a backtest of a start condition needs the bars to read it from (a reader)")
        self.apply(ConditionChecked(self._reader(condition, minute), now))

    def cycle_started_at(self, cycle_id: int | None) -> datetime | None:
        """When the open cycle's first order was decided (completed cycles carry it in their record)."""
        return self._cycle_started.get(cycle_id) if cycle_id is not None else None

    def triggers(self) -> Triggers:
        """Where the next quote may act (see `dca.strategy.triggers`); the fast path skips the rest.
        Worked out once per state (`on_quote` and the fast path's driver both ask)."""
        state = self.state
        if self._triggers_of is not state:
            self._triggers_of, self._triggers = state, triggers(self.config, state)
        return self._triggers

    def skipped_to_peak(self, bid: Decimal) -> None:
        """A driver skipped quotes of a trailing cycle that, by its proof, could only raise the peak,
        the highest of them to `bid`: the state `decide` would have reached on them (no commands,
        no records: `_follow_peak` moves the peak and nothing else)."""
        cycle = self.state.cycle
        if cycle.peak_price is not None and bid > cycle.peak_price:
            self.state = self.state.evolve(cycle=cycle.evolve(peak_price=bid))

    def end_bar(self, index: int, time: datetime) -> None:
        """Record the account at the end of bar `index` if it changed since the last record."""
        if not self._account_dirty:  # nothing but unchanged quotes and timers since the last look
            return
        self._account_dirty = False
        point = self._account(index, time)
        timeline = self.log.timeline
        if _account_changed(timeline[-1] if timeline else self.start, point):
            timeline.append(point)

    def _account(self, index: int, time: datetime | None) -> AccountPoint:
        holdings = self.venue.holdings(self.config.symbol)
        cycle = self.state.cycle
        return AccountPoint(index, time, holdings.cash, holdings.quantity, cycle.quantity, cycle.cost,
                            cycle_committed(cycle))

    # --- one event -------------------------------------------------------------------------------

    def apply(self, event: Event) -> Decision:
        before = self.state
        decision = decide(self.config, before, event)
        if (decision.state is before and not decision.commands and type(event) in _QUIET_WHEN_UNCHANGED
                and not self.keep_notes):
            return decision  # most quotes and timers of a replayed bar: nothing to store, back off or record
        self._account_dirty = True
        self.state = self._backed_off(self._stored(decision.state), event)
        self._record(before, decision, event)
        for command in decision.commands:
            self._execute(command, event.time)
        return decision

    def _stored(self, state: AssetState) -> AssetState:
        """A fresh cycle gets the next id, as the database would give it."""
        if state.cycle.id is not None:
            self._next_cycle_id = max(self._next_cycle_id, state.cycle.id + 1)
            return state
        cycle = state.cycle.evolve(id=self._next_cycle_id)
        self._next_cycle_id += 1
        return state.evolve(cycle=cycle)

    def _backed_off(self, state: AssetState, event: Event) -> AssetState:
        """After the n-th consecutive refusal the retry waits 2^(n-1) × `retry_after_failure`."""
        if isinstance(event, OrderAccepted):
            self._refusals = 0
        retry_at = state.cycle.retry_at
        if not (isinstance(event, OrderClosed) and event.reason is CloseReason.REJECTED) or retry_at is None:
            return state
        self._refusals += 1
        wait = self.config.timing.retry_after_failure * 2 ** min(self._refusals - 1, 30)
        return state.evolve(cycle=state.cycle.evolve(retry_at=event.time + min(wait, MAX_REJECTION_BACKOFF)))

    def _execute(self, command: Command, now: datetime) -> None:
        match command:
            case SubmitOrder():
                self._order_placed(command, now)
                for event in self.venue.submit(command, now):
                    self.apply(event)
            case CancelOrder():
                for event in self.venue.cancel(command, now):
                    self.apply(event)
            case ScheduleTimer(at=at):
                self._timer_seq += 1
                heapq.heappush(self._timers, (at, self._timer_seq))

    # --- records ---------------------------------------------------------------------------------

    def _record(self, before: AssetState, decision: Decision, event: Event) -> None:
        if self.keep_notes:
            self.log.notes.extend((event.time, note) for note in decision.lines)
        old, new = _order_before_after(before, decision, event)
        if old is not None and new is not None:
            if new.filled_qty > old.filled_qty:
                self._fill(before.cycle, old, new, event.time)
            if new is decision.finished_order:
                self._order_ended(new, event)
        if decision.completed is not None:
            self._cycle_ended(decision.completed)

    def _order_placed(self, command: SubmitOrder, now: datetime) -> None:
        cycle_id = self.state.cycle.id
        assert cycle_id is not None
        self._cycle_started.setdefault(cycle_id, now)
        self._order_rows[command.client_order_id] = len(self.log.orders)
        trigger = take_profit_trigger(self.config, self.state.cycle) if command.kind is OrderKind.TAKE_PROFIT else None
        self.log.orders.append(OrderRecord(command.client_order_id, cycle_id, command.kind, command.side,
                                           command.order_type, command.qty, command.limit_price, now,
                                           trigger=trigger))

    def _fill(self, cycle: Cycle, old: LiveOrder, new: LiveOrder, time: datetime) -> None:
        qty = new.filled_qty - old.filled_qty
        price = (new.filled_notional - old.filled_notional) / qty
        fee = new.fee - old.fee
        fee_value = fee * price if new.side is Side.BUY else fee
        assert cycle.id is not None
        self.log.fills.append(FillRecord(time, new.client_order_id, cycle.id, new.kind, new.side, qty, price, fee,
                                         fee_value))
        self._cycle_fees[cycle.id] = self._cycle_fees.get(cycle.id, ZERO) + fee_value

    def _order_ended(self, order: LiveOrder, event: Event) -> None:
        row = self._order_rows.get(order.client_order_id)
        if row is None:
            return
        outcome = event.reason.value if isinstance(event, OrderClosed) else "filled"
        message = event.message if isinstance(event, OrderClosed) else ""
        placed = self.log.orders[row]  # the record as placed, with its ending (a direct call: cheaper than `replace`)
        self.log.orders[row] = OrderRecord(
            client_order_id=placed.client_order_id, cycle_id=placed.cycle_id, kind=placed.kind, side=placed.side,
            order_type=placed.order_type, qty=placed.qty, limit_price=placed.limit_price,
            decided_at=placed.decided_at, outcome=outcome, ended_at=event.time, filled_qty=order.filled_qty,
            average_price=order.average_price, fee=order.fee, message=message, trigger=placed.trigger)

    def _cycle_ended(self, cycle: Cycle) -> None:
        assert cycle.id is not None
        self.log.cycles.append(CycleRecord(
            cycle.id, cycle.status, self._cycle_started.pop(cycle.id, None), cycle.completed_at,
            cycle.safety_orders, cycle.bought_qty, cycle.buy_fees, cycle.sold_qty, cycle.sell_notional,
            cycle.sell_fees, cycle.cost, cycle.average_price, cycle.sell_price, cycle.realized_pnl,
            self._cycle_fees.pop(cycle.id, ZERO),
        ))


# Events whose decision, when it leaves the state as it was and commands nothing, has nothing for the
# session to do (no order report to record, no refusal count to keep).
_QUIET_WHEN_UNCHANGED = frozenset({Quote, Tick})


def _order_before_after(before: AssetState, decision: Decision,
                        event: Event) -> tuple[LiveOrder | None, LiveOrder | None]:
    """The order `event` reports on (the acting one, or a resting one by its id), before and after
    the decision (its final figures if the event ended it)."""
    order_id = getattr(event, "client_order_id", None)
    old = before.cycle.live_order(order_id) if order_id is not None else before.cycle.order
    if old is None:
        return None, None
    finished = decision.finished_order
    if finished is not None and finished.client_order_id == old.client_order_id:
        return old, finished
    return old, decision.state.cycle.live_order(old.client_order_id)


def _account_changed(last: AccountPoint, point: AccountPoint) -> bool:
    return (last.cash, last.position, last.cycle_quantity, last.cycle_cost, last.committed) != (
        point.cash, point.position, point.cycle_quantity, point.cycle_cost, point.committed)
