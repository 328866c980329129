"""One shared timer thread that delivers messages to actors at a time on an injected clock.

pykka has no timers, and a `threading.Timer` per timer costs a thread per pending timer. Instead,
one daemon thread keeps every timer in a heap ordered by deadline and `tell()`s each message when
it falls due.

Time base. Delays, intervals and deadlines are in *clock seconds* on the scheduler's `Clock`
(see `actors.supervision.clock`). The thread sleeps `(deadline - clock.now()) / clock.speed` real seconds,
capped at `max_wait_s` so that a clock whose speed changes or which jumps is re-read at least that
often. On the simulator's `AcceleratedClock` at speed 60, `call_later(120, ...)` fires after about
2 real seconds. A clock with speed 0 (the simulator's `ManualClock`) is re-read every `max_wait_s`;
whoever moves it calls `wake()` to have due timers delivered at once. On the wall clock, a stepped
system clock moves pending deadlines with it (NTP normally slews, so this is rare).

Delivery. A due timer is delivered with `target.tell(message)`. If the target is dead
(`is_alive()` is false or `tell` raises `pykka.ActorDeadError`), that timer and every other timer of
the same target are dropped: a timer dies with its actor, and a restarted actor (which has a new
ref) never receives its predecessor's ticks. Any other exception from a delivery is logged, counted
in `delivery_errors`, and the timer stays scheduled; nothing a delivery does can stop the thread.

Cancellation. After `TimerHandle.cancel()` returns, the scheduler makes no further delivery for
that timer. A message delivered just before may still be waiting in the actor's inbox, so an actor
that re-arms a timer should tolerate one late tick (for example by putting a token in the message).

Logging goes through loguru like the rest of the bot (bound to `actor=scheduler`).
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from loguru import logger as _loguru
from pykka import ActorDeadError

from actors.supervision.clock import Clock, SystemClock

logger = _loguru.bind(actor="scheduler")

# Rebuild the heap when this many cancelled timers are waiting in it and they are the majority.
_COMPACT_THRESHOLD = 1024


class MessageTarget(Protocol):
    """Anything a timer can deliver to; `pykka.ActorRef` is the usual one."""

    def tell(self, message: Any) -> None: ...

    def is_alive(self) -> bool: ...


TargetKey = str | int


def _key_of(target: MessageTarget) -> TargetKey:
    # Actor refs are compared by URN: pykka may hand out more than one ActorRef per actor.
    urn = getattr(target, "actor_urn", None)
    return urn if isinstance(urn, str) else id(target)


class TimerHandle:
    """A scheduled delivery. Keep it to cancel the timer; it is inert once cancelled or spent."""

    def __init__(
        self,
        scheduler: Scheduler,
        target: MessageTarget,
        message: Any,
        *,
        interval_s: float | None,
        fixed_rate: bool,
    ) -> None:
        self.target = target
        self.message = message
        self.interval_s = interval_s
        self.fixed_rate = fixed_rate
        self._scheduler = scheduler
        self._active = True
        self._in_heap = False
        self._deadline_s = 0.0

    @property
    def active(self) -> bool:
        """True until the timer is cancelled, has fired (one-shot), or its target died."""
        return self._active

    @property
    def is_periodic(self) -> bool:
        return self.interval_s is not None

    def cancel(self) -> bool:
        """Stop future deliveries. Returns True if the timer was still active."""
        return self._scheduler._cancel(self)

    def __repr__(self) -> str:
        kind = f"every {self.interval_s}s" if self.is_periodic else "once"
        state = "active" if self._active else "inactive"
        return f"<TimerHandle {kind} {self.message!r} -> {self.target} ({state})>"


class Scheduler:
    """The shared timer thread. Create one per process, `start()` it, pass it to the actors.

    All methods are thread-safe. Timers may be scheduled before `start()`; they fire once it runs.
    """

    def __init__(self, clock: Clock | None = None, *, max_wait_s: float = 1.0) -> None:
        if max_wait_s <= 0:
            raise ValueError("max_wait_s must be positive")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._max_wait_s = max_wait_s
        # An RLock so that a target's tell() may cancel timers from inside a delivery.
        self._lock = threading.RLock()
        self._wakeup = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, TimerHandle]] = []
        self._sequence = itertools.count()  # breaks deadline ties in scheduling order
        self._timers_by_target: dict[TargetKey, set[TimerHandle]] = {}
        self._cancelled_in_heap = 0
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.delivery_errors = 0
        self._last_turn = time.monotonic()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        with self._lock:
            if self._stopped:
                raise RuntimeError("a stopped Scheduler cannot be started again")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="actor-scheduler", daemon=True)
                self._thread.start()
        return self

    def wake(self) -> None:
        """Re-read the clock now: call it after moving a hand-driven (speed 0) clock."""
        with self._wakeup:
            self._wakeup.notify()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped

    def stop(self, timeout_s: float | None = 5.0) -> None:
        """Cancel every timer and end the thread. Idempotent."""
        with self._wakeup:
            self._stopped = True
            for _, _, timer in self._heap:
                timer._active = False
            self._heap.clear()
            self._timers_by_target.clear()
            self._wakeup.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ scheduling

    def call_later(self, delay_s: float, target: MessageTarget, message: Any) -> TimerHandle:
        """Deliver `message` to `target` once, `delay_s` clock seconds from now."""
        timer = TimerHandle(self, target, message, interval_s=None, fixed_rate=False)
        return self._schedule(timer, self._now_s() + max(delay_s, 0.0))

    def call_at(self, when: datetime, target: MessageTarget, message: Any) -> TimerHandle:
        """Deliver `message` to `target` once, when the clock reaches `when` (an aware datetime)."""
        if when.tzinfo is None:
            raise ValueError("call_at needs an aware datetime")
        timer = TimerHandle(self, target, message, interval_s=None, fixed_rate=False)
        return self._schedule(timer, when.timestamp())

    def every(
        self,
        interval_s: float,
        target: MessageTarget,
        message: Any,
        *,
        fixed_rate: bool = False,
        first_delay_s: float | None = None,
    ) -> TimerHandle:
        """Deliver `message` to `target` repeatedly, every `interval_s` clock seconds.

        The first delivery is after `first_delay_s` (default: one interval).

        fixed_rate=False (fixed delay): the next deadline is measured from the moment of delivery,
        so a late delivery pushes every later one back.
        fixed_rate=True: deadlines stay on the grid first + k * interval; if the scheduler falls
        more than an interval behind, the missed ticks are skipped, not delivered in a burst.

        Either way the scheduler only *enqueues* the message: it cannot see how long the actor takes
        to handle it. An actor whose handler can outlast the interval should re-arm itself with
        `call_later` at the end of the handler instead, so ticks never pile up in its inbox.
        """
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        timer = TimerHandle(self, target, message, interval_s=interval_s, fixed_rate=fixed_rate)
        first = interval_s if first_delay_s is None else max(first_delay_s, 0.0)
        return self._schedule(timer, self._now_s() + first)

    def cancel_all_for(self, target: MessageTarget) -> int:
        """Cancel every timer of `target` (an actor ref: matched by URN). Returns how many."""
        with self._lock:
            timers = self._timers_by_target.pop(_key_of(target), set())
            for timer in timers:
                self._deactivate(timer)
            return len(timers)

    def pending_count(self, target: MessageTarget | None = None) -> int:
        """Active timers, in total or for one target."""
        with self._lock:
            if target is not None:
                return len(self._timers_by_target.get(_key_of(target), ()))
            return sum(len(timers) for timers in self._timers_by_target.values())

    # ------------------------------------------------------------------ internals

    def _now_s(self) -> float:
        return self.clock.now().timestamp()

    def _schedule(self, timer: TimerHandle, deadline_s: float) -> TimerHandle:
        with self._wakeup:
            if self._stopped:
                # During shutdown a late restart or re-arm is expected; it must not raise.
                logger.warning("Scheduler is stopped; not scheduling {!r}", timer)
                timer._active = False
                return timer
            self._timers_by_target.setdefault(_key_of(timer.target), set()).add(timer)
            self._push(timer, deadline_s)
            self._wakeup.notify()
        return timer

    def _push(self, timer: TimerHandle, deadline_s: float) -> None:
        timer._deadline_s = deadline_s
        timer._in_heap = True
        heapq.heappush(self._heap, (deadline_s, next(self._sequence), timer))

    def _cancel(self, timer: TimerHandle) -> bool:
        with self._lock:
            if not timer._active:
                return False
            timers = self._timers_by_target.get(_key_of(timer.target))
            if timers is not None:
                timers.discard(timer)
                if not timers:
                    del self._timers_by_target[_key_of(timer.target)]
            self._deactivate(timer)
            return True

    def _deactivate(self, timer: TimerHandle) -> None:
        timer._active = False
        if timer._in_heap:
            self._cancelled_in_heap += 1
            if self._cancelled_in_heap > _COMPACT_THRESHOLD and self._cancelled_in_heap * 2 > len(self._heap):
                self._compact()

    def _compact(self) -> None:
        # Cancelled timers are normally skipped when they reach the top of the heap; this keeps
        # a flood of cancel-and-re-arm from growing the heap without bound.
        for _, _, timer in self._heap:
            if not timer._active:
                timer._in_heap = False
        self._heap = [entry for entry in self._heap if entry[2]._active]
        heapq.heapify(self._heap)
        self._cancelled_in_heap = 0

    def idle_seconds(self) -> float:
        """Real seconds the loop has owed a turn (the liveness check). It turns at least every
        `max_wait_s` while a timer is set and sleeps until notified while none is, so with no timer
        set a quiet loop is not a frozen one: 0. A stopped loop is idle from its last turn."""
        if not self._heap and not self._stopped:
            return 0.0
        return time.monotonic() - self._last_turn

    def _run(self) -> None:
        while True:
            with self._wakeup:
                self._last_turn = time.monotonic()
                if self._stopped:
                    return
                try:
                    wait_s = self._deliver_due_timers()
                except Exception:
                    # Only the clock or our own bookkeeping can get here; keep the thread alive.
                    self.delivery_errors += 1
                    logger.exception("Scheduler loop failed; retrying")
                    wait_s = min(self._max_wait_s, 0.1)
                if not self._stopped:
                    self._wakeup.wait(wait_s)

    def _deliver_due_timers(self) -> float | None:
        """Deliver what is due; return the real seconds to sleep (None: until notified)."""
        for timer in self._pop_due(self._now_s()):
            self._deliver(timer)
            if timer._active and timer.interval_s is not None:
                # Measured after the delivery: a slow tell() must not leave the next tick overdue.
                self._push(timer, self._next_deadline(timer, self._now_s()))
            elif timer._active:
                self._cancel(timer)  # a spent one-shot: drop it from the index
        if not self._heap:
            return None
        speed = self.clock.speed
        remaining_real_s = (self._heap[0][0] - self._now_s()) / speed if speed > 0 else math.inf
        return max(0.0, min(remaining_real_s, self._max_wait_s))

    def _pop_due(self, now_s: float) -> Iterator[TimerHandle]:
        while self._heap and self._heap[0][0] <= now_s:
            _, _, timer = heapq.heappop(self._heap)
            timer._in_heap = False
            if timer._active:
                yield timer
            else:
                self._cancelled_in_heap -= 1

    def _deliver(self, timer: TimerHandle) -> None:
        target = timer.target
        try:
            if not target.is_alive():
                raise ActorDeadError(f"{target} is not alive")
            target.tell(timer.message)
        except ActorDeadError:
            dropped = self.cancel_all_for(target)
            logger.debug("Target {} is dead; dropped its {} timer(s)", target, dropped)
        except Exception:
            self.delivery_errors += 1
            logger.exception("Delivering {!r} to {} failed; the timer stays scheduled", timer.message, target)

    @staticmethod
    def _next_deadline(timer: TimerHandle, now_s: float) -> float:
        interval_s = timer.interval_s
        assert interval_s is not None
        if not timer.fixed_rate:
            return now_s + interval_s
        missed = math.floor((now_s - timer._deadline_s) / interval_s)
        return timer._deadline_s + (missed + 1) * interval_s
