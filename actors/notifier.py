"""The notifier: trade notifications sent from an actor of their own, so that a slow or dead chat
service never slows trading.

Senders call `NotifierHandle.post()`, which never blocks: a notice whose kind is switched off is
ignored, and one that finds NOTIFY_QUEUE_SIZE notices already waiting is dropped and counted. The
actor sends at most NOTIFY_RATE_PER_MINUTE notices a minute (a token bucket; the rest are dropped
and counted), retries each service briefly, and blanks every configured secret out of the text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pykka
from loguru import logger

from dca.notices import Notice, NoticeKind

QUEUE_SIZE = 100
RETRY_DELAYS_S = (1.0, 3.0)  # after the first attempt: three in all, within about 4 s
DROP_QUEUE_FULL, DROP_RATE_LIMITED, DROP_STOPPED = "queue_full", "rate_limited", "stopped"
DROP_REASONS = (DROP_QUEUE_FULL, DROP_RATE_LIMITED, DROP_STOPPED)


class Channel(Protocol):  # adapters.notify.Channel
    position: int

    def send(self, title: str, body: str, warning: bool) -> bool: ...


@dataclass
class _Waiting:
    """How many notices are queued for the actor (its pykka inbox is unbounded: we bound it here)."""

    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_slot(self, capacity: int) -> bool:
        with self.lock:
            if self.count >= capacity:
                return False
            self.count += 1
            return True

    def free_slot(self) -> None:
        with self.lock:
            self.count -= 1


@dataclass
class TokenBucket:
    per_minute: float
    now: Callable[[], float] = time.monotonic
    _tokens: float = -1.0
    _at: float = 0.0

    def take(self) -> bool:
        moment = self.now()
        if self._tokens < 0:
            self._tokens, self._at = self.per_minute, moment
        self._tokens = min(self.per_minute, self._tokens + (moment - self._at) * self.per_minute / 60)
        self._at = moment
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Notifier(pykka.ThreadingActor):
    def __init__(self, channels: Sequence[Channel], metrics: Any, waiting: _Waiting, per_minute: float,
                 secrets: Iterable[str] = (), retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
                 now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self._channels = list(channels)
        self._metrics = metrics
        self._waiting = waiting
        self._bucket = TokenBucket(per_minute, now)
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._delays = tuple(retry_delays_s)
        self._sleep = sleep
        self._log = logger.bind(actor="notifier")

    def on_receive(self, message: Any) -> None:
        if not isinstance(message, Notice):
            return
        self._waiting.free_slot()
        if not self._bucket.take():
            self._metrics.notifications_dropped.labels(DROP_RATE_LIMITED).inc()
            return
        title, body = self._redact(message.title), self._redact(message.body)
        delivered = [self._deliver(channel, title, body, message.warning) for channel in self._channels]
        if all(delivered):
            self._metrics.notifications_sent.labels(message.kind.value).inc()

    def _deliver(self, channel: Channel, title: str, body: str, warning: bool) -> bool:
        for delay in (*self._delays, None):
            if channel.send(title, body, warning):
                return True
            if delay is not None:
                self._sleep(delay)
        self._metrics.notifications_failed.inc()
        self._log.warning("notification service {} of NOTIFY_URLS failed {} times; notice not sent",
                          channel.position, len(self._delays) + 1)
        return False

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "****")
        return text


class NotifierHandle:
    """What actors call. Without channels it does nothing (notifications off)."""

    def __init__(self, ref: Any = None, switched_off: Iterable[NoticeKind] = (), metrics: Any = None,
                 capacity: int = QUEUE_SIZE, waiting: _Waiting | None = None) -> None:
        self._ref = ref
        self._off = frozenset(switched_off)
        self._metrics = metrics
        self._capacity = capacity
        self._waiting = waiting or _Waiting()

    def post(self, notice: Notice | None) -> None:
        if self._ref is None or notice is None or notice.kind in self._off:
            return
        if not self._waiting.take_slot(self._capacity):
            self._metrics.notifications_dropped.labels(DROP_QUEUE_FULL).inc()
            return
        try:
            self._ref.tell(notice)
        except pykka.ActorDeadError:
            self._waiting.free_slot()
            self._metrics.notifications_dropped.labels(DROP_STOPPED).inc()

    def stop(self, timeout: float = 15.0) -> None:
        """Send what is queued (within `timeout`), then stop."""
        if self._ref is None:
            return
        try:
            self._ref.stop(timeout=timeout)
        except pykka.Timeout:
            logger.bind(actor="notifier").warning("notices still queued at shutdown were not sent")
        self._ref = None


def start_notifier(channels: Sequence[Channel], metrics: Any, switched_off: Iterable[NoticeKind],
                   per_minute: float, secrets: Iterable[str] = (), capacity: int = QUEUE_SIZE,
                   **options: Any) -> NotifierHandle:
    if not channels:
        return NotifierHandle()
    metrics.notifier_started([kind.value for kind in NoticeKind], DROP_REASONS)
    waiting = _Waiting()
    ref = Notifier.start(channels, metrics, waiting, per_minute, secrets, **options)
    return NotifierHandle(ref, switched_off, metrics, capacity, waiting)
