"""The quote board: one slot per symbol holding only the newest quote (conflation), and the place
where quotes the core provably ignores are settled on arrival.

Each asset's actor posts its `Triggers` (the prices and time at which `decide` could change its
cycle) whenever it has finished changing its state. A quote outside them is settled right here on
the stream's thread: `decide` would change nothing, which the core's property tests prove, so no
thread is woken. Any other quote is stored in the slot and the actor is nudged with `QuoteReady`,
only when no nudge is already pending; the actor takes whatever is newest when it gets to it, so
under a burst it decides on the latest price and never works through a stale backlog. Quotes
overwritten before the actor looked are counted as conflated.

While an actor is handling a message its posted triggers may be stale, so it `hold`s its slot for
the duration: until it posts new triggers with `release`, every quote goes to the actor. A new
incarnation of a crashed actor starts held, too.

Thread-safety: each slot has a lock held for a few attribute writes (the writer is the stream
thread, the reader the asset actor's thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actors.messages import QuoteReady
from dca.market import Quote
from dca.triggers import ALWAYS, Triggers


@dataclass
class _Slot:
    target: Any  # a ChildHandle: tell() returns False while the actor is down
    on_quote: Callable[[], None]
    on_conflated: Callable[[], None]
    quote: Quote | None = None  # the newest quote
    arrived_ns: int = 0
    pending: bool = False  # a QuoteReady is on its way to the actor
    triggers: Triggers = ALWAYS  # ALWAYS while the actor holds the slot
    settled: Quote | None = None  # the newest quote settled on arrival
    lock: threading.Lock = field(default_factory=threading.Lock)


class QuoteBoard:
    def __init__(self, on_quote: Callable[[str], Callable[[], None]] | None = None,
                 on_conflated: Callable[[str], Callable[[], None]] | None = None) -> None:
        """`on_quote(symbol)` / `on_conflated(symbol)` return per-symbol counters (resolved once)."""
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._counter_for = on_quote or (lambda _symbol: _nothing)
        self._conflated_for = on_conflated or (lambda _symbol: _nothing)

    def register(self, symbol: str, target: Any) -> None:
        """Route `symbol`'s quotes to `target`, held until it releases (a new incarnation of the
        asset's actor re-registers: a nudge lost while it was down is replaced at once if a quote
        is waiting)."""
        with self._lock:
            slot = self._slots.get(symbol)
            if slot is None:
                slot = self._slots[symbol] = _Slot(target, self._counter_for(symbol), self._conflated_for(symbol))
        with slot.lock:
            slot.target, slot.triggers = target, ALWAYS
            slot.pending = slot.quote is not None
        if slot.pending:
            target.tell(QuoteReady())

    def unregister(self, symbol: str) -> None:
        with self._lock:
            self._slots.pop(symbol, None)

    def symbols(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def publish(self, quote: Quote) -> None:
        """Called on the stream's thread for every quote."""
        slot = self._slots.get(quote.symbol)
        if slot is None:
            return
        slot.on_quote()
        with slot.lock:
            slot.quote = quote
            if not slot.pending and not slot.triggers.may_act_on(quote):
                slot.settled = quote  # decide() would change nothing: no thread needs to wake
                return
            conflated = slot.pending
            slot.arrived_ns, slot.pending = time.perf_counter_ns(), True
        if conflated:
            slot.on_conflated()
        elif not slot.target.tell(QuoteReady()):
            with slot.lock:  # the actor is down; its next incarnation's register() nudges itself
                slot.pending = False

    def take(self, symbol: str) -> tuple[Quote | None, int]:
        """The newest quote and when it arrived (perf_counter_ns); called by the asset's actor."""
        slot = self._slots.get(symbol)
        if slot is None:
            return None, 0
        with slot.lock:
            slot.pending = False
            return slot.quote, slot.arrived_ns

    def hold(self, symbol: str) -> None:
        """The actor is about to change its state: send it every quote until it releases."""
        slot = self._slots.get(symbol)
        if slot is not None:
            with slot.lock:
                slot.triggers = ALWAYS

    def release(self, symbol: str, triggers: Triggers) -> None:
        """The actor's state is settled; quotes outside `triggers` may be settled on arrival."""
        slot = self._slots.get(symbol)
        if slot is not None:
            with slot.lock:
                slot.triggers = triggers

    def latest(self, symbol: str) -> Quote | None:
        slot = self._slots.get(symbol)
        return slot.quote if slot is not None else None

    def settled(self, symbol: str) -> Quote | None:
        """The newest quote settled on arrival (decided without waking the actor)."""
        slot = self._slots.get(symbol)
        return slot.settled if slot is not None else None


def _nothing() -> None:
    return None
