"""Cash and positions of the one simulated account.

Choices (documented in README.md):
* A position's `qty` is net of the coin fees (what the account holds and can sell).
* `avg_entry_price` is the mean of the buy prices weighted by the coin actually credited, rounded
  half-even to 10 decimals; sells leave it unchanged. `cost_basis` = qty × avg_entry_price.
* Cash is exact: a buy costs qty × price; a sell brings qty × price − fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from adapters.sim.orders import AVG_PRICE_QUANTUM

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Position:
    symbol: str  # canonical pair, "BTC/USD"
    qty: Decimal
    avg_entry_price: Decimal

    @property
    def cost_basis(self) -> Decimal:
        return self.qty * self.avg_entry_price

    def bought(self, credited: Decimal, price: Decimal) -> Position:
        qty = self.qty + credited
        avg = (self.avg_entry_price * self.qty + price * credited) / qty
        return Position(self.symbol, qty, avg.quantize(AVG_PRICE_QUANTUM, ROUND_HALF_EVEN))

    def sold(self, qty: Decimal) -> Position:
        return Position(self.symbol, self.qty - qty, self.avg_entry_price)


class Ledger:
    """USD cash and coin positions; knows nothing about orders."""

    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.positions: dict[str, Position] = {}

    def position_qty(self, symbol: str) -> Decimal:
        position = self.positions.get(symbol)
        return position.qty if position else ZERO

    def credit_buy(self, symbol: str, cost: Decimal, credited: Decimal, price: Decimal) -> None:
        self.cash -= cost
        position = self.positions.get(symbol) or Position(symbol, ZERO, ZERO)
        self.positions[symbol] = position.bought(credited, price)

    def debit_sell(self, symbol: str, qty: Decimal, net_proceeds: Decimal) -> Decimal:
        """Returns the average entry price the sold coins carried (for realized P&L)."""
        position = self.positions[symbol]
        self.cash += net_proceeds
        remaining = position.sold(qty)
        if remaining.qty == 0:
            del self.positions[symbol]
        else:
            self.positions[symbol] = remaining
        return position.avg_entry_price
