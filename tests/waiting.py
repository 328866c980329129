"""Waiting in tests: poll a condition instead of sleeping a guessed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "", poll: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(poll)
    what = what or getattr(predicate, "__name__", repr(predicate))
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
