"""Fault injection: named knobs, settable at start (`--fault name=value`), in process
(`exchange.faults.set(...)`) and over HTTP (`POST /sim/faults {"name": value}`).

Rates are probabilities per request / per message, drawn from a private seeded RNG.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any


@dataclass
class FaultSettings:
    ws_close_every: float = 0.0
    """Close every WebSocket (both endpoints) every N real seconds; 0 = off. Clients reconnect."""
    http_5xx_rate: float = 0.0
    """Share of HTTP requests answered with `http_5xx_status`."""
    http_5xx_mode: str = "after"
    """`before`: the request is not processed. `after`: it is processed (an order IS accepted), then the
    client gets the error, so alpaca-py retries a POST and the duplicate client_order_id gets 422."""
    http_5xx_status: int = 504
    http_5xx_next: int = 0
    """Fail exactly the next N matching requests (deterministic; counts down to 0)."""
    http_429_rate: float = 0.0
    """Share of HTTP requests answered 429 before processing (alpaca-py sleeps 3 s and retries)."""
    http_429_next: int = 0
    """Answer exactly the next N matching requests with 429 (deterministic; counts down to 0)."""
    http_fault_paths: str = "/v2/orders"
    """Comma-separated path prefixes the HTTP 5xx/429 faults apply to (`/` = every route)."""
    latency_ms: float = 0.0
    """Added to every HTTP response, plus uniform jitter up to `latency_jitter_ms`."""
    latency_jitter_ms: float = 0.0
    trade_update_delay_ms: float = 0.0
    """Each trade update waits this long before it is sent (order kept)."""
    trade_update_duplicate_rate: float = 0.0
    """Share of trade updates sent twice."""
    trade_update_reorder_rate: float = 0.0
    """Share of trade updates held back and sent after the next one."""
    trade_update_drop_rate: float = 0.0
    """Share of trade updates never sent (the order state is still right over REST)."""
    reject_rate: float = 0.0
    """Share of otherwise valid orders rejected (see `reject_mode`)."""
    reject_mode: str = "http403"
    """`http403` / `http422`: refused synchronously, no order; `event`: accepted (pending_new), then a
    `rejected` trade update before it can fill."""
    partial_fill_rate: float = 0.0
    """Probability that a fill opportunity fills only part of the remaining quantity."""


CHOICES = {"http_5xx_mode": ("before", "after"), "reject_mode": ("http403", "http422", "event")}
RATES = {f.name for f in fields(FaultSettings) if f.name.endswith("_rate")}
FAULT_NAMES = tuple(f.name for f in fields(FaultSettings))


def coerce(name: str, value: Any) -> Any:
    """`value` (often a string from the command line) as the knob's type; ValueError names the knob."""
    if name not in FAULT_NAMES:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
    kind = type(getattr(FaultSettings(), name))
    try:
        result = kind(value) if kind is not int else int(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"fault {name}: {value!r} is not a valid {kind.__name__}") from None
    if name in CHOICES and result not in CHOICES[name]:
        raise ValueError(f"fault {name}: must be one of {', '.join(CHOICES[name])}")
    if name in RATES and not 0 <= result <= 1:
        raise ValueError(f"fault {name}: a rate must be between 0 and 1")
    if isinstance(result, int | float) and result < 0:
        raise ValueError(f"fault {name}: must be >= 0")
    return result


def parse_fault_arg(text: str) -> tuple[str, Any]:
    """`name=value` from `--fault`."""
    name, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"fault {text!r}: expected name=value")
    name = name.strip().replace("-", "_")
    return name, coerce(name, value.strip())


class Faults:
    """The live knobs. Thread-safe; listeners hear about every change (e.g. partial_fill_rate)."""

    def __init__(self, seed: int, initial: dict[str, Any] | None = None) -> None:
        self._settings = FaultSettings()
        self._rng = random.Random(f"alpaca-sim:{seed}:faults")
        self._lock = threading.Lock()
        self._listeners: list[Callable[[FaultSettings], None]] = []
        if initial:
            self.update(initial)

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def __getattr__(self, name: str) -> Any:
        if name in FAULT_NAMES:
            return getattr(self._settings, name)
        raise AttributeError(name)

    def on_change(self, listener: Callable[[FaultSettings], None]) -> None:
        self._listeners.append(listener)
        listener(self._settings)

    def set(self, name: str, value: Any) -> None:
        self.update({name: value})

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        coerced = {
            name.replace("-", "_"): coerce(name.replace("-", "_"), value) for name, value in changes.items()
        }
        with self._lock:
            self._settings = dataclasses.replace(self._settings, **coerced)
        for listener in self._listeners:
            listener(self._settings)
        return self.snapshot()

    def reset(self) -> None:
        self.update(dataclasses.asdict(FaultSettings()))

    def snapshot(self) -> dict[str, Any]:
        return dataclasses.asdict(self._settings)

    def chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def uniform(self, high: float) -> float:
        with self._lock:
            return self._rng.uniform(0, high)

    def take_next_5xx(self) -> bool:
        """True (and one fewer left) while `http_5xx_next` > 0."""
        return self._take("http_5xx_next")

    def take_next_429(self) -> bool:
        """True (and one fewer left) while `http_429_next` > 0."""
        return self._take("http_429_next")

    def _take(self, knob: str) -> bool:
        with self._lock:
            left = getattr(self._settings, knob)
            if left <= 0:
                return False
            self._settings = dataclasses.replace(self._settings, **{knob: left - 1})
            return True

    def applies_to(self, path: str) -> bool:
        prefixes = [prefix.strip() for prefix in self._settings.http_fault_paths.split(",") if prefix.strip()]
        return any(path.startswith(prefix) for prefix in prefixes)
