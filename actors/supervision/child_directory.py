"""Addressing supervised children by name.

A restart replaces a child's `ActorRef`, so nobody should keep one. A `ChildDirectory` maps each
child name to its *current* ref; its supervisor updates it, any thread reads it. A `ChildHandle`
looks the ref up on every send, so it follows restarts and reports "down" instead of raising.

Give a supervisor a directory you created (instead of letting it make its own) when code outside
the supervisor must reach its children: the same directory object is then reused by every
incarnation of that supervisor, so handles keep working across the supervisor's own restarts.
Exactly one live supervisor may write to a directory.
"""

from __future__ import annotations

import threading
from typing import Any

from pykka import ActorDeadError, ActorProxy, ActorRef


class ChildDirectory:
    """Thread-safe map from child name to the ref of its current incarnation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refs: dict[str, ActorRef[Any]] = {}

    def handle(self, name: str) -> ChildHandle:
        return ChildHandle(self, name)

    def ref(self, name: str) -> ActorRef[Any] | None:
        """The current ref if the child is running, else None."""
        with self._lock:
            ref = self._refs.get(name)
        return ref if ref is not None and ref.is_alive() else None

    def names(self) -> list[str]:
        with self._lock:
            return list(self._refs)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._refs

    # Written only by the owning supervisor, from its own thread.

    def publish(self, name: str, ref: ActorRef[Any]) -> None:
        with self._lock:
            self._refs[name] = ref

    def withdraw(self, name: str) -> None:
        with self._lock:
            self._refs.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._refs.clear()


class ChildHandle:
    """A stable address for a supervised child; resolves the current ref on every use."""

    def __init__(self, directory: ChildDirectory, name: str) -> None:
        self.directory = directory
        self.name = name

    @property
    def ref(self) -> ActorRef[Any] | None:
        return self.directory.ref(self.name)

    def is_alive(self) -> bool:
        return self.ref is not None

    def tell(self, message: Any) -> bool:
        """Send `message`; False if the child is down (crashed, restarting, or stopped)."""
        ref = self.ref
        if ref is None:
            return False
        try:
            ref.tell(message)
        except ActorDeadError:
            return False
        return True

    def ask(self, message: Any, *, timeout: float | None = None) -> Any:
        """Ask and wait for the reply. Raises `pykka.ActorDeadError` if the child is down, and
        `pykka.Timeout` after `timeout` seconds (None: wait without limit, as in pykka)."""
        ref = self.ref
        if ref is None:
            raise ActorDeadError(f"child {self.name!r} is not running")
        return ref.ask(message, timeout=timeout)

    def proxy(self) -> ActorProxy[Any] | None:
        """A proxy to the current incarnation, or None if the child is down. Do not keep it."""
        ref = self.ref
        if ref is None:
            return None
        try:
            return ref.proxy()
        except ActorDeadError:
            return None

    def __repr__(self) -> str:
        return f"<ChildHandle {self.name!r} -> {self.ref}>"
