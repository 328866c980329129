"""Messages between actors. Plain frozen values; nothing here is mutable or shared."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loguru import logger

from dca.assets import AssetRecord
from dca.events import Event
from dca.exchange import ExchangeOrder
from ports.asset_host import OrderLookup


@dataclass(frozen=True, slots=True)
class QuoteReady:
    """A newer quote waits in the asset's slot on the quote board."""


@dataclass(frozen=True, slots=True)
class OrderReport:
    """What the exchange said about one of the asset's orders (from the trade-update stream)."""

    event: Event
    order: ExchangeOrder | None = None


@dataclass(frozen=True, slots=True)
class TimerTick:
    """A deadline the asset scheduled (cooldown end, order timeout) may be due."""


@dataclass(frozen=True, slots=True)
class Housekeeping:
    """Periodic: store a moved trailing peak, refresh the position gauges."""


@dataclass(frozen=True, slots=True)
class CheckOrder:
    """Look the live order up on the exchange and apply whatever was missed (catch-up, reconciler)."""

    reason: OrderLookup


@dataclass(frozen=True, slots=True)
class CheckHoldings:
    """The reconciler read the exchange's position in the asset's symbol (`quantity`) after reading
    that the bot held `expected`. The check applies only if the bot still holds `expected`: a fill
    between the two readings would otherwise look like coins that vanished."""

    quantity: Decimal
    expected: Decimal
    requested_at: float | None = None  # time.monotonic() when the position was asked for; None: on arrival


@dataclass(frozen=True, slots=True)
class FeeLearned:
    """The venue's fee activities gave the fee of one of the asset's finished orders."""

    client_order_id: str
    fee: Decimal


@dataclass(frozen=True, slots=True)
class RecheckFee:
    """Read the position again for a buy whose first reading did not show its fill (positions lag)."""

    client_order_id: str


@dataclass(frozen=True, slots=True)
class ParamsChanged:
    """The asset's row in dca_assets changed; take the new parameters without a restart."""

    record: AssetRecord


@dataclass(frozen=True, slots=True)
class Adopt:
    """Ask: adopt foreign coins into the current cycle (`supervisor.py adopt`); replies with what happened."""

    quantity: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CloseCycle:
    """Ask: sell the current cycle at market and end it (`supervisor.py close`); replies with what happened."""


@dataclass(frozen=True, slots=True)
class CancelOrders:
    """Ask: cancel the cycle's open order and place nothing more (`supervisor.py cancel-orders`; the
    asset is then disabled); replies with what happened."""


@dataclass(frozen=True, slots=True)
class HandleRequests:
    """Tell: look for commands the CLI left for the running supervisor (`dca_requests`)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Ask: the asset's current config, state and last quote (for status and tests)."""


@dataclass(frozen=True, slots=True)
class RunCaretaker:
    """A caretaker's timer fired."""


@dataclass(frozen=True, slots=True)
class StreamConnected:
    pass


@dataclass(frozen=True, slots=True)
class StreamDisconnected:
    pass


@dataclass(frozen=True, slots=True)
class StreamCheck:
    """Periodic: is the stream's thread still alive?"""


@dataclass(frozen=True, slots=True)
class Subscribe:
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    symbols: tuple[str, ...]


def tell_quietly(target: Any, message: Any) -> None:
    """Tell from a foreign thread (a stream callback) without failing when the actor is stopping."""
    try:
        target.tell(message)
    except Exception:  # pykka.ActorDeadError: nobody left to tell during shutdown
        logger.debug("dropped {} for a stopped actor", type(message).__name__)
