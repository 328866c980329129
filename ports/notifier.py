"""The notifier port: where trade notices go (actors/notifier.py delivers them through apprise,
rate-limited, off the caller's thread; `post(None)` is a no-op, so callers post whatever a notice
builder returned)."""

from __future__ import annotations

from typing import Protocol

from dca.notices import Notice


class Notifier(Protocol):
    def post(self, notice: Notice | None) -> None: ...
