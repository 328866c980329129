"""The installation-wide facts store (`dca_meta`) as the actors see it: a small key → JSON value map."""

from __future__ import annotations

from typing import Any, Protocol

KILL_SWITCH = "kill_switch"  # the halt flag `supervisor.py halt` stores and `resume` clears


class MetaStore(Protocol):
    def get(self, key: str) -> Any:
        """The stored value, or None."""
        ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> bool:
        """False when there was nothing to delete."""
        ...
