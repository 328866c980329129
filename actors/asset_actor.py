"""`AssetActor`: one per traded asset, the only writer of that asset's cycle.

It keeps the cycle in memory, feeds every event to the domain core (`dca.strategy.decide`), stores
the decision (one transaction, the new order's row included) and only then carries out the
commands against the exchange. No trading arithmetic happens here.

On start (and after every crash, since a restart is a new actor) it rebuilds its state from the
database and, before anything else, looks up on the exchange any order the database holds as in
flight, so a fill or cancel that happened while it was down is applied exactly once.
"""

from __future__ import annotations

import enum
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from loguru import logger

from actors.messages import (
    Adopt,
    CancelOrders,
    CheckHoldings,
    CheckOrder,
    CloseCycle,
    FeeLearned,
    Housekeeping,
    OrderReport,
    ParamsChanged,
    QuoteReady,
    RecheckFee,
    Snapshot,
    Subscribe,
    TimerTick,
)
from actors.runtime import Runtime, asset_actor_name
from actors.supervision import ChildSpec, ExitReason, Restart, SupervisedActor
from actors.supervision.clock import describe_delay
from actors.trading_gate import TradingStopped
from adapters.alpaca.broker import (
    BelowMinimum,
    BrokerUnavailable,
    DuplicateClientOrderId,
    InsufficientBalance,
    NotFound,
    OrderRejected,
)
from app.shortfall import PositionReading, ShortfallWatch
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
    SellableChecked,
    Tick,
)
from dca.exchange import sellable_for_bot
from dca.fees import EstimatedBuyFee, certainly_ours, fee_from_position
from dca.market import Quote
from dca.money import ZERO
from dca.notices import breaker_opened, cycle_ended, order_filled
from dca.order_reports import event_for
from dca.params import AssetConfig
from dca.risk import GLOBAL, Veto, buy_cost, committed_capital, reserved_by_buy, vet
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

NOTE_REPEAT_SECONDS = 60.0  # the same informational note is logged at most once a minute
# A cash reading too small for a buy is reused this long (real seconds): a cycle waiting for cash
# then asks the account once per period, not once per quote (the rate limiter would stall the actors).
CASH_SHORTFALL_REUSE_SECONDS = 5.0
LOOKUP_RETRY_SECONDS = 5.0  # after an unknown submit outcome, look the order up again this often
FEE_RECHECK_SECONDS, FEE_RECHECK_FOR = 1.0, 10.0  # a lagging position is read again this often, this long
MARKET_DATA_ROUTER = "market_data_router"
RECOVERING, RECONNECTED, RECONCILING = "recovering after a restart", "stream reconnected", "reconciler"
MISSED_UPDATE_REASONS = (RECOVERING, RECONNECTED, RECONCILING)  # a change found then is an update we missed
_NUMBER = re.compile(r"[-+]?\d[\d.,]*(?:[eE][-+]?\d+)?")  # prices, quantities, times in a note


class SellCheck(enum.Enum):
    GO = "go"  # the sell fits what the venue has
    AGAIN = "again"  # the core was told what the venue has: decide again
    WAIT = "wait"  # the venue shows less than the cycle holds; not sold until a second reading agrees


class AssetActor(SupervisedActor):
    def __init__(self, asset_id: int, runtime: Runtime) -> None:
        super().__init__()
        self._asset_id = asset_id
        self._rt = runtime
        self._config: AssetConfig | None = None
        self._state: AssetState | None = None
        self._symbol = ""
        self._last_quote: Quote | None = None
        self._triggers: Triggers = ALWAYS  # where the core may act; recomputed on every change
        self._peak_dirty = False
        self._noted: dict[str, float] = {}
        self._rules_read_at = time.monotonic()
        self._fee_pending: tuple[str, Decimal, Decimal] | None = None  # (buy, filled, position before): recheck
        self._fee_pending_since = 0.0
        self._shortfall = ShortfallWatch()  # when a position reading showing fewer coins may be believed
        self._short_of_cash: tuple[float, Decimal] | None = None  # (monotonic time, buying power) too small
        self._start_reader: StoredBarsReader | None = None  # deal start conditions, made on first use
        self._start_read_at = datetime.min.replace(tzinfo=UTC)
        self._paused = False  # `cancel-orders`: no new order until the asset is enabled again (a new actor)
        self._operator_cancels: set[str] = set()  # orders the operator had cancelled: labelled "canceled"
        self._log = logger

    # --- lifecycle -------------------------------------------------------------------------------

    def init(self) -> None:
        record = self._rt.assets.by_id(self._asset_id)
        if record is None:
            raise LookupError(f"asset {self._asset_id} is not configured")
        self._symbol = record.symbol
        self._log = logger.bind(actor=f"asset:{record.symbol}")
        self._config = self._config_for(record)
        self._state = self._rt.cycles.load(record)
        self._shortfall = ShortfallWatch().books_moved(time.monotonic())  # a fill may just have happened
        self._log.info("cycle {} {}; {}", self._state.cycle.id, self._state.cycle.status,
                       _holding(self._config, self._state))
        if self._state.cycle.order is not None:  # in flight when we last stopped: ask the exchange first
            self._check_live_order(RECOVERING)
        self._refresh_triggers()
        self._arm_deadlines()
        self._rt.metrics.asset_started(record.symbol)
        self._rt.metrics.actors_started([asset_actor_name(record.symbol)])
        self._rt.metrics.realized_profit.labels(record.symbol).set(float(self._rt.cycles.realized_total(record.id)))
        self._rt.scheduler.every(self._rt.clock_seconds(self._rt.intervals.housekeeping), self.actor_ref,
                                 Housekeeping())
        self._post_exposure()
        self._rt.board.register(record.symbol, self._rt.asset_handle(record.symbol))
        self._rt.metrics.watch_quotes(record.symbol, partial(self._rt.board.latest, record.symbol))
        self._rt.root_directory.handle(MARKET_DATA_ROUTER).tell(Subscribe((record.symbol,)))
        self._publish_metrics()
        self._rt.board.release(record.symbol, self._triggers)

    def terminate(self, reason: ExitReason) -> None:
        self._flush_peak()
        if reason.normal and self._symbol:
            self._log.info("stopped ({})", reason)

    # --- messages ------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        # Every quote comes here while the state may change; on a crash the slot stays held.
        self._rt.board.hold(self._symbol)
        result = self._handle(message)
        self._rt.board.release(self._symbol, self._triggers)
        return result

    def _handle(self, message: Any) -> Any:
        match message:
            case QuoteReady():
                self._on_quote_ready()
            case OrderReport(event=event):
                self._apply(self._with_position(event))
            case TimerTick():
                self._apply(Tick(self._rt.clock.now()))
            case CheckOrder(reason=reason):
                self._check_live_order(reason)
            case CheckHoldings(quantity=quantity, expected=expected, requested_at=requested_at):
                self._check_holdings(quantity, expected, time.monotonic() if requested_at is None else requested_at)
            case FeeLearned(client_order_id=client_order_id, fee=fee):
                self._confirm_fee(client_order_id, fee)
            case RecheckFee(client_order_id=client_order_id):
                self._recheck_fee(client_order_id)
            case ParamsChanged(record=record):
                self._config = self._config_for(record)
                self._refresh_triggers()
                self._log.info("parameters reloaded: {}", record.params)
            case Housekeeping():
                self._flush_peak()
                self._publish_metrics()
                if time.monotonic() - self._rules_read_at >= self._rt.rules.rules_refresh_seconds:
                    self._refresh_rules("the refresh period")
            case Snapshot():
                return self._config, self._state, self._newest_decided_quote()
            case Adopt(quantity=quantity, price=price):
                return self._adopt(quantity, price)
            case CloseCycle():
                return self._operator_close()
            case CancelOrders():
                return self._operator_cancel()
            case _:
                self._log.warning("unexpected message {!r}", message)
        return None

    def _on_quote_ready(self) -> None:
        quote, arrived_ns = self._rt.board.take(self._symbol)
        if quote is None or quote is self._last_quote:
            return
        self._last_quote = quote
        self._read_start_condition(quote.time)
        if self._triggers.may_act_on(quote):  # otherwise the core provably changes nothing: skip the maths
            self._apply(quote)
        self._rt.metrics.decision_latency.observe((time.perf_counter_ns() - arrived_ns) / 1e9)

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
            self._start_reader = StoredBarsReader(self._rt.bars, self._asset_id, self._symbol, self._rt.bar_fetcher)
        self._start_read_at = now
        self._apply(ConditionChecked(self._start_reader(condition, minute), now))
        self._peak_dirty = False  # a reading is not stored, and a flat cycle has no trailing peak to store

    def _newest_decided_quote(self) -> Quote | None:
        """The newest quote decided on, by this actor or settled on arrival by the quote board."""
        settled = self._rt.board.settled(self._symbol)
        if settled is None or (self._last_quote is not None and self._last_quote.time >= settled.time):
            return self._last_quote
        return settled

    # --- the decision path -----------------------------------------------------------------------

    def _apply(self, event: Event, venue_checked: bool = False) -> Decision:
        assert self._config is not None and self._state is not None
        before = self._state
        decision = decide(self._config, before, event)
        if decision.state is before and not decision.commands and decision.confirmed_fee is None:
            self._note(decision.notes)
            return decision
        check = SellCheck.GO if venue_checked else self._check_before_selling(before, decision)
        if check is SellCheck.AGAIN:  # decided again on what the venue said: the sell fits what is there
            return self._apply(event, venue_checked=True)
        if check is SellCheck.WAIT:
            return Decision(before)
        if self._paused and any(isinstance(c, SubmitOrder) for c in decision.commands):
            self._note(("paused by cancel-orders: no new order (enable the asset to resume)",))
            return Decision(before)
        if decision.commands:
            veto = self._vet(decision)
            if veto is not None:  # dropped whole: nothing stored, nothing sent, asked again later
                self._rt.metrics.orders_vetoed.labels(self._symbol, veto.gate).inc()
                self._note((f"vetoed by the {veto.gate.replace('_', ' ')} gate: {veto.reason}",))
                return Decision(before)
        if decision.durable or decision.commands or decision.completed is not None:
            self._state = self._rt.cycles.save(self._asset_id, before, decision, _event_time(event, self._rt))
            self._peak_dirty = False
        else:  # only the trailing peak moved: stored by housekeeping, not on every tick
            self._state = decision.state
            self._peak_dirty = True
        if self._state.held_quantity != before.held_quantity:  # older position readings prove nothing now
            self._shortfall = self._shortfall.books_moved(time.monotonic())
        self._refresh_triggers()
        self._post_exposure()
        self._record_outcome(before, decision, event)
        self._watch_buy_fee(before, decision)
        for command in decision.commands:
            self._execute(command)
        return decision

    def _check_before_selling(self, before: AssetState, decision: Decision) -> SellCheck:
        """Before a sell goes out, ask the venue what the bot really has. Fewer coins than the cycle
        holds (a manual sell, a fee taken differently) correct the cycle once two readings some seconds
        apart agree (positions can lag fills); until then nothing is sold. Coins held back by other
        orders cap the sell at the venue's qty_available less foreign coins. Either way the sell the
        venue gets is one it can fill: never a loop of identical refused sells."""
        sell = next((c for c in decision.commands if isinstance(c, SubmitOrder) and c.side is Side.SELL), None)
        if sell is None or before.cycle.order is not None:  # a resubmission keeps its stored size
            return SellCheck.GO
        if self._fee_pending is not None:
            self._note(("a buy's fee is not known yet: selling once the position shows it",))
            return SellCheck.WAIT
        requested_at = time.monotonic()
        try:
            position = self._rt.broker.position(self._symbol)
        except BrokerUnavailable as error:  # the venue's answer to the sell itself settles it
            self._log.warning("could not read the position before selling ({}); selling {}", error,
                              coin_text(self._config, sell.qty))
            return SellCheck.GO
        held, total = before.held_quantity, position.qty if position is not None else ZERO
        if total < held:
            if not self._shortfall_confirmed(total, held, requested_at, from_list=False):
                self._note((self._shortfall_suspected(total, held),))
                return SellCheck.WAIT
            self._rt.metrics.sell_shortfalls.labels(self._symbol).inc()
            self._log.warning(self._shortfall_confirmed_text(total, held))
            self._holdings_checked(total)
            return SellCheck.AGAIN
        sellable = sellable_for_bot(position, held)
        if sellable >= sell.qty:
            return self._hold_back_unconfirmed_fees(before, sell, total)
        self._sellable_short(sellable, "coins held back by other orders")
        return SellCheck.AGAIN

    def _hold_back_unconfirmed_fees(self, before: AssetState, sell: SubmitOrder, venue_qty: Decimal) -> SellCheck:
        """With foreign coins on the pair, a buy fee still estimated may hide that some of what the
        bot counts is theirs: the sell is capped at what is certainly the bot's; the rest waits for
        the venue's fee (which settles it as dust). Buys of ended cycles count too: their dust is in
        what the bot counts."""
        assert self._config is not None
        if venue_qty <= before.held_quantity:
            return SellCheck.GO
        unconfirmed = [EstimatedBuyFee(order.filled_qty, order.fee) for order in self._rt.cycles.estimated_fees()
                       if order.symbol == self._symbol and order.side is Side.BUY and order.filled_qty > 0]
        fees = self._config.fees
        certain = certainly_ours(before.held_quantity, unconfirmed, max(fees.taker_bps, fees.maker_bps))
        if certain >= sell.qty:
            return SellCheck.GO
        self._log.info("a buy fee is still an estimate and the pair holds foreign coins: selling only the {} "
                       "certainly the bot's of the {} it counts, the rest once the venue posts the fee",
                       certain, before.held_quantity)
        self._apply(SellableChecked(certain, self._rt.clock.now()))
        return SellCheck.AGAIN

    def _shortfall_confirmed(self, venue_qty: Decimal, expected: Decimal, requested_at: float,
                             from_list: bool) -> bool:
        """Whether this reading, with earlier ones, proves the venue holds fewer coins (app.shortfall), and
        the venue's other kind of position read agrees: a 404 or a missing list entry may be transient on
        one endpoint, so a shortfall is never concluded from one kind of read alone."""
        self._shortfall, confirmed = self._shortfall.observe(PositionReading(venue_qty, expected, requested_at))
        if not confirmed:
            return False
        asked_at = time.monotonic()
        try:  # the list (GET /v2/positions) if the single read said so, else the single read (by BTCUSD)
            other = (self._rt.broker.positions().get(self._symbol) if not from_list
                     else self._rt.broker.position(self._symbol))
        except BrokerUnavailable:
            return False  # unproven: the next readings decide
        other_qty = other.qty if other is not None else ZERO
        if other_qty == venue_qty:
            return True
        self._shortfall, _ = self._shortfall.observe(PositionReading(other_qty, expected, asked_at))
        return False

    def _shortfall_suspected(self, venue_qty: Decimal, held: Decimal) -> str:
        config = self._config
        assert config is not None
        if venue_qty <= 0:
            return (f"the venue shows none of the {coin_text(config, held)} the cycle holds (its position may "
                    "lag a fill): nothing is sold; if a reading some seconds later agrees, the coins left the "
                    "bot and the cycle ends in error")
        return (f"the venue shows {coin_text(config, venue_qty)} of the {coin_text(config, held)} the cycle "
                "holds (its position may lag a fill): nothing is sold until a reading some seconds later agrees")

    def _shortfall_confirmed_text(self, venue_qty: Decimal, held: Decimal) -> str:
        config = self._config
        assert config is not None
        if venue_qty <= 0:
            return (f"the venue holds none of the {coin_text(config, held)} the cycle holds (sold or moved "
                    "outside the bot): the cycle ends in error and a new one starts; check the account's "
                    "activities")
        return (f"the venue holds {coin_text(config, venue_qty)} of the {coin_text(config, held)} the cycle "
                "holds (a manual sell or a fee taken differently): the cycle is corrected and sells what is left")

    def _sellable_short(self, sellable: Decimal, source: str) -> None:
        """The venue lets the bot sell less than it holds: logged, counted, and the core told."""
        assert self._state is not None
        self._rt.metrics.sell_shortfalls.labels(self._symbol).inc()
        self._log.warning("the venue lets the bot sell only {} of the {} it holds ({}): the sell is capped; "
                          "the reconciler corrects the cycle if coins are gone", sellable,
                          self._state.held_quantity, source)
        self._apply(SellableChecked(sellable, self._rt.clock.now()))

    def _vet(self, decision: Decision) -> Veto | None:
        """Ask the risk gates. The cheap ones (kill switch, breakers, limits, caps) go first, so a
        blocked buy costs no request; only a buy they let through reads the account (B16)."""
        limits, snapshot = self._rt.risk.limits, self._rt.risk.snapshot(self._rt.clock.now())
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
        now = time.monotonic()
        if self._short_of_cash is not None:
            read_at, power = self._short_of_cash
            if now - read_at < CASH_SHORTFALL_REUSE_SECONDS and cost > power:
                return power
        try:
            power = self._rt.broker.account().buying_power
        except BrokerUnavailable:
            return None
        self._short_of_cash = (now, power) if cost > power else None
        return power

    def _post_exposure(self) -> None:
        assert self._state is not None
        cycle, order = self._state.cycle, self._state.cycle.order
        live_buy = order is not None and order.side is Side.BUY
        unfilled = (order.qty - order.filled_qty) if live_buy and order is not None else ZERO
        limit = order.limit_price if live_buy and order is not None else None
        self._rt.risk.update_asset(self._symbol, committed_capital(cycle.cost, unfilled, limit),
                                   is_open=cycle.quantity > 0 or order is not None,
                                   reserved=reserved_by_buy(unfilled, limit))

    def _execute(self, command: Command) -> None:
        match command:
            case SubmitOrder():
                self._submit(command)
            case CancelOrder():
                self._cancel(command)
            case ScheduleTimer(at=at):
                self._rt.scheduler.call_at(at, self.actor_ref, TimerTick())

    def _submit(self, command: SubmitOrder) -> None:
        now = self._rt.clock.now()
        if command.side is Side.BUY:  # stored before the POST: the exact coin fee is learned from it later
            try:
                before = self._rt.broker.position_qty(command.symbol)
                self._apply(PositionBeforeOrder(command.client_order_id, before, now))
            except BrokerUnavailable as error:
                self._log.warning("position before {} unknown ({}); its fee will be estimated",
                                  command.client_order_id, error)
        try:
            order = self._rt.broker.submit(command)
        except TradingStopped as stopped:  # its row stays `submitting`: the next start finds it was never sent
            self._log.info("{} not sent: {}", command.client_order_id, stopped)
            return
        except DuplicateClientOrderId:
            self._log.info("{} already exists on the exchange; reading it back", command.client_order_id)
            self._check_live_order("duplicate client_order_id")
            return
        except OrderRejected as error:
            self._log.warning("{} rejected: {}", command.client_order_id, error)
            self._apply(OrderClosed(command.client_order_id, CloseReason.REJECTED, now, message=str(error)))
            self._learn_from_rejection(command, error)
            return
        except BrokerUnavailable as error:
            self._log.warning("{} outcome unknown ({}); will look it up", command.client_order_id, error)
            self._order_result(False)
            self._rt.scheduler.call_later(self._rt.clock_seconds(LOOKUP_RETRY_SECONDS), self.actor_ref,
                                          CheckOrder("unknown submit outcome"))
            return
        self._rt.metrics.orders_submitted.labels(command.symbol, command.side.value, command.kind.value).inc()
        self._order_result(True)
        self._apply(OrderAccepted(command.client_order_id, order.id, now))
        follow_up = event_for(order, now)
        if follow_up is not None and not isinstance(follow_up, OrderAccepted):
            self._apply(self._with_position(follow_up))

    def _learn_from_rejection(self, command: SubmitOrder, error: OrderRejected) -> None:
        """A refusal that says something about the venue is used, so the next try differs: a minimum
        (they move with the price) has the pair's rules read again; "insufficient balance" on a sell
        caps the next sell at what the venue says is available, less foreign coins."""
        if isinstance(error, BelowMinimum):
            self._refresh_rules("a minimum-size rejection")
        if not isinstance(error, InsufficientBalance) or command.side is not Side.SELL or self._state is None:
            return
        try:
            position = self._rt.broker.position(self._symbol)
        except BrokerUnavailable as failure:
            self._log.warning("could not read the position after {} was refused ({})", command.client_order_id, failure)
            return
        sellable = sellable_for_bot(position, self._state.held_quantity, error.available)
        if sellable < command.qty:
            self._sellable_short(sellable, f"the venue's answer: available {error.available}")

    def _refresh_rules(self, why: str) -> None:
        assert self._config is not None
        try:
            rules = self._rt.refresh_exchange_rules(self._symbol)
        except BrokerUnavailable as error:
            self._log.warning("could not read {}'s rules again after {} ({})", self._symbol, why, error)
            return
        self._rules_read_at = time.monotonic()
        self._fee_pending: tuple[str, Decimal, Decimal] | None = None  # (buy, filled, position before): recheck
        self._fee_pending_since = 0.0
        if rules != self._config.rules:
            self._log.info("{}'s rules read again after {}: {}", self._symbol, why, rules)
            self._config = replace(self._config, rules=rules)
            self._refresh_triggers()

    def _order_result(self, succeeded: bool) -> None:
        risk = self._rt.risk
        cooldown = describe_delay(risk.limits.breaker_cooldown.total_seconds(), self._rt.clock)
        for scope in risk.record_order_result(self._symbol, succeeded, self._rt.clock.now()):
            self._rt.metrics.circuit_open.labels(scope).set(1)
            self._rt.notifier.post(breaker_opened(scope, risk.limits.breaker_cooldown))
            if scope == GLOBAL:
                self._log.error("circuit breaker opened for all assets: order failures of several assets ({} just "
                                "now) add up to {} with no success anywhere; no orders for {}", self._symbol,
                                risk.limits.global_threshold, cooldown)
            else:
                self._log.error("circuit breaker opened for {} after {} consecutive order failures; no orders "
                                "for it for {}", scope, risk.limits.failure_threshold, cooldown)

    def _cancel(self, command: CancelOrder) -> None:
        exchange_id = command.exchange_id
        try:
            if exchange_id is None:
                found = self._rt.broker.order_by_client_id(command.client_order_id)
                if found is None:
                    self._apply(OrderNotFound(command.client_order_id, self._rt.clock.now()))
                    return
                exchange_id = found.id
            self._rt.broker.cancel(exchange_id)
            self._log.info("cancel requested for {} ({})", command.client_order_id, command.reason)
        except TradingStopped as stopped:
            self._log.info("cancel of {} not sent: {}", command.client_order_id, stopped)
        except (NotFound, OrderRejected) as error:  # already filled, canceled or gone: read its final state
            self._log.info("cancel of {} refused ({}); reading it back", command.client_order_id, error)
            self._check_live_order("cancel refused")
        except BrokerUnavailable as error:
            self._log.warning("cancel of {} failed ({}); the cycle asks again later", command.client_order_id, error)

    # --- looking things up -----------------------------------------------------------------------

    def _check_live_order(self, reason: str) -> None:
        """Read the live order back from the exchange and apply what the cycle has not seen yet."""
        assert self._state is not None
        live = self._state.cycle.order
        if live is None:
            return
        try:
            found = self._rt.broker.order_by_client_id(live.client_order_id)
        except BrokerUnavailable as error:
            self._log.warning("could not look up {} ({}): {}", live.client_order_id, reason, error)
            return
        now, before = self._rt.clock.now(), self._state
        if found is None:
            self._apply(OrderNotFound(live.client_order_id, now))
            return
        if live.exchange_id is None:
            self._apply(OrderAccepted(live.client_order_id, found.id, now))
        event = event_for(found, now)
        if event is not None and not isinstance(event, OrderAccepted):
            self._apply(self._with_position(event))
        if self._state is not before:
            self._log.info("{} read back ({}): the exchange says {}", live.client_order_id, reason, found.status)
            if reason in MISSED_UPDATE_REASONS:
                self._rt.metrics.discrepancies.labels("missed_order_update").inc()

    def _with_position(self, event: Event) -> Event:
        """A final buy report gets the exchange's position after it, if the stream did not carry
        one: the core learns the exact fee taken in coin from it."""
        if not isinstance(event, OrderFilled | OrderClosed) or (isinstance(event, OrderFilled) and not event.final):
            return event
        if event.position_qty is not None or event.fee is not None or event.filled_qty == 0:
            return event
        order = self._state.cycle.order if self._state is not None else None
        if order is None or order.side is not Side.BUY or order.client_order_id != event.client_order_id:
            return event
        try:
            return replace(event, position_qty=self._rt.broker.position_qty(self._symbol))
        except BrokerUnavailable:
            return event

    def _adopt(self, quantity: Any, price: Any) -> str:
        assert self._state is not None
        position = self._rt.broker.position(self._symbol)
        held, entry = (position.qty, position.avg_entry_price) if position else (ZERO, ZERO)
        try:
            qty, cost = plan_adoption(held, entry, self._state.held_quantity, quantity, price)
        except AdoptionRefused as error:
            return f"refused: {error}"
        decision = self._apply(PositionAdopted(qty, cost, self._rt.clock.now()))
        return decision.notes[-1] if decision.notes else "nothing to do"

    def _operator_close(self) -> str:
        """`supervisor.py close`: the core marks the cycle (cancelling a live buy); the next quote sells."""
        assert self._state is not None
        before = self._state
        decision = self._apply(CloseRequested(self._rt.clock.now()))
        self._operator_cancels.update(c.client_order_id for c in decision.commands if isinstance(c, CancelOrder))
        note = decision.notes[-1] if decision.notes else "nothing to do"
        return note if self._state is not before else f"refused: {note}"

    def _operator_cancel(self) -> str:
        """`supervisor.py cancel-orders`: cancel the live order, read its end back, place nothing more."""
        assert self._state is not None
        self._paused = True
        decision = self._apply(CancelRequested(self._rt.clock.now()))
        self._operator_cancels.update(c.client_order_id for c in decision.commands if isinstance(c, CancelOrder))
        if self._state.cycle.order is not None:
            self._check_live_order("operator cancel")
        live = self._state.cycle.order
        after = (f"; {live.client_order_id} is still live on the exchange (the cancel is asked again when the "
                 "asset is enabled)" if live is not None else "")
        return (decision.notes[-1] if decision.notes else "nothing to cancel") + after

    def _watch_buy_fee(self, before: AssetState, decision: Decision) -> None:
        """A buy that ended with its fee only estimated (the position did not show the fill yet): read
        the position again shortly; until then the cycle does not sell (it may hold less than it thinks)."""
        order = decision.finished_order
        if (order is None or order.side is not Side.BUY or order.filled_qty == 0 or order.position_before is None
                or order.fee_source is FeeSource.VENUE):
            return
        self._fee_pending = (order.client_order_id, order.filled_qty, order.position_before)
        self._fee_pending_since = time.monotonic()
        self._rt.scheduler.call_later(self._rt.clock_seconds(FEE_RECHECK_SECONDS), self.actor_ref,
                                      RecheckFee(order.client_order_id))

    def _recheck_fee(self, client_order_id: str) -> None:
        assert self._state is not None and self._config is not None
        pending = self._fee_pending
        if pending is None or pending[0] != client_order_id:
            return
        if self._state.cycle.order is not None:  # another order moved the position meanwhile: the venue's
            self._fee_pending = None             # fee activities will settle it
            return
        try:
            position = self._rt.broker.position_qty(self._symbol)
        except BrokerUnavailable:
            position = None
        fees = self._config.fees
        fee = None if position is None else fee_from_position(pending[1], pending[2], position,
                                                              max(fees.taker_bps, fees.maker_bps))
        if fee is None and time.monotonic() - self._fee_pending_since < FEE_RECHECK_FOR:
            self._rt.scheduler.call_later(self._rt.clock_seconds(FEE_RECHECK_SECONDS), self.actor_ref,
                                          RecheckFee(client_order_id))
            return
        self._fee_pending = None
        if fee is not None:
            self._confirm_fee(client_order_id, fee)

    def _confirm_fee(self, client_order_id: str, fee: Decimal) -> None:
        """The venue's fee for a finished order replaces the books' estimate, once (the stored order
        says whether it already did)."""
        assert self._state is not None
        stored = self._rt.cycles.order_fee(client_order_id)
        if stored is None or stored.source is FeeSource.VENUE:
            return
        event = FeeConfirmed(client_order_id, stored.side, stored.fee, fee,
                             stored.cycle_id == self._state.cycle.id, self._rt.clock.now())
        decision = self._apply(event)
        if decision.confirmed_fee is not None and fee != stored.fee:
            self._rt.metrics.fee_corrections.labels(self._symbol).inc()
            self._log.info("{}: fee corrected from the venue's activities: {} → {}", client_order_id, stored.fee, fee)

    def _check_holdings(self, quantity: Any, expected: Any, requested_at: float) -> None:
        assert self._state is not None
        if self._state.held_quantity != expected:  # it changed after the reconciler looked: next time
            return
        confirmed = self._shortfall_confirmed(quantity, expected, requested_at, from_list=True)
        if quantity < expected and not confirmed:
            return  # positions can lag fills: a shortfall counts once two readings apart agree on it
        self._holdings_checked(quantity)

    def _holdings_checked(self, quantity: Decimal) -> None:
        assert self._state is not None
        before = self._state
        decision = self._apply(HoldingsChecked(quantity, self._rt.clock.now()), venue_checked=True)
        if decision.completed is not None or decision.state.cycle.cost < before.cycle.cost:  # coins left the bot
            self._rt.metrics.discrepancies.labels("holding_missing").inc()
        elif decision.state.held_quantity < before.held_quantity:
            self._rt.metrics.discrepancies.labels("holding_corrected").inc()

    # --- bookkeeping -------------------------------------------------------------------------------

    def _refresh_triggers(self) -> None:
        if self._config is not None and self._state is not None:
            self._triggers = triggers(self._config, self._state)

    def _config_for(self, record: AssetRecord) -> AssetConfig:
        rules = self._rt.rules
        return AssetConfig(record.id, record.symbol, rules.namespace, record.params,
                           self._rt.exchange_rules(record.symbol), rules.fees, rules.timing)

    def _arm_deadlines(self) -> None:
        assert self._state is not None
        cycle, scheduler = self._state.cycle, self._rt.scheduler
        if cycle.status is CycleStatus.COOLDOWN and cycle.cooldown_until is not None:
            scheduler.call_at(cycle.cooldown_until, self.actor_ref, TimerTick())
        if cycle.order is not None and self._config is not None:
            timing = self._config.timing
            limit = timing.stale_buy_after if cycle.order.side is Side.BUY else timing.stuck_sell_after
            scheduler.call_at(cycle.order.created_at + limit, self.actor_ref, TimerTick())

    def _flush_peak(self) -> None:
        if self._peak_dirty and self._state is not None and self._state.cycle.id is not None:
            self._rt.cycles.save_peak(self._state.cycle.id, self._state.cycle.peak_price)
            self._peak_dirty = False

    def _record_outcome(self, before: AssetState, decision: Decision, event: Event) -> None:
        metrics, symbol = self._rt.metrics, self._symbol
        for note in decision.notes:
            self._log.info("cycle {}: {}", before.cycle.id, note)
        old = before.cycle.order
        new = decision.finished_order or decision.state.cycle.order
        if old is not None and new is not None and new.client_order_id == old.client_order_id:
            if new.filled_qty > old.filled_qty:
                metrics.fills.labels(symbol, new.side.value).inc()
            if decision.finished_order is not None and isinstance(event, OrderClosed | OrderNotFound):
                reason = event.reason if isinstance(event, OrderClosed) else CloseReason.EXPIRED
                if reason is CloseReason.REJECTED:
                    metrics.orders_rejected.labels(symbol, new.side.value, _reject_reason(event)).inc()
                    self._order_result(False)
                else:
                    metrics.orders_canceled.labels(symbol, new.side.value,
                                                   self._cancel_label(new, reason, _event_time(event, self._rt))).inc()
        self._notify(decision, event)
        if decision.completed is not None:
            metrics.cycles_completed.labels(symbol, decision.completed.status.value).inc()
            if decision.completed.status is CycleStatus.STOPPED:
                metrics.stop_losses.labels(symbol).inc()
            metrics.realized_profit.labels(symbol).inc(float(decision.completed.realized_pnl))
            self._rt.risk.add_realized(decision.completed.completed_at or self._rt.clock.now(),
                                       decision.completed.realized_pnl)
        if decision.durable:
            self._publish_metrics()

    def _notify(self, decision: Decision, event: Event) -> None:
        finished, notifier = decision.finished_order, self._rt.notifier
        if finished is not None and finished.filled_qty > 0 and not isinstance(event, OrderClosed | OrderNotFound):
            cycle = decision.completed if finished.side is Side.SELL and decision.completed else decision.state.cycle
            notifier.post(order_filled(self._symbol, cycle, finished))
        if decision.completed is not None:
            notifier.post(cycle_ended(self._symbol, decision.completed))

    def _cancel_label(self, order: LiveOrder, reason: CloseReason, at: datetime) -> str:
        """Why an order ended unfilled, as a metric label. An order past its limit is a stale buy or
        a stuck sell whoever cancelled it: the cycle itself, or the order janitor's backstop (which
        cancels on the exchange directly, so the cycle never asked)."""
        assert self._config is not None
        if order.client_order_id in self._operator_cancels:
            return CloseReason.CANCELED.value
        stale = "stale_buy" if order.side is Side.BUY else "stuck_sell"
        if order.cancel_requested_at is not None:
            return stale
        timing = self._config.timing
        limit = timing.stale_buy_after if order.side is Side.BUY else timing.stuck_sell_after
        if reason is CloseReason.CANCELED and at - order.created_at >= limit:
            return stale
        return reason.value

    def _publish_metrics(self) -> None:
        if self._state is None:
            return
        cycle = self._state.cycle
        metrics = self._rt.metrics
        metrics.set_status(self._symbol, cycle.status.value)
        latest = self._rt.board.latest(self._symbol)
        bid = latest.bid if latest is not None else None
        metrics.set_position(self._symbol, cycle.quantity, cycle.cost, cycle.safety_orders, bid)

    def _note(self, notes: tuple[str, ...]) -> None:
        now = time.monotonic()
        for note in notes:
            key = note_kind(note)
            if now - self._noted.get(key, -NOTE_REPEAT_SECONDS) >= NOTE_REPEAT_SECONDS:
                self._noted[key] = now
                self._log.info("{}", note)


def note_kind(note: str) -> str:
    """What makes two notes "the same" for repeat suppression: the text without its numbers (prices,
    quantities, times move with every quote) and without the detail after the first colon."""
    return _NUMBER.sub("#", note.split(":")[0])[:80]


def _holding(config: AssetConfig, state: AssetState) -> str:
    cycle = state.cycle
    if cycle.is_flat:
        return "flat"
    return f"holding {coin_text(config, cycle.quantity)} at avg {money_text(config, cycle.average_price)}"


def _event_time(event: Event, runtime: Runtime) -> datetime:
    return getattr(event, "time", None) or runtime.clock.now()


def _reject_reason(event: Event) -> str:
    """A bounded label for why the exchange refused an order."""
    text = getattr(event, "message", "").lower()
    if "insufficient" in text:
        return "insufficient_balance"
    if "minimal amount" in text or "cost basis" in text:
        return "below_minimum"
    if "time_in_force" in text:
        return "time_in_force"
    return "exchange" if not text else "other"


def asset_spec(record: AssetRecord, runtime: Runtime) -> ChildSpec:
    """How the asset supervisor starts (and restarts) the actor of one asset."""
    return ChildSpec(asset_actor_name(record.symbol), AssetActor, args=(record.id, runtime),
                     restart=Restart.TRANSIENT, shutdown_timeout_s=30.0)
