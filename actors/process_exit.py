"""`ProcessExit`: how the actor tree tells the main thread that the process must end, and how.

An actor thread must never raise `SystemExit` (pykka answers any BaseException in an actor by
stopping every actor, and the exit code would be lost). Instead the root supervisor calls
`process_exit.give_up(reason)` from its thread; the main thread waits in `wait_for_exit()`, shuts
the tree down in order and calls `sys.exit(code)`. The first request wins, so an orderly shutdown
(SIGTERM, code 0) is not turned into a failure by the root supervisor reporting its own exit
while it is being stopped.
"""

from __future__ import annotations

import signal
import threading

EXIT_GAVE_UP = 70  # EX_SOFTWARE (sysexits.h): the supervision tree gave up; let systemd restart us


class ProcessExit:
    """A one-shot, thread-safe latch holding the exit code and reason of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = threading.Event()
        self._code: int | None = None
        self._reason: str | None = None

    def request(self, code: int, reason: str) -> bool:
        """Ask the main thread to exit with `code`. Returns False if an exit was already requested."""
        with self._lock:
            if self._requested.is_set():
                return False
            self._code, self._reason = code, reason
            self._requested.set()
            return True

    def give_up(self, reason: str) -> None:
        """The root supervisor's `on_give_up` callback: exit with EXIT_GAVE_UP."""
        self.request(EXIT_GAVE_UP, reason)

    def wait_for_exit(self) -> int:
        """Main thread only: block until an exit is requested or SIGTERM/SIGINT arrives; return the
        exit code (0 after a signal).

        While waiting, SIGTERM raises KeyboardInterrupt like SIGINT does, so no signal handler
        ever takes a lock (a handler calling `request()` could deadlock against the interrupted
        main thread). The previous SIGTERM handler is restored before returning, so a second
        SIGTERM during the shutdown that follows acts as it did before (by default: exit at once).
        """
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            self._requested.wait()
        except KeyboardInterrupt:
            self.request(0, "stopped by signal")
        finally:
            signal.signal(signal.SIGTERM, previous)
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
