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
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.sim.accounting import Ledger, Position
from adapters.sim.assets import AssetCatalog, AssetSpec
from adapters.sim.errors import NotCancelable, NotFound, OrderRejected, forbidden, invalid
from adapters.sim.events import Execution, TradeEvent
from adapters.sim.orders import (
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from adapters.sim.rules import ExchangeRules, FillModel
from dca.market import Quote
from dca.money import ONE, round_down, round_nearest, round_up

ZERO = Decimal(0)
CENT = Decimal("0.01")
BPS = Decimal(10_000)
NON_CRYPTO_TIF = ("day", "opg", "cls")


def _text(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros (10, 0.0009975)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


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
        self.executions: list[Execution] = []
        # no salt keeps the ids of exchanges created before salts existed (and of backtests)
        self._id_rng = random.Random(f"alpaca-sim:{seed}:ids" + (f":{salt}" if salt else ""))
        self._fill_rng = random.Random(f"alpaca-sim:{seed}:fills")
        self._orders: dict[uuid.UUID, Order] = {}
        self._by_client_id: dict[str, uuid.UUID] = {}
        self._open_by_symbol: dict[str, dict[uuid.UUID, None]] = {}
        self._reserved_cash = ZERO
        self._reserved_coin: dict[str, Decimal] = {}
        self._last_quote: dict[str, Quote] = {}
        self._sequence = 0

    # ------------------------------------------------------------------ queries

    @property
    def cash(self) -> Decimal:
        return self.ledger.cash

    @property
    def reserved_cash(self) -> Decimal:
        """Cash held back by open buy orders."""
        return self._reserved_cash

    @property
    def buying_power(self) -> Decimal:
        """Cash not reserved by open buy orders (Alpaca's non_marginable_buying_power), less the
        `buying_power_holdback` of the buying_power_below_cash quirk."""
        return self.ledger.cash - self._reserved_cash - self.rules.buying_power_holdback

    def position(self, symbol: str) -> Position | None:
        return self.ledger.positions.get(self.catalog.get(symbol).symbol)

    def positions(self) -> list[Position]:
        return sorted(self.ledger.positions.values(), key=lambda position: position.symbol)

    def position_qty(self, symbol: str) -> Decimal:
        return self.ledger.position_qty(self.catalog.get(symbol).symbol)

    def qty_available(self, symbol: str) -> Decimal:
        """Position quantity not reserved by open sell orders."""
        symbol = self.catalog.get(symbol).symbol
        return self.ledger.position_qty(symbol) - self._reserved_coin.get(symbol, ZERO)

    def order(self, order_id: uuid.UUID | str) -> Order:
        try:
            return self._orders[uuid.UUID(str(order_id))]
        except (KeyError, ValueError):
            raise NotFound("order not found") from None

    def order_by_client_id(self, client_order_id: str) -> Order:
        if client_order_id not in self._by_client_id:
            raise NotFound("order not found")
        return self._orders[self._by_client_id[client_order_id]]

    def orders(self) -> list[Order]:
        """Every order ever accepted, in submission order."""
        return list(self._orders.values())

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is not None:
            ids = self._open_by_symbol.get(self.catalog.get(symbol).symbol, {})
            return [self._orders[order_id] for order_id in ids]
        return [order for order in self._orders.values() if order.is_open]

    def min_order_size(self, symbol: str) -> Decimal:
        """The pair's minimum quantity: the asset's, or `rules.min_order_usd` of the coin at the current mid
        (the min_order_size_usd quirk: Alpaca's minimum moves with the price)."""
        spec = self.catalog.get(symbol)
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
        spec, side, order_type, tif = self._validate_kind(request)
        client_order_id = self._validate_client_id(request.client_order_id)
        qty, notional = self._validate_size(request, spec)
        limit_price, stop_price = self._validate_prices(request, spec, order_type)
        if spec.quote_currency != "USD":
            raise invalid(f"the simulator trades only USD-quoted pairs, not {spec.symbol}")
        estimate = self._price_estimate(spec, side, order_type, limit_price)
        cost = notional if notional is not None else qty * estimate  # type: ignore[operator]
        self._check_limits(cost, side)
        target_qty = qty
        if notional is not None and order_type is not OrderType.MARKET:
            target_qty = round_down(notional / limit_price, spec.min_trade_increment)  # type: ignore[operator]
            if target_qty < self.min_order_size(spec.symbol):
                raise forbidden(f"qty must be >= {_text(self.min_order_size(spec.symbol))}")
        reserve_price, reserved = self._reservation(spec, side, order_type, target_qty, notional, estimate)
        self._sequence += 1
        order = Order(
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
        )
        self._store(order)
        self._by_client_id[client_order_id] = order.id
        event = TradeEvent("new", order, now, self.ledger.position_qty(spec.symbol))
        return replace(order, status=OrderStatus(self.rules.accepted_status)), [event]

    def cancel(self, order_id: uuid.UUID | str, now: datetime, deferred: bool = False) -> list[TradeEvent]:
        """Cancel an open order: `canceled` event. 404 if unknown, 422 if already terminal (or already
        pending_cancel). `deferred`: the order goes `pending_cancel` now and is canceled on the next quote
        of its pair, after that quote had its chance to fill it (the pending_events quirk)."""
        order = self.order(order_id)
        if not order.is_open or order.status is OrderStatus.PENDING_CANCEL:
            raise NotCancelable(order.status.value)
        if deferred:
            order = self._store(replace(order, status=OrderStatus.PENDING_CANCEL, updated_at=now))
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
        open_ids = self._open_by_symbol.get(symbol)
        if not open_ids:
            return []
        events: list[TradeEvent] = []
        for order_id in list(open_ids):
            events.extend(self._match(self._orders[order_id], quote))
            order = self._orders[order_id]
            if order.is_open and order.status is OrderStatus.PENDING_CANCEL:
                time = max(quote.time, order.updated_at)
                events.append(self._close(order, OrderStatus.CANCELED, time, "canceled by client"))
        return events

    def on_quotes(self, quotes: Iterable[Quote]) -> list[TradeEvent]:
        events: list[TradeEvent] = []
        for quote in quotes:
            events.extend(self.on_quote(quote))
        return events

    # ------------------------------------------------------------------ validation

    def _validate_kind(self, request: OrderRequest) -> tuple[AssetSpec, Side, OrderType, TimeInForce]:
        spec = self.catalog.find(request.symbol)
        if spec is None:
            raise invalid(f'asset "{request.symbol}" not found')
        if request.side not in ("buy", "sell"):
            raise invalid(f"invalid side: {request.side}")
        if request.type in ("stop", "trailing_stop"):
            raise invalid("invalid order type for crypto order")
        if request.type not in ("market", "limit", "stop_limit"):
            raise invalid(f"invalid order type: {request.type}")
        tif = request.time_in_force
        if tif in NON_CRYPTO_TIF or (tif == "fok" and not self.rules.allow_fok):
            raise invalid("invalid crypto time_in_force", code=42210000)
        if tif not in ("gtc", "ioc", "fok"):
            raise invalid(f"invalid time_in_force: {tif}")
        if request.order_class not in ("", "simple"):
            raise invalid("crypto orders support only the simple order class")
        return spec, Side(request.side), OrderType(request.type), TimeInForce(tif)

    def _validate_client_id(self, client_order_id: str | None) -> str:
        if client_order_id is None or client_order_id == "":
            return str(self._new_id())
        if len(client_order_id) > self.rules.max_client_order_id_length:
            limit = self.rules.max_client_order_id_length
            raise invalid(f"client_order_id must be no more than {limit} characters")
        if client_order_id in self._by_client_id:
            status = self.rules.duplicate_id_status
            raise OrderRejected(status, status * 100_000 + 10_000, "client_order_id must be unique")
        return client_order_id

    def _validate_size(self, request: OrderRequest, spec: AssetSpec) -> tuple[Decimal | None, Decimal | None]:
        if (request.qty is None) == (request.notional is None):
            raise invalid("exactly one of qty or notional is required")
        if request.notional is not None:
            notional = request.notional
            if notional <= 0:
                raise invalid("notional must be > 0")
            if notional != notional.quantize(CENT):
                raise invalid("notional must be limited to 2 decimal places", code=42210000)
            return None, notional.quantize(CENT)
        assert request.qty is not None
        if request.qty <= 0:
            raise invalid("qty must be > 0")
        qty = round_down(request.qty, spec.min_trade_increment)  # the live venue truncates silently
        if qty < self.min_order_size(spec.symbol):
            raise forbidden(f"qty must be >= {_text(self.min_order_size(spec.symbol))}")
        return qty, None

    def _validate_prices(
        self, request: OrderRequest, spec: AssetSpec, order_type: OrderType
    ) -> tuple[Decimal | None, Decimal | None]:
        if order_type is OrderType.MARKET:
            if request.limit_price is not None or request.stop_price is not None:
                raise invalid("market orders take no limit_price or stop_price")
            return None, None
        if order_type is OrderType.STOP_LIMIT and (request.limit_price is None or request.stop_price is None):
            raise invalid("stop limit orders require both stop and limit price")
        if request.limit_price is None:
            raise invalid("limit orders require a limit_price")
        if order_type is OrderType.LIMIT and request.stop_price is not None:
            raise invalid("limit orders take no stop_price")
        limit_price = self._on_grid("limit_price", request.limit_price, spec)
        stop_price = None
        if request.stop_price is not None:
            stop_price = self._on_grid("stop_price", request.stop_price, spec)
        return limit_price, stop_price

    def _on_grid(self, field: str, price: Decimal, spec: AssetSpec) -> Decimal:
        if price <= 0:
            raise invalid(f"{field} must be > 0")
        rounded = round_nearest(price, spec.price_increment)
        if rounded == price:
            return rounded
        if self.rules.price_increment_policy == "round" and rounded > 0:
            return rounded
        increment = _text(spec.price_increment)
        message = f"invalid {field} {_text(price)}: must be a multiple of price_increment {increment}"
        raise invalid(message, code=42210000)

    def _price_estimate(
        self, spec: AssetSpec, side: Side, order_type: OrderType, limit_price: Decimal | None
    ) -> Decimal:
        if limit_price is not None:
            return limit_price
        quote = self._last_quote.get(spec.symbol)
        if quote is None:
            raise invalid(f"no market data for {spec.symbol} yet")
        return quote.ask if side is Side.BUY else quote.bid

    def _check_limits(self, cost: Decimal, side: Side) -> None:
        floor_applies = side is Side.BUY or self.rules.min_notional_on_sells
        if floor_applies and cost < self.rules.min_notional:
            raise forbidden(f"cost basis must be >= minimal amount of order {_text(self.rules.min_notional)}")
        maximum = self.rules.max_order_notional
        if maximum is not None and cost > maximum:
            raise forbidden(f"order notional must be <= {_text(maximum)}")

    def _reservation(
        self,
        spec: AssetSpec,
        side: Side,
        order_type: OrderType,
        qty: Decimal | None,
        notional: Decimal | None,
        estimate: Decimal,
    ) -> tuple[Decimal, Decimal]:
        """(cash reserved per unit, amount reserved now); raises 403 when the balance cannot cover it."""
        if side is Side.BUY:
            if order_type is OrderType.MARKET:
                buffer = ONE + self.rules.market_buy_buffer_bps / BPS
                buffered = round_up(estimate * buffer, spec.price_increment)
                if notional is not None:
                    reserve_price, reserved = ZERO, notional
                else:
                    reserve_price, reserved = buffered, qty * buffered  # type: ignore[operator]
            else:
                reserve_price, reserved = estimate, qty * estimate  # type: ignore[operator]
            available = self.buying_power
            if reserved > available:  # type: ignore[operator]
                raise forbidden(
                    f"insufficient balance for USD (requested: {_text(round_up(reserved, CENT))}, "  # type: ignore[arg-type]
                    f"available: {_text(round_down(max(available, ZERO), CENT))})",
                    available=_text(round_down(max(available, ZERO), CENT)),
                    balance=_text(self.ledger.cash),
                    symbol="USD",
                )
            return reserve_price, reserved  # type: ignore[return-value]
        wanted = qty if qty is not None else round_up(notional / estimate, spec.min_trade_increment)  # type: ignore[operator]
        available = self.qty_available(spec.symbol)
        if wanted > available:
            amounts = f"requested: {_text(wanted)}, available: {_text(available)}"
            raise forbidden(
                f"insufficient balance for {spec.base} ({amounts})",
                available=_text(available),
                balance=_text(self.ledger.position_qty(spec.symbol)),
                symbol=spec.base,
            )
        return ZERO, wanted

    # ------------------------------------------------------------------ matching

    def _match(self, order: Order, quote: Quote) -> list[TradeEvent]:
        # a quote stamped before the order (only when a real-time pacer lags) must not date the fill
        # before the submission
        time = max(quote.time, order.submitted_at)
        first = not order.first_quote_seen
        if first:
            order = replace(order, first_quote_seen=True)
        expiry = self.rules.gtc_expiry
        if expiry is not None and quote.time - order.submitted_at >= expiry:
            return [self._close(order, OrderStatus.EXPIRED, time, "gtc expiry")]
        taker = first
        if order.type is OrderType.STOP_LIMIT and not order.triggered:
            if not self._stop_touched(order, quote):
                if first and order.time_in_force is not TimeInForce.GTC:
                    return [self._close(order, OrderStatus.CANCELED, time, "ioc: stop not triggered")]
                self._store(order)
                return []
            order, taker = replace(order, triggered=True), True
        events: list[TradeEvent] = []
        price, liquidity = self._fill_price(order, quote, taker)
        if price is not None:
            if order.target_qty is None:
                order = self._size_notional_market(order, price)
            if order.remaining_qty and order.remaining_qty > 0:
                qty = self._fill_qty(order, quote)
                order, events = self._execute(order, qty, price, liquidity, time)
        if order.is_open and taker and order.time_in_force is not TimeInForce.GTC:
            events.append(self._close(order, OrderStatus.CANCELED, time, "ioc remainder"))
        elif order.is_open and order.remaining_qty is not None and order.remaining_qty <= 0:
            events.append(self._close(order, OrderStatus.CANCELED, time, "nothing left to fill"))
        else:
            self._store(order)
        return events

    def _stop_touched(self, order: Order, quote: Quote) -> bool:
        assert order.stop_price is not None
        if order.side is Side.BUY:
            return quote.ask >= order.stop_price
        return quote.bid <= order.stop_price

    def _fill_price(self, order: Order, quote: Quote, taker: bool) -> tuple[Decimal | None, Liquidity]:
        """The price this quote fills the order at, or None if it does not cross."""
        spec = self.catalog.get(order.symbol)
        opposite = quote.ask if order.side is Side.BUY else quote.bid
        if order.type is OrderType.MARKET:
            slip = self.rules.slippage_bps / BPS
            if order.side is Side.BUY:
                return round_up(opposite * (ONE + slip), spec.price_increment), Liquidity.TAKER
            return round_down(opposite * (ONE - slip), spec.price_increment), Liquidity.TAKER
        assert order.limit_price is not None
        crosses = opposite <= order.limit_price if order.side is Side.BUY else opposite >= order.limit_price
        if not crosses:
            return None, Liquidity.TAKER
        if taker:
            return opposite, Liquidity.TAKER
        return order.limit_price, Liquidity.MAKER

    def _size_notional_market(self, order: Order, price: Decimal) -> Order:
        """A notional market order gets its quantity from the price of its first fill."""
        spec = self.catalog.get(order.symbol)
        assert order.notional is not None
        qty = round_down(order.notional / price, spec.min_trade_increment)
        if order.side is Side.SELL:
            qty = min(qty, self._coin_held_for(order))
        return replace(order, target_qty=max(qty, ZERO), reserve_price=price)

    def _fill_qty(self, order: Order, quote: Quote) -> Decimal:
        remaining = order.remaining_qty
        assert remaining is not None
        if order.time_in_force is TimeInForce.FOK:
            return remaining
        increment = self.catalog.get(order.symbol).min_trade_increment
        model, qty = self.fill_model, remaining
        chance = float(model.partial_fill_probability)
        if chance > 0 and self._fill_rng.random() < chance:
            low = int(model.partial_fill_min_fraction * 1000)
            high = max(low, int(model.partial_fill_max_fraction * 1000))
            part = round_down(remaining * self._fill_rng.randint(low, high) / 1000, increment)
            if 0 < part < remaining:
                qty = part
        if model.bound_by_quote_size:
            size = round_down(quote.ask_size if order.side is Side.BUY else quote.bid_size, increment)
            if 0 < size < qty:
                qty = size
        return qty

    def _execute(
        self, order: Order, qty: Decimal, price: Decimal, liquidity: Liquidity, time: datetime
    ) -> tuple[Order, list[TradeEvent]]:
        spec = self.catalog.get(order.symbol)
        rate = self.rules.maker_fee_rate if liquidity is Liquidity.MAKER else self.rules.taker_fee_rate
        short_of_cash = False
        realized: Decimal | None = None
        if order.side is Side.BUY:
            affordable = self.ledger.cash - (self._reserved_cash - order.reserved)
            if qty * price > affordable:  # the price moved past the reservation: fill what cash allows
                qty, short_of_cash = round_down(max(affordable, ZERO) / price, spec.min_trade_increment), True
                if qty <= 0:
                    event = self._close(order, OrderStatus.CANCELED, time, "insufficient buying power")
                    return event.order, [event]
            fee = self._fee(qty * rate, self.rules.coin_fee_quantum)
            self.ledger.credit_buy(spec.symbol, qty * price, qty - fee, price)
            fee_currency = spec.base
        else:
            qty = min(qty, self._coin_held_for(order))
            if qty <= 0:
                event = self._close(order, OrderStatus.CANCELED, time, "insufficient position")
                return event.order, [event]
            proceeds = qty * price
            fee = self._fee(proceeds * rate, self.rules.usd_fee_quantum)
            avg_entry = self.ledger.debit_sell(spec.symbol, qty, proceeds - fee)
            realized = (price - avg_entry) * qty - fee
            fee_currency = "USD"
        filled_qty = order.filled_qty + qty
        done = order.target_qty is not None and filled_qty >= order.target_qty
        order = replace(
            order,
            filled_qty=filled_qty,
            filled_notional=order.filled_notional + qty * price,
            fees=order.fees + fee,
            status=OrderStatus.FILLED if done else self._partly_filled_status(order),
            updated_at=time,
            filled_at=time if done else None,
        )
        order = self._store(replace(order, reserved=self._reserved_for(order)))
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

    @staticmethod
    def _partly_filled_status(order: Order) -> OrderStatus:
        """A partial fill keeps a requested cancel pending."""
        if order.status is OrderStatus.PENDING_CANCEL:
            return OrderStatus.PENDING_CANCEL
        return OrderStatus.PARTIALLY_FILLED

    def _fee(self, amount: Decimal, quantum: Decimal) -> Decimal:
        """One execution's fee as the venue bills it (`rules.fee_rounding`)."""
        rounding = self.rules.fee_rounding
        if rounding == "exact":
            return amount
        return round_up(amount, quantum) if rounding == "up" else round_nearest(amount, quantum)

    def _coin_held_for(self, order: Order) -> Decimal:
        """The coin a sell order may use: the position less what other open sells reserve."""
        others = self._reserved_coin.get(order.symbol, ZERO) - order.reserved
        return self.ledger.position_qty(order.symbol) - others

    def _reserved_for(self, order: Order) -> Decimal:
        if not order.is_open:
            return ZERO
        remaining = order.remaining_qty
        if remaining is None:  # a notional market order before its first fill
            return order.reserved
        return remaining * order.reserve_price if order.side is Side.BUY else remaining

    def _close(self, order: Order, status: OrderStatus, time: datetime, reason: str) -> TradeEvent:
        stamp = {
            OrderStatus.CANCELED: "canceled_at",
            OrderStatus.EXPIRED: "expired_at",
            OrderStatus.REJECTED: "failed_at",
        }[status]
        order = self._store(replace(order, status=status, updated_at=time, reserved=ZERO, **{stamp: time}))
        return TradeEvent(status.value, order, time, self.ledger.position_qty(order.symbol), reason=reason)

    # ------------------------------------------------------------------ bookkeeping

    def _store(self, order: Order) -> Order:
        """Replace the order's snapshot and keep the reservation totals and the open index in step."""
        if not order.is_open and order.reserved != 0:
            order = replace(order, reserved=ZERO)
        previous = self._orders.get(order.id)
        delta = order.reserved - (previous.reserved if previous else ZERO)
        if delta:
            if order.side is Side.BUY:
                self._reserved_cash += delta
            else:
                self._reserved_coin[order.symbol] = self._reserved_coin.get(order.symbol, ZERO) + delta
        self._orders[order.id] = order
        open_ids = self._open_by_symbol.setdefault(order.symbol, {})
        if order.is_open:
            open_ids[order.id] = None
        else:
            open_ids.pop(order.id, None)
        return order

    def _new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self._id_rng.getrandbits(128), version=4)

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly where the engine stands (see state_store.py)."""
        return {
            "cash": self.ledger.cash,
            "positions": list(self.ledger.positions.values()),
            "orders": list(self._orders.values()),
            "executions": list(self.executions),
            "last_quotes": list(self._last_quote.values()),
            "sequence": self._sequence,
            "id_rng": self._id_rng.getstate(),
            "fill_rng": self._fill_rng.getstate(),
        }

    def import_state(self, state: dict[str, Any]) -> None:
        self.ledger.cash = state["cash"]
        self.ledger.positions = {position.symbol: position for position in state["positions"]}
        self._orders, self._by_client_id, self._open_by_symbol = {}, {}, {}
        self._reserved_cash, self._reserved_coin = ZERO, {}
        for order in state["orders"]:
            self._store(order)
            self._by_client_id[order.client_order_id] = order.id
        self.executions = list(state["executions"])
        self._last_quote = {quote.symbol: quote for quote in state["last_quotes"]}
        self._sequence = state["sequence"]
        self._id_rng.setstate(state["id_rng"])
        self._fill_rng.setstate(state["fill_rng"])
