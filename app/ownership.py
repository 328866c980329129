"""One owner per book: the lease a process must hold to trade or to write cycle state.

The lease lives in the database (`adapters.db.lease`), so it holds across hosts, LOG_DIRs, DATA_DIRs
and metrics ports. Its rules, with `lease_s` = OWNER_LEASE_SECONDS (default 30):

* The owner renews every `lease_s / 6` seconds (5 s); each renewal moves the expiry to the database's
  now + `lease_s`.
* If the owner has not renewed for `2/3 · lease_s` (20 s) of its own monotonic time, or a renewal
  finds the token changed, it *fences itself*: the trading gate closes (no order is sent from then
  on) and the process exits with EXIT_LEASE_LOST. The remaining third of the lease is the margin
  for an order request already on the wire.
* Another process takes the book only once the database's clock says the lease expired, i.e. at
  least `lease_s` after the owner's last successful renewal, so after the owner fenced itself.
  A process that finds the book held watches the heartbeat: if it moves, the owner is alive and the
  newcomer refuses (`BookOwned`, exit 2); if it stands still until the expiry (a `kill -9`, a lost
  host), the newcomer takes over, at most `lease_s` after the owner's last heartbeat.

The heartbeat runs on its own thread and the wall clock (monotonic): a paused or slow simulator
clock cannot freeze it, and a watchdog thread fences even when a renewal hangs in the driver.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, Protocol

from loguru import logger

from adapters.db.lease import Claimant, Holder, LeaseStore, LeaseUnavailable

EXIT_LEASE_LOST = 75  # EX_TEMPFAIL: another process may own the book now; a restart waits for the lease
DEFAULT_LEASE_S = 30
WATCH_POLL_S = 1.0


class ExitRequest(Protocol):
    """What losing the book asks of the process (`actors.process_exit.ProcessExit`)."""

    def request(self, code: int, reason: str) -> bool: ...


class BookOwned(Exception):
    """Another live process owns the book; the message names it (host, pid, since when)."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(f"the book is owned by {holder.describe()}; only one process may trade it. Stop that "
                         "one first (or wait: a dead owner's lease passes on by itself)")
        self.holder = holder


def claimant(holder: str) -> Claimant:
    return Claimant(holder, socket.gethostname()[:255], os.getpid(), secrets.token_hex(16))


def claim_book(store: LeaseStore, who: Claimant, lease_s: int = DEFAULT_LEASE_S, *,
               give_up: Callable[[], bool] = lambda: False, wait: bool = True) -> OwnerLease | None:
    """Take the book, waiting out a lease whose heartbeat has stopped; `BookOwned` if the owner is alive.
    Returns None if `give_up()` turned true while waiting (a signal). With `wait=False`, any holder
    is reported at once."""
    log = logger.bind(actor="ownership")
    first: Holder | None = None
    while not give_up():
        if store.try_acquire(who, lease_s):
            if first is not None:
                log.warning("took over the book from {} (its lease expired)", first.describe())
            return OwnerLease(store, who, lease_s)
        current = store.holder()
        if current is None:
            continue  # expired or released between the two statements: try again at once
        moved = first is not None and (current.token != first.token or current.heartbeat_at != first.heartbeat_at)
        if not wait or (moved and current.holder == "run"):
            raise BookOwned(current)  # its heartbeat moved: a supervisor is alive (a brief command is waited for)
        if first is None:
            first = current
            wait_s = (current.expires_at - current.read_at).total_seconds()
            log.warning("the book is held by {}; waiting up to {:.0f} s to see whether it is alive (a dead "
                        "owner's lease expires, a live one is refused)", current.describe(), wait_s)
        time.sleep(WATCH_POLL_S)
    return None


def hold_lease(lease: OwnerLease, exit: ExitRequest) -> None:
    """Start the lease's heartbeat: losing the book requests the exit, whose listeners close the gate."""
    lease.start(on_lost=lambda reason: exit.request(EXIT_LEASE_LOST, reason))


@contextmanager
def book_held_briefly(store: LeaseStore, holder: str) -> Any:
    """For a command that writes cycle state while no supervisor runs: hold the book for the duration
    (no waiting). Raises BookOwned if a process holds it."""
    lease = claim_book(store, claimant(holder), wait=False)
    assert lease is not None
    lease.start(on_lost=lambda reason: logger.error("{}", reason))
    try:
        yield lease
    finally:
        lease.stop(release=True)


class OwnerLease:
    """A held lease: `start()` the heartbeat, `stop()` it (releasing the book on a clean stop)."""

    def __init__(self, store: LeaseStore, who: Claimant, lease_s: int) -> None:
        self.store, self.who, self.lease_s = store, who, lease_s
        self.renew_every_s = lease_s / 6
        self.fence_after_s = lease_s * 2 / 3
        self._deadline = time.monotonic() + self.fence_after_s
        self._cond = threading.Condition()
        self._stopping = False
        self._lost = False
        self._on_lost: Callable[[str], None] = print
        self._threads: list[threading.Thread] = []
        self._log = logger.bind(actor="ownership")

    @property
    def lost(self) -> bool:
        return self._lost

    def start(self, on_lost: Callable[[str], None]) -> OwnerLease:
        """`on_lost(reason)` runs once, from a heartbeat thread, when this process must stop trading."""
        self._on_lost = on_lost
        for target, name in ((self._renew_loop, "lease-heartbeat"), (self._watchdog, "lease-watchdog")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, *, release: bool) -> None:
        """End the heartbeat; with `release`, hand the book back at once (only after trading stopped)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=STATEMENT_JOIN_S)
        if release and not self._lost:
            try:
                self.store.release(self.who.token)
            except LeaseUnavailable as error:
                self._log.warning("could not release the book ({}); the next start waits up to {} s for the "
                                  "lease to expire", error, self.lease_s)
        self.store.dispose()

    def _renew_loop(self) -> None:
        failing_since: float | None = None
        while True:
            with self._cond:
                if self._stopping or self._lost:
                    return
                self._cond.wait(self.renew_every_s)
                if self._stopping or self._lost:
                    return
            sent = time.monotonic()
            try:
                still_ours = self.store.renew(self.who.token, self.lease_s)
            except LeaseUnavailable as error:
                if failing_since is None:
                    failing_since = sent
                    self._log.warning("could not renew the ownership lease ({}); trading stops in {:.0f} s "
                                      "unless the database answers", error, self._deadline - sent)
                continue
            if not still_ours:
                self._fence("another process took over the book (the lease was renewed too late)")
                return
            if failing_since is not None:
                self._log.info("ownership lease renewed again after {:.0f} s", sent - failing_since)
                failing_since = None
            with self._cond:
                self._deadline = sent + self.fence_after_s  # counted from the send: the database's expiry is later
                self._cond.notify_all()

    def _watchdog(self) -> None:
        with self._cond:
            while not self._stopping and not self._lost:
                remaining = self._deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._stopping or self._lost:
                return
        self._fence(f"the ownership lease could not be renewed for {self.fence_after_s:.0f} s; another process "
                    f"may take the book {self.lease_s - self.fence_after_s:.0f} s from now")

    def _fence(self, why: str) -> None:
        with self._cond:
            if self._lost or self._stopping:
                return
            self._lost = True
            self._cond.notify_all()
        reason = f"lost the book: {why}; no more orders from this process, exiting {EXIT_LEASE_LOST}"
        self._log.critical("{}", reason)
        self._on_lost(reason)


STATEMENT_JOIN_S = 6.0  # a renewal in flight ends within the statement timeout
