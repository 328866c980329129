"""What the engine tells the world: one `TradeEvent` per order state change.

The service turns each into a `trade_updates` message; a backtester consumes them directly. Fill events
carry the `Execution` (this execution's price, quantity, fee) and the position after it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from adapters.sim.orders import Liquidity, Order, Side
from dca.immutable import immutable


@immutable
class Execution:
    """One fill. `fee` is in `fee_currency`: the coin for buys (deducted from the coin credited), USD for
    sells (deducted from the proceeds). `realized_pnl` is set on sells: (price − avg entry) × qty − fee."""

    id: UUID
    order_id: UUID
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    time: datetime
    position_qty: Decimal
    cash_after: Decimal
    realized_pnl: Decimal | None = None

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


@immutable
class TradeEvent:
    """`event` is Alpaca's name: new, partial_fill, fill, canceled, expired or rejected."""

    event: str
    order: Order
    timestamp: datetime
    position_qty: Decimal  # net position of the order's symbol after the event
    execution: Execution | None = None
    reason: str | None = None  # why an order was canceled, expired or rejected by the exchange
