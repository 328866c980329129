"""`StreamRouter`: what the two stream routers share — one WebSocket's connection, owned by an actor.

The stream itself (`ports.streams`) connects, reconnects with backoff and reports on its own thread;
this base turns those reports into messages to the actor and handles them in one place:

* connected / disconnected: the stream gauge and readiness (`Runtime.stream_state`), a reconnect
  counted from the second connection on, one log line each;
* the venue refusing the socket (Alpaca allows one market-data connection per account): counted and
  explained once per episode;
* a malformed message: counted and skipped;
* liveness: every `Intervals.stream_check` real seconds, on the wall clock, the stream's thread is
  checked; if it died, the router crashes and its supervisor starts it again with a fresh stream.

A subclass names its stream (`STREAM`, the metrics label) and opens it in `open_stream`, and may act
on a (re)connect in `connected`.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from loguru import logger

from actors.messages import StreamCheck, StreamConnected, StreamDisconnected, tell_quietly
from actors.runtime import Runtime
from actors.supervision import ExitReason, SupervisedActor
from ports.streams import ConnectionEvents, Stream


class StreamRouter(SupervisedActor, abc.ABC):
    STREAM: ClassVar[str]  # the metrics label and readiness name: "market_data", "trade_updates"
    DESCRIPTION: ClassVar[str]  # how the log names it: "market data", "trade updates"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._rt = runtime
        self._stream: Stream | None = None
        self._connections = 0
        self._log = logger.bind(actor=self.STREAM.replace("_", "-") + "-router")

    # ------------------------------------------------------------------ for subclasses

    @abc.abstractmethod
    def open_stream(self, events: ConnectionEvents) -> Stream:
        """Build the stream (not started) from `self._rt.streams`, reporting through `events`."""

    def connected(self) -> None:
        """After every (re)connect, on the actor's thread."""
        self._log.info("{} connected", self.DESCRIPTION)

    def on_message(self, message: Any) -> None:
        """Messages other than the connection's own."""

    # ------------------------------------------------------------------ the connection

    def init(self) -> None:
        me = self.actor_ref
        self._stream = self.open_stream(ConnectionEvents(
            on_connected=lambda: tell_quietly(me, StreamConnected()),
            on_disconnected=lambda: tell_quietly(me, StreamDisconnected()),
            on_malformed=self._malformed,
            on_connection_limit=self._connection_limit,
        ))
        self.before_start()
        self._stream.start()
        rt = self._rt
        # liveness is safety work: on the wall clock, so a stalled venue clock does not hide a dead thread
        rt.real_time_scheduler.every(rt.real_time_seconds(rt.intervals.stream_check), me, StreamCheck())

    def before_start(self) -> None:
        """After the stream is built, before it starts (e.g. its first subscriptions)."""

    def terminate(self, reason: ExitReason) -> None:
        if self._stream is not None:
            self._stream.stop()
        self._rt.stream_state(self.STREAM, connected=False)

    def on_receive(self, message: Any) -> None:
        match message:
            case StreamConnected():
                self._connections += 1
                if self._connections > 1:
                    self._rt.metrics.stream_reconnects.labels(self.STREAM).inc()
                self._rt.stream_state(self.STREAM, connected=True)
                self.connected()
            case StreamDisconnected():
                self._rt.stream_state(self.STREAM, connected=False)
                self._log.warning("{} disconnected; the stream reconnects with backoff", self.DESCRIPTION)
            case StreamCheck():
                if self._stream is not None and not self._stream.alive:
                    raise RuntimeError(f"the {self.DESCRIPTION} stream's thread has died")
            case _:
                self.on_message(message)

    def _malformed(self, kind: str, error: BaseException) -> None:
        """On the stream's thread: a message it could not read was skipped."""
        self._rt.metrics.malformed_messages.labels(self.STREAM).inc()
        self._log.warning("skipped a malformed {} message: {!r}", kind, error)

    def _connection_limit(self) -> None:
        """On the stream's thread, once per episode: another consumer holds the account's one
        connection of this kind, and the stream retries without end."""
        self._rt.metrics.connection_limit.inc()
        self._log.error("the {} stream was refused: 406 connection limit exceeded. Alpaca allows one {} "
                        "connection per account and another program (a second bot, a notebook, a charting tool) "
                        "is using these API keys; no quotes arrive and nothing is traded until it stops or uses "
                        "other keys. Retrying.", self.DESCRIPTION, self.DESCRIPTION)
