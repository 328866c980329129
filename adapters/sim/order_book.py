"""The engine's orders: every snapshot by id and by client order id, the open ones by pair, and what
open orders hold back (cash for buys, coin for sells), kept in step on every change.

Inside, an order is keyed by its id's integer (`UUID.int`): hashing a `UUID` is a Python call, and the
book is read and written several times per order and per quote (thousands of times per backtest)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from adapters.sim.errors import NotFound
from adapters.sim.orders import Order, Side

ZERO = Decimal(0)


class OrderBook:
    def __init__(self) -> None:
        self._orders: dict[int, Order] = {}
        self._by_client_id: dict[str, int] = {}
        self._open_by_symbol: dict[str, dict[int, None]] = {}
        self.reserved_cash = ZERO  # cash held back by open buy orders
        self._reserved_coin: dict[str, Decimal] = {}

    def get(self, order_id: uuid.UUID | str) -> Order:
        try:  # a UUID is its own key; text (a REST path) is parsed
            return self._orders[(order_id if isinstance(order_id, uuid.UUID) else uuid.UUID(str(order_id))).int]
        except (KeyError, ValueError):
            raise NotFound("order not found") from None

    def by_client_id(self, client_order_id: str) -> Order:
        if client_order_id not in self._by_client_id:
            raise NotFound("order not found")
        return self._orders[self._by_client_id[client_order_id]]

    def has_client_id(self, client_order_id: str) -> bool:
        return client_order_id in self._by_client_id

    def all(self) -> list[Order]:
        """Every order ever accepted, in submission order."""
        return list(self._orders.values())

    def open(self, symbol: str | None = None) -> list[Order]:
        if symbol is not None:
            return [self._orders[key] for key in self._open_by_symbol.get(symbol, {})]
        return [order for order in self._orders.values() if order.is_open]

    def open_keys(self, symbol: str) -> dict[int, None] | None:
        """The keys of the pair's open orders, oldest first (the live index: copy it before changing orders)."""
        return self._open_by_symbol.get(symbol)

    def snapshot(self, key: int) -> Order:
        """The order under a key of `open_keys`."""
        return self._orders[key]

    def reserved_coin(self, symbol: str) -> Decimal:
        """Coin of the pair held back by open sell orders."""
        return self._reserved_coin.get(symbol, ZERO)

    def add(self, order: Order) -> Order:
        """A newly accepted order."""
        order = self.store(order)
        self._by_client_id[order.client_order_id] = order.id.int
        return order

    def store(self, order: Order) -> Order:
        """Replace the order's snapshot and keep the reservation totals and the open index in step."""
        is_open = order.is_open
        if not is_open and order.reserved != 0:
            order = order.evolve(reserved=ZERO)
        key = order.id.int
        previous = self._orders.get(key)
        if previous is order:  # the snapshot it already has (a resting order no quote reached)
            return order
        # a new order's delta is reserved − 0, not reserved itself: the subtraction can respell a Decimal
        delta = order.reserved - (previous.reserved if previous is not None else ZERO)
        if delta:
            if order.side is Side.BUY:
                self.reserved_cash += delta
            else:
                self._reserved_coin[order.symbol] = self._reserved_coin.get(order.symbol, ZERO) + delta
        self._orders[key] = order
        open_keys = self._open_by_symbol.setdefault(order.symbol, {})
        if is_open:
            open_keys[key] = None
        else:
            open_keys.pop(key, None)
        return order

    def load(self, orders: list[Order]) -> None:
        """Start over with these orders (a saved state), rebuilding the indexes and reservations."""
        self._orders, self._by_client_id, self._open_by_symbol = {}, {}, {}
        self.reserved_cash, self._reserved_coin = ZERO, {}
        for order in orders:
            self.add(order)
