"""Test actors and a recording listener for the supervision tests."""

from __future__ import annotations

import threading
from typing import Any

from pykka import ActorRegistry

from actors.supervision import ExitReason, SupervisedActor, SupervisionListener
from tests.actors.supervision.recorder import WAIT_S, Recorder


class InitFailures:
    """Makes the first `count` inits of a Worker fail (shared across incarnations)."""

    def __init__(self, count: int) -> None:
        self._left = count
        self._lock = threading.Lock()

    def should_fail(self) -> bool:
        with self._lock:
            self._left -= 1
            return self._left >= 0


class Worker(SupervisedActor):
    """Records its life in `recorder` as (kind, name, urn, ...) tuples and crashes on request."""

    def __init__(self, recorder: Recorder, name: str, *, init_failures: InitFailures | None = None) -> None:
        super().__init__()
        self.recorder = recorder
        self.name = name
        self.init_failures = init_failures

    def init(self) -> None:
        if self.init_failures is not None and self.init_failures.should_fail():
            self.recorder.add("init_failed", self.name, self.actor_urn)
            raise RuntimeError(f"{self.name} cannot start")
        self.recorder.add("init", self.name, self.actor_urn)

    def terminate(self, reason: ExitReason) -> None:
        self.recorder.add("terminate", self.name, self.actor_urn, reason)

    def on_receive(self, message: Any) -> Any:
        match message:
            case "crash":
                raise RuntimeError(f"{self.name} crashed on purpose")
            case "stop":
                self.stop()
            case ("crash_when", threading.Event() as gate):
                gate.wait(WAIT_S)
                raise RuntimeError(f"{self.name} crashed on purpose")
            case ("vanish",):
                # Die without any hook running: what the liveness backstop exists for.
                ActorRegistry.unregister(self.actor_ref)
                self.actor_stopped.set()
            case ("record", payload):
                self.recorder.add("got", self.name, self.actor_urn, payload)
            case "ping":
                return "pong"
        return None


class RecordingListener(SupervisionListener):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def on_child_exited(self, supervisor_name: str, child_name: str, reason: ExitReason) -> None:
        self.recorder.add("exited", supervisor_name, child_name, reason)

    def on_child_restarted(self, supervisor_name: str, child_name: str, reason: ExitReason) -> None:
        self.recorder.add("restarted", supervisor_name, child_name, reason)

    def on_gave_up(self, supervisor_name: str, reason: str) -> None:
        self.recorder.add("gave_up", supervisor_name, reason)
