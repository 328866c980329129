"""The questions users ask every day, answered from the books (replacing analyze_pl.py and
check_cycle.py): where does each asset stand, what did the bot earn, what happened in one cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.cycles import CycleStore
from adapters.db.database import Database
from adapters.db.orders import OrderMirror
from app.start_conditions import StoredBarsReader
from dca.assets import AssetRecord, compact_symbol
from dca.cycle import AssetState, Cycle, CycleStatus
from dca.market import Quote
from dca.money import ZERO
from dca.order_ids import is_ours
from dca.params import AssetConfig
from dca.risk import cycle_committed
from dca.strategy import start_waits_for, stop_loss_level


@dataclass(frozen=True, slots=True)
class AssetStatus:
    symbol: str
    enabled: bool
    cycle_id: int | None
    status: str
    quantity: Decimal
    average_price: Decimal
    last_bid: Decimal | None
    unrealized_pnl: Decimal | None
    committed: Decimal
    safety_orders: str
    live_order: str
    foreign_quantity: Decimal | None  # on the exchange beyond what the bot holds (None: unknown)
    waiting_for: str = ""  # a flat cycle held back by its start condition or price range: by what
    start_condition: str = ""  # the condition's reading now, with its indicator values
    price_range_wait: str = ""  # the part of `waiting_for` that is the price range (empty: inside it)
    stop_loss_level: Decimal | None = None  # the bid at or below which the stop loss counts (None: off or flat)
    stop_loss_since: datetime | None = None  # the bid has stayed at or below it since then (the timeout runs)
    close_requested_at: datetime | None = None  # `supervisor.py close` asked; sold at market at the next quote
    resting: tuple[RestingOrder, ...] = ()  # orders placed ahead (the ladder, the limit take-profit)


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """One of a cycle's resting orders as the reports show it."""

    client_order_id: str
    kind: str
    side: str
    limit_price: Decimal | None
    qty: Decimal
    filled_qty: Decimal


def resting_orders(cycle: Cycle | None) -> tuple[RestingOrder, ...]:
    """The cycle's resting orders, highest limit first (the take-profit, then the ladder downwards)."""
    if cycle is None:
        return ()
    shown = [RestingOrder(o.client_order_id, o.kind.value, o.side.value, o.limit_price, o.qty, o.filled_qty)
             for o in cycle.resting]
    return tuple(sorted(shown, key=lambda o: o.limit_price or ZERO, reverse=True))


def status(db: Database, view: Any) -> list[AssetStatus]:
    assets = {a.symbol: a for a in AssetRepository(db).all()}
    cycles = {c.symbol: c for c in CycleStore(db).current_cycles()}
    quotes = view.quotes(list(assets)) if view is not None else {}
    positions = view.positions() if view is not None else None
    rows = []
    for symbol, asset in assets.items():
        stored = cycles.get(symbol)
        cycle = stored.cycle if stored else None
        quantity = cycle.quantity if cycle else ZERO
        bid = quotes[symbol].bid if symbol in quotes else None
        order = cycle.order if cycle else None
        held = quantity + asset.dust
        foreign = None
        if positions is not None:
            position = positions.get(symbol)
            foreign = max((position.qty if position else ZERO) - held, ZERO)
        rows.append(AssetStatus(
            symbol=symbol, enabled=asset.enabled, cycle_id=cycle.id if cycle else None,
            status=cycle.status.value if cycle else "-", quantity=quantity,
            average_price=cycle.average_price if cycle else ZERO, last_bid=bid,
            unrealized_pnl=quantity * bid - cycle.cost if cycle and bid is not None and quantity else None,
            committed=cycle_committed(cycle) if cycle else ZERO,
            safety_orders=f"{cycle.safety_orders if cycle else 0}/{asset.params.max_safety_orders}",
            live_order=f"{order.side} {order.kind} {order.client_order_id}" if order else "",
            foreign_quantity=foreign,
            **_start_gate(db, asset, cycle, quotes.get(symbol)),
            stop_loss_level=stop_loss_level(AssetConfig(asset.id, symbol, "", asset.params), cycle) if cycle else None,
            stop_loss_since=cycle.stop_loss_since if cycle else None,
            close_requested_at=cycle.close_requested_at if cycle else None,
            resting=resting_orders(cycle),
        ))
    return rows


def _start_gate(db: Database, asset: AssetRecord, cycle: Cycle | None, quote: Quote | None) -> dict[str, str]:
    """What keeps a flat watching cycle from starting, read as the running asset actor reads it: the
    start condition from the stored bars at the current minute (`app.start_conditions`), the price
    range against the latest quote."""
    params = asset.params
    if not asset.enabled or cycle is None or not cycle.is_flat or cycle.status is not CycleStatus.WATCHING or (
            params.start_condition is None and params.min_price is None and params.max_price is None):
        return {}  # a paused asset starts nothing, whatever its gates say
    now = quote.time if quote is not None else db.now()
    state = AssetState(cycle)
    shown = ""
    if params.start_condition is not None:
        minute = now.replace(second=0, microsecond=0)
        reading = StoredBarsReader(BarStore(db), asset.id, asset.symbol)(params.start_condition, minute)
        state, shown = state.evolve(start_reading=reading), reading.describe()
    config = AssetConfig(asset.id, asset.symbol, "", params)
    waits = start_waits_for(config, state, quote) if quote is not None else None
    if quote is None and state.start_reading is not None and not state.start_reading.holds:  # no price to judge
        waits = f"the start condition: {state.start_reading.waiting_for}"
    price_wait = None
    if quote is not None:  # the price range alone (the reading of this minute says the rest)
        price_wait = start_waits_for(replace(config, params=replace(params, start_condition=None)), state, quote)
    return {"waiting_for": waits or "", "start_condition": shown, "price_range_wait": price_wait or ""}


@dataclass(frozen=True, slots=True)
class ForeignHoldings:
    """What is on the exchange that the bot neither placed nor trades: never touched, shown for the record."""

    open_orders: list[Any]  # wiring.market_view.OpenOrder without our order namespace
    coins: dict[str, Decimal]  # positions in pairs that are not configured


def foreign_holdings(db: Database, view: Any, namespace: str) -> ForeignHoldings:
    configured = {compact_symbol(a.symbol) for a in AssetRepository(db).all()}
    orders = [o for o in view.open_orders() if not is_ours(o.client_order_id, namespace)]
    coins = {symbol: position.qty for symbol, position in sorted(view.positions().items())
             if compact_symbol(symbol) not in configured and position.qty}
    return ForeignHoldings(orders, coins)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything `status` shows: the assets, the account, what is not the bot's, and the book's flags."""

    rows: list[AssetStatus]
    source: str  # where prices and positions came from, or why there are none
    funds: Any  # wiring.market_view.Funds, or None when the venue could not be read
    foreign: ForeignHoldings
    owner: Any  # adapters.db.lease.Holder of the running supervisor, or None
    kill_switch: Any  # the kill switch's record (a dict while engaged), or None
    refused_pairs: dict[str, str]  # enabled pairs the venue does not trade → why
    seed_takeover: Any  # the seed bot's takeover record, or None
    takeover_note: str | None


def status_report(db: Database, open_view: Callable[[], Any], namespace: str, owner: Any) -> StatusReport:
    """The status of the books and, if the venue (`open_view()`) can be read, of the exchange; an
    unreachable venue still leaves the books worth showing, with the reason in `source`."""
    from adapters.db.meta import KILL_SWITCH, MetaStore
    from adapters.db.seed_schema import TAKEOVER
    from app.takeover import takeover_note

    foreign, funds = ForeignHoldings([], {}), None
    try:
        view = open_view()
        rows = status(db, view)
        funds = view.funds() if view is not None else None
        if view is not None:
            foreign = foreign_holdings(db, view, namespace)
    except Exception as error:  # whatever the venue or its client raised: shown, not fatal
        rows = status(db, None)
        source = f"prices and positions unavailable: {error}"
    else:
        source = f"prices and positions from {view.source}" if view else "no prices or positions (nothing to read)"
    meta = MetaStore(db)
    refused = meta.get("refused_pairs")
    return StatusReport(rows, source, funds, foreign, owner, meta.get(KILL_SWITCH),
                        refused if isinstance(refused, dict) else {}, meta.get(TAKEOVER), takeover_note(meta))


def parse_since(text: str, now: datetime) -> datetime:
    """`7d`, `24h`, `30m`, `2w` before now, or an ISO date/time (UTC)."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    text = text.strip().lower()
    if text[-1:] in units and text[:-1].isdigit():
        return now - timedelta(**{units[text[-1]]: int(text[:-1])})
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def profit_report(db: Database, since: datetime | None) -> dict[str, Any]:
    """Completed cycles since `since`: count, P/L, fees, by asset and in total."""
    by_asset: dict[str, dict[str, Any]] = {}
    for stored in CycleStore(db).completed_since(since):
        cycle, row = stored.cycle, by_asset.setdefault(stored.symbol, _empty())
        if cycle.status.value == "error":
            row["errors"] += 1
            continue
        row["cycles"] += 1
        row["wins"] += cycle.realized_pnl > 0
        row["realized_pnl"] += cycle.realized_pnl
        # the buy fees were taken in coin: valued at what the coin cost
        row["fees"] += cycle.sell_fees + cycle.buy_fees * cycle.average_price
        row["invested"] += cycle.cost
        row["safety_orders"] += cycle.safety_orders
        if cycle.completed_at is not None:
            row["hours"] += (cycle.completed_at - stored.created_at).total_seconds() / 3600
    total = _empty()
    for row in by_asset.values():
        for key in total:
            total[key] += row[key]
    return {"since": since, "by_asset": {symbol: _finish(row) for symbol, row in sorted(by_asset.items())},
            "total": _finish(total)}


def _empty() -> dict[str, Any]:
    return {"cycles": 0, "errors": 0, "wins": 0, "realized_pnl": ZERO, "fees": ZERO, "invested": ZERO,
            "hours": 0.0, "safety_orders": 0}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    cycles = row["cycles"]
    return {**row, "return_percent": row["realized_pnl"] / row["invested"] * 100 if row["invested"] else ZERO,
            "average_hours": row["hours"] / cycles if cycles else 0.0}


def cycle_story(db: Database, namespace: str, cycle_id: int) -> dict[str, Any] | None:
    """One cycle: its figures, its orders, and everything that happened to it, in order."""
    store = CycleStore(db)
    stored = store.cycle(cycle_id)
    if stored is None:
        return None
    cycle = stored.cycle
    figures = {"id": cycle.id, "symbol": stored.symbol, "status": cycle.status.value, "created_at": stored.created_at,
               "completed_at": cycle.completed_at, "quantity": cycle.quantity, "average_price": cycle.average_price,
               "cost": cycle.cost, "safety_orders": cycle.safety_orders, "last_fill_price": cycle.last_fill_price,
               "peak_price": cycle.peak_price, "sell_price": cycle.sell_price, "realized_pnl": cycle.realized_pnl,
               "buy_fees_coin": cycle.buy_fees, "sell_fees": cycle.sell_fees}
    events = [{"at": at, "from": before, "to": after, "what": what}
              for at, before, after, what in store.events(cycle_id)]
    return {"cycle": figures, "orders": OrderMirror(db, namespace).for_cycle(cycle_id), "events": events,
            "resting": list(resting_orders(cycle))}
