"""`ProcessExit`: how the actor tree tells the main thread that the process must end, and how.

An actor thread must never raise `SystemExit` (pykka answers any BaseException in an actor by
stopping every actor, and the exit code would be lost). Instead the root supervisor calls
`process_exit.give_up(reason)` from its thread; the main thread waits in `wait_for_exit()`, shuts
the tree down in order and calls `sys.exit(code)`. The first request wins, so an orderly shutdown
(SIGTERM, code 0) is not turned into a failure by the root supervisor reporting its own exit
while it is being stopped.

Signals. `catch_signals()` (called by `wait_for_exit()` if not before) replaces the SIGINT and
SIGTERM handlers for good with one that only appends the signal number to a list: no lock, no
exception in the main thread, whatever it is doing and however many signals arrive (a wrapper that
forwards Ctrl-C to the process group sends two within a millisecond). A watcher thread turns the
first one into an exit request and logs the others. From the first exit request on, for any
reason, a last-resort countdown runs: if the process has not ended `grace_s` later, the hard-exit
hooks run (each bounded) and `os._exit(code)` ends it, whatever threads are left.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from loguru import logger as _loguru

EXIT_GAVE_UP = 70  # EX_SOFTWARE (sysexits.h): the supervision tree gave up; let systemd restart us
DEFAULT_GRACE_S = 8.0  # from the first exit request to the hard exit (the promise to operators is 10 s)
HOOK_TIMEOUT_S = 0.5  # each hard-exit hook gets this long
_WATCH_S = 0.02

logger = _loguru.bind(actor="process")


class ProcessExit:
    """A one-shot, thread-safe latch holding the exit code and reason of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = threading.Event()
        self._code: int | None = None
        self._reason: str | None = None
        self._listeners: list[Callable[[int, str], None]] = []
        self._hard_exit_hooks: list[Callable[[], None]] = []
        self._signals: list[int] = []  # appended by the signal handler: the only thing it does
        self._watcher: threading.Thread | None = None
        self.grace_s = DEFAULT_GRACE_S

    def request(self, code: int, reason: str) -> bool:
        """Ask the main thread to exit with `code`. Returns False if an exit was already requested."""
        with self._lock:
            if self._requested.is_set():
                return False
            self._code, self._reason = code, reason
            self._requested.set()
        for listener in list(self._listeners):
            try:
                listener(code, reason)
            except Exception:
                logger.exception("exit listener {!r} failed", listener)
        return True

    def on_request(self, listener: Callable[[int, str], None]) -> None:
        """Call `listener(code, reason)` once, in the requesting thread, when the first exit is requested
        (at once if one was). It must not block: the root supervisor's thread may be the caller."""
        self._listeners.append(listener)
        if self._requested.is_set():
            assert self._code is not None and self._reason is not None
            listener(self._code, self._reason)

    def on_hard_exit(self, hook: Callable[[], None]) -> None:
        """Run `hook` (bounded by HOOK_TIMEOUT_S) just before a last-resort `os._exit`."""
        self._hard_exit_hooks.append(hook)

    def catch_signals(self, grace_s: float | None = None) -> None:
        """Main thread only. From now on SIGINT/SIGTERM only request an exit (the first) or are logged
        (the others), and once an exit is requested the process ends within `grace_s` at the latest."""
        if grace_s is not None:
            self.grace_s = grace_s
        if self._watcher is not None:
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._record_signal)
        self._watcher = threading.Thread(target=self._watch, name="exit-watcher", daemon=True)
        self._watcher.start()

    def _record_signal(self, signum: int, _frame: object) -> None:
        self._signals.append(signum)  # list.append takes no lock the interrupted thread could hold

    def _watch(self) -> None:
        seen = 0
        deadline: float | None = None
        while True:
            time.sleep(_WATCH_S)
            while seen < len(self._signals):
                name = signal.Signals(self._signals[seen]).name
                seen += 1
                if not self.request(0, f"stopped by {name}"):
                    logger.warning("{} received: already stopping ({}); the process ends within {:.0f} s at the "
                                   "latest", name, self._reason, self.grace_s)
            if deadline is None and self._requested.is_set():
                deadline = time.monotonic() + self.grace_s
            if deadline is not None and time.monotonic() >= deadline:
                self._hard_exit()

    def _hard_exit(self) -> None:
        code = self._code if self._code is not None else EXIT_GAVE_UP
        print(f"supervisor: shutdown did not finish within {self.grace_s:g} s ({self._reason}); exiting hard "
              f"with code {code}", file=sys.stderr, flush=True)
        for hook in self._hard_exit_hooks:
            worker = threading.Thread(target=hook, name="hard-exit-hook", daemon=True)
            worker.start()
            worker.join(HOOK_TIMEOUT_S)
        os._exit(code)

    def give_up(self, reason: str) -> None:
        """The root supervisor's `on_give_up` callback: exit with EXIT_GAVE_UP."""
        self.request(EXIT_GAVE_UP, reason)

    def wait_for_exit(self) -> int:
        """Main thread only: block until an exit is requested or SIGTERM/SIGINT arrives; return the
        exit code (0 after a signal). Signals stay caught afterwards (see the module doc)."""
        self.catch_signals()
        self._requested.wait()
        assert self._code is not None
        return self._code

    def wait(self, timeout: float | None = None) -> bool:
        """Block until an exit is requested; False on timeout."""
        return self._requested.wait(timeout)

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    @property
    def code(self) -> int | None:
        return self._code

    @property
    def reason(self) -> str | None:
        return self._reason
