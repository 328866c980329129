"""Property tests of the state machine against an adversarial exchange.

An in-test exchange honours the core's commands and reports back the way Alpaca can: late, twice,
out of order, partially, through cancels and rejections, or not at all (lost orders). Invariants:

* never two live orders for one cycle (and a repeated submission reuses the id);
* the quantity is never negative;
* fills minus fees equal what the bot holds (cycle quantity plus dust), once every report is in;
* the average cost stays within the fill-price range (widened only by the fee taken in coin).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, Side
from dca.events import (
    CloseReason,
    OrderAccepted,
    OrderClosed,
    OrderFilled,
    OrderNotFound,
    PositionBeforeOrder,
    Tick,
)
from dca.market import Quote
from dca.money import ZERO, round_down
from dca.strategy import decide, triggers
from tests.core.helpers import SYMBOL, T0, config

FEE_RATE = Decimal("0.0025")  # the taker rate, the most the exchange charges
FEE_RATES = (Decimal("0.0015"), FEE_RATE)
INCREMENT = Decimal("0.000001")
prices = st.decimals(min_value=Decimal(60), max_value=Decimal(140), places=2)


@dataclass
class ExchangeOrder:
    side: Side
    qty: Decimal
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fee: Decimal = ZERO
    open: bool = True
    accepted: bool = False
    reports: list = field(default_factory=list)


class CycleAgainstExchange(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cfg = config(
            base_order_amount="100", safety_order_amount="100", safety_order_deviation="3", max_safety_orders=4,
            take_profit_percent="2", ttp_enabled=True, ttp_deviation_percent="1", cooldown_period=30,
            fees=("15", "25"), increments=str(INCREMENT), min_notional="1",
        )
        self.state = AssetState(Cycle(id=1, status=CycleStatus.WATCHING))
        self.now = T0
        self.position = ZERO  # the bot's coin on the exchange
        self.orders: dict[str, ExchangeOrder] = {}
        self.next_cycle_id = 2
        self.cycle_buy_prices: list[Decimal] = []
        self.position_before = ZERO
        self.drop_next_submission = False

    # --- driving the core ---------------------------------------------------------------------

    def feed(self, event) -> None:
        decision = decide(self.cfg, self.state, event)
        for command in decision.commands:
            if isinstance(command, SubmitOrder):
                self.submit(command)
            elif isinstance(command, CancelOrder):
                self.cancel(command.client_order_id)
        if decision.completed is not None:
            self.cycle_buy_prices = []
        self.state = decision.state
        if self.state.cycle.id is None:
            self.state = self.state.evolve(cycle=self.state.cycle.evolve(id=self.next_cycle_id))
            self.next_cycle_id += 1

    def submit(self, command: SubmitOrder) -> None:
        if command.client_order_id in self.orders:  # a repeated submission: the exchange refuses the duplicate
            return
        if self.drop_next_submission:  # lost in transit (the process died before it was sent)
            self.drop_next_submission = False
            return
        live = [oid for oid, o in self.orders.items() if o.open]
        assert not live, f"second live order {command.client_order_id} while {live} is open"
        self.orders[command.client_order_id] = ExchangeOrder(command.side, command.qty)
        self.position_before = self.position

    def cancel(self, order_id: str) -> None:
        order = self.orders.get(order_id)
        if order is not None and order.open:
            order.open = False
            self.report(order_id, OrderClosed(
                order_id, CloseReason.CANCELED, self.now, order.filled, self.avg(order),
                position_qty=self.position, fee=None if order.accepted and order.side is Side.BUY else order.fee,
            ))

    def report(self, order_id: str, event) -> None:
        self.orders[order_id].reports.append(event)
        self.feed(event)

    @staticmethod
    def avg(order: ExchangeOrder) -> Decimal | None:
        return order.notional / order.filled if order.filled else None

    def live_exchange_order(self) -> tuple[str, ExchangeOrder] | None:
        for order_id, order in self.orders.items():
            if order.open:
                return order_id, order
        return None

    # --- rules ----------------------------------------------------------------------------------

    @rule(price=prices, spread=st.decimals(min_value=0, max_value=1, places=2), seconds=st.integers(1, 120))
    def quote_arrives(self, price, spread, seconds):
        self.now += timedelta(seconds=seconds)
        quote = Quote(SYMBOL, price, price + spread, self.now)
        if not triggers(self.cfg, self.state).may_act_on(quote):  # the actor and the backtester skip it
            decision = decide(self.cfg, self.state, quote)
            assert decision.state is self.state and decision.commands == (), "a skippable quote acted"
        self.feed(quote)

    @rule(seconds=st.integers(1, 400))
    def time_passes(self, seconds):
        self.now += timedelta(seconds=seconds)
        self.feed(Tick(self.now))

    @precondition(lambda self: self.live_exchange_order() is not None)
    @rule(price=prices, share=st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal(1)]),
          rate=st.sampled_from(FEE_RATES), exact_fee=st.booleans(), acknowledge=st.booleans())
    def exchange_fills(self, price, share, rate, exact_fee, acknowledge):
        order_id, order = self.live_exchange_order()
        if acknowledge and not order.accepted:
            order.accepted = True
            self.report(order_id, PositionBeforeOrder(order_id, self.position_before, self.now))
            self.report(order_id, OrderAccepted(order_id, "ex-" + order_id, self.now))
        remaining = order.qty - order.filled
        qty = max(round_down(remaining * share, INCREMENT), min(INCREMENT, remaining))
        order.filled += qty
        order.notional += qty * price
        if order.side is Side.BUY:
            fee = round_down(qty * rate, Decimal("1e-12"))
            order.fee += fee
            self.position += qty - fee
            self.cycle_buy_prices.append(price)
        else:
            order.fee += qty * price * FEE_RATE  # a market sell pays the taker rate, in the quote currency
            self.position -= qty
        final = order.filled == order.qty
        order.open = not final
        # What the report says about the fee: exact (a backtest), or nothing and the position after
        # the fill (live: the core infers the fee), or nothing at all on a partial (the core estimates).
        if order.side is Side.SELL or exact_fee or (final and not order.accepted):
            fee_reported, position = order.fee, None
        else:
            fee_reported, position = None, (self.position if final else None)
        self.report(order_id, OrderFilled(order_id, order.filled, self.avg(order), self.now, final,
                                          position_qty=position, fee=fee_reported))

    @rule()
    def the_next_submission_gets_lost(self):
        self.drop_next_submission = True

    @precondition(lambda self: self.live_exchange_order() is not None)
    @rule(reason=st.sampled_from([CloseReason.REJECTED, CloseReason.EXPIRED, CloseReason.CANCELED]))
    def exchange_closes(self, reason):
        order_id, order = self.live_exchange_order()
        if reason is CloseReason.REJECTED and order.filled:
            reason = CloseReason.CANCELED
        order.open = False
        self.report(order_id, OrderClosed(order_id, reason, self.now, order.filled, self.avg(order),
                                          fee=order.fee))

    @precondition(lambda self: any(o.reports for o in self.orders.values()))
    @rule(data=st.data())
    def an_old_report_arrives_again(self, data):
        order = data.draw(st.sampled_from([o for o in self.orders.values() if o.reports]))
        self.feed(data.draw(st.sampled_from(order.reports)))

    @precondition(lambda self: self.state.cycle.order is not None)
    @rule()
    def lookup_finds_nothing_for_an_unsent_order(self):
        order_id = self.state.cycle.order.client_order_id
        if order_id not in self.orders:
            self.feed(OrderNotFound(order_id, self.now))

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def quantities_are_never_negative(self):
        assert self.state.cycle.quantity >= 0 and self.state.dust >= 0

    @invariant()
    def the_bot_holds_exactly_its_fills_net_of_fees_once_all_reports_are_in(self):
        if all(not o.open for o in self.orders.values()) and self.state.cycle.order is None:
            assert self.state.held_quantity == self.position

    @invariant()
    def average_cost_stays_within_the_fill_prices(self):
        cycle = self.state.cycle
        if cycle.quantity > 0 and self.cycle_buy_prices and cycle.order is None:
            low, high = min(self.cycle_buy_prices), max(self.cycle_buy_prices)
            assert low <= cycle.average_price <= high / (1 - FEE_RATE) + Decimal("1e-9")

    @invariant()
    def a_live_order_is_one_the_cycle_knows(self):
        live = self.live_exchange_order()
        if live is not None:
            assert self.state.cycle.order is not None and self.state.cycle.order.client_order_id == live[0]


CycleAgainstExchange.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_cycle_against_an_adversarial_exchange = CycleAgainstExchange.TestCase


def test_zero_fee_average_is_the_volume_weighted_fill_price():
    """0.001 @ 50 000 and 0.0015 @ 48 000 average to exactly 48 800 (reference §8.27)."""
    from tests.core.helpers import D, filled, run, watching, with_order

    cfg = config()
    state = with_order(watching(), qty="0.001")
    state, _ = run(cfg, state, filled(state, "0.001", "50000"))
    state = with_order(state, qty="0.0015")
    state, _ = run(cfg, state, filled(state, "0.0015", "48000"))
    assert state.cycle.average_price == D(48800)
