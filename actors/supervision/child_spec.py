"""`ChildSpec`: what a supervisor starts under a name, and when it restarts it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pykka
from pykka import ActorRef

from actors.supervision.supervised_actor import ExitReason


class Restart(StrEnum):
    """Erlang's restart types."""

    PERMANENT = "permanent"  # always restarted, even after a normal exit
    TRANSIENT = "transient"  # restarted only after an abnormal exit (crash, init failure)
    TEMPORARY = "temporary"  # never restarted

    def restarts_after(self, reason: ExitReason) -> bool:
        if self is Restart.PERMANENT:
            return True
        if self is Restart.TRANSIENT:
            return not reason.normal
        return False


ActorFactory = type[pykka.Actor] | Callable[..., ActorRef[Any]]


@dataclass(frozen=True)
class ChildSpec:
    """How to start one child.

    `factory` is either a `SupervisedActor` subclass (started with `factory.start(*args, **kwargs)`)
    or a callable that starts exactly one `SupervisedActor` and returns its ref. It is called
    again, with the same `args`/`kwargs`, for every restart; use a callable to build fresh
    dependencies per incarnation.

    `shutdown_timeout_s` (real seconds) bounds how long the supervisor waits for the child to stop;
    None waits without limit, which is right for a child that is itself a supervisor.
    """

    name: str
    factory: ActorFactory
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    restart: Restart = Restart.PERMANENT
    shutdown_timeout_s: float | None = 10.0

    def start(self) -> ActorRef[Any]:
        if isinstance(self.factory, type):
            return self.factory.start(*self.args, **self.kwargs)
        return self.factory(*self.args, **self.kwargs)
