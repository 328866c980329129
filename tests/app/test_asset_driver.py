"""The asset driver's order loop against small fakes of its ports (no actors, no simulator): what it
stores, sends and schedules on each of the venue's answers — accepted, filled in parts, rejected,
5xx, timed out, duplicate id — and how it checks the venue's position before a sell."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from actors.notifier import NotifierHandle
from actors.risk_board import RiskBoard
from adapters.metrics import Metrics
from app.driver import AssetDriver, AssetHost, TradingRules
from dca.assets import AssetRecord
from dca.commands import SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, OrderKind, Side
from dca.events import OrderFilled, RejectionKind
from dca.exchange import ExchangeOrder, Position
from dca.market import Quote
from dca.params import AssetParams, ExchangeRules, FeeSchedule, OrderTiming
from dca.risk import RiskLimits
from dca.strategy import Decision
from ports.asset_host import OrderLookup
from ports.broker import (
    Account,
    BelowMinimum,
    BrokerTimeout,
    BrokerUnavailable,
    DuplicateClientOrderId,
    InsufficientBalance,
    OrderRejected,
    TradingStopped,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SYMBOL = "BTC/USD"
RULES = ExchangeRules(min_order_size=Decimal("0.0001"), min_trade_increment=Decimal("0.0001"),
                      price_increment=Decimal("0.01"), min_notional=Decimal(1))
NO_FEES = FeeSchedule(Decimal(0), Decimal(0))
PARAMS = AssetParams(base_order_amount=Decimal(100), ttp_enabled=False, take_profit_percent=Decimal(2))


# --- fakes of the ports -------------------------------------------------------------------------------


class Clock:
    speed = 1.0

    def __init__(self) -> None:
        self.time = T0

    def now(self) -> datetime:
        return self.time


class Stopwatch:
    def __init__(self) -> None:
        self.at = 1000.0

    def seconds(self) -> float:
        return self.at


class Timers:
    def __init__(self, journal: list[str]) -> None:
        self.ticks: list[datetime] = []
        self.lookups: list[OrderLookup] = []
        self.fee_rechecks: list[str] = []
        self._journal = journal

    def tick_at(self, at: datetime) -> None:
        self._journal.append("timer")
        self.ticks.append(at)

    def recheck_fee_in(self, real_seconds: float, client_order_id: str) -> None:
        self.fee_rechecks.append(client_order_id)

    def check_order_in(self, real_seconds: float, reason: OrderLookup) -> None:
        self.lookups.append(reason)


class NoQuotes:
    def latest(self, symbol: str) -> Quote | None:
        return None


class Books:
    """The cycle store in memory; `journal` records the order of saves and venue calls."""

    def __init__(self, state: AssetState, journal: list[str]) -> None:
        self.state, self.saved, self._journal = state, [], journal
        self._next_id = (state.cycle.id or 0) + 1

    def load(self, asset: AssetRecord) -> AssetState:
        return self.state

    def save(self, asset_id: int, before: AssetState, decision: Decision, at: datetime) -> AssetState:
        state = decision.state
        if state.cycle.id is None:
            state, self._next_id = state.evolve(cycle=state.cycle.evolve(id=self._next_id)), self._next_id + 1
        self._journal.append("save")
        self.saved.append(decision)
        self.state = state
        return state

    def save_peak(self, cycle_id: int, peak: Decimal | None) -> None:
        pass

    def realized_total(self, asset_id: int) -> Decimal:
        return Decimal(0)

    def realized_since(self, moment: datetime) -> Decimal:
        return Decimal(0)

    def order_fee(self, client_order_id: str) -> None:
        return None

    def estimated_fees(self, limit: int = 200) -> list[object]:
        return []

    def current_cycles(self) -> list[object]:
        return []


class Assets:
    def by_id(self, asset_id: int) -> AssetRecord | None:
        return AssetRecord(asset_id, SYMBOL, True, PARAMS)

    def all(self) -> list[AssetRecord]:
        return [AssetRecord(1, SYMBOL, True, PARAMS)]

    def enabled(self) -> list[AssetRecord]:
        return self.all()


class Venue:
    """The broker: answers are queued per call (an exception is raised, anything else returned)."""

    def __init__(self, journal: list[str]) -> None:
        self.submit_answers: list[object] = []
        self.lookups: dict[str, ExchangeOrder | None] = {}
        self.known_as: tuple[str, Decimal, Decimal | None] | None = None  # a sent order's state on a lookup
        self.position_answers: list[Position | Exception | None] = []
        self.held = Decimal(0)  # the position when no answer is queued
        self.listed: Decimal | None = None  # what the list endpoint shows, if it differs from `held`
        self.list_reads = 0
        self.sent: list[SubmitOrder] = []
        self.cancelled: list[str] = []
        self.buying_power = Decimal(10_000)
        self._journal = journal

    def submit(self, command: SubmitOrder) -> ExchangeOrder:
        self._journal.append("submit")
        self.sent.append(command)
        answer = self.submit_answers.pop(0) if self.submit_answers else "new"
        if isinstance(answer, Exception):
            raise answer
        status, filled, price = answer if isinstance(answer, tuple) else (answer, Decimal(0), None)
        return _order(command, status, filled, price)

    def cancel(self, exchange_id: str) -> None:
        self.cancelled.append(exchange_id)

    def order_by_client_id(self, client_order_id: str) -> ExchangeOrder | None:
        sent = [c for c in self.sent if c.client_order_id == client_order_id]
        if self.known_as is not None and sent:
            return _order(sent[-1], *self.known_as)
        return self.lookups.get(client_order_id)

    def position(self, symbol: str) -> Position | None:
        answer = self.position_answers.pop(0) if self.position_answers else Position(symbol, self.held, Decimal(100))
        if isinstance(answer, Exception):
            raise answer
        return answer

    def positions(self) -> dict[str, Position]:
        self.list_reads += 1
        qty = self.held if self.listed is None else self.listed
        return {SYMBOL: Position(SYMBOL, qty, Decimal(100))} if qty > 0 else {}

    def position_qty(self, symbol: str) -> Decimal:
        position = self.position(symbol)
        return position.qty if position is not None else Decimal(0)

    def account(self) -> Account:
        return Account(self.buying_power, self.buying_power, self.buying_power, "ACTIVE")


@dataclass
class Ports:
    """What the actors' Runtime gives the driver, made of the fakes above."""

    cycles: Books
    broker: Venue
    rules: TradingRules = field(default_factory=lambda: TradingRules("dca-test1", NO_FEES, OrderTiming(),
                                                                     Decimal(1)))
    assets: Assets = field(default_factory=Assets)
    risk: RiskBoard = field(default_factory=lambda: RiskBoard(RiskLimits()))
    metrics: Metrics = field(default_factory=Metrics)
    notifier: NotifierHandle = field(default_factory=NotifierHandle)
    clock: Clock = field(default_factory=Clock)
    bars: None = None  # no start condition here: the bars are never read
    bar_fetcher: None = None
    rules_reads: int = 0

    def exchange_rules(self, symbol: str) -> ExchangeRules:
        return RULES

    def refresh_exchange_rules(self, symbol: str) -> ExchangeRules:
        self.rules_reads += 1
        return RULES


class Rig:
    def __init__(self, state: AssetState | None = None) -> None:
        self.journal: list[str] = []
        self.books = Books(state or AssetState(Cycle(id=1, status=CycleStatus.WATCHING)), self.journal)
        self.venue = Venue(self.journal)
        self.ports = Ports(self.books, self.venue)
        self.timers, self.stopwatch = Timers(self.journal), Stopwatch()
        self.driver = AssetDriver(1, self.ports, AssetHost(self.timers, self.stopwatch, NoQuotes()))

    def start(self) -> Rig:
        self.driver.start()
        return self

    @property
    def state(self) -> AssetState:
        state = self.driver.snapshot()[1]
        assert state is not None
        return state

    def quote(self, bid: str, ask: str | None = None, after: float = 1) -> None:
        self.ports.clock.time += timedelta(seconds=after)
        self.driver.on_quote(Quote(SYMBOL, Decimal(bid), Decimal(ask or bid), self.ports.clock.time))

    def metric(self, name: str, **labels: str) -> float:
        value = self.ports.metrics.registry.get_sample_value(name, labels)
        return value or 0.0


def _order(command: SubmitOrder, status: str, filled: Decimal = Decimal(0), price: Decimal | None = None,
           exchange_id: str = "ex-1") -> ExchangeOrder:
    return ExchangeOrder(exchange_id, command.client_order_id, command.symbol, command.side.value,
                         command.order_type.value, "gtc", status, T0, qty=command.qty, filled_qty=filled,
                         filled_avg_price=price, limit_price=command.limit_price)


def holding(qty: str, avg: str) -> AssetState:
    quantity = Decimal(qty)
    return AssetState(Cycle(id=1, status=CycleStatus.WATCHING, quantity=quantity, cost=quantity * Decimal(avg),
                            last_fill_price=Decimal(avg), bought_qty=quantity, order_seq=1))


# --- the order loop -------------------------------------------------------------------------------------


def test_a_base_order_is_stored_before_it_is_sent_and_its_acceptance_applied_after():
    rig = Rig().start()
    rig.quote("100", "100")
    order = rig.state.cycle.order
    assert order is not None and order.exchange_id == "ex-1" and rig.state.cycle.status is CycleStatus.BUYING
    assert order.position_before == 0  # read and stored before the POST
    assert rig.journal[:4] == ["save", "save", "submit", "timer"]  # the order row, its position, the POST, its timer
    assert rig.metric("dca_orders_submitted_total", symbol=SYMBOL, side="buy", kind="base") == 1


def test_every_command_of_a_decision_runs_before_the_events_its_answers_make():
    rig = Rig().start()
    rig.venue.submit_answers.append(("filled", Decimal("0.9900"), Decimal(100)))  # filled in the POST's answer
    rig.quote("100", "100")
    assert rig.journal[:4] == ["save", "save", "submit", "timer"]  # the order's timer before its fill
    assert rig.journal[4:] == ["save", "save"]  # then the acceptance, then the fill
    assert rig.state.cycle.order is None and rig.state.cycle.quantity == Decimal("0.9900")
    assert rig.metric("dca_fills_total", symbol=SYMBOL, side="buy") == 1


def test_a_rejected_order_closes_with_its_typed_kind_and_counts_toward_the_breaker():
    rig = Rig().start()
    rig.venue.submit_answers.append(OrderRejected("whatever the venue wrote", 422, None, RejectionKind.TIME_IN_FORCE))
    rig.quote("100", "100")
    cycle = rig.state.cycle
    assert cycle.order is None and cycle.retry_at is not None and cycle.status is CycleStatus.WATCHING
    assert rig.metric("dca_orders_rejected_total", symbol=SYMBOL, side="buy", reason="time_in_force") == 1
    assert rig.ports.risk.record_order_result(SYMBOL, False, T0) == []  # one failure counted before this one
    assert rig.books.saved[-1].finished_order is not None


def test_a_below_minimum_rejection_has_the_pairs_rules_read_again():
    rig = Rig().start()
    rig.venue.submit_answers.append(BelowMinimum("cost basis must be >= 1", 422, None))
    rig.quote("100", "100")
    assert rig.ports.rules_reads == 1
    assert rig.metric("dca_orders_rejected_total", symbol=SYMBOL, side="buy", reason="below_minimum") == 1


@pytest.mark.parametrize("failure", [BrokerUnavailable("HTTP 503: busy", 503),
                                     BrokerTimeout("submit_order: timed out")], ids=["5xx", "timeout"])
def test_an_unknown_submit_outcome_keeps_the_order_and_looks_it_up_later(failure):
    rig = Rig().start()
    rig.venue.submit_answers.append(failure)
    rig.quote("100", "100")
    order = rig.state.cycle.order
    assert order is not None and order.exchange_id is None  # stored, not known to the exchange yet
    assert rig.timers.lookups == [OrderLookup.UNKNOWN_SUBMIT_OUTCOME]
    rig.venue.lookups[order.client_order_id] = _order(rig.venue.sent[0], "filled", Decimal("0.99"), Decimal(100))
    rig.driver.check_order(OrderLookup.UNKNOWN_SUBMIT_OUTCOME)
    assert rig.state.cycle.order is None and rig.state.cycle.quantity == Decimal("0.99")
    assert rig.metric("dca_reconciliation_discrepancies_total", kind="missed_order_update") == 0  # expected, not missed


def test_an_order_that_never_reached_the_exchange_is_sent_again_under_the_same_id():
    rig = Rig().start()
    rig.venue.submit_answers.append(BrokerTimeout("submit_order: timed out"))
    rig.quote("100", "100")
    rig.driver.check_order(OrderLookup.UNKNOWN_SUBMIT_OUTCOME)  # the exchange does not know it
    assert [c.client_order_id for c in rig.venue.sent] == [rig.venue.sent[0].client_order_id] * 2
    assert rig.state.cycle.order is not None and rig.state.cycle.order.exchange_id == "ex-1"


def test_once_the_gate_refuses_an_order_no_further_order_or_cancel_is_booked_while_fills_still_apply():
    rig = Rig().start()
    rig.venue.submit_answers.append(TradingStopped("shutting down"))
    rig.quote("100", "100")
    stranded = rig.state.cycle.order
    assert stranded is not None and stranded.exchange_id is None  # stays `submitting`: the next start resolves it
    saved = len(rig.books.saved)
    for _ in range(5):  # hours later: the stranded order is stale, a new base order would be due
        rig.quote("90", "90", after=3600)
        rig.driver.on_timer()
    assert len(rig.venue.sent) == 1 and len(rig.books.saved) == saved
    assert rig.venue.cancelled == []


def test_a_duplicate_id_reads_the_order_back_and_applies_what_it_shows():
    rig = Rig().start()
    rig.venue.submit_answers.append(DuplicateClientOrderId("client_order_id must be unique", 422, None))
    rig.venue.known_as = ("partially_filled", Decimal("0.5"), Decimal(100))  # an earlier attempt got through
    rig.quote("100", "100")
    order = rig.state.cycle.order
    assert order is not None and order.exchange_id == "ex-1" and order.filled_qty == Decimal("0.5")
    assert rig.state.cycle.quantity == Decimal("0.5")


def test_partial_fills_are_applied_as_they_come_and_the_final_one_ends_the_order():
    rig = Rig().start()
    rig.venue.submit_answers.append(("partially_filled", Decimal("0.3"), Decimal(100)))
    rig.quote("100", "100")
    order = rig.state.cycle.order
    assert order is not None and order.filled_qty == Decimal("0.3") and rig.state.cycle.quantity == Decimal("0.3")
    rig.venue.held = Decimal("0.99")
    rig.driver.on_order_report(OrderFilled(order.client_order_id, Decimal("0.99"), Decimal(100), T0, final=True))
    assert rig.state.cycle.order is None and rig.state.cycle.quantity == Decimal("0.99")
    assert rig.state.cycle.last_fill_price == Decimal(100)


def test_a_vetoed_buy_is_neither_stored_nor_sent():
    rig = Rig().start()
    rig.ports.risk.set_kill_switch("operator")
    rig.quote("100", "100")
    assert rig.venue.sent == [] and rig.books.saved == []
    assert rig.metric("dca_orders_vetoed_total", symbol=SYMBOL, gate="kill_switch") == 1


# --- the venue before a sell ------------------------------------------------------------------------------


def test_a_shortfall_of_the_position_waits_for_two_readings_apart_then_corrects_the_cycle_and_sells_the_rest():
    rig = Rig(holding("1", "100")).start()
    rig.venue.held = Decimal("0.6")  # somebody sold 0.4 by hand
    rig.quote("110")  # requested right after the books were loaded: may predate a fill, proves nothing
    rig.stopwatch.at += 2.5
    rig.quote("110")  # the first reading that counts: suspected only
    assert rig.venue.sent == [] and rig.books.saved == []
    rig.stopwatch.at += 2.5
    rig.quote("110")  # a second reading 2.5 s later agrees, and the list endpoint shows the same
    assert [(c.side, c.qty) for c in rig.venue.sent] == [(Side.SELL, Decimal("0.6"))]
    assert rig.venue.list_reads == 1
    assert rig.metric("dca_sell_shortfalls_total", symbol=SYMBOL) == 1
    assert rig.metric("dca_reconciliation_discrepancies_total", kind="holding_missing") == 1


def test_two_stale_readings_handled_apart_do_not_confirm_a_shortfall_after_the_books_moved():
    rig = Rig(holding("1", "100")).start()
    rig.venue.held = Decimal("0.6")
    rig.stopwatch.at += 2.5
    rig.driver.check_holdings(Decimal("0.6"), Decimal(1), requested_at=1000.5)  # asked within 2 s of the books moving
    rig.driver.check_holdings(Decimal("0.6"), Decimal(1), requested_at=1001.5)
    assert rig.books.saved == [] and rig.venue.list_reads == 0


def test_a_shortfall_the_other_position_endpoint_does_not_show_is_not_believed():
    rig = Rig(holding("1", "100")).start()
    rig.venue.held, rig.venue.listed = Decimal("0.6"), Decimal(1)  # the single read is wrong, the list is right
    for _ in range(3):
        rig.stopwatch.at += 2.5
        rig.quote("110")
    assert rig.venue.sent == [] and rig.books.saved == []
    assert rig.venue.list_reads >= 1
    assert rig.metric("dca_sell_shortfalls_total", symbol=SYMBOL) == 0


def test_coins_held_back_by_other_orders_cap_the_sell():
    rig = Rig(holding("1", "100")).start()
    rig.venue.held = Decimal(1)
    rig.venue.position_answers.append(Position(SYMBOL, Decimal(1), Decimal(100), qty_available=Decimal("0.7")))
    rig.quote("110")
    assert [c.qty for c in rig.venue.sent] == [Decimal("0.7")]
    assert rig.state.cycle.quantity == Decimal(1)  # the cycle keeps what it holds; only the sell is capped


def test_a_sell_refused_for_balance_caps_the_next_sell_at_what_the_venue_says_is_available():
    rig = Rig(holding("1", "100")).start()
    rig.venue.held = Decimal(1)
    rig.venue.submit_answers.append(InsufficientBalance("insufficient balance for BTC (requested: 1, available: "
                                                        "0.8)", 403, None, "BTC", Decimal("0.8")))
    rig.quote("110")
    assert rig.state.sellable == Decimal("0.8") and rig.state.cycle.order is None
    rig.quote("110", after=10)  # past the retry wait
    assert [c.qty for c in rig.venue.sent] == [Decimal(1), Decimal("0.8")]


def test_an_unreadable_position_before_a_sell_lets_the_venue_answer_the_sell_itself():
    rig = Rig(holding("1", "100")).start()
    rig.venue.position_answers.append(BrokerUnavailable("HTTP 502", 502))
    rig.quote("110")
    assert [c.qty for c in rig.venue.sent] == [Decimal(1)]


def test_the_recovery_read_back_counts_a_change_as_a_missed_update():
    rig = Rig()
    start = Rig().start()
    start.quote("100", "100")
    rig.books.state = start.state  # restarted with the order in flight
    command = start.venue.sent[0]
    rig.venue.lookups[command.client_order_id] = _order(command, "canceled")
    rig.start()
    assert rig.state.cycle.order is None
    assert rig.metric("dca_reconciliation_discrepancies_total", kind="missed_order_update") == 1
    finished = rig.books.saved[-1].finished_order
    assert finished is not None and finished.client_order_id == command.client_order_id
    assert rig.metric("dca_orders_canceled_total", symbol=SYMBOL, side="buy", reason="canceled") == 1


# --- the operator's controls ------------------------------------------------------------------------------


def test_close_marks_the_cycle_and_the_next_quote_sells_what_it_holds_at_market():
    rig = Rig(holding("1", "100")).start()
    rig.venue.held = Decimal(1)
    answer = rig.driver.close_cycle()
    assert not answer.refused and rig.state.cycle.close_requested_at is not None
    rig.quote("90")  # below the take-profit: only the close sells
    assert [(c.side, c.kind, c.qty) for c in rig.venue.sent] == [(Side.SELL, OrderKind.CLOSE, Decimal(1))]


def test_close_of_a_cycle_holding_nothing_is_refused_and_changes_nothing():
    rig = Rig().start()
    assert rig.driver.close_cycle().refused
    assert rig.books.saved == [] and rig.venue.sent == []


def test_cancel_orders_cancels_the_live_buy_labels_it_canceled_and_places_nothing_more():
    rig = Rig().start()
    rig.quote("100", "100")
    assert rig.state.cycle.order is not None
    rig.venue.known_as = ("canceled", Decimal(0), None)  # the venue confirms the cancel on the read-back
    rig.driver.cancel_orders()
    assert rig.venue.cancelled == ["ex-1"] and rig.state.cycle.order is None
    assert rig.metric("dca_orders_canceled_total", symbol=SYMBOL, side="buy", reason="canceled") == 1
    rig.quote("100", "100", after=600)
    assert len(rig.venue.sent) == 1  # paused: no new base order
