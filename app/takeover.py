"""Taking over the seed bot's open cycles at the first `run` after `db upgrade` converted its database.

Before any actor starts, `take_over`:

1. refuses (`SeedBotActive`, exit 2, with the remedy) while the seed bot may still be running: its
   PID file (under SEED_BOT_DIR) names a live process, it wrote its books less than `GUARD` ago, or
   the exchange shows orders placed within `GUARD` that neither bot's books explain. Two bots
   trading one account would each sell the other's coins.
2. takes over each open cycle the conversion recorded. Its quantity, average price, safety-order
   count, last fill price and trailing peak are already in its row. A `buying`/`selling` cycle's
   `latest_order_id` is looked up on the exchange: if the exchange knows it, it becomes the cycle's
   tracked order under Alpaca's own client id (the seed bot set none), whatever its status, so a fill
   or cancel that happened in between is applied by the actor's read-back, exactly once. If the
   exchange does not know it, the cycle carries on watching (as the seed bot's consistency checker did).
3. compares the cycles' coins with the exchange's positions: a difference is reported; the
   reconciler then handles it as for any cycle (never a silent rewrite).
4. records which cycles it took over (shown by `supervisor.py status` and `db status`).

The seed bot's other open orders are not in any cycle: they stay foreign and are never touched.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.db.meta import MetaStore
from adapters.db.seed_schema import TAKEOVER, TERMINAL
from adapters.db.takeover import SeedCycle, TakeoverStore
from config.settings import ConfigError
from dca.cycle import OrderKind, Side
from dca.exchange import ExchangeOrder
from dca.money import ZERO, plain

GUARD = timedelta(minutes=5)  # the seed bot's caretakers run every 1-5 minutes
PID_FILE = "main_app.pid"
IN_FLIGHT = ("buying", "selling")


class SeedBotActive(ConfigError):
    """The seed bot may still be trading: the takeover waits until it is stopped."""


def take_over(store: TakeoverStore, broker: Any, namespace: str, venue_now: datetime, wall_now: datetime,
              seed_bot_dir: Path | None, log: Any) -> list[int]:
    """Take over the open cycles `db upgrade` recorded; returns their ids (none if there is nothing to do)."""
    pending = store.pending()
    if not pending:
        return []
    guard(store, broker, namespace, venue_now, wall_now, seed_bot_dir, log)
    cycles = [cycle for cycle in store.cycles(pending) if cycle.status not in TERMINAL]
    positions = broker.positions()
    for cycle in cycles:
        held = positions[cycle.symbol].qty if cycle.symbol in positions else ZERO
        log.info("cycle {} {}", cycle.id, _take_over_one(store, broker, cycle, held))  # "cycle 4 taken over from …"
    _report_holdings(store, cycles, {symbol: p.qty for symbol, p in positions.items()}, log)
    taken = [cycle.id for cycle in cycles]
    store.finish(taken, wall_now)
    return taken


def guard(store: TakeoverStore, broker: Any, namespace: str, venue_now: datetime, wall_now: datetime,
          seed_bot_dir: Path | None, log: Any) -> None:
    """Raise SeedBotActive while anything says the seed bot is still running."""
    signs = []
    pid_file = seed_bot_dir / PID_FILE if seed_bot_dir is not None else None
    if pid_file is not None and (pid := _running_pid(pid_file)) is not None:
        signs.append(f"{pid_file} names the running process {pid}")
    elif pid_file is None:
        log.info("SEED_BOT_DIR is not set: the seed bot's PID file is not checked (its books and orders are)")
    last = store.last_written()
    if last is not None and wall_now - last < GUARD:
        signs.append(f"it updated its books at {last:%Y-%m-%d %H:%M:%S} UTC, less than {_minutes()} ago")
    unexplained = [order for order in broker.orders(status="all", after=venue_now - GUARD)
                   if not store.explains(order, namespace)]
    if unexplained:
        listed = ", ".join(f"{o.side} {o.symbol} {o.id} at {o.created_at:%H:%M:%S}" for o in unexplained[:5])
        signs.append(f"the exchange shows {len(unexplained)} order(s) placed in the last {_minutes()} that neither "
                     f"bot's books explain ({listed})")
    if signs:
        raise SeedBotActive(
            "the seed bot looks active: " + "; ".join(signs) + ". Stop it before this bot takes over its cycles: "
            "remove its cron entries (watchdog.py and the caretakers), stop main_app.py "
            "(`python scripts/app_control.py stop`), wait " + _minutes() + ", then start again "
            "(docs/migrating.md). Orders you placed by hand also count: wait until they are older than " + _minutes())


def _take_over_one(store: TakeoverStore, broker: Any, cycle: SeedCycle, held: Decimal) -> str:
    said = f"taken over from the seed bot: {cycle.describe()}"
    if cycle.status not in IN_FLIGHT:
        store.note(cycle, said)
        return said
    order = broker.order_by_id(cycle.order_id) if cycle.order_id else None
    side = Side.BUY if cycle.status == "buying" else Side.SELL
    if order is None or order.side != side.value:
        what = f"its order {cycle.order_id} is not on the exchange" if order is None or cycle.order_id is None \
            else f"its order {cycle.order_id} is a {order.side}, not a {side.value}"
        said += f"; {what}, so it carries on watching"
        store.release(cycle, "watching", said)
        return said
    kind = OrderKind.TAKE_PROFIT if side is Side.SELL else (OrderKind.SAFETY if cycle.quantity > 0 else OrderKind.BASE)
    # the position before the order gives the exact coin fee of its fills: the position now if nothing
    # has filled yet, else the cycle's own coins (the seed bot set its quantity from the position at its
    # last fill; foreign coins make the inferred fee implausible, and the core then uses the taker rate)
    before = (held if order.filled_qty == 0 else cycle.quantity) if side is Side.BUY else None
    said += (f"; its live order {order.id} ({_order_text(order)}) is tracked under Alpaca's client id "
             f"{order.client_order_id}")
    store.attach(cycle, order, kind, before, said)
    return said


def _report_holdings(store: TakeoverStore, cycles: list[SeedCycle], held: dict[str, Decimal], log: Any) -> None:
    """Coins the taken-over cycles count on that the exchange does not show are reported on the cycle
    (the reconciler then corrects a fee-sized gap or ends the cycle in error); more on the exchange
    than the cycles hold is somebody else's."""
    for cycle in cycles:
        on_exchange = held.get(cycle.symbol, ZERO)
        if on_exchange < cycle.quantity:
            coin = cycle.symbol.split("/")[0]
            said = (f"books disagree at the takeover: the cycle holds {plain(cycle.quantity)} {coin}, the exchange "
                    f"{plain(on_exchange)} {coin}; the reconciler corrects a fee-sized gap and ends the cycle in "
                    "error if the coins have left")
            log.warning("cycle {}: {}", cycle.id, said)
            store.note(cycle, said)
        elif on_exchange > cycle.quantity:
            log.info("{}: the exchange holds {} more than the taken-over cycle: not the bot's, left alone",
                     cycle.symbol, plain(on_exchange - cycle.quantity))


def _order_text(order: ExchangeOrder) -> str:
    price = f" @ {plain(order.limit_price)}" if order.limit_price is not None else ""
    filled = plain(order.filled_qty)
    return f"{order.side} {order.type} {plain(order.qty)}{price}, {order.status}, filled {filled}"


def _running_pid(pid_file: Path) -> int | None:
    """The PID in the seed bot's PID file if that process is alive (a stale file is ignored, as its
    own watchdog did)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, under another user
        return pid
    command = Path(f"/proc/{pid}/cmdline")
    if command.exists() and b"main_app" not in command.read_bytes():
        return None  # the PID was reused by another program
    return pid


def _minutes() -> str:
    return f"{int(GUARD.total_seconds() // 60)} minutes"


def takeover_note(meta: MetaStore) -> str | None:
    """One line for `status`: the cycles taken over from the seed bot, or waiting to be."""
    record = meta.get(TAKEOVER)
    if not isinstance(record, dict):
        return None
    if "taken_over" in record:
        ids = ", ".join(str(i) for i in record["taken_over"]) or "none were open"
        return (f"taken over from the seed bot on {str(record.get('at', '?'))[:16]}: cycles {ids} "
                "(`supervisor.py cycle ID` shows each one's history)")
    ids = ", ".join(str(i) for i in record.get("pending", [])) or "none"
    return f"converted from the seed bot; its open cycles ({ids}) are taken over at the next `run`"
