"""Property test of the ladder and the limit take-profit against an exchange holding several orders.

The in-test exchange keeps every order the core submits, fills any open one at random (a resting
limit at its limit, as a maker; a market order at the quote), confirms cancels late (an order can
still fill while its cancel is under way), repeats old reports, and takes the operator's close at
any time. Invariants, with both features on (and with the ladder next to the market take-profit, plain
or trailing):

* at most one acting order, and every order open on the exchange is one the cycle knows;
* never an open buy whose limit is at or above an open sell's limit, never a market order while
  an opposite order is open (Alpaca refuses both as wash trades);
* the limit take-profit's limit is at or above the take-profit trigger of the position it sells;
* money is conserved: what the bot holds (cycle quantity plus dust) is what its fills left on the
  exchange, bought less fees less sold;
* a cycle never ends with live orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dca.commands import CancelOrder, SubmitOrder
from dca.cycle import AssetState, Cycle, CycleStatus, OrderKind, OrderType, Side
from dca.events import CloseReason, CloseRequested, OrderAccepted, OrderClosed, OrderFilled, Tick
from dca.market import Quote
from dca.money import ZERO, round_down
from dca.strategy import decide, take_profit_trigger, triggers
from tests.core.helpers import SYMBOL, T0, config

INCREMENT = Decimal("0.000001")
MAKER, TAKER = Decimal("0.0015"), Decimal("0.0025")
prices = st.decimals(min_value=Decimal(70), max_value=Decimal(130), places=2)


@dataclass
class Order:
    side: Side
    order_type: OrderType
    qty: Decimal
    limit: Decimal | None
    kind: OrderKind
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fee: Decimal = ZERO
    open: bool = True
    cancelling: bool = False
    reports: list = field(default_factory=list)

    @property
    def avg(self) -> Decimal | None:
        return self.notional / self.filled if self.filled else None


class RestingOrdersAgainstExchange(RuleBasedStateMachine):
    TAKE_PROFIT = OrderType.LIMIT
    TRAILING = False

    SAFETY_DEVIATION = "3"

    def __init__(self) -> None:
        super().__init__()
        self.cfg = config(
            base_order_amount="100", safety_order_amount="100", safety_order_deviation=self.SAFETY_DEVIATION,
            max_safety_orders=4, active_safety_orders=2, take_profit_order_type=self.TAKE_PROFIT,
            take_profit_percent="2", ttp_enabled=self.TRAILING, ttp_deviation_percent="1", stop_loss_percent="15",
            stop_loss_timeout=0, cooldown_period=30, fees=("15", "25"), increments=str(INCREMENT), min_notional="1",
        )
        self.state = AssetState(Cycle(id=1, status=CycleStatus.WATCHING))
        self.now = T0
        self.bid = Decimal(100)
        self.position = ZERO  # the bot's coin on the exchange
        self.orders: dict[str, Order] = {}
        self.next_cycle_id = 2

    # --- driving the core ---------------------------------------------------------------------

    def feed(self, event) -> None:
        before = self.state
        decision = decide(self.cfg, before, event)
        self.state = decision.state
        if decision.completed is not None:
            ended = decision.completed
            assert ended.order is None and ended.resting == (), "a cycle ended with live orders"
        if self.state.cycle.id is None:
            self.state = self.state.evolve(cycle=self.state.cycle.evolve(id=self.next_cycle_id))
            self.next_cycle_id += 1
        refused = []
        for command in decision.commands:
            if isinstance(command, SubmitOrder):
                refusal = self.submit(command, before)
                if refusal is not None:
                    refused.append(refusal)
            elif isinstance(command, CancelOrder):
                self.cancel(command.client_order_id)
        if refused:
            self.refused(refused, before)

    def submit(self, command: SubmitOrder, before: AssetState) -> OrderClosed | None:
        """Take the order, or say how the venue refused it (reported after the decision's other
        submissions, as the driver does)."""
        if command.client_order_id in self.orders:  # the exchange refuses a repeated id
            return None
        refusal = self.venue_refuses(command)
        if refusal is not None:
            return refusal
        if command.kind is OrderKind.TAKE_PROFIT and command.order_type is OrderType.LIMIT:
            assert command.limit_price >= take_profit_trigger(self.cfg, before.cycle)
        self.orders[command.client_order_id] = Order(command.side, command.order_type, command.qty,
                                                     command.limit_price, command.kind)
        self.report(command.client_order_id, OrderAccepted(command.client_order_id, "ex-" + command.client_order_id,
                                                           self.now))
        return None

    def venue_refuses(self, command: SubmitOrder) -> OrderClosed | None:
        """Alpaca's documented wash-trade rule, which the bot must never meet: no market order while an
        opposite order is open, no limit crossing an open opposite limit."""
        opposite = [o for o in self.orders.values() if o.open and o.side is not command.side]
        if command.order_type is OrderType.MARKET:
            assert not opposite, f"market {command.side} while an opposite order is open"
        elif command.side is Side.BUY:
            assert all(command.limit_price < o.limit for o in opposite if o.limit is not None), "buy crosses a sell"
        else:
            assert all(command.limit_price > o.limit for o in opposite if o.limit is not None), "sell crosses a buy"
            assert not any(o.order_type is OrderType.MARKET for o in opposite)
        return None

    def refused(self, refusals: list[OrderClosed], before: AssetState) -> None:
        raise AssertionError("this venue refuses nothing the bot sends")

    def cancel(self, order_id: str) -> None:
        order = self.orders.get(order_id)
        if order is not None and order.open:
            order.cancelling = True  # confirmed later (`exchange_confirms_a_cancel`)

    def report(self, order_id: str, event) -> None:
        self.orders[order_id].reports.append(event)
        self.feed(event)

    def open_orders(self) -> list[str]:
        return [order_id for order_id, order in self.orders.items() if order.open]

    # --- rules ----------------------------------------------------------------------------------

    @rule(price=prices, spread=st.decimals(min_value=0, max_value=1, places=2), seconds=st.integers(1, 120))
    def quote_arrives(self, price, spread, seconds):
        self.now += timedelta(seconds=seconds)
        self.bid = price
        quote = Quote(SYMBOL, price, price + spread, self.now)
        if not triggers(self.cfg, self.state).may_act_on(quote):  # the actor and the backtester skip it
            decision = decide(self.cfg, self.state, quote)
            assert decision.state is self.state and decision.commands == (), "a skippable quote acted"
        self.feed(quote)

    @rule(seconds=st.integers(1, 400))
    def time_passes(self, seconds):
        self.now += timedelta(seconds=seconds)
        self.feed(Tick(self.now))

    @precondition(lambda self: bool(self.open_orders()))
    @rule(data=st.data(), share=st.sampled_from([Decimal("0.3"), Decimal(1)]))
    def exchange_fills(self, data, share):
        order_id = data.draw(st.sampled_from(self.open_orders()))
        order = self.orders[order_id]
        price = order.limit if order.order_type is OrderType.LIMIT and order.kind is not OrderKind.BASE else self.bid
        rate = MAKER if order.order_type is OrderType.LIMIT and order.kind is not OrderKind.BASE else TAKER
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
        final = order.filled == order.qty
        order.open = not final
        self.report(order_id, OrderFilled(order_id, order.filled, order.avg, self.now, final, fee=order.fee))

    @precondition(lambda self: any(self.orders[i].cancelling for i in self.open_orders()))
    @rule(data=st.data())
    def exchange_confirms_a_cancel(self, data):
        order_id = data.draw(st.sampled_from([i for i in self.open_orders() if self.orders[i].cancelling]))
        order = self.orders[order_id]
        order.open = False
        self.report(order_id, OrderClosed(order_id, CloseReason.CANCELED, self.now, order.filled, order.avg,
                                          fee=order.fee))

    @precondition(lambda self: any(o.reports for o in self.orders.values()))
    @rule(data=st.data())
    def an_old_report_arrives_again(self, data):
        order = data.draw(st.sampled_from([o for o in self.orders.values() if o.reports]))
        self.feed(data.draw(st.sampled_from(order.reports)))

    @rule(now=st.integers(0, 9))
    def the_operator_closes(self, now):
        if now == 0:  # now and then
            self.feed(CloseRequested(self.now))

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def at_most_one_acting_order_and_every_open_order_is_known(self):
        cycle = self.state.cycle
        known = {o.client_order_id for o in cycle.live_orders}
        assert set(self.open_orders()) <= known
        assert sum(1 for i in self.open_orders() if self.orders[i].order_type is OrderType.MARKET) <= 1
        assert all(o.order_type is OrderType.LIMIT for o in cycle.resting)

    @invariant()
    def no_open_buy_at_or_above_an_open_sell(self):
        open_orders = [self.orders[i] for i in self.open_orders()]
        buys = [o.limit for o in open_orders if o.side is Side.BUY and o.limit is not None]
        sells = [o.limit for o in open_orders if o.side is Side.SELL and o.limit is not None]
        if buys and sells:
            assert max(buys) < min(sells)

    @invariant()
    def the_bot_holds_exactly_what_its_fills_left(self):
        assert self.state.cycle.quantity >= 0 and self.state.dust >= 0
        assert self.state.held_quantity == self.position


RestingOrdersAgainstExchange.TestCase.settings = settings(
    max_examples=100, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_ladder_and_limit_take_profit_against_an_exchange = RestingOrdersAgainstExchange.TestCase


class LadderWithMarketTakeProfit(RestingOrdersAgainstExchange):
    TAKE_PROFIT = OrderType.MARKET


LadderWithMarketTakeProfit.TestCase.settings = RestingOrdersAgainstExchange.TestCase.settings
test_ladder_with_the_market_take_profit_against_an_exchange = LadderWithMarketTakeProfit.TestCase


class LadderWithTrailingTakeProfit(RestingOrdersAgainstExchange):
    TAKE_PROFIT = OrderType.MARKET
    TRAILING = True


LadderWithTrailingTakeProfit.TestCase.settings = RestingOrdersAgainstExchange.TestCase.settings
test_ladder_with_the_trailing_take_profit_against_an_exchange = LadderWithTrailingTakeProfit.TestCase
