"""What happens to an asset: the inputs of `decide`.

Order events carry the order's *cumulative* filled quantity and average price, exactly as Alpaca's
order object reports them, not the size of the last execution. That makes every order event
idempotent: a duplicate, a late one, or the same state read back over REST after a reconnect
applies nothing twice; the core applies only the part not seen before.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from dca.conditions import ConditionReading
from dca.cycle import Side
from dca.immutable import immutable
from dca.market import Quote
from dca.money import ZERO


class CloseReason(enum.StrEnum):
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RejectionKind(enum.StrEnum):
    """Why the venue refused an order, as the adapter that received its answer typed it (the
    values are the `dca_orders_rejected_total` reason labels). A refusal reported on the stream
    carries no text: `EXCHANGE`."""

    INSUFFICIENT_BALANCE = "insufficient_balance"
    BELOW_MINIMUM = "below_minimum"
    TIME_IN_FORCE = "time_in_force"
    WASH_TRADE = "wash_trade"  # it could have traded against the account's own open opposite order
    EXCHANGE = "exchange"
    OTHER = "other"


@immutable
class PositionBeforeOrder:
    """The exchange's position in the symbol, read just before the live order is submitted. The
    core keeps it with the order: the final fill's position minus this is what the buy really
    credited, which gives the exact fee taken in coin (see `OrderFilled.position_qty`)."""

    client_order_id: str
    quantity: Decimal
    time: datetime


@immutable
class OrderAccepted:
    """The exchange has the order (REST acknowledgement, or a `new`/`accepted` trade update)."""

    client_order_id: str
    exchange_id: str
    time: datetime


@immutable
class OrderFilled:
    """The order has filled `filled_qty` (cumulative, gross) at `filled_avg_price` (cumulative VWAP).

    `final` is True for the terminal `fill`, False for a `partial_fill`. `fee` is the cumulative fee
    when the source knows it exactly (the backtester's exchange); otherwise None, and the core infers
    it: for a final buy from `position_qty` (the exchange's position after the fill) against the
    position before the order, else from the fee schedule.
    """

    client_order_id: str
    filled_qty: Decimal
    filled_avg_price: Decimal
    time: datetime
    final: bool
    position_qty: Decimal | None = None
    fee: Decimal | None = None
    exchange_id: str | None = None


@immutable
class OrderClosed:
    """The order ended without filling completely: canceled, rejected or expired, possibly after
    partial fills (which the cycle keeps)."""

    client_order_id: str
    reason: CloseReason
    time: datetime
    filled_qty: Decimal = ZERO
    filled_avg_price: Decimal | None = None
    position_qty: Decimal | None = None
    fee: Decimal | None = None
    message: str = ""  # the venue's words, for the log only
    rejection: RejectionKind = RejectionKind.EXCHANGE  # why, when `reason` is REJECTED


@immutable
class OrderNotFound:
    """The exchange has no order with this client_order_id (a lookup after a crash or a failed submit)."""

    client_order_id: str
    time: datetime


@immutable
class Tick:
    """Time has passed (a timer fired): deadlines such as the cooldown or an order timeout may be due."""

    time: datetime


@immutable
class HoldingsChecked:
    """The reconciler read the exchange's position in the symbol (`quantity`, 0 if none)."""

    quantity: Decimal
    time: datetime


@immutable
class SellableChecked:
    """What the venue lets the bot sell now: its `qty_available` less coins known to be foreign (see
    `dca.exchange.sellable_for_bot`), read before a sell or from an "insufficient balance" answer."""

    quantity: Decimal
    time: datetime


@immutable
class FeeConfirmed:
    """The venue's own figures gave a finished order's fee (`confirmed`) where the books hold
    `estimated`. Applied once: the order is then marked as venue-confirmed."""

    client_order_id: str
    side: Side
    estimated: Decimal
    confirmed: Decimal
    in_current_cycle: bool
    time: datetime


@immutable
class PositionAdopted:
    """The user adopts coins the bot did not buy (`supervisor.py adopt`) into the current cycle."""

    quantity: Decimal
    price: Decimal  # what one coin is taken to have cost (the exchange's average entry price by default)
    time: datetime


@immutable
class ConditionChecked:
    """The asset's deal start condition, read from its one-minute bars at `reading.as_of` (see
    `dca.conditions`). The drivers read it from the same bars live and in backtests; the core only
    uses its truth for the quotes of that minute."""

    reading: ConditionReading
    time: datetime


@immutable
class CloseRequested:
    """The operator asks to sell the current cycle at market and end it (`supervisor.py close`)."""

    time: datetime


@immutable
class CancelRequested:
    """The operator asks to cancel the cycle's open order (`supervisor.py cancel-orders`); the driver
    then pauses the asset, so nothing new is placed."""

    time: datetime


Event = (Quote | PositionBeforeOrder | OrderAccepted | OrderFilled | OrderClosed | OrderNotFound | Tick
         | HoldingsChecked | SellableChecked | FeeConfirmed | PositionAdopted | ConditionChecked | CloseRequested
         | CancelRequested)
