"""`TradingGate`: the one switch every order request passes, closed for good when trading must stop.

It closes when shutdown begins (a signal, `--duration`, the root giving up) and when this process
loses the ownership lease. `GatedBroker` wraps the broker so that `submit` and `cancel` check the
gate right before the request: after `close()` returns no new request starts, and `drain()` waits
for the ones already on the wire. An order refused here is already in the database as `submitting`;
the next start looks it up by its client id and finds it was never sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ports.broker import TradingStopped  # the broker port's error kind: what the gate raises

__all__ = ["GatedBroker", "TradingGate", "TradingStopped"]


class TradingGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._reason: str | None = None
        self._in_flight = 0

    @property
    def closed(self) -> bool:
        return self._reason is not None

    @property
    def reason(self) -> str | None:
        return self._reason

    def close(self, reason: str) -> None:
        """No request starts after this returns (idempotent: the first reason is kept)."""
        with self._cond:
            if self._reason is None:
                self._reason = reason
            self._cond.notify_all()

    def drain(self, timeout_s: float) -> bool:
        """Wait until no request admitted before `close()` is still on the wire; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout_s)

    @contextmanager
    def passage(self) -> Iterator[None]:
        with self._cond:
            if self._reason is not None:
                raise TradingStopped(self._reason)
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()


class GatedBroker:
    """The broker with `submit` and `cancel` behind the gate; everything else passes straight through."""

    def __init__(self, broker: Any, gate: TradingGate) -> None:
        self._broker, self._gate = broker, gate

    def submit(self, command: Any) -> Any:
        return self._through_gate(self._broker.submit, command)

    def cancel(self, exchange_id: str) -> None:
        self._through_gate(self._broker.cancel, exchange_id)

    def _through_gate(self, call: Callable[[Any], Any], argument: Any) -> Any:
        with self._gate.passage():
            return call(argument)

    def __getattr__(self, name: str) -> Any:  # reads: orders, positions, account, rules, ...
        return getattr(self._broker, name)
