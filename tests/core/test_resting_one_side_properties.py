"""Property test: the ladder and the limit take-profit against an exchange under the strictest reading
of Alpaca's wash-trade rule (`wash_trade_check=any_opposite`: any order is refused while an opposite
one of the account is open).

The in-test exchange refuses such a submission the way the driver reports it (`OrderClosed` REJECTED,
`RejectionKind.WASH_TRADE`), fills any open order at random (a resting limit at its limit), confirms
cancels late, and now and then restarts the bot (which forgets the lesson: it is not stored).
Invariants:

* once the asset has learned to keep one side at a time, the venue refuses none of its orders again,
  and before that no decision has more than one of its orders refused (so one refusal per asset and
  process: the circuit breaker counts each);
* a refusal that taught the lesson leaves no failure to wait out;
* the limit take-profit's limit is at or above the take-profit trigger of the position it sells;
* what the bot holds is what its fills left on the exchange; a cycle never ends with live orders;
* a quote the triggers let drivers skip changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, OrderKind, OrderType, Side
from dca.events import CloseReason, CloseRequested, OrderAccepted, OrderClosed, OrderFilled, RejectionKind
from dca.market import Quote
from dca.money import ZERO, round_down
from dca.strategy import decide, take_profit_trigger, triggers
from tests.core.helpers import SYMBOL, T0, config

INCREMENT = Decimal("0.000001")
MAKER, TAKER = Decimal("0.0015"), Decimal("0.0025")
prices = st.decimals(min_value=Decimal(80), max_value=Decimal(120), places=2)


@dataclass
class Order:
    side: Side
    order_type: OrderType
    qty: Decimal
    limit: Decimal | None
    resting: bool
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fee: Decimal = ZERO
    open: bool = True
    cancelling: bool = False

    @property
    def avg(self) -> Decimal | None:
        return self.notional / self.filled if self.filled else None


class OneSideAtATime(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cfg = config(
            base_order_amount="100", safety_order_amount="100", safety_order_deviation="2", max_safety_orders=4,
            active_safety_orders=2, take_profit_order_type=OrderType.LIMIT, take_profit_percent="2",
            stop_loss_percent="15", stop_loss_timeout=0, cooldown_period=30, fees=("15", "25"),
            increments=str(INCREMENT), min_notional="1",
        )
        self.state = AssetState(Cycle(id=1, status=CycleStatus.WATCHING))
        self.now = T0
        self.bid = Decimal(100)
        self.position = ZERO
        self.orders: dict[str, Order] = {}
        self.next_cycle_id = 2
        self.refused: list[tuple[str, Side]] = []

    def feed(self, event) -> None:
        before = self.state
        decision = decide(self.cfg, before, event)
        self.state = decision.state
        if decision.completed is not None:
            assert decision.completed.order is None and decision.completed.resting == (), "ended with live orders"
        if self.state.cycle.id is None:
            self.state = self.state.evolve(cycle=self.state.cycle.evolve(id=self.next_cycle_id))
            self.next_cycle_id += 1
        refusals = []
        for command in decision.commands:
            if isinstance(command, SubmitOrder):
                refusals += self.submit(command, before)
            elif isinstance(command, CancelOrder) and command.client_order_id in self.orders:
                self.orders[command.client_order_id].cancelling = self.orders[command.client_order_id].open
        assert len(refusals) <= 1, "one decision's orders refused more than once (the breaker counts each)"
        for refusal, learned_before in refusals:  # as the driver: decided after the submissions
            assert not learned_before, "refused as a wash trade after the asset learned one side at a time"
            waiting = self.state.cycle.retry_at
            self.feed(refusal)
            assert self.state.one_side_at_a_time
            assert self.state.cycle.retry_at == waiting, "a refusal that taught the lesson is waited out"

    def submit(self, command: SubmitOrder, before: AssetState) -> list[tuple[OrderClosed, bool]]:
        if command.client_order_id in self.orders:
            return []
        if any(o.open and o.side is not command.side for o in self.orders.values()):
            refusal = OrderClosed(command.client_order_id, CloseReason.REJECTED, self.now,
                                  message="potential wash trade detected. use complex orders",
                                  rejection=RejectionKind.WASH_TRADE)
            self.refused.append((command.client_order_id, command.side))
            return [(refusal, before.one_side_at_a_time)]
        if command.kind is OrderKind.TAKE_PROFIT and command.order_type is OrderType.LIMIT:
            assert command.limit_price >= take_profit_trigger(self.cfg, before.cycle)
        acting = self.state.cycle.order
        resting = acting is None or acting.client_order_id != command.client_order_id
        self.orders[command.client_order_id] = Order(command.side, command.order_type, command.qty,
                                                     command.limit_price, resting)
        self.feed(OrderAccepted(command.client_order_id, "ex-" + command.client_order_id, self.now))
        return []

    def open_orders(self) -> list[str]:
        return [order_id for order_id, order in self.orders.items() if order.open]

    @rule(price=prices, spread=st.decimals(min_value=0, max_value=1, places=2), seconds=st.integers(1, 120))
    def quote_arrives(self, price, spread, seconds):
        self.now += timedelta(seconds=seconds)
        self.bid = price
        quote = Quote(SYMBOL, price, price + spread, self.now)
        if not triggers(self.cfg, self.state).may_act_on(quote):
            decision = decide(self.cfg, self.state, quote)
            assert decision.state is self.state and decision.commands == (), "a skippable quote acted"
        self.feed(quote)

    @precondition(lambda self: bool(self.open_orders()))
    @rule(data=st.data(), share=st.sampled_from([Decimal("0.5"), Decimal(1)]))
    def exchange_fills(self, data, share):
        order_id = data.draw(st.sampled_from(self.open_orders()))
        order = self.orders[order_id]
        price = order.limit if order.resting and order.limit is not None else self.bid
        rate = MAKER if order.resting else TAKER
        remaining = order.qty - order.filled
        qty = max(round_down(remaining * share, INCREMENT), min(INCREMENT, remaining))
        order.filled += qty
        order.notional += qty * price
        if order.side is Side.BUY:
            fee = round_down(qty * rate, Decimal("1e-12"))
            self.position += qty - fee
        else:
            fee = qty * price * rate
            self.position -= qty
        order.fee += fee
        order.open = order.filled < order.qty
        self.feed(OrderFilled(order_id, order.filled, order.avg, self.now, not order.open, fee=order.fee))

    @precondition(lambda self: any(self.orders[i].cancelling for i in self.open_orders()))
    @rule(data=st.data())
    def exchange_confirms_a_cancel(self, data):
        order_id = data.draw(st.sampled_from([i for i in self.open_orders() if self.orders[i].cancelling]))
        order = self.orders[order_id]
        order.open = False
        self.feed(OrderClosed(order_id, CloseReason.CANCELED, self.now, order.filled, order.avg, fee=order.fee))

    @rule()
    def the_bot_restarts(self):
        self.state = self.state.evolve(one_side_at_a_time=False)  # the lesson is not stored

    @rule(roll=st.integers(0, 9))
    def the_operator_closes(self, roll):
        if roll == 0:  # now and then
            self.feed(CloseRequested(self.now))

    @invariant()
    def every_open_order_is_known_and_the_bot_holds_what_its_fills_left(self):
        known = {o.client_order_id for o in self.state.cycle.live_orders}
        assert set(self.open_orders()) <= known
        assert self.state.held_quantity == self.position


OneSideAtATime.TestCase.settings = settings(
    max_examples=150, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_one_side_at_a_time_against_an_exchange_refusing_any_opposite_order = OneSideAtATime.TestCase
