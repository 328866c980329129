"""The REST side: Alpaca's trading API (`/v2`), crypto market data (`/v1beta3/crypto/us`) and the
simulator's admin routes (`/sim`), on aiohttp.

Cross-cutting behaviour lives in one middleware, in this order: added latency, authentication
(`/v2`, `/sim`), rate limits, injected 429/5xx faults, then the handler; exchange errors become
Alpaca's `{code, message}` bodies (market-data errors: `{message}` only). No redirects: unknown paths
are a JSON 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aiohttp import web

from adapters.sim.accounting import Position
from adapters.sim.activities import KNOWN_TYPES
from adapters.sim.assets import AssetSpec, canonical_symbol
from adapters.sim.bars import (
    MAX_LIMIT,
    BadRequest,
    BarQuery,
    bar_json,
    parse_rfc3339,
    parse_timeframe,
    price_decimals,
)
from adapters.sim.errors import ExchangeError, NotFound, invalid
from adapters.sim.exchange import Exchange
from adapters.sim.feed import MinuteBar
from adapters.sim.orders import TERMINAL_STATUSES, Order, OrderRequest
from adapters.sim.wire import account_json, asset_json, dec, order_json, position_json, rfc3339
from dca.money import to_decimal

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DATA_PREFIX = "/v1beta3/crypto/us"
DEFAULT_TRADING_LIMIT = 200  # what the headers announce when the simulator's own limit is off
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+$")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


def _trading_error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return _json({"code": code, "message": message, **extra}, status)


class RateLimiter:
    """At most `limit` requests per `window` seconds per key (a sliding window of real time)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        if self.limit <= 0:
            return True
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def remaining(self, key: str) -> int:
        """Requests left in the window (the limit itself when limits are off)."""
        if self.limit <= 0:
            return DEFAULT_TRADING_LIMIT
        return max(0, self.limit - len(self._hits.get(key, ())))

    def seconds_to_reset(self, key: str) -> float:
        """Until the oldest request in the window leaves it (0 when nothing is counted)."""
        hits = self._hits.get(key)
        return max(0.0, hits[0] + self.window - self._clock()) if hits else 0.0


def _rate_headers(limit: int, remaining: int, reset_in: float) -> dict[str, str]:
    """Alpaca's X-RateLimit-* headers (Reset: epoch seconds when requests are allowed again)."""
    return {"X-RateLimit-Limit": str(limit or DEFAULT_TRADING_LIMIT), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(time.time() + reset_in))}


def _rate_limited(limit: int, reset_in: float, body: dict[str, Any]) -> web.Response:
    response = _json(body, 429)
    response.headers.update(_rate_headers(limit, 0, reset_in))
    return response


def build_middleware(exchange: Exchange, key_id: str, secret_key: str) -> Any:
    config = exchange.config
    trading_limit = RateLimiter(config.rate_limit_per_minute, config.rate_limit_window_seconds)
    data_limit = RateLimiter(config.data_rate_limit_per_minute, config.rate_limit_window_seconds)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path in (DATA_PREFIX, "/stream"):  # WebSocket upgrades are handled by the stream hubs
            return await handler(request)
        faults = exchange.faults
        exchange.stats["requests"] += 1
        if faults.latency_ms or faults.latency_jitter_ms:
            await asyncio.sleep((faults.latency_ms + faults.uniform(faults.latency_jitter_ms)) / 1000)
        is_data = path.startswith(DATA_PREFIX)
        key = request.headers.get("APCA-API-KEY-ID")
        if not is_data:
            if key != key_id or request.headers.get("APCA-API-SECRET-KEY") != secret_key:
                return _trading_error(401, 40110000, "request is not authorized")
        elif key is not None and (key != key_id or request.headers.get("APCA-API-SECRET-KEY") != secret_key):
            return _json({"message": "request is not authorized"}, 401)
        limiter = data_limit if is_data else trading_limit
        caller = key or request.remote or "anonymous"
        if not path.startswith("/sim") and not limiter.allow(caller):
            exchange.stats["rate_limited"] += 1
            body: dict[str, Any] = {"message": "too many requests."}
            if not is_data:
                body = {"code": 42910000, "message": "rate limit exceeded"}
            return _rate_limited(limiter.limit, limiter.seconds_to_reset(caller), body)
        faulted = not path.startswith("/sim") and faults.applies_to(path)
        if faulted and (faults.take_next_429() or faults.chance(faults.http_429_rate)):
            exchange.stats["faulted_429"] += 1
            return _rate_limited(limiter.limit, 1.0, {"code": 42910000,
                                                      "message": "rate limit exceeded (simulated fault)"})
        fail = faulted and (faults.take_next_5xx() or faults.chance(faults.http_5xx_rate))
        if fail and faults.http_5xx_mode == "before":
            return _server_error(exchange)
        try:
            response = await handler(request)
        except ExchangeError as error:
            response = _json(error.body(), error.status)
        except BadRequest as error:
            response = _json({"message": str(error)}, 400)
        except web.HTTPNotFound:
            response = _trading_error(404, 40410000, "endpoint not found")
        except web.HTTPMethodNotAllowed:
            response = _trading_error(405, 40510000, "method not allowed")
        except Exception:  # a simulator bug: still answer in Alpaca's shape, and say so in the log
            log.exception("unhandled error in %s %s", request.method, path)
            response = _trading_error(500, 50010000, "internal server error")
        response = _server_error(exchange) if fail else response
        if exchange.quirks.ratelimit_headers and path.startswith("/v2") and "X-RateLimit-Limit" not in response.headers:
            window = config.rate_limit_window_seconds
            reset_in = limiter.seconds_to_reset(caller) if limiter.limit > 0 else window
            response.headers.update(_rate_headers(limiter.limit, limiter.remaining(caller), reset_in))
        return response

    return middleware


def _server_error(exchange: Exchange) -> web.Response:
    exchange.stats["faulted_5xx"] += 1
    status = exchange.faults.http_5xx_status
    return _trading_error(status, status * 100_000 + 10000, "server error (simulated fault)")


# ---------------------------------------------------------------------- request parsing


def _decimal_field(body: dict[str, Any], name: str) -> Decimal | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise invalid(f"invalid {name}")
    try:
        return to_decimal(value)
    except (TypeError, ValueError):
        raise invalid(f"invalid {name}") from None


def _bool_param(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")


class _Exponent(Exception):
    """A JSON number written with an exponent (the no_exponent quirk)."""


def _plain_number(text: str) -> Decimal:
    if "e" in text.lower():
        raise _Exponent(text)
    return Decimal(text)


def _parse_order_request(text: str, refuse_exponent: bool = False) -> OrderRequest:
    try:
        body = json.loads(text or "{}", parse_float=_plain_number if refuse_exponent else Decimal)
    except ValueError:
        raise invalid("request body format is invalid") from None
    except _Exponent as error:
        raise invalid(f"invalid number {error}: exponent notation is not accepted") from None
    if refuse_exponent:
        for name in ("qty", "notional", "limit_price", "stop_price"):
            if isinstance(body.get(name), str) and "e" in body[name].lower():
                raise invalid(f"invalid {name}: exponent notation is not accepted")
    if not isinstance(body, dict):
        raise invalid("request body format is invalid")
    for name in ("symbol", "side", "type", "time_in_force"):
        if not isinstance(body.get(name), str) or not body.get(name):
            raise invalid(f"{name} is required")
    client_order_id = body.get("client_order_id")
    if client_order_id is not None and not isinstance(client_order_id, str):
        raise invalid("invalid client_order_id")
    return OrderRequest(
        symbol=body["symbol"],
        side=body["side"],
        type=body["type"],
        time_in_force=body["time_in_force"],
        qty=_decimal_field(body, "qty"),
        notional=_decimal_field(body, "notional"),
        limit_price=_decimal_field(body, "limit_price"),
        stop_price=_decimal_field(body, "stop_price"),
        client_order_id=client_order_id,
        order_class=body.get("order_class") or "",
        extended_hours=bool(body.get("extended_hours") or False),
    )


def _time_param(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if not text:
        return None
    try:
        return parse_rfc3339(name, text)
    except BadRequest as error:
        raise invalid(str(error)) from None


# ---------------------------------------------------------------------- trading routes


class TradingRoutes:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def _order(self, order: Order) -> dict[str, Any]:
        return order_json(order, self.exchange.quirks.legacy_symbols)

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v2/account", self.account)
        router.add_get("/v2/clock", self.clock)
        router.add_get("/v2/account/activities", self.activities)
        router.add_get("/v2/account/activities/{activity_type}", self.activities)
        router.add_get("/v2/positions", self.positions)
        router.add_delete("/v2/positions", self.close_all_positions)
        router.add_get("/v2/positions/{symbol:.+}", self.position)
        router.add_delete("/v2/positions/{symbol:.+}", self.close_position)
        router.add_post("/v2/orders", self.submit_order)
        router.add_get("/v2/orders", self.list_orders)
        router.add_delete("/v2/orders", self.cancel_all_orders)
        router.add_get("/v2/orders:by_client_order_id", self.order_by_client_id)
        router.add_get("/v2/orders/{order_id}", self.order)
        router.add_delete("/v2/orders/{order_id}", self.cancel_order)
        router.add_patch("/v2/orders/{order_id}", self.replace_order)
        router.add_get("/v2/assets", self.assets)
        router.add_get("/v2/assets/{symbol:.+}", self.asset)

    async def account(self, request: web.Request) -> web.Response:
        exchange = self.exchange
        with exchange.lock:
            return _json(
                account_json(
                    exchange.account_id,
                    exchange.account_number,
                    exchange.account_view(),
                    exchange.long_market_value(),
                    exchange.last_equity,
                    exchange.created_at,
                    exchange.cash,
                )
            )

    async def activities(self, request: web.Request) -> web.Response:
        """`GET /v2/account/activities[/{activity_type}]`: activity_types, date, after, until,
        direction (default desc), page_size (default and max 100), page_token (an activity id)."""
        query = request.query
        named = request.match_info.get("activity_type") or query.get("activity_types") or ""
        types = {kind.strip().upper() for kind in named.split(",") if kind.strip()} or None
        for kind in types or ():
            if kind not in KNOWN_TYPES:
                raise invalid(f"invalid activity type: {kind}")
        direction = query.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise invalid(f"invalid direction: {direction}")
        try:
            page_size = min(int(query.get("page_size", "100")), 100)
        except ValueError:
            raise invalid("invalid page_size") from None
        after, until, day = _time_param(request, "after"), _time_param(request, "until"), query.get("date")
        found = [a for a in self.exchange.activities(types)
                 if (after is None or a.posted_at > after) and (until is None or a.posted_at < until)
                 and (day is None or a.posted_at.date().isoformat() == day[:10])]
        if direction == "desc":
            found.reverse()
        token = query.get("page_token")
        if token:
            ids = [a.id for a in found]
            found = found[ids.index(token) + 1:] if token in ids else []
        return _json([a.body for a in found[:page_size]])

    async def clock(self, request: web.Request) -> web.Response:
        now = self.exchange.clock.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        # crypto trades around the clock: always open; the next "session" boundary is UTC midnight
        return _json(
            {
                "timestamp": rfc3339(now),
                "is_open": True,
                "next_open": rfc3339(midnight),
                "next_close": rfc3339(midnight),
            }
        )

    def _position_json(self, position: Position) -> dict[str, Any]:
        exchange = self.exchange
        symbol = position.symbol
        return position_json(
            position,
            exchange.catalog.get(symbol),
            exchange.shown_qty_available(position),
            exchange.mark_price(symbol),
            exchange.lastday_price(symbol),
        )

    async def positions(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            return _json([self._position_json(position) for position in self.exchange.shown_positions()])

    async def position(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            return _json(self._position_json(self.exchange.shown_position(request.match_info["symbol"])))

    async def close_position(self, request: web.Request) -> web.Response:
        qty = request.query.get("qty")
        percentage = request.query.get("percentage")
        with self.exchange.lock:
            self.exchange.position(request.match_info["symbol"])  # 404 when flat
            try:
                amount = to_decimal(qty) if qty else None
                share = to_decimal(percentage) if percentage else None
            except ValueError:
                raise invalid("invalid qty or percentage") from None
            order = self.exchange.close_position(request.match_info["symbol"], qty=amount, percentage=share)
            return _json(self._order(order))

    async def close_all_positions(self, request: web.Request) -> web.Response:
        results = []
        with self.exchange.lock:
            if _bool_param(request.query.get("cancel_orders")):
                self.exchange.cancel_all_orders()
            for position in self.exchange.positions():
                spec = self.exchange.catalog.get(position.symbol)
                try:
                    order = self.exchange.close_position(spec.compact_symbol)
                    results.append({"symbol": spec.compact_symbol, "status": 200, "body": self._order(order)})
                except ExchangeError as error:
                    results.append(
                        {"symbol": spec.compact_symbol, "status": error.status, "body": error.body()}
                    )
        return _json(results, 207)

    async def submit_order(self, request: web.Request) -> web.Response:
        order_request = _parse_order_request(await request.text(), self.exchange.quirks.no_exponent)
        return _json(self._order(self.exchange.submit_order(order_request)))

    async def list_orders(self, request: web.Request) -> web.Response:
        query = request.query
        status = query.get("status", "open")
        if status not in ("open", "closed", "all"):
            raise invalid(f"invalid status: {status}")
        direction = query.get("direction", "desc")
        if direction not in ("asc", "desc"):
            raise invalid(f"invalid direction: {direction}")
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            raise invalid("invalid limit") from None
        limit = max(1, min(limit, 500))
        after, until = _time_param(request, "after"), _time_param(request, "until")
        side = query.get("side")
        symbols = None
        if query.get("symbols"):
            try:
                symbols = {
                    canonical_symbol(symbol) for symbol in query["symbols"].split(",") if symbol.strip()
                }
            except ValueError as error:
                raise invalid(str(error)) from None
        orders = [
            order for order in self.exchange.orders() if _matches(order, status, after, until, side, symbols)
        ]
        orders.sort(key=lambda order: (order.submitted_at, order.sequence), reverse=direction == "desc")
        return _json([self._order(order) for order in orders[:limit]])

    async def order(self, request: web.Request) -> web.Response:
        return _json(self._order(self.exchange.order(request.match_info["order_id"])))

    async def order_by_client_id(self, request: web.Request) -> web.Response:
        client_order_id = request.query.get("client_order_id")
        if not client_order_id:
            raise invalid("client_order_id is required")
        return _json(self._order(self.exchange.order_by_client_id(client_order_id)))

    async def cancel_order(self, request: web.Request) -> web.Response:
        self.exchange.cancel_order(request.match_info["order_id"])
        return web.Response(status=204)

    async def cancel_all_orders(self, request: web.Request) -> web.Response:
        canceled = self.exchange.cancel_all_orders()
        return _json(
            [{"id": str(order.id), "status": 200, "body": self._order(order)} for order in canceled], 207
        )

    async def replace_order(self, request: web.Request) -> web.Response:
        self.exchange.order(request.match_info["order_id"])  # 404 first, as on the live API
        raise ExchangeError(
            422, 42210000, "the simulator does not support replacing orders; cancel and resubmit"
        )

    async def assets(self, request: web.Request) -> web.Response:
        status = request.query.get("status")
        asset_class = request.query.get("asset_class")
        if (status and status != "active") or (asset_class and asset_class != "crypto"):
            return _json([])
        with self.exchange.lock:
            return _json([self._asset(spec) for spec in self.exchange.catalog])

    async def asset(self, request: web.Request) -> web.Response:
        spec = self.exchange.catalog.find(request.match_info["symbol"])
        if spec is None:
            raise NotFound("asset not found")
        with self.exchange.lock:
            return _json(self._asset(spec))

    def _asset(self, spec: AssetSpec) -> dict[str, Any]:
        return asset_json(spec, self.exchange.engine.min_order_size(spec.symbol))


def _matches(
    order: Order,
    status: str,
    after: datetime | None,
    until: datetime | None,
    side: str | None,
    symbols: set[str] | None,
) -> bool:
    terminal = order.status in TERMINAL_STATUSES
    if (status == "open" and terminal) or (status == "closed" and not terminal):
        return False
    if after is not None and order.submitted_at <= after:
        return False
    if until is not None and order.submitted_at >= until:
        return False
    if side and order.side.value != side:
        return False
    return symbols is None or order.symbol in symbols


# ---------------------------------------------------------------------- market-data routes


class MarketDataRoutes:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.bars_query = BarQuery(exchange)

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{DATA_PREFIX}/latest/quotes", self.latest_quotes)
        router.add_get(f"{DATA_PREFIX}/latest/trades", self.latest_trades)
        router.add_get(f"{DATA_PREFIX}/latest/bars", self.latest_bars)
        router.add_get(f"{DATA_PREFIX}/latest/orderbooks", self.latest_orderbooks)
        router.add_get(f"{DATA_PREFIX}/snapshots", self.snapshots)
        router.add_get(f"{DATA_PREFIX}/bars", self.bars)

    def _symbols(self, request: web.Request) -> list[str]:
        text = request.query.get("symbols", "")
        symbols = [symbol.strip() for symbol in text.split(",") if symbol.strip()]
        if not symbols:
            raise BadRequest("missing symbols")
        for symbol in symbols:
            if not SYMBOL_PATTERN.match(symbol):
                raise BadRequest(f"invalid symbol: {symbol} does not match ^[A-Z]+/[A-Z]+$")
        return symbols

    def _listed(self, request: web.Request) -> list[str]:
        return [symbol for symbol in self._symbols(request) if symbol in self.exchange.catalog.symbols]

    async def latest_quotes(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            quotes = {symbol: self._quote(symbol) for symbol in self._listed(request)}
        return _json({"quotes": {symbol: quote for symbol, quote in quotes.items() if quote}})

    def _quote(self, symbol: str) -> dict[str, Any] | None:
        quote = self.exchange.latest_quote(symbol)
        if quote is None:
            return None
        return {
            "t": rfc3339(quote.time),
            "bp": float(quote.bid),
            "bs": float(quote.bid_size),
            "ap": float(quote.ask),
            "as": float(quote.ask_size),
        }

    def _trade(self, symbol: str) -> dict[str, Any] | None:
        trade = self.exchange.latest_trade(symbol)
        if trade is None:
            return None
        return {
            "t": rfc3339(trade.time),
            "p": float(trade.price),
            "s": float(trade.size),
            "tks": trade.taker_side,
            "i": trade.id,
        }

    def _minute_bar(self, symbol: str) -> dict[str, Any] | None:
        bar: MinuteBar | None = self.exchange.feed.recorder.latest(symbol)
        if bar is None:
            return None
        spec = self.exchange.catalog.get(symbol)
        row = (bar.time, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trade_count, bar.vwap)
        return bar_json(row, price_decimals(spec))

    async def latest_trades(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            trades = {symbol: self._trade(symbol) for symbol in self._listed(request)}
        return _json({"trades": {symbol: trade for symbol, trade in trades.items() if trade}})

    async def latest_bars(self, request: web.Request) -> web.Response:
        with self.exchange.lock:
            bars = {symbol: self._minute_bar(symbol) for symbol in self._listed(request)}
        return _json({"bars": {symbol: bar for symbol, bar in bars.items() if bar}})

    async def latest_orderbooks(self, request: web.Request) -> web.Response:
        books = {}
        with self.exchange.lock:
            for symbol in self._listed(request):
                quote = self.exchange.latest_quote(symbol)
                if quote is not None:
                    books[symbol] = {
                        "t": rfc3339(quote.time),
                        "b": [{"p": float(quote.bid), "s": float(quote.bid_size)}],
                        "a": [{"p": float(quote.ask), "s": float(quote.ask_size)}],
                    }
        return _json({"orderbooks": books})

    async def snapshots(self, request: web.Request) -> web.Response:
        snapshots = {}
        with self.exchange.lock:
            for symbol in self._listed(request):
                now = self.exchange.clock.now()
                day = now.replace(hour=0, minute=0, second=0, microsecond=0)
                daily, _ = self.bars_query.page(
                    [symbol], parse_timeframe("1Day"), day - timedelta(days=1), day, 2, False, None
                )
                days = daily.get(symbol, [])
                snapshots[symbol] = {
                    "latestTrade": self._trade(symbol),
                    "latestQuote": self._quote(symbol),
                    "minuteBar": self._minute_bar(symbol),
                    "dailyBar": days[-1] if days else None,
                    "prevDailyBar": days[0] if len(days) > 1 else None,
                }
        return _json({"snapshots": snapshots})

    async def bars(self, request: web.Request) -> web.Response:
        query = request.query
        symbols = self._symbols(request)
        timeframe = parse_timeframe(query.get("timeframe", "1Min"))
        now = self.exchange.clock.now()
        start = (
            parse_rfc3339("start", query["start"])
            if query.get("start")
            else now.replace(hour=0, minute=0, second=0, microsecond=0)
        )
        end = parse_rfc3339("end", query["end"]) if query.get("end") else now
        try:
            limit = int(query.get("limit") or MAX_LIMIT)
        except ValueError:
            raise BadRequest(f"invalid limit: {query.get('limit')}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"invalid limit: must be between 1 and {MAX_LIMIT}")
        sort = query.get("sort", "asc")
        if sort not in ("asc", "desc"):
            raise BadRequest(f"invalid sort: {sort}")
        with self.exchange.lock:
            bars, token = self.bars_query.page(
                symbols, timeframe, start, end, limit, sort == "desc", query.get("page_token") or None
            )
        return _json({"bars": bars, "next_page_token": token})


# ---------------------------------------------------------------------- admin routes


class AdminRoutes:
    """`/sim/...`: faults, manual pacing and exact state, for tests that run the simulator out of process."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/sim/faults", self.faults)
        router.add_post("/sim/faults", self.set_faults)
        router.add_post("/sim/faults/reset", self.reset_faults)
        router.add_post("/sim/advance", self.advance)
        router.add_post("/sim/publish", self.publish)
        router.add_post("/sim/pause", self.pause)
        router.add_post("/sim/resume", self.resume)
        router.add_get("/sim/state", self.state)
        router.add_get("/sim/orders", self.orders)

    async def faults(self, request: web.Request) -> web.Response:
        return _json(self.exchange.faults.snapshot())

    async def set_faults(self, request: web.Request) -> web.Response:
        try:
            changes = json.loads(await request.text() or "{}")
            if not isinstance(changes, dict):
                raise ValueError("expected a JSON object of fault: value")
            return _json(self.exchange.faults.update(changes))
        except ValueError as error:
            raise invalid(str(error)) from None

    async def reset_faults(self, request: web.Request) -> web.Response:
        self.exchange.faults.reset()
        return _json(self.exchange.faults.snapshot())

    async def advance(self, request: web.Request) -> web.Response:
        try:
            events = self.exchange.advance(request.query.get("symbol"))
        except (RuntimeError, KeyError, ValueError) as error:
            raise invalid(str(error)) from None
        return _json({"events": len(events), "clock": rfc3339(self.exchange.clock.now())})

    async def publish(self, request: web.Request) -> web.Response:
        try:
            count = self.exchange.publish(request.query.get("symbol"))
        except (RuntimeError, ValueError) as error:
            raise invalid(str(error)) from None
        return _json({"published": count})

    async def pause(self, request: web.Request) -> web.Response:
        self.exchange.pause()
        return _json({"paused": True})

    async def resume(self, request: web.Request) -> web.Response:
        self.exchange.resume()
        return _json({"paused": False})

    async def orders(self, request: web.Request) -> web.Response:
        """Every order ever placed (open and closed), with exact figures: the chaos tests' ledger."""
        with self.exchange.lock:
            return _json([{"id": str(o.id), "client_order_id": o.client_order_id, "symbol": o.symbol,
                           "side": str(o.side), "status": str(o.status),
                           "qty": dec(o.qty) if o.qty is not None else None,
                           "filled_qty": dec(o.filled_qty), "created_at": rfc3339(o.created_at),
                           "updated_at": rfc3339(o.updated_at)} for o in self.exchange.orders()])

    async def state(self, request: web.Request) -> web.Response:
        exchange = self.exchange
        with exchange.lock:
            return _json(
                {
                    "clock": rfc3339(exchange.clock.now()),
                    "cash": dec(exchange.cash),
                    "buying_power": dec(exchange.buying_power),
                    "positions": {p.symbol: dec(p.qty) for p in exchange.positions()},
                    "open_orders": len(exchange.open_orders()),
                    "paused": exchange.paused,
                    "orders": len(exchange.orders()),
                    "stats": dict(exchange.stats),
                    "quirks": dict(exchange.config.quirks),
                }
            )


def add_routes(app: web.Application, exchange: Exchange) -> None:
    TradingRoutes(exchange).add_to(app.router)
    MarketDataRoutes(exchange).add_to(app.router)
    AdminRoutes(exchange).add_to(app.router)
