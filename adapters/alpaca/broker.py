"""The bot's REST side of Alpaca (paper, live, or our simulator), on alpaca-py's TradingClient.

It implements `ports.broker.Broker` and raises the port's error kinds (see `ports/broker.py` for
what each means to the caller). This is the only module that reads Alpaca's answers as text: a
refusal is typed here (`rejection_for`), so nothing above branches on the venue's words.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.requests import CryptoLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import AssetClass, QueryOrderStatus
from alpaca.trading.models import Order
from alpaca.trading.requests import GetAssetsRequest, GetOrdersRequest

from adapters.alpaca.convert import compact_index, decimal_or_none, order_from_model, position_from_model
from adapters.alpaca.pacing import RequestPacer
from dca.assets import compact_symbol
from dca.commands import SubmitOrder
from dca.cycle import OrderType, Side
from dca.events import RejectionKind
from dca.exchange import ExchangeOrder, Position
from dca.fees import Execution, FeeRecord
from dca.market import Quote
from dca.money import ZERO
from dca.params import ExchangeRules
from ports.broker import (  # the port's error kinds and values: this adapter raises and answers with them
    Account,
    BelowMinimum,
    BrokerError,
    BrokerTimeout,
    BrokerUnavailable,
    DuplicateClientOrderId,
    InsufficientBalance,
    NotFound,
    OrderRejected,
    VenueFees,
    WashTradeRefused,
)

T = TypeVar("T")
DUPLICATE_ID_TEXT = "client_order_id must be unique"
REQUEST_TIMEOUT = (5.0, 30.0)  # connect, read: alpaca-py sets none, and a hung venue must not hang an actor


@dataclass(frozen=True, slots=True)
class Endpoints:
    trading: str | None  # None: Alpaca's own (paper or live by `paper`)
    data: str | None
    data_stream: str | None
    trading_stream: str | None
    paper: bool = True

    @classmethod
    def simulator(cls, base: str) -> Endpoints:
        """All four url_overrides of a `supervisor.py sim` listening at `base` (http://host:port)."""
        ws = "ws" + base.removeprefix("http")
        return cls(base, base, f"{ws}/v1beta3/crypto/us", f"{ws}/stream", paper=True)


class AlpacaBroker:
    def __init__(self, key_id: str, secret_key: str, endpoints: Endpoints, *,
                 requests_per_minute: float = 190, on_request: Callable[[str, float, str | None], None] | None = None,
                 ) -> None:
        self._trading = TradingClient(key_id, secret_key, paper=endpoints.paper, url_override=endpoints.trading)
        self._data = CryptoHistoricalDataClient(key_id, secret_key, url_override=endpoints.data)
        for client in (self._trading, self._data):
            client._session.request = functools.partial(client._session.request, timeout=REQUEST_TIMEOUT)
        self._pacer = RequestPacer(requests_per_minute)
        self._on_request = on_request  # (endpoint, seconds, error kind or None): for metrics
        self._symbols: dict[str, str] = {}

    # --- orders ----------------------------------------------------------------------------------

    def submit(self, command: SubmitOrder) -> ExchangeOrder:
        """POST the order through the client's raw request path. alpaca-py's request models type
        `qty` and `limit_price` as float: a 9-decimal quantity above ~1e6 units loses digits (often
        upward, so a full-position sell is refused) and a tiny one goes out as `9.1743e-05`. Here
        every figure is an exact decimal string; the answer is parsed into alpaca-py's own `Order`."""
        body = order_payload(command)
        response = self._call("submit_order", lambda: self._trading.post("/orders", body))
        return order_from_model(Order(**response))  # type: ignore[arg-type]

    def cancel(self, exchange_id: str) -> None:
        self._call("cancel_order", lambda: self._trading.cancel_order_by_id(exchange_id))

    def order_by_client_id(self, client_order_id: str) -> ExchangeOrder | None:
        try:
            model = self._call("get_order_by_client_id",
                               lambda: self._trading.get_order_by_client_id(client_order_id))
        except NotFound:
            return None
        return order_from_model(model)

    def order_by_id(self, exchange_id: str) -> ExchangeOrder | None:
        """An order by the exchange's id (None if unknown, or not a UUID as Alpaca's ids are)."""
        try:
            UUID(exchange_id)
        except ValueError:
            return None
        try:
            model = self._call("get_order_by_id", lambda: self._trading.get_order_by_id(exchange_id))
        except NotFound:
            return None
        return order_from_model(model)

    def orders(self, *, status: str = "all", after: datetime | None = None, until: datetime | None = None,
               limit: int = 500, symbols: list[str] | None = None, direction: str = "asc") -> list[ExchangeOrder]:
        request = GetOrdersRequest(status=QueryOrderStatus(status), after=after, until=until, limit=limit,
                                   symbols=symbols, direction=direction, nested=False)
        return [order_from_model(m) for m in self._call("get_orders", lambda: self._trading.get_orders(request))]

    def iter_orders(self, *, status: str = "all", after: datetime | None = None,
                    until: datetime | None = None, page: int = 500) -> Iterator[ExchangeOrder]:
        """Every order submitted after `after`, oldest first, paging past the 500-per-call limit
        (the original fetched only the latest 100)."""
        seen: set[str] = set()
        cursor = after
        while True:
            batch = self.orders(status=status, after=cursor, until=until, limit=page, direction="asc")
            fresh = [order for order in batch if order.id not in seen]
            yield from fresh
            seen.update(order.id for order in fresh)
            if len(batch) < page or not fresh:
                return
            # `after` is exclusive on submission time; step back a microsecond so orders sharing the
            # last timestamp are not skipped (the `seen` set drops the repeats)
            last = fresh[-1].submitted_at or fresh[-1].created_at
            cursor = last - timedelta(microseconds=1)

    # --- positions, account, assets, quotes --------------------------------------------------------

    def remember_symbols(self, symbols: list[str]) -> None:
        self._symbols.update(compact_index(symbols))

    def position(self, symbol: str) -> Position | None:
        try:
            model = self._call("get_open_position", lambda: self._trading.get_open_position(compact_symbol(symbol)))
        except NotFound:
            return None
        return position_from_model(model, self._symbols)

    def position_qty(self, symbol: str) -> Decimal:
        position = self.position(symbol)
        return position.qty if position is not None else ZERO

    def positions(self) -> dict[str, Position]:
        models = self._call("get_all_positions", self._trading.get_all_positions)
        converted = (position_from_model(m, self._symbols) for m in models)
        return {p.symbol: p for p in converted}

    def fee_activities(self, after: datetime) -> VenueFees:
        """The account's fills and the fees the venue posted for them since `after` (CFEE for coin
        fees, CFEE or FEE for USD fees), read through the client's raw GET: alpaca-py 0.44 has no
        activities call. Activities name no order; `dca.fees.venue_fee` ties them to one."""
        fills: dict[str, list[Execution]] = {}
        records: list[FeeRecord] = []
        for body in self._activities("FILL", after):
            execution = Execution(compact_symbol(str(body["symbol"])), str(body["transaction_time"])[:10],
                                  Decimal(str(body["price"])), Side(str(body["side"])))
            fills.setdefault(str(body["order_id"]), []).append(execution)
        for kind in ("CFEE", "FEE"):
            for body in self._activities(kind, after - timedelta(days=1)):
                record = _fee_record(body)
                if record is not None:
                    records.append(record)
        return VenueFees(fills, records)

    def _activities(self, kind: str, after: datetime) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            query: dict[str, str] = {"direction": "asc", "page_size": "100", "after": after.isoformat()}
            if token is not None:
                query["page_token"] = token
            read = functools.partial(self._trading.get, f"/account/activities/{kind}", query)
            page = self._call("get_activities", read)
            if not isinstance(page, list) or not page:
                return
            yield from page
            if len(page) < 100:
                return
            token = str(page[-1]["id"])

    def account(self) -> Account:
        model = self._call("get_account", self._trading.get_account)
        crypto = model.crypto_status
        return Account(Decimal(str(model.cash or 0)), Decimal(str(model.non_marginable_buying_power or 0)),
                       Decimal(str(model.equity or 0)), str(getattr(model.status, "value", model.status)),
                       str(model.account_number or ""),
                       "ACTIVE" if crypto is None else str(getattr(crypto, "value", crypto)))

    def pair_problems(self, symbols: list[str]) -> dict[str, str]:
        """Why each of `symbols` cannot be traded (`not_listed`, `not_tradable`, `not_usd_quoted`); the
        pairs that can are left out. One read of every crypto asset."""
        request = GetAssetsRequest(asset_class=AssetClass.CRYPTO)
        assets = {a.symbol: a for a in self._call("get_all_assets", lambda: self._trading.get_all_assets(request))}
        problems = {}
        for symbol in symbols:
            asset = assets.get(symbol)
            if not symbol.endswith("/USD"):
                problems[symbol] = "not_usd_quoted"
            elif asset is None:
                problems[symbol] = "not_listed"
            elif not asset.tradable or str(getattr(asset.status, "value", asset.status)).lower() != "active":
                problems[symbol] = "not_tradable"
        return problems

    def rules(self, symbol: str, min_notional: Decimal) -> ExchangeRules:
        return _rules(self._call("get_asset", lambda: self._trading.get_asset(symbol)), min_notional)

    def all_rules(self, min_notional: Decimal) -> dict[str, ExchangeRules]:
        """Every crypto pair's rules in one call (a thousand assets start without a thousand requests)."""
        request = GetAssetsRequest(asset_class=AssetClass.CRYPTO)
        assets = self._call("get_all_assets", lambda: self._trading.get_all_assets(request))
        return {asset.symbol: _rules(asset, min_notional) for asset in assets}

    def latest_quotes(self, symbols: list[str]) -> dict[str, Quote]:
        request = CryptoLatestQuoteRequest(symbol_or_symbols=symbols)
        result = self._call("latest_quotes", lambda: self._data.get_crypto_latest_quote(request))
        return {s: Quote(s, Decimal(repr(q.bid_price)), Decimal(repr(q.ask_price)), q.timestamp)
                for s, q in result.items()}

    def exchange_time(self) -> datetime:
        return self._call("get_clock", self._trading.get_clock).timestamp

    @property
    def data_client(self) -> CryptoHistoricalDataClient:
        return self._data

    # --- plumbing ----------------------------------------------------------------------------------

    def _call(self, endpoint: str, call: Callable[[], T]) -> T:
        self._pacer.acquire()
        started = time.monotonic()
        kind: str | None = None
        try:
            return call()
        except APIError as error:
            translated = _translate(error)
            kind = type(translated).__name__
            raise translated from error
        except requests.Timeout as error:
            kind = "BrokerUnavailable"  # the metric's label: a timeout is one way of being unavailable
            raise BrokerTimeout(f"{endpoint}: {connection_problem(error)}") from error
        except requests.RequestException as error:
            kind = "BrokerUnavailable"
            raise BrokerUnavailable(f"{endpoint}: {connection_problem(error)}") from error
        finally:
            if self._on_request is not None:
                self._on_request(endpoint, time.monotonic() - started, kind)


def _fee_record(body: dict[str, Any]) -> FeeRecord | None:
    """A CFEE/FEE activity as a fee: a coin fee carries a negative `qty` (a buy's), a USD fee a negative
    `net_amount` (a sell's)."""
    symbol, day, price = body.get("symbol"), body.get("date"), body.get("price")
    if not symbol or not day or price in (None, ""):
        return None
    qty, net = decimal_or_none(body.get("qty")), decimal_or_none(body.get("net_amount"))
    if qty is not None and qty != 0:
        return FeeRecord(compact_symbol(str(symbol)), str(day)[:10], Decimal(str(price)), Side.BUY, -qty)
    if net is not None and net != 0:
        return FeeRecord(compact_symbol(str(symbol)), str(day)[:10], Decimal(str(price)), Side.SELL, -net)
    return None


def order_payload(command: SubmitOrder) -> dict[str, str]:
    """The JSON body of a new order, every number an exact decimal string (Alpaca's documented form)."""
    body = {
        "symbol": command.symbol, "qty": decimal_text(command.qty), "side": command.side.value,
        "type": command.order_type.value, "time_in_force": command.time_in_force,
        "client_order_id": command.client_order_id,
    }
    if command.order_type is OrderType.LIMIT:
        assert command.limit_price is not None
        body["limit_price"] = decimal_text(command.limit_price)
    return body


def decimal_text(value: Decimal) -> str:
    """Positional notation, never exponent form, no trailing zeros: `0.00009174`, `77583333.333333339`."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def connection_problem(error: BaseException) -> str:
    """What went wrong with a request, in a few words ("connection refused", "timed out"), instead of
    requests' and urllib3's nested reprs: the socket error at the bottom of the chain, if there is one."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        if isinstance(current, TimeoutError | requests.Timeout):
            return "timed out"
        pending += [getattr(current, "reason", None), current.__cause__, current.__context__,
                    *(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))]
    return type(error).__name__


def _rules(asset: Any, min_notional: Decimal) -> ExchangeRules:
    increment = Decimal(str(asset.min_trade_increment or "0.000000001"))
    return ExchangeRules(
        min_order_size=Decimal(str(asset.min_order_size or increment)), min_trade_increment=increment,
        price_increment=Decimal(str(asset.price_increment or "0.000000001")), min_notional=min_notional,
    )


_INSUFFICIENT = re.compile(r"insufficient balance for (?P<asset>\w+).*?available: (?P<available>[0-9.]+)")
_WASH_TRADE = "wash trade"  # "potential wash trade detected. use complex orders" (403 40310000, or 422)
_BELOW_MINIMUM = ("cost basis must be >=", "minimal amount of order", "qty must be >=", "min_order_size")


def rejection_for(message: str, status: int, code: int | None) -> OrderRejected:
    """A definite refusal, typed by Alpaca's message (the only place that reads its text)."""
    insufficient = _INSUFFICIENT.search(message)
    if insufficient is not None:
        return InsufficientBalance(message, status, code, insufficient["asset"],
                                   Decimal(insufficient["available"].rstrip(".")))
    if "insufficient balance" in message:
        return InsufficientBalance(message, status, code, "", None)
    if any(text in message for text in _BELOW_MINIMUM):
        return BelowMinimum(message, status, code)
    if _WASH_TRADE in message.lower():
        return WashTradeRefused(message, status, code)
    return OrderRejected(message, status, code, rejection_kind(message))


def rejection_kind(message: str) -> RejectionKind:
    """What a refusal the bot does not act on was about, for the rejection metric's label."""
    text = message.lower()
    if "insufficient" in text:
        return RejectionKind.INSUFFICIENT_BALANCE
    if "minimal amount" in text or "cost basis" in text:
        return RejectionKind.BELOW_MINIMUM
    if "time_in_force" in text:
        return RejectionKind.TIME_IN_FORCE
    return RejectionKind.OTHER if text else RejectionKind.EXCHANGE


def _translate(error: APIError) -> BrokerError:
    status = error.status_code
    try:
        message, code = error.message, error.code
    except (KeyError, ValueError, TypeError):  # market-data errors carry only "message"
        message, code = str(error), None
    if status == 404:
        return NotFound(message, status, code)
    if status is not None and 400 <= status < 500 and DUPLICATE_ID_TEXT in str(message):
        # Alpaca's status for this answer is unverified (422 is what users report): the text decides
        return DuplicateClientOrderId(message, status, code)
    if status is not None and 400 <= status < 500 and status != 429:
        return rejection_for(str(message), status, code)
    return BrokerUnavailable(f"HTTP {status}: {message}", status, code)
