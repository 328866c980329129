"""`Exchange`: the simulator in process. One lock around the matching engine, the market feed, the
clock and the fault knobs, so REST handlers, the pacer and a test thread can all drive it.

Tests use it directly (`service.exchange`): read exact Decimal state, flip faults, and pace the market
by hand in `manual` mode:

    exchange.advance("BTC/USD")   # the next quote becomes current; matching runs; trade updates go out
    ...                           # e.g. wait until the bot has processed its fills
    exchange.publish("BTC/USD")   # only now is that quote sent to data-stream subscribers

Listeners (the WebSocket layer) are called inside the lock, in event order, and must only enqueue.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from adapters.sim.accounting import Position
from adapters.sim.activities import Activity, activities_of
from adapters.sim.assets import AssetCatalog, AssetSpec, canonical_symbol
from adapters.sim.clock import AcceleratedClock, ManualClock, utc_now_second
from adapters.sim.config import SimConfig
from adapters.sim.errors import NotFound, OrderRejected
from adapters.sim.events import TradeEvent
from adapters.sim.faults import Faults, FaultSettings
from adapters.sim.feed import MarketFeed, MinuteBar, Trade
from adapters.sim.history import SyntheticHistory
from adapters.sim.matching import MatchingEngine
from adapters.sim.orders import Order, OrderRequest, OrderStatus
from adapters.sim.positions import ShownPositions
from adapters.sim.quirks import Quirks, parse_quirks
from adapters.sim.replay import ReplaySource, load_bars_csv
from adapters.sim.rules import ExchangeRules
from adapters.sim.state_store import load_state, save_state
from dca.market import Quote
from dca.money import round_down

TWO = Decimal(2)
ACCOUNT_NAMESPACE = uuid.UUID("0d2c7f4e-51a9-4c36-9a0f-7d3e1b2c5a90")


@dataclass(frozen=True, slots=True)
class MarketUpdate:
    """One quote made current, with the trade it implies and the minute bar it completed (if any)."""

    quote: Quote
    trade: Trade
    bar: MinuteBar | None


def account_number(seed: int, salt: str) -> str:
    """Alpaca-style account number; the books remember it, so a new exchange is told from an old one."""
    return f"PA3SIM{seed:05d}" + (f"-{salt.upper()}" if salt else "")


@dataclass(frozen=True, slots=True)
class AccountView:
    cash: Decimal  # as reported (the margin_account quirk reports it negative)
    non_marginable_buying_power: Decimal  # what crypto buys draw on: free cash less open-buy reservations
    buying_power: Decimal  # also regt_buying_power
    multiplier: Decimal
    crypto_status: str


def apply_quirks_to_rules(rules: ExchangeRules, given: dict[str, str], quirks: Quirks, cash: Decimal) -> None:
    """Set the engine rules the quirks name (only those given, so rules set directly stay as set)."""
    named = {name.strip().replace("-", "_") for name in given}
    if quirks.fee_tier is not None:
        rules.maker_fee_bps, rules.taker_fee_bps = quirks.fee_tier
    if "fee_rounding" in named:
        rules.fee_rounding = quirks.fee_rounding
    if "min_notional_on_sells" in named:
        rules.min_notional_on_sells = True
    if quirks.min_order_size_usd is not None:
        rules.min_order_usd = quirks.min_order_size_usd
    if "off_grid_prices" in named:
        rules.price_increment_policy = quirks.off_grid_prices
    if "post_status" in named:
        rules.accepted_status = quirks.post_status
    if "wash_trade_check" in named:
        rules.wash_trade_check = quirks.wash_trade_check
    if "wash_trade_status" in named:
        rules.wash_trade_status = quirks.wash_trade_status
    if "maker_fill_price" in named:
        rules.maker_fill_price = quirks.maker_fill_price
    if "duplicate_id_status" in named:
        rules.duplicate_id_status = quirks.duplicate_id_status
    if quirks.buying_power_below_cash is not None:
        holdback = quirks.buying_power_below_cash
        rules.buying_power_holdback = cash / 2 if holdback < 0 else holdback


TradeListener = Callable[[list[TradeEvent]], None]
MarketListener = Callable[[list[MarketUpdate]], None]


class Exchange:
    def __init__(self, config: SimConfig) -> None:
        config.validate()
        self.config = config
        self.lock = threading.RLock()
        self._paused = False
        self.catalog = AssetCatalog(config.symbols)
        self.history = SyntheticHistory(config.seed)
        saved = load_state(config.state_file) if config.state_file and config.state_file.exists() else None
        replays = self._replays(config)
        start = self._start_time(config, replays, saved)
        self.clock: AcceleratedClock | ManualClock = (
            ManualClock(start) if config.pacing == "manual" else AcceleratedClock(start, float(config.speed))
        )
        self.salt = self._instance_salt(config, saved)
        self.quirks = parse_quirks(config.quirks)
        apply_quirks_to_rules(config.rules, config.quirks, self.quirks, config.starting_cash)
        self.engine = MatchingEngine(
            self.catalog,
            seed=config.seed,
            salt=self.salt,
            starting_cash=config.starting_cash,
            rules=config.rules,
            fill_model=config.fill_model,
        )
        self.feed = MarketFeed(
            self.catalog,
            self.history,
            config.seed,
            start,
            config.tick,
            replays,
            config.bar_retention_minutes,
            config.max_catchup_ticks,
        )
        self.replay_sources = self.feed.replay_sources  # kept after a replay runs out: its bars stay history
        self.faults = Faults(config.seed, config.faults)
        self.faults.on_change(self._apply_faults)
        identity = f"{config.seed}:{self.salt}" if self.salt else str(config.seed)
        self.account_id = uuid.uuid5(ACCOUNT_NAMESPACE, identity)
        self.account_number = account_number(config.seed, self.salt)
        self.created_at = start
        self.live_start = start.replace(second=0, microsecond=0)
        self._trade_listeners: list[TradeListener] = []
        self._market_listeners: list[MarketListener] = []
        self._unpublished: list[MarketUpdate] = []
        self._day: date = start.date()
        self._lastday_mid: dict[str, Decimal] = {}
        self._last_equity = config.starting_cash
        self.stats = {"rate_limited": 0, "faulted_5xx": 0, "faulted_429": 0, "requests": 0}
        if saved is not None:
            self._restore(saved)
        self.shown = ShownPositions(self.engine.ledger, float(self.quirks.position_lag))
        self._activities: list[Activity] = []  # derived from engine.executions[:_activities_from]
        self._activities_from = 0
        self._prime()

    # ------------------------------------------------------------------ setup

    def _replays(self, config: SimConfig) -> dict[str, ReplaySource]:
        if config.replay_symbol is None or (config.replay_csv is None and config.replay_bars is None):
            return {}
        spec = self.catalog.find(config.replay_symbol)
        if spec is None:
            raise ValueError(f"replay-symbol: {config.replay_symbol} is not among the symbols")
        if config.replay_csv is not None:
            bars, extras = load_bars_csv(config.replay_csv, spec.symbol)
        else:
            bars, extras = list(config.replay_bars or ()), {}
        source = ReplaySource(spec.symbol, bars, spec.spread_bps, spec.price_increment, extras)
        # meet the replayed prices where they begin, so bar history has no jump at the seam
        synthetic = self.history.price_at(spec, source.first_time)
        self.history.rescale(spec.symbol, float(source.bars[0].open) / synthetic)
        return {spec.symbol: source}

    @staticmethod
    def _instance_salt(config: SimConfig, saved: dict[str, Any] | None) -> str:
        """A saved exchange keeps its salt ("" for state files written before salts existed, so their
        account number stays what the books recorded); a new one draws a fresh one unless told."""
        if saved is not None:
            return str(saved.get("salt", ""))
        return config.instance_salt if config.instance_salt is not None else secrets.token_hex(4)

    @staticmethod
    def _start_time(
        config: SimConfig, replays: dict[str, ReplaySource], saved: dict[str, Any] | None
    ) -> datetime:
        if saved is not None:
            return saved["clock"]
        if config.start is not None:
            return config.start
        if replays:
            return min(source.first_time for source in replays.values())
        return utc_now_second()

    def _prime(self) -> None:
        """Give every pair a current quote at the start, so market orders can be checked at once."""
        quotes = (
            self.feed.next_quotes()
            if self.config.pacing == "manual"
            else self.feed.quotes_until(self.clock.now())
        )
        for quote in quotes:
            self._make_current(quote)
        self._unpublished.clear()

    def _apply_faults(self, settings: FaultSettings) -> None:
        self.engine.fill_model.partial_fill_probability = Decimal(str(settings.partial_fill_rate))

    # ------------------------------------------------------------------ listeners

    def on_trade_updates(self, listener: TradeListener) -> None:
        self._trade_listeners.append(listener)

    def on_market_data(self, listener: MarketListener) -> None:
        self._market_listeners.append(listener)

    def _emit(self, events: list[TradeEvent]) -> list[TradeEvent]:
        if events:
            events = [self._as_sent(event) for event in events]
            self.shown.record({event.order.symbol for event in events if event.execution is not None})
            for listener in self._trade_listeners:
                listener(events)
        return events

    def _as_sent(self, event: TradeEvent) -> TradeEvent:
        """The gross_position_qty quirk: a buy's update reports the position before its coin fee."""
        execution = event.execution
        if self.quirks.gross_position_qty and execution is not None and execution.fee_currency != "USD":
            return replace(event, position_qty=event.position_qty + execution.fee)
        return event

    # ------------------------------------------------------------------ trading

    def submit_order(self, request: OrderRequest) -> Order:
        with self.lock:
            mode = self.faults.reject_mode
            rejecting = self.faults.chance(self.faults.reject_rate)
            if rejecting and mode != "event":
                status = 403 if mode == "http403" else 422
                code = 40310000 if status == 403 else 42210000
                raise OrderRejected(status, code, "order rejected (simulated fault)")
            if self.quirks.crypto_status != "ACTIVE":
                raise OrderRejected(403, 40010001, "crypto orders not allowed for account")
            now = self.clock.now()
            order, events = self.engine.submit(request, now)
            if self.quirks.pending_events:  # Alpaca: accepted, then pending_new, then new
                events = [replace(events[0], event=status.value, order=replace(order, status=status))
                          for status in (OrderStatus.ACCEPTED, OrderStatus.PENDING_NEW)] + events
            if rejecting:
                events += self.engine.reject(order.id, now, "rejected (simulated fault)")
            self._emit(events)
            return order

    def cancel_order(self, order_id: str) -> Order:
        with self.lock:
            deferred = self.quirks.pending_events
            events = self._emit(self.engine.cancel(order_id, self.clock.now(), deferred))
            return events[-1].order

    def cancel_all_orders(self) -> list[Order]:
        with self.lock:
            events = self.engine.cancel_all(self.clock.now(), self.quirks.pending_events)
            return [event.order for event in self._emit(events)]

    def expire_order(self, order_id: str, reason: str = "expired") -> list[TradeEvent]:
        """Expire an open order now (`expired` trade update); a no-op on terminal orders."""
        with self.lock:
            return self._emit(self.engine.expire(order_id, self.clock.now(), reason))

    def reject_order(self, order_id: str, reason: str = "rejected") -> list[TradeEvent]:
        """Reject an open, unfilled order now (`rejected` trade update)."""
        with self.lock:
            return self._emit(self.engine.reject(order_id, self.clock.now(), reason))

    def order(self, order_id: str) -> Order:
        with self.lock:
            return self.engine.order(order_id)

    def order_by_client_id(self, client_order_id: str) -> Order:
        with self.lock:
            return self.engine.order_by_client_id(client_order_id)

    def orders(self) -> list[Order]:
        with self.lock:
            return self.engine.orders()

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        with self.lock:
            return self.engine.open_orders(symbol)

    def close_position(
        self, symbol: str, qty: Decimal | None = None, percentage: Decimal | None = None
    ) -> Order:
        """A market sell of `qty`, of `percentage` % or of all that is available."""
        with self.lock:
            spec = self._position_asset(symbol)
            available = self.engine.qty_available(spec.symbol)
            if percentage is not None:
                qty = round_down(available * percentage / 100, spec.min_trade_increment)
            request = OrderRequest(
                spec.symbol, "sell", "market", "gtc", qty=qty if qty is not None else available
            )
            return self.submit_order(request)

    # ------------------------------------------------------------------ account views

    @property
    def cash(self) -> Decimal:
        with self.lock:
            return self.engine.cash

    @property
    def buying_power(self) -> Decimal:
        with self.lock:
            return self.engine.buying_power

    def positions(self) -> list[Position]:
        with self.lock:
            return self.engine.positions()

    def position(self, symbol_or_id: str) -> Position:
        """Alpaca keys positions as `BTCUSD` (or the asset id); `BTC/USD` is 404, as on the live API."""
        with self.lock:
            position = self.engine.ledger.positions.get(self._position_asset(symbol_or_id).symbol)
            if position is None:
                raise NotFound("position does not exist")
            return position

    def _position_asset(self, symbol_or_id: str) -> AssetSpec:
        spec = None if "/" in symbol_or_id else self.catalog.find(symbol_or_id)
        if spec is None:
            raise NotFound("position does not exist")
        return spec

    def qty_available(self, symbol: str) -> Decimal:
        with self.lock:
            return self.engine.qty_available(symbol)

    def shown_positions(self) -> list[Position]:
        """What `/v2/positions` shows: the positions, `position_lag` seconds late under that quirk."""
        with self.lock:
            return self.shown.all()

    def shown_position(self, symbol_or_id: str) -> Position:
        with self.lock:
            position = self.shown.get(self._position_asset(symbol_or_id).symbol)
            if position is None:
                raise NotFound("position does not exist")
            return position

    def shown_qty_available(self, position: Position) -> Decimal:
        """A shown position's quantity less the coin open sells hold (never below 0)."""
        with self.lock:
            held = self.engine.position_qty(position.symbol) - self.engine.qty_available(position.symbol)
            return max(position.qty - held, Decimal(0))

    def account_view(self) -> AccountView:
        """The account's money fields as `/v2/account` reports them under the quirks."""
        with self.lock:
            power = self.engine.buying_power
            cash = self.engine.cash
            if self.quirks.margin_account:  # alpaca-py's recorded paper account: negative cash, 2x power
                reported = cash - self.config.starting_cash * Decimal("1.2")
                return AccountView(reported, power, power * 2, Decimal(2), self.quirks.crypto_status)
            return AccountView(cash, power, power, Decimal(1), self.quirks.crypto_status)

    def activities(self, types: set[str] | None = None) -> list[Activity]:
        """Account activities posted by now (FILL, and CFEE/FEE per execution), oldest first."""
        with self.lock:
            now = self.clock.now()
            executions = self.engine.executions
            if len(executions) != self._activities_from:  # executions only grow: derive the new ones' activities
                fresh = activities_of(executions[self._activities_from:], self.quirks)
                self._activities = sorted(self._activities + fresh, key=lambda activity: activity.posted_at)
                self._activities_from = len(executions)
            return [a for a in self._activities
                    if a.posted_at <= now and (types is None or a.activity_type in types)]

    def mark_price(self, symbol: str) -> Decimal:
        """The mid of the current quote: what positions are valued at."""
        quote = self.feed.latest_quotes.get(symbol) or self.engine.last_quote(symbol)
        assert quote is not None
        return (quote.bid + quote.ask) / TWO

    def lastday_price(self, symbol: str) -> Decimal:
        return self._lastday_mid.get(symbol) or self.mark_price(symbol)

    def long_market_value(self) -> Decimal:
        with self.lock:
            return sum((p.qty * self.mark_price(p.symbol) for p in self.engine.positions()), Decimal(0))

    @property
    def last_equity(self) -> Decimal:
        return self._last_equity

    # ------------------------------------------------------------------ market pacing

    def advance(self, symbol: str | None = None) -> list[TradeEvent]:
        """Manual pacing: make the next quote of `symbol` (or of every pair) current and match against
        it. Trade updates go out now; the quote waits for `publish`."""
        with self.lock:
            self._require_manual()
            name = canonical_symbol(symbol) if symbol is not None else None
            if name is not None and name not in self.catalog.symbols:
                raise KeyError(symbol)
            events: list[TradeEvent] = []
            for quote in self.feed.next_quotes(name, not_before=self.clock.now()):
                self.clock.set(quote.time)  # type: ignore[union-attr]
                events += self._make_current(quote)
            return self._emit(events)

    def push_quote(self, quote: Quote) -> list[TradeEvent]:
        """Manual pacing: make this exact quote current (the pair's synthetic path continues from its
        mid). Like `advance`, it is published only by `publish`."""
        with self.lock:
            self._require_manual()
            spec = self.catalog.get(quote.symbol)
            quote = Quote(spec.symbol, quote.bid, quote.ask, quote.time, quote.bid_size, quote.ask_size)
            self.clock.set(quote.time)  # type: ignore[union-attr]
            self.feed.market.set_mid(spec.symbol, float((quote.bid + quote.ask) / TWO))
            return self._emit(self._make_current(quote))

    def publish(self, symbol: str | None = None) -> int:
        """Send the quotes made current since the last publish (of `symbol`, or all) to subscribers."""
        with self.lock:
            name = canonical_symbol(symbol) if symbol is not None else None
            if name is None:
                ready, self._unpublished = self._unpublished, []
            else:
                ready = [update for update in self._unpublished if update.quote.symbol == name]
                self._unpublished = [update for update in self._unpublished if update.quote.symbol != name]
            if ready:
                for listener in self._market_listeners:
                    listener(ready)
            return len(ready)

    def step(self, symbol: str | None = None) -> list[TradeEvent]:
        """`advance` then `publish`."""
        with self.lock:
            events = self.advance(symbol)
            self.publish(symbol)
            return events

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Real-time pacing: stop the market (no quotes, so no fills) while the clock runs on.
        Tests freeze the exchange this way to compare it with the bot's books. Pending cancels (the
        pending_events quirk) still complete: the pacer ends them while the market is paused."""
        self._paused = True
        self.finish_pending_cancels()

    def finish_pending_cancels(self) -> list[TradeEvent]:
        """End every pending cancel now (a paused market has no next quote to wait for)."""
        with self.lock:
            return self._emit(self.engine.finish_cancels(self.clock.now()))

    def resume(self) -> None:
        """Carry on; the market bridges the paused stretch in one step (see `MarketFeed.quotes_until`)."""
        self._paused = False

    def run_until(self, moment: datetime) -> int:
        """Real-time pacing: process and publish every quote due up to `moment`; returns how many."""
        with self.lock:
            events: list[TradeEvent] = []
            quotes = self.feed.quotes_until(moment)
            for quote in quotes:
                events += self._make_current(quote)
            self._emit(events)
            self.publish()
            return len(quotes)

    def _require_manual(self) -> None:
        if self.config.pacing != "manual":
            raise RuntimeError("advance/push_quote/publish need pacing='manual'")

    def _make_current(self, quote: Quote) -> list[TradeEvent]:
        if quote.time.date() != self._day:
            self._roll_day(quote.time.date())
        trade, bar = self.feed.observe(quote)
        self._unpublished.append(MarketUpdate(quote, trade, bar))
        return self.engine.on_quote(quote)

    def _roll_day(self, day: date) -> None:
        self._day = day
        self._lastday_mid = {symbol: (q.bid + q.ask) / TWO for symbol, q in self.feed.latest_quotes.items()}
        self._last_equity = self.engine.cash + self.long_market_value()

    # ------------------------------------------------------------------ persistence

    def save(self) -> None:
        if self.config.state_file is None:
            return
        with self.lock:
            state = {
                "clock": self.clock.now(),
                "engine": self.engine.export_state(),
                "feed": self.feed.export_state(),
                "last_equity": self._last_equity,
                "created_at": self.created_at,
                "salt": self.salt,
            }
            save_state(self.config.state_file, state)

    def _restore(self, saved: dict[str, Any]) -> None:
        self.engine.import_state(saved["engine"])
        self.feed.import_state(saved["feed"])
        self._last_equity = saved["last_equity"]
        self.created_at = saved["created_at"]

    def time_until_next_tick(self) -> float:
        """Real seconds until the next synthetic tick is due (real-time pacing)."""
        clock = self.clock
        if isinstance(clock, AcceleratedClock):
            return clock.real_seconds_until(self.feed.next_tick)
        return 0.05

    def latest_quote(self, symbol: str) -> Quote | None:
        return self.feed.latest_quotes.get(symbol)

    def latest_trade(self, symbol: str) -> Trade | None:
        return self.feed.latest_trades.get(symbol)
