"""Property test: the ladder and the limit take-profit against an exchange under the strictest reading
of Alpaca's wash-trade rule (`wash_trade_check=any_opposite`: any order is refused while an opposite
one of the account is open).

The exchange of tests/core/test_resting_properties.py (every order kept, random fills, late cancels,
repeated reports, the operator's close), with this venue rule instead of the documented one: a refused
submission is reported the way the driver reports it (`OrderClosed` REJECTED, `RejectionKind.WASH_TRADE`),
after the decision's other submissions. Now and then the bot restarts, which forgets the lesson (it is
not stored). Invariants, besides the general ones (every open order known, no buy at or above an open
sell, the bot holds what its fills left, no cycle ends with live orders, the take-profit never below
its trigger, skippable quotes change nothing):

* once the asset has learned to keep one side at a time, the venue refuses none of its orders again,
  and before that no decision has more than one of its orders refused (so one refusal per asset and
  process: the circuit breaker counts each);
* a refusal that taught the lesson leaves no failure to wait out.
"""

from __future__ import annotations

from hypothesis.stateful import rule

from dca.commands import SubmitOrder
from dca.cycle import AssetState
from dca.events import CloseReason, OrderClosed, RejectionKind
from tests.core.test_resting_properties import RestingOrdersAgainstExchange


class OneSideAtATime(RestingOrdersAgainstExchange):
    SAFETY_DEVIATION = "2"

    def venue_refuses(self, command: SubmitOrder) -> OrderClosed | None:
        if any(o.open and o.side is not command.side for o in self.orders.values()):
            return OrderClosed(command.client_order_id, CloseReason.REJECTED, self.now,
                               message="potential wash trade detected. use complex orders",
                               rejection=RejectionKind.WASH_TRADE)
        return None

    def refused(self, refusals: list[OrderClosed], before: AssetState) -> None:
        assert len(refusals) == 1, "one decision's orders refused more than once (the breaker counts each)"
        assert not before.one_side_at_a_time, "refused as a wash trade after the asset learned one side at a time"
        waiting = self.state.cycle.retry_at
        self.feed(refusals[0])
        assert self.state.one_side_at_a_time
        assert self.state.cycle.retry_at == waiting, "a refusal that taught the lesson is waited out"

    @rule()
    def the_bot_restarts(self):
        self.state = self.state.evolve(one_side_at_a_time=False)  # the lesson is not stored


OneSideAtATime.TestCase.settings = RestingOrdersAgainstExchange.TestCase.settings
test_one_side_at_a_time_against_an_exchange_refusing_any_opposite_order = OneSideAtATime.TestCase
