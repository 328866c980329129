"""First contact with a real account: measure how this venue behaves where our simulator can only
guess (issue 10), with the smallest orders it accepts, and say which simulator quirks match it.

Everything goes through alpaca-py's clients: orders as exact decimal strings through the TradingClient's
raw request path (`client.post("/orders", {...})`), account activities through `client.get`, trade
updates through `TradingStream`, quotes through `CryptoHistoricalDataClient`. Only the rate-limit
headers need the raw HTTP response, which alpaca-py does not expose; one GET reads them with `requests`.

The probe touches only what it created: every order it sends carries its own client_order_id prefix,
it cancels only those, and it sells back only the coins its own buy added (never more than the venue
says is available). No market-data WebSocket is opened, so a bot running on the same keys keeps its one.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.requests import CryptoLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream

from dca.money import round_down, round_up

ZERO = Decimal(0)
NANO = Decimal("1e-9")
CENT = Decimal("0.01")
TIER_MAKER_FOR_TAKER = {25: 15, 22: 12, 20: 10, 18: 8, 15: 5, 13: 2, 12: 2, 10: 0}  # Alpaca's volume tiers
REQUEST_TIMEOUT = 30
PENDING_EVENTS = ("accepted", "pending_new", "pending_cancel")
MAX_TAKER_RATE = Decimal("0.0025")  # tier 1, the highest: a buy adds at least filled × (1 − this)
MAX_FEE_SHARE = Decimal("0.01")  # a larger "fee" means someone else moved the position


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    key_id: str
    secret_key: str
    trading_url: str | None  # None: Alpaca paper
    data_url: str | None
    trading_stream_url: str | None
    name: str  # "Alpaca paper" or "the simulator at …"


@dataclass(frozen=True, slots=True)
class ProbeLimits:
    symbol: str = "BTC/USD"
    notional: Decimal = Decimal(12)  # the buy: a little above the $10 floor
    small_sell: Decimal = Decimal(5)  # the sell below the floor
    fill_wait: float = 60.0  # seconds for an order to fill or cancel
    lag_wait: float = 30.0  # seconds for the position to show a fill
    fee_wait: float = 60.0  # seconds for the fee activity to appear


@dataclass
class Findings:
    rows: list[tuple[str, str]] = field(default_factory=list)
    quirks: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # "HTTP 403 40310000: message", in order, deduplicated
    events: set[str] = field(default_factory=set)
    leftovers: list[str] = field(default_factory=list)  # what cleanup could not undo

    def add(self, question: str, answer: str) -> None:
        self.rows.append((question, answer))

    def table(self) -> str:
        width = max(len(question) for question, _ in self.rows) if self.rows else 10
        lines = [f"{question.ljust(width)}  {answer}" for question, answer in self.rows]
        return "\n".join(lines)

    def quirk_arguments(self) -> str:
        parts = [f"--quirk {name}={value}" if value else f"--quirk {name}" for name, value in self.quirks.items()]
        return " ".join(parts) or "(none: the simulator's defaults match)"


class VenueProbe:
    def __init__(self, target: ProbeTarget, limits: ProbeLimits, say: Callable[[str], None] = print) -> None:
        self.target, self.limits, self.say = target, limits, say
        self.client = TradingClient(target.key_id, target.secret_key, paper=True, url_override=target.trading_url)
        self.data = CryptoHistoricalDataClient(target.key_id, target.secret_key, url_override=target.data_url)
        for client in (self.client, self.data):  # alpaca-py sets no timeout: a hung venue must not hang us
            client._session.request = _with_timeout(client._session.request)
        self.prefix = f"probe-{secrets.token_hex(3)}"
        self.findings = Findings()
        self.updates: list[dict[str, Any]] = []
        self._stream: TradingStream | None = None
        self._stream_thread: threading.Thread | None = None
        self._sequence = 0
        self._ours: list[str] = []  # order ids this probe placed
        self._bought = ZERO  # coins this probe's buys added to the position
        self._sold = ZERO
        self._fee_ids: set[str] = set()  # fee activities already accounted for (or there before the probe)
        self._last_status, self._last_message = 0, ""

    # ------------------------------------------------------------------ the run

    def run(self) -> Findings:
        found = self.findings
        account = self._account()
        found.add("account status / crypto_status", f"{account['status']} / {account.get('crypto_status')}")
        if account.get("crypto_status") not in (None, "ACTIVE"):
            found.quirks["crypto_status"] = str(account["crypto_status"])
        self._rate_limit_headers()
        self._cash_fields(account)
        if account.get("crypto_status") not in (None, "ACTIVE"):
            found.add("trading", "skipped: crypto is not ACTIVE on this account, so every order would be refused")
            return found
        asset = self._get(f"/assets/{self.limits.symbol}")
        self._fee_ids = {a["id"] for a in self._fee_activities()}  # not ours: there before the probe
        self._start_stream()
        try:
            self._resting_buy(asset)
            self._buy(asset)
            self._small_sell(asset)
            self._sell_back(asset)
        finally:
            self._clean_up(asset)
            self._stop_stream()
        events = sorted(found.events & set(PENDING_EVENTS))
        found.add("pending events seen", ", ".join(events) or "none (only new / fill / canceled)")
        if events:
            found.quirks["pending_events"] = ""
        found.add("error codes seen", "; ".join(found.errors) or "none")
        return found

    # ------------------------------------------------------------------ account

    def _account(self) -> dict[str, Any]:
        return self._get("/account")

    def _rate_limit_headers(self) -> None:
        base = (self.target.trading_url or "https://paper-api.alpaca.markets").rstrip("/")
        keys = {"APCA-API-KEY-ID": self.target.key_id, "APCA-API-SECRET-KEY": self.target.secret_key}
        headers = requests.get(f"{base}/v2/account", headers=keys, timeout=REQUEST_TIMEOUT).headers
        seen = {name: headers[name] for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
                if name in headers}
        answer = ", ".join(f"{name}={value}" for name, value in seen.items()) or "none on a normal response"
        self.findings.add("rate-limit headers", answer)
        if seen:
            self.findings.quirks["ratelimit_headers"] = ""

    def _cash_fields(self, account: dict[str, Any]) -> None:
        cash, power = Decimal(account["cash"]), Decimal(account["non_marginable_buying_power"])
        buying, multiplier = Decimal(account["buying_power"]), Decimal(account.get("multiplier") or 1)
        self.findings.add("cash / non_marginable_buying_power / buying_power",
                          f"{cash} / {power} / {buying} (multiplier {multiplier})")
        if cash < 0 or multiplier > 1:
            self.findings.quirks["margin_account"] = ""
        elif power < cash and not self._open_orders():
            self.findings.quirks["buying_power_below_cash"] = _plain(cash - power)

    def _open_orders(self) -> list[dict[str, Any]]:
        return self._get("/orders", {"status": "open", "limit": 500})

    # ------------------------------------------------------------------ orders

    def _resting_buy(self, asset: dict[str, Any]) -> None:
        """A buy far below the market: which buying-power field it reserves, the duplicate-id answer,
        and the cancel's events."""
        ask = self._quote()[1]
        increment, tick = Decimal(asset["min_trade_increment"]), Decimal(asset["price_increment"])
        price = max(round_down(ask / 2, tick), tick)
        qty = max(round_up(Decimal("10.5") / price, increment), Decimal(asset["min_order_size"]))
        before = self._account()
        client_id = self._client_id("rest")
        order = self._order("buy", "limit", _plain(qty), price=_plain(price), client_id=client_id)
        if order is None:
            self.findings.add("buying power reserved by an open buy", "not measured: the resting buy was refused")
            return
        after = self._account()
        moved = [name for name in ("cash", "non_marginable_buying_power", "buying_power")
                 if Decimal(after[name]) < Decimal(before[name])]
        self.findings.add("buying power reserved by an open buy", ", ".join(moved) + " moved" if moved else
                          "no field moved")
        again = self._order("buy", "limit", _plain(qty), price=_plain(price), client_id=client_id, expect_refusal=True)
        status = self._last_status
        self.findings.add("duplicate client_order_id", f"HTTP {status}" if again is None else "ACCEPTED (!)")
        if again is None and status != 422:
            self.findings.quirks["duplicate_id_status"] = str(status)
        self._cancel(order["id"])
        self._exponent(qty, price)
        self._off_grid(qty, price + tick / 2)

    def _exponent(self, qty: Decimal, price: Decimal) -> None:
        """The same resting buy with its quantity in exponent notation (as alpaca-py's float models send
        small quantities): accepted (then cancelled) or refused?"""
        written = f"{qty:E}"
        order = self._order("buy", "limit", written, price=_plain(price), client_id=self._client_id("exp"),
                            expect_refusal=True)
        if order is None:
            self.findings.add("qty in exponent notation", f"REFUSED (HTTP {self._last_status}): {self._last_message}")
            if self._last_status in (400, 422):
                self.findings.quirks["no_exponent"] = ""
            return
        self.findings.add("qty in exponent notation", f"accepted ({written} read as {order.get('qty')})")
        self._cancel(order["id"])

    def _off_grid(self, qty: Decimal, price: Decimal) -> None:
        """The resting buy once more at a price half an increment off the grid: refused or rounded?"""
        order = self._order("buy", "limit", _plain(qty), price=_plain(price), client_id=self._client_id("grid"),
                            expect_refusal=True)
        if order is None:
            self.findings.add("limit price off the price_increment grid",
                              f"REFUSED (HTTP {self._last_status}): {self._last_message}")
            return
        self.findings.add("limit price off the price_increment grid",
                          f"accepted ({_plain(price)} became {order.get('limit_price')})")
        if Decimal(str(order.get("limit_price"))) != price:
            self.findings.quirks["off_grid_prices"] = "round"
        self._cancel(order["id"])

    def _buy(self, asset: dict[str, Any]) -> None:
        ask = self._quote()[1]
        increment, minimum = Decimal(asset["min_trade_increment"]), Decimal(asset["min_order_size"])
        self.findings.add("min_order_size / min_trade_increment",
                          f"{_plain(minimum)} (${_plain((minimum * ask).quantize(CENT))}) / {_plain(increment)}")
        qty = max(round_up(self.limits.notional / ask, increment), minimum)
        before = self._position_qty()
        order = self._order("buy", "market", _plain(qty), client_id=self._client_id("buy"))
        if order is None:
            self.findings.add("buy", "refused; nothing more could be measured")
            return
        self.findings.add("status / symbol in the answer to POST /v2/orders", f"{order['status']} / {order['symbol']}")
        if "/" not in str(order["symbol"]):
            self.findings.quirks["legacy_symbols"] = ""
        if order["status"] != "pending_new":
            self.findings.quirks["post_status"] = str(order["status"])
        filled = self._wait_done(order["id"])
        if filled is None or Decimal(filled["filled_qty"]) == 0:
            self.findings.add("buy", "did not fill in time")
            return
        filled_qty = Decimal(filled["filled_qty"])
        lag, after = self._position_lag(before)
        fee = filled_qty - (after - before)
        if not ZERO <= fee <= filled_qty * MAX_FEE_SHARE:
            # another order moved the position meanwhile: measure nothing, and sell back no more than
            # the buy can have added under any fee tier
            self._bought = round_down(filled_qty * (1 - MAX_TAKER_RATE), Decimal(asset["min_trade_increment"]))
            self.findings.add("coin fee on the buy", f"not measured: the position moved by {_plain(after - before)}"
                                                     f" for a buy of {_plain(filled_qty)} (someone else trading?)")
            return
        self._bought = after - before
        self._position_qty_finding(order["id"], before, after, filled_qty)
        self._coin_fee_findings(filled_qty, fee)
        self.findings.add("position shows the fill after", f"{lag:.1f} s" if lag is not None else
                          f"not within {self.limits.lag_wait:g} s")
        if lag is None or lag >= 1:
            self.findings.quirks["position_lag"] = str(math.ceil(lag if lag is not None else self.limits.lag_wait))
        if fee <= 0:
            return
        activity = self._fee_activity(True, "coin fee activity (CFEE)", self.limits.fee_wait)
        if activity is None:
            self.findings.quirks["fees_eod"] = ""
        elif Decimal(activity["qty"]) != -fee:
            self.findings.add("CFEE against the position", f"DIFFERS: the CFEE says {activity['qty']}, the position "
                                                          f"lost {_plain(fee)} to the fee")

    def _position_lag(self, before: Decimal) -> tuple[float | None, Decimal]:
        start = time.monotonic()
        while True:
            now_qty = self._position_qty()
            if now_qty != before:
                return time.monotonic() - start, now_qty
            if time.monotonic() - start > self.limits.lag_wait:
                return None, now_qty
            time.sleep(0.25)

    def _position_qty_finding(self, order_id: str, before: Decimal, after: Decimal, filled: Decimal) -> None:
        update = self._wait_update(order_id, "fill")
        if update is None:
            self.findings.add("position_qty in the fill update", "no fill update seen")
            return
        if update.get("position_qty") is None:
            self.findings.add("position_qty in the fill update", "ABSENT")
            self.findings.quirks["no_position_qty"] = ""
            return
        reported = Decimal(str(update["position_qty"]))
        if reported == after:
            answer = f"net of the fee ({reported}, as the position)"
        elif reported == before + filled:
            answer = f"GROSS, before the fee ({reported}; the position is {after})"
            self.findings.quirks["gross_position_qty"] = ""
        else:
            answer = f"{reported}: neither the position {after} nor before + filled {before + filled}"
        self.findings.add("position_qty in the fill update", answer)

    def _coin_fee_findings(self, filled: Decimal, fee: Decimal) -> None:
        if fee <= 0:
            self.findings.add("coin fee on the buy", f"{fee}: none taken from the position")
            return
        bps = (fee / filled * 10_000).quantize(Decimal(1))
        self.findings.add("coin fee on the buy", f"{_plain(fee)} ({bps} bps taker of {_plain(filled)})")
        if bps != 25:
            maker = TIER_MAKER_FOR_TAKER.get(int(bps), max(int(bps) - 10, 0))
            self.findings.quirks["fee_tier"] = f"{maker}/{bps}"
        self._rounding("coin fee rounding", filled * bps / 10_000, fee, NANO)

    def _rounding(self, question: str, exact: Decimal, charged: Decimal, quantum: Decimal) -> None:
        up, even = exact.quantize(quantum, ROUND_CEILING), exact.quantize(quantum, ROUND_HALF_EVEN)
        step, was, now = _plain(quantum), _plain(exact), _plain(charged)
        if up == even == exact:
            answer = f"not distinguishable on this fill ({now})"
        elif charged == up and up != even:
            answer = f"up to {step} ({was} -> {now})"
        elif charged == up:
            answer = f"up or half-even to {step} ({was} -> {now})"
        elif charged == even:
            answer = f"half-even to {step} ({was} -> {now})"
            self.findings.quirks["fee_rounding"] = "half_even"
        elif charged == exact:
            answer = f"not rounded ({now})"
            self.findings.quirks["fee_rounding"] = "exact"
        else:
            answer = f"{now} against {was} unrounded: another rule"
        self.findings.add(question, answer)

    def _fee_activity(self, coin: bool, question: str, wait: float) -> dict[str, Any] | None:
        """Wait up to `wait` seconds for the next new fee activity of the pair: a coin fee (negative qty)
        or a USD fee (negative net_amount, CFEE or FEE)."""
        start = time.monotonic()
        while True:
            for activity in reversed(self._fee_activities()):  # oldest first
                if activity["id"] not in self._fee_ids and self._is_fee(activity, coin):
                    self._fee_ids.add(activity["id"])
                    amount = activity.get("qty") if coin else activity.get("net_amount")
                    self.findings.add(question, f"{activity['activity_type']} after {time.monotonic() - start:.1f} s:"
                                                f" {amount}")
                    return activity
            if time.monotonic() - start >= wait:
                self.findings.add(question, f"not posted within {wait:g} s (end of day?)")
                return None
            time.sleep(0.5)

    def _is_fee(self, activity: dict[str, Any], coin: bool) -> bool:
        if activity.get("symbol") not in (self.limits.symbol.replace("/", ""), self.limits.symbol):
            return False
        if coin:
            return Decimal(activity.get("qty") or "0") < 0
        return Decimal(activity.get("net_amount") or "0") < 0

    def _fee_activities(self) -> list[dict[str, Any]]:
        return self._get("/account/activities", {"activity_types": "CFEE,FEE", "page_size": 100})

    def _small_sell(self, asset: dict[str, Any]) -> None:
        if self._bought <= 0:
            return
        bid = self._quote()[0]
        increment, minimum = Decimal(asset["min_trade_increment"]), Decimal(asset["min_order_size"])
        qty = min(max(round_down(self.limits.small_sell / bid, increment), minimum), self._bought)
        if qty * bid >= 10:
            self.findings.add("sell below $10", "not measured: the smallest sell is worth $10 or more")
            return
        order = self._order("sell", "market", _plain(qty), client_id=self._client_id("small"), expect_refusal=True)
        if order is None:
            self.findings.add("sell below $10", f"REFUSED (HTTP {self._last_status}): {self._last_message}")
            if "minimal amount" in self._last_message:
                self.findings.quirks["min_notional_on_sells"] = ""
            return
        done = self._wait_done(order["id"])
        self._sold += Decimal(done["filled_qty"]) if done else ZERO
        self.findings.add("sell below $10", f"accepted (${_plain((qty * bid).quantize(CENT))})")
        if done is not None and "fees_eod" not in self.findings.quirks:
            self._fee_activity(False, "USD fee activity (small sell)", self.limits.fee_wait)

    def _sell_back(self, asset: dict[str, Any]) -> None:
        qty = self._sellable(asset)
        if qty <= 0:
            return
        order = self._order("sell", "market", _plain(qty), client_id=self._client_id("sell"))
        done = self._wait_done(order["id"]) if order else None
        if done is None or Decimal(done["filled_qty"]) == 0:
            return
        filled, price = Decimal(done["filled_qty"]), Decimal(done["filled_avg_price"])
        self._sold += filled
        if "fees_eod" in self.findings.quirks:
            self.findings.add("USD fee activity (sell)", "not waited for: fees are posted at the end of the day")
            return
        activity = self._fee_activity(False, "USD fee activity (sell)", self.limits.fee_wait)
        if activity is None:
            return
        if activity["activity_type"] != "CFEE":
            self.findings.quirks["usd_fee_activity"] = activity["activity_type"]
        bps = Decimal(self.findings.quirks.get("fee_tier", "15/25").split("/")[1])
        charged = -Decimal(activity["net_amount"])
        self._rounding("USD fee rounding (sell)", filled * price * bps / 10_000, charged, CENT)

    def _sellable(self, asset: dict[str, Any]) -> Decimal:
        """What this probe may sell: the coins its buy added, less what it sold, capped by the venue."""
        mine = self._bought - self._sold
        available = self._position_available()
        return round_down(min(mine, available), Decimal(asset["min_trade_increment"]))

    # ------------------------------------------------------------------ cleanup

    def _clean_up(self, asset: dict[str, Any]) -> None:
        for order_id in self._ours:
            order = self._get(f"/orders/{order_id}")
            if order["status"] not in ("filled", "canceled", "expired", "rejected"):
                self._cancel(order_id)
        qty = self._sellable(asset)
        if qty > 0:
            order = self._order("sell", "market", _plain(qty), client_id=self._client_id("undo"))
            done = self._wait_done(order["id"]) if order else None
            if done is not None:
                self._sold += Decimal(done["filled_qty"])
        left = self._bought - self._sold
        if 0 < left < Decimal(asset["min_trade_increment"]):  # unsellable on any venue: below the increment
            self.findings.add("dust left by the probe", f"{_plain(left)} (below the trade increment)")
        elif left > 0:
            self.findings.leftovers.append(f"{_plain(left)} {self.limits.symbol.split('/')[0]} bought by the probe "
                                           f"could not be sold back")

    # ------------------------------------------------------------------ plumbing

    def _client_id(self, what: str) -> str:
        self._sequence += 1
        return f"{self.prefix}-{self._sequence}-{what}"

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(path, params)

    def _order(self, side: str, kind: str, qty: str, *, client_id: str, price: str | None = None,
               expect_refusal: bool = False) -> dict[str, Any] | None:
        """A gtc order of the probe's pair, every number an exact decimal string."""
        body = {"symbol": self.limits.symbol, "side": side, "type": kind, "time_in_force": "gtc", "qty": qty,
                "client_order_id": client_id}
        if price is not None:
            body["limit_price"] = price
        return self._post(body, expect_refusal)

    def _post(self, body: dict[str, Any], expect_refusal: bool = False) -> dict[str, Any] | None:
        try:
            order = self.client.post("/orders", body)
        except APIError as error:
            self._refused(error)
            if not expect_refusal:
                self.say(f"probe: order refused: HTTP {error.status_code} {error}")
            return None
        self._ours.append(order["id"])  # type: ignore[index]
        return order  # type: ignore[return-value]

    def _refused(self, error: APIError) -> None:
        self._last_status = error.status_code or 0
        try:
            code, message = error.code, error.message
        except (KeyError, ValueError):
            code, message = None, str(error)
        self._last_message = str(message)
        text = f"HTTP {error.status_code} {code}: {message}"
        if text not in self.findings.errors:
            self.findings.errors.append(text)

    def _cancel(self, order_id: str) -> None:
        try:
            self.client.delete(f"/orders/{order_id}")
        except APIError as error:
            self._refused(error)
        self._wait_done(order_id)

    def _wait_done(self, order_id: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + self.limits.fill_wait
        while time.monotonic() < deadline:
            order = self._get(f"/orders/{order_id}")
            if order["status"] in ("filled", "canceled", "expired", "rejected"):
                return order
            time.sleep(0.25)
        return None

    def _wait_update(self, order_id: str, event: str, timeout: float = 5.0) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for update in list(self.updates):
                if update.get("event") == event and update.get("order", {}).get("id") == order_id:
                    return update
            time.sleep(0.1)
        return None

    def _position(self) -> dict[str, Any] | None:
        try:
            return self._get(f"/positions/{self.limits.symbol.replace('/', '')}")
        except APIError as error:
            if error.status_code == 404:
                return None
            raise

    def _position_qty(self) -> Decimal:
        position = self._position()
        return Decimal(position["qty"]) if position else ZERO

    def _position_available(self) -> Decimal:
        position = self._position()
        return Decimal(position.get("qty_available") or position["qty"]) if position else ZERO

    def _quote(self) -> tuple[Decimal, Decimal]:
        symbol = self.limits.symbol
        quote = self.data.get_crypto_latest_quote(CryptoLatestQuoteRequest(symbol_or_symbols=symbol))[symbol]
        return Decimal(str(quote.bid_price)), Decimal(str(quote.ask_price))

    def _start_stream(self) -> None:
        target = self.target
        stream = TradingStream(target.key_id, target.secret_key, paper=True, raw_data=True,
                               url_override=target.trading_stream_url)

        async def collect(message: dict[str, Any]) -> None:
            data = message.get("data", message)
            if str(data.get("order", {}).get("client_order_id", "")).startswith(self.prefix):
                self.updates.append(data)
                self.findings.events.add(str(data.get("event")))

        stream.subscribe_trade_updates(collect)
        self._stream = stream
        self._stream_thread = threading.Thread(target=stream.run, name="probe-trade-updates", daemon=True)
        self._stream_thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (stream._running and stream._ws is not None):
            time.sleep(0.1)
        time.sleep(0.5)  # the listen message goes out right after the socket opens

    def _stop_stream(self) -> None:
        if self._stream is not None:
            self._stream.stop()
        if self._stream_thread is not None:
            self._stream_thread.join(10)


def _with_timeout(request: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return request(*args, **kwargs)

    return timed


def _plain(value: Decimal) -> str:
    """Exact decimal text, never in exponent notation (what goes on the wire)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
