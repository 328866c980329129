"""The state of one asset's DCA cycle: immutable values that `decide` maps to new values.

An asset always has exactly one *current* cycle (watching, buying, selling, trailing or cooldown).
`complete` and `error` only appear on a cycle that has ended; `decide` hands such a cycle back in
`Decision.completed`, and the asset carries on in a fresh current cycle.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from dca.conditions import ConditionReading
from dca.immutable import evolved, immutable
from dca.money import ZERO


class CycleStatus(enum.StrEnum):
    WATCHING = "watching"  # flat (waiting to place the base order) or in position (waiting for SO/TP)
    BUYING = "buying"  # a base or safety BUY is live on the exchange
    SELLING = "selling"  # the take-profit SELL is live on the exchange
    TRAILING = "trailing"  # take-profit armed, following the peak bid; no order live
    COOLDOWN = "cooldown"  # after a completed cycle, until the cooldown ends or the price drops enough
    COMPLETE = "complete"  # ended by selling the position (take-profit)
    ERROR = "error"  # ended because the exchange no longer held the position
    STOPPED = "stopped"  # ended by the stop loss: the position sold at market below its cost
    CLOSED = "closed"  # ended by the operator (`supervisor.py close`): the position sold at market

    @property
    def is_terminal(self) -> bool:
        return self in (CycleStatus.COMPLETE, CycleStatus.ERROR, CycleStatus.STOPPED, CycleStatus.CLOSED)

    @property
    def ended_by_sale(self) -> bool:
        """The cycle ended by selling what it held (whatever decided the sale)."""
        return self in (CycleStatus.COMPLETE, CycleStatus.STOPPED, CycleStatus.CLOSED)


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderKind(enum.StrEnum):
    BASE = "base"
    SAFETY = "safety"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"  # the market sale of the stop loss
    CLOSE = "close"  # the market sale the operator asked for (`supervisor.py close`)


class FeeSource(enum.StrEnum):
    VENUE = "venue"  # what the venue took, from its position or its fee activities
    ESTIMATE = "estimate"  # from the configured rates, until the venue confirms


class OrderType(enum.StrEnum):
    LIMIT = "limit"
    MARKET = "market"


@immutable
class LiveOrder:
    """The one order a cycle has on the exchange, and how much of it has been applied to the cycle.

    The filled figures are cumulative for the order and only ever move forward, so a duplicated or
    reordered exchange report can never apply a fill twice.
    """

    client_order_id: str
    kind: OrderKind
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    created_at: datetime
    exchange_id: str | None = None
    filled_qty: Decimal = ZERO  # gross, as the exchange reports it
    filled_notional: Decimal = ZERO  # quote currency, filled_qty × average fill price
    fee: Decimal = ZERO  # in the asset received: the coin for a buy, the quote currency for a sell
    fee_source: FeeSource = FeeSource.ESTIMATE  # VENUE once the venue's own figures gave the fee
    position_before: Decimal | None = None  # the exchange's position in the symbol just before submission
    cancel_requested_at: datetime | None = None

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_notional / self.filled_qty if self.filled_qty else None

    def evolve(self, **changes: object) -> LiveOrder:
        return evolved(self, changes)


@immutable
class Cycle:
    """One DCA cycle: what it holds, what it paid, and what it is doing now."""

    id: int | None
    status: CycleStatus
    quantity: Decimal = ZERO  # coin held, net of the fees taken in coin
    cost: Decimal = ZERO  # quote currency paid for the coin still held
    safety_orders: int = 0
    last_fill_price: Decimal | None = None
    peak_price: Decimal | None = None  # highest bid while trailing
    order: LiveOrder | None = None
    order_seq: int = 0  # orders issued in this cycle; the next one gets order_seq + 1
    cooldown_until: datetime | None = None
    retry_at: datetime | None = None  # no new order before this, after one failed
    bought_qty: Decimal = ZERO  # gross coin bought over the cycle
    buy_fees: Decimal = ZERO  # coin
    sold_qty: Decimal = ZERO
    sell_notional: Decimal = ZERO  # quote currency, gross
    sell_fees: Decimal = ZERO  # quote currency
    realized_pnl: Decimal = ZERO  # proceeds net of fees minus the cost of what was sold
    sell_price: Decimal | None = None
    completed_at: datetime | None = None
    # Since when the bid has stayed at or below the stop-loss level (market time); None above it. The
    # stop loss sells once this is `stop_loss_timeout` seconds old; a bid back above the level clears it.
    stop_loss_since: datetime | None = None
    close_requested_at: datetime | None = None  # the operator asked to close: sold at market, then ended
    # Orders placed ahead of need that rest on the book while the cycle watches: the safety orders of
    # the ladder (`active_safety_orders`) and the limit take-profit (`take_profit_order_type=limit`).
    # `order` stays the cycle's one *acting* order (the status BUYING/SELLING speaks of it).
    resting: tuple[LiveOrder, ...] = ()

    @property
    def average_price(self) -> Decimal:
        """Average cost per coin held, fees included (0 when flat)."""
        return self.cost / self.quantity if self.quantity > 0 else ZERO

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def live_orders(self) -> tuple[LiveOrder, ...]:
        """Every order the cycle has on the exchange: the acting one first, then the resting ones."""
        return self.resting if self.order is None else (self.order, *self.resting)

    def live_order(self, client_order_id: str) -> LiveOrder | None:
        """The cycle's live order (acting or resting) with this id, if any."""
        for order in self.live_orders:
            if order.client_order_id == client_order_id:
                return order
        return None

    def evolve(self, **changes: object) -> Cycle:
        return evolved(self, changes)


def new_cycle(status: CycleStatus = CycleStatus.WATCHING, cooldown_until: datetime | None = None) -> Cycle:
    """A fresh cycle, not yet persisted (`id` is assigned by whoever stores it)."""
    return Cycle(id=None, status=status, cooldown_until=cooldown_until)


@immutable
class AssetState:
    """Everything `decide` remembers about an asset between events."""

    cycle: Cycle
    last_sell_price: Decimal | None = None  # of the last completed cycle: the price-triggered restart
    dust: Decimal = ZERO  # coin left by completed cycles below the trade increment; joins the next sell
    # What the venue let the bot sell at its last reading (its qty_available less foreign coins) and
    # when: a sell is capped by it for a while. Not stored: a restarted actor reads the venue again.
    sellable: Decimal | None = None
    sellable_at: datetime | None = None
    # The latest reading of the deal start condition (not stored: the driver reads the bars again).
    start_reading: ConditionReading | None = None
    # The venue refused a resting order as a wash trade although none crossed: it refuses any order
    # while an opposite one is open, so resting orders rest on one side at a time (dca/resting.py).
    # Not stored: a restarted bot learns it again from one refusal.
    one_side_at_a_time: bool = False

    def evolve(self, **changes: object) -> AssetState:
        return evolved(self, changes)

    @property
    def held_quantity(self) -> Decimal:
        """Coin the bot owns in this symbol: the cycle's quantity plus leftover dust."""
        return self.cycle.quantity + self.dust
