"""The matching engine: orders, fills, fees and the account, with no network, threads or clock.

Time always comes in as an argument (`now`, or a quote's `time`). Randomness comes from private
`random.Random` streams seeded from `seed`, so the same seed and the same calls give the same order
ids, fills and fees. A `salt` (the simulator's exchange instance) goes into the id stream only, so
two exchanges with one seed never hand out the same order ids while fills stay reproducible. The
backtester uses this class directly as its fill model.

Matching rules (README.md, "Matching"):

* An order is first matched against the NEXT quote `on_quote` processes for its symbol, never against
  the quote that was current when it arrived (no look-ahead in a backtest).
* On that first eligible quote a market buy fills at the ask (a sell at the bid), worsened by
  `slippage_bps`; a limit buy fills if ask ≤ limit, at the ask (a sell if bid ≥ limit, at the bid).
  These are taker fills.
* A limit order that did not cross then rests; on a later quote whose opposite side reaches its
  limit (ask ≤ limit for a buy, bid ≥ limit for a sell) it fills at its limit price as a maker.
* stop_limit: from its first eligible quote on, a buy triggers when ask ≥ stop (a sell when
  bid ≤ stop); the triggering quote is then its first quote as a limit order (taker if it crosses).
* ioc/fok: whatever has not filled after the first eligible quote is canceled (fok never partially fills).
* A market order's unfilled remainder (after a partial fill) keeps taking on later quotes.

Fees: a buy pays `qty × rate` in the coin, rounded up (as Alpaca bills it) to `rules.coin_fee_quantum`
(1e-9), and the position is credited `qty − fee`; a sell pays `qty × price × rate` in USD, rounded up to
`rules.usd_fee_quantum` (the cent). `rules.fee_rounding` may say half_even or exact instead. Maker rate
for resting limit fills, taker rate otherwise.

The engine sequences the steps; each concern lives in its own module: `validation` (would Alpaca accept
it), `reservations` (what an open order holds back), `order_book` (the orders, their indexes and the
reservation totals), `fills` (price, quantity and fee of a fill) and `accounting.Ledger` (cash and
positions).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.sim import fills, validation
from adapters.sim.accounting import Ledger, Position
from adapters.sim.assets import AssetCatalog, AssetSpec
from adapters.sim.errors import NotCancelable, forbidden, invalid
from adapters.sim.events import Execution, TradeEvent
from adapters.sim.order_book import OrderBook
from adapters.sim.orders import Liquidity, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from adapters.sim.reservations import buy_reservation, reserved_for, sell_reservation
from adapters.sim.rules import ExchangeRules, FillModel
from adapters.sim.validation import text
from adapters.sim.wash_trades import wash_trade_refusal
from dca.market import Quote
from dca.money import round_down, round_up

ZERO = Decimal(0)
# the bits `uuid.UUID(int=..., version=4)` overwrites: the variant (RFC 4122) and the version (4)
_UUID4_CLEARED = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)
CLOSED_AT = {OrderStatus.CANCELED: "canceled_at", OrderStatus.EXPIRED: "expired_at", OrderStatus.REJECTED: "failed_at"}


class MatchingEngine:
    """One account on one exchange. Mutating methods return the `TradeEvent`s they caused, in order."""

    def __init__(
        self,
        catalog: AssetCatalog,
        *,
        seed: int = 1,
        salt: str = "",
        starting_cash: Decimal = Decimal(100_000),
        rules: ExchangeRules | None = None,
        fill_model: FillModel | None = None,
    ) -> None:
        self.catalog = catalog
        self.rules = rules or ExchangeRules()
        self.fill_model = fill_model or FillModel()
        self.ledger = Ledger(starting_cash)
        self.book = OrderBook()
        self.executions: list[Execution] = []
        # no salt keeps the ids of exchanges created before salts existed (and of backtests)
        self._id_rng = random.Random(f"alpaca-sim:{seed}:ids" + (f":{salt}" if salt else ""))
        self._fill_rng = random.Random(f"alpaca-sim:{seed}:fills")
        self._last_quote: dict[str, Quote] = {}
        self._sequence = 0
        self.wash_trade_refusals = 0  # orders refused by the wash-trade check (counted for tests)

    # ------------------------------------------------------------------ queries

    @property
    def cash(self) -> Decimal:
        return self.ledger.cash

    @property
    def reserved_cash(self) -> Decimal:
        """Cash held back by open buy orders."""
        return self.book.reserved_cash

    @property
    def buying_power(self) -> Decimal:
        """Cash not reserved by open buy orders (Alpaca's non_marginable_buying_power), less the
        `buying_power_holdback` of the buying_power_below_cash quirk."""
        return self.ledger.cash - self.book.reserved_cash - self.rules.buying_power_holdback

    def position(self, symbol: str) -> Position | None:
        return self.ledger.positions.get(self.catalog.get(symbol).symbol)

    def positions(self) -> list[Position]:
        return sorted(self.ledger.positions.values(), key=lambda position: position.symbol)

    def position_qty(self, symbol: str) -> Decimal:
        return self.ledger.position_qty(self.catalog.get(symbol).symbol)

    def qty_available(self, symbol: str) -> Decimal:
        """Position quantity not reserved by open sell orders."""
        return self._qty_available(self.catalog.get(symbol).symbol)

    def _qty_available(self, symbol: str) -> Decimal:
        return self.ledger.position_qty(symbol) - self.book.reserved_coin(symbol)

    def order(self, order_id: uuid.UUID | str) -> Order:
        return self.book.get(order_id)

    def order_by_client_id(self, client_order_id: str) -> Order:
        return self.book.by_client_id(client_order_id)

    def orders(self) -> list[Order]:
        """Every order ever accepted, in submission order."""
        return self.book.all()

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self.book.open(self.catalog.get(symbol).symbol if symbol is not None else None)

    def min_order_size(self, symbol: str) -> Decimal:
        """The pair's minimum quantity: the asset's, or `rules.min_order_usd` of the coin at the current mid
        (the min_order_size_usd quirk: Alpaca's minimum moves with the price)."""
        return self._min_order_size(self.catalog.get(symbol))

    def _min_order_size(self, spec: AssetSpec) -> Decimal:
        quote = self._last_quote.get(spec.symbol)
        usd = self.rules.min_order_usd
        if usd is None or quote is None:
            return spec.min_order_size
        return round_up(usd * 2 / (quote.bid + quote.ask), spec.min_trade_increment)

    def last_quote(self, symbol: str) -> Quote | None:
        return self._last_quote.get(self.catalog.get(symbol).symbol)

    # ------------------------------------------------------------------ commands

    def submit(self, request: OrderRequest, now: datetime) -> tuple[Order, list[TradeEvent]]:
        """Validate and accept an order. Raises `OrderRejected` (no order, no event) when Alpaca would
        refuse it. Returns the order as the POST response shows it (`rules.accepted_status`) and the
        `new` event; the order is then matched from the next quote of its symbol on."""
        order = self.accept(request, now)
        event = TradeEvent("new", order, now, self.ledger.position_qty(order.symbol))
        accepted = OrderStatus(self.rules.accepted_status)
        return (order if accepted is order.status else order.evolve(status=accepted)), [event]

    def accept(self, request: OrderRequest, now: datetime) -> Order:
        """`submit` for a caller that reads only the order's id (the backtest venue): the order as the
        book holds it, with neither the `new` event nor the POST response's copy built."""
        rules = self.rules
        spec, side, order_type, tif = validation.kind(request, self.catalog, rules)
        wanted_id = request.client_order_id
        client_order_id = (validation.client_id(wanted_id, self.book.has_client_id(wanted_id), rules)
                           if wanted_id else str(self._new_id()))
        min_order_size = self._min_order_size(spec)
        qty, notional = validation.size(request, spec, min_order_size)
        limit_price, stop_price = validation.prices(request, spec, order_type, rules)
        if spec.quote_currency != "USD":
            raise invalid(f"the simulator trades only USD-quoted pairs, not {spec.symbol}")
        estimate = validation.price_estimate(spec, side, limit_price, self._last_quote.get(spec.symbol))
        cost = notional if notional is not None else qty * estimate  # type: ignore[operator]
        validation.notional_limits(cost, side, rules)
        target_qty = qty
        if notional is not None and order_type is not OrderType.MARKET:
            target_qty = round_down(notional / limit_price, spec.min_trade_increment)  # type: ignore[operator]
            if target_qty < min_order_size:
                raise forbidden(f"qty must be >= {text(min_order_size)}")
        # after the request's own checks (sizes, minimums): it is about the account's other orders
        refusal = wash_trade_refusal(side, order_type, limit_price, self.book.open(spec.symbol),
                                     rules.wash_trade_check, rules.wash_trade_status)
        if refusal is not None:
            self.wash_trade_refusals += 1
            raise refusal
        if side is Side.BUY:
            reserve_price, reserved = buy_reservation(spec, order_type, target_qty, notional, estimate, rules,
                                                      self.buying_power, self.ledger.cash)
        else:
            reserve_price, reserved = sell_reservation(spec, target_qty, notional, estimate,
                                                       self._qty_available(spec.symbol),
                                                       self.ledger.position_qty(spec.symbol))
        self._sequence += 1
        return self.book.add(Order(
            id=self._new_id(),
            client_order_id=client_order_id,
            symbol=spec.symbol,
            asset_id=spec.id,
            side=side,
            type=order_type,
            time_in_force=tif,
            qty=qty,
            notional=notional,
            limit_price=limit_price,
            stop_price=stop_price,
            status=OrderStatus.NEW,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            sequence=self._sequence,
            target_qty=target_qty,
            reserve_price=reserve_price,
            reserved=reserved,
            extended_hours=request.extended_hours,
        ))

    def cancel(self, order_id: uuid.UUID | str, now: datetime, deferred: bool = False) -> list[TradeEvent]:
        """Cancel an open order: `canceled` event. 404 if unknown, 422 if already terminal (or already
        pending_cancel). `deferred`: the order goes `pending_cancel` now and is canceled on the next quote
        of its pair, after that quote had its chance to fill it (the pending_events quirk)."""
        order = self.order(order_id)
        if not order.is_open or order.status is OrderStatus.PENDING_CANCEL:
            raise NotCancelable(order.status.value)
        if deferred:
            order = self.book.store(order.evolve(status=OrderStatus.PENDING_CANCEL, updated_at=now))
            return [TradeEvent("pending_cancel", order, now, self.ledger.position_qty(order.symbol))]
        return [self._close(order, OrderStatus.CANCELED, now, "canceled by client")]

    def finish_cancels(self, now: datetime) -> list[TradeEvent]:
        """Cancel every order whose cancel is pending now, without waiting for its pair's next quote."""
        pending = [order for order in self.open_orders() if order.status is OrderStatus.PENDING_CANCEL]
        return [self._close(order, OrderStatus.CANCELED, now, "canceled by client") for order in pending]

    def cancel_all(self, now: datetime, deferred: bool = False) -> list[TradeEvent]:
        events: list[TradeEvent] = []
        for order in self.open_orders():
            if order.status is not OrderStatus.PENDING_CANCEL:
                events += self.cancel(order.id, now, deferred)
        return events

    def reject(self, order_id: uuid.UUID | str, now: datetime, reason: str = "rejected") -> list[TradeEvent]:
        """Reject an accepted, unfilled order after the fact (fault injection): `rejected` event."""
        order = self.order(order_id)
        if not order.is_open or order.filled_qty > 0:
            return []
        return [self._close(order, OrderStatus.REJECTED, now, reason)]

    def expire(self, order_id: uuid.UUID | str, now: datetime, reason: str = "expired") -> list[TradeEvent]:
        order = self.order(order_id)
        if not order.is_open:
            return []
        return [self._close(order, OrderStatus.EXPIRED, now, reason)]

    def on_quote(self, quote: Quote) -> list[TradeEvent]:
        """Make `quote` the current market for its symbol and match that symbol's open orders against it,
        oldest first."""
        symbol = quote.symbol
        self._last_quote[symbol] = quote
        open_keys = self.book.open_keys(symbol)
        if not open_keys:  # most quotes of a backtest: nothing to match
            return []
        events: list[TradeEvent] = []
        snapshot = self.book.snapshot
        for key in list(open_keys):
            events += self._match(snapshot(key), quote)
            order = snapshot(key)
            if order.status is OrderStatus.PENDING_CANCEL:  # still open (not terminal): its cancel is due
                time = max(quote.time, order.updated_at)
                events.append(self._close(order, OrderStatus.CANCELED, time, "canceled by client"))
        return events

    def on_quotes(self, quotes: Iterable[Quote]) -> list[TradeEvent]:
        events: list[TradeEvent] = []
        for quote in quotes:
            events.extend(self.on_quote(quote))
        return events

    # ------------------------------------------------------------------ matching

    def _match(self, order: Order, quote: Quote) -> list[TradeEvent]:
        # a quote stamped before the order (only when a real-time pacer lags) must not date the fill
        # before the submission
        time = max(quote.time, order.submitted_at)
        first = not order.first_quote_seen
        expiry = self.rules.gtc_expiry
        stop_limit = order.type is OrderType.STOP_LIMIT
        if first:
            if expiry is None and not stop_limit:
                filled = self._fill_on_arrival(order, self.catalog.get(order.symbol), quote, time)
                if filled is not None:
                    return filled
            order = order.evolve(first_quote_seen=True)
        if expiry is not None and quote.time - order.submitted_at >= expiry:
            return [self._close(order, OrderStatus.EXPIRED, time, "gtc expiry")]
        taker = first
        if stop_limit and not order.triggered:
            if not fills.stop_touched(order, quote):
                if first and order.time_in_force is not TimeInForce.GTC:
                    return [self._close(order, OrderStatus.CANCELED, time, "ioc: stop not triggered")]
                self.book.store(order)
                return []
            order, taker = order.evolve(triggered=True), True
        events: list[TradeEvent] = []
        spec = self.catalog.get(order.symbol)
        price, liquidity = fills.fill_price(order, quote, taker, spec, self.rules)
        if price is not None:
            if order.target_qty is None:
                order = self._size_notional_market(order, price)
            remaining = order.remaining_qty
            if remaining and remaining > 0:
                qty = fills.fill_qty(order, quote, spec.min_trade_increment, self.fill_model, self._fill_rng)
                order, events = self._execute(order, spec, qty, price, liquidity, time)
        if order.is_open:
            if taker and order.time_in_force is not TimeInForce.GTC:
                events.append(self._close(order, OrderStatus.CANCELED, time, "ioc remainder"))
                return events
            remaining = order.remaining_qty
            if remaining is not None and remaining <= 0:
                events.append(self._close(order, OrderStatus.CANCELED, time, "nothing left to fill"))
                return events
        self.book.store(order)  # a resting order the quote did not reach is its own snapshot: nothing stored
        return events

    def _fill_on_arrival(self, order: Order, spec: AssetSpec, quote: Quote, time: datetime,
                         ) -> list[TradeEvent] | None:
        """The common case of `_match`, in fewer snapshots: an order that its first quote fills whole
        as a taker (a marketable limit, a market order with a quantity), with no partial-fill model,
        no expiry and enough cash or coin. The same price, fee, ledger, execution and events as the
        general path; None (nothing changed, no random draw) whenever the order is not that case."""
        model = self.fill_model
        if order.target_qty is None or model.partial_fill_probability > 0 or model.bound_by_quote_size:
            return None
        price, liquidity = fills.fill_price(order, quote, True, spec, self.rules)
        qty = order.remaining_qty
        if price is None or qty is None or qty <= 0:
            return None
        if order.side is Side.BUY:
            if qty * price > self.ledger.cash - (self.book.reserved_cash - order.reserved):
                return None
        elif qty > self._coin_held_for(order):
            return None
        return self._execute(order, spec, qty, price, liquidity, time, first_quote=True)[1]

    def _size_notional_market(self, order: Order, price: Decimal) -> Order:
        """A notional market order gets its quantity from the price of its first fill."""
        spec = self.catalog.get(order.symbol)
        assert order.notional is not None
        qty = round_down(order.notional / price, spec.min_trade_increment)
        if order.side is Side.SELL:
            qty = min(qty, self._coin_held_for(order))
        return order.evolve(target_qty=max(qty, ZERO), reserve_price=price)

    def _execute(
        self, order: Order, spec: AssetSpec, qty: Decimal, price: Decimal, liquidity: Liquidity, time: datetime,
        first_quote: bool = False,
    ) -> tuple[Order, list[TradeEvent]]:
        """`first_quote`: also mark the order as matched (`_fill_on_arrival`, which has checked that
        the whole remainder fills: neither short-of-cash nor short-of-coin branch runs then)."""
        rules = self.rules
        rate = rules.maker_fee_rate if liquidity is Liquidity.MAKER else rules.taker_fee_rate
        short_of_cash = False
        realized: Decimal | None = None
        if order.side is Side.BUY:
            affordable = self.ledger.cash - (self.book.reserved_cash - order.reserved)
            notional = qty * price
            if notional > affordable:  # the price moved past the reservation: fill what cash allows
                qty, short_of_cash = round_down(max(affordable, ZERO) / price, spec.min_trade_increment), True
                if qty <= 0:
                    event = self._close(order, OrderStatus.CANCELED, time, "insufficient buying power")
                    return event.order, [event]
                notional = qty * price
            fee = fills.fee(qty * rate, rules.coin_fee_quantum, rules.fee_rounding)
            self.ledger.credit_buy(spec.symbol, notional, qty - fee, price)
            fee_currency = spec.base
        else:
            qty = min(qty, self._coin_held_for(order))
            if qty <= 0:
                event = self._close(order, OrderStatus.CANCELED, time, "insufficient position")
                return event.order, [event]
            notional = qty * price
            fee = fills.fee(notional * rate, rules.usd_fee_quantum, rules.fee_rounding)
            avg_entry = self.ledger.debit_sell(spec.symbol, qty, notional - fee)
            realized = (price - avg_entry) * qty - fee
            fee_currency = "USD"
        filled_qty = order.filled_qty + qty
        done = order.target_qty is not None and filled_qty >= order.target_qty
        order = order.evolve(
            filled_qty=filled_qty, filled_notional=order.filled_notional + notional, fees=order.fees + fee,
            status=OrderStatus.FILLED if done else fills.partly_filled_status(order), updated_at=time,
            filled_at=time if done else None, first_quote_seen=first_quote or order.first_quote_seen,
            reserved=ZERO if done else order.reserved)  # a filled order holds nothing back
        order = self.book.store(order if done else order.evolve(reserved=reserved_for(order)))
        position_qty = self.ledger.position_qty(spec.symbol)
        execution = Execution(
            id=self._new_id(),
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=spec.symbol,
            side=order.side,
            qty=qty,
            price=price,
            fee=fee,
            fee_currency=fee_currency,
            liquidity=liquidity,
            time=time,
            position_qty=position_qty,
            cash_after=self.ledger.cash,
            realized_pnl=realized,
        )
        self.executions.append(execution)
        events = [TradeEvent("fill" if done else "partial_fill", order, time, position_qty, execution)]
        if short_of_cash and order.is_open:
            events.append(self._close(order, OrderStatus.CANCELED, time, "insufficient buying power"))
            order = events[-1].order
        return order, events

    def _coin_held_for(self, order: Order) -> Decimal:
        """The coin a sell order may use: the position less what other open sells reserve."""
        others = self.book.reserved_coin(order.symbol) - order.reserved
        return self.ledger.position_qty(order.symbol) - others

    def _close(self, order: Order, status: OrderStatus, time: datetime, reason: str) -> TradeEvent:
        closed = order.evolve(status=status, updated_at=time, reserved=ZERO, **{CLOSED_AT[status]: time})
        order = self.book.store(closed)
        return TradeEvent(status.value, order, time, self.ledger.position_qty(order.symbol), reason=reason)

    def _new_id(self) -> uuid.UUID:
        return uuid4_from_bits(self._id_rng.getrandbits(128))

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly where the engine stands (see state_store.py)."""
        return {
            "cash": self.ledger.cash,
            "positions": list(self.ledger.positions.values()),
            "orders": self.book.all(),
            "executions": list(self.executions),
            "last_quotes": list(self._last_quote.values()),
            "sequence": self._sequence,
            "id_rng": self._id_rng.getstate(),
            "fill_rng": self._fill_rng.getstate(),
        }

    def import_state(self, state: dict[str, Any]) -> None:
        self.ledger.cash = state["cash"]
        self.ledger.positions = {position.symbol: position for position in state["positions"]}
        self.book.load(state["orders"])
        self.executions = list(state["executions"])
        self._last_quote = {quote.symbol: quote for quote in state["last_quotes"]}
        self._sequence = state["sequence"]
        self._id_rng.setstate(state["id_rng"])
        self._fill_rng.setstate(state["fill_rng"])


def uuid4_from_bits(bits: int) -> uuid.UUID:
    """`uuid.UUID(int=bits, version=4)`, the same value, in under half its time: its `__init__` checks
    five keyword arguments in Python first, and the engine draws two ids per order. The two attributes
    set here are all a `UUID` holds (its `__slots__`), set the way its `__init__` sets them."""
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", (bits & _UUID4_CLEARED) | _UUID4_SET)
    object.__setattr__(made, "is_safe", uuid.SafeUUID.unknown)
    return made
