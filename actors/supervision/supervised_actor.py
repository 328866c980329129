"""`SupervisedActor`: a pykka actor that reports every way it can end to its supervisor.

pykka 4.5 ends an actor in three ways, and only one of them calls `on_failure`:

* a tell handler raises      -> unregistered, stopped, `on_failure` called (`on_stop` is not);
* `on_start` raises           -> unregistered, stopped, *neither* `on_failure` nor `on_stop` called;
* a normal stop               -> `on_stop` called.

An exception in an `ask`/proxy call does not end the actor at all: it is handed to the caller.

So a subclass never overrides the pykka hooks (that is enforced). It overrides:

* `init()`       — setup, run in the actor's thread before any message (Erlang's init/1). If it
                   raises (even a BaseException, which pykka would leave as a live-looking zombie),
                   the actor dies and reports `ExitReason.init_failed`; `terminate` is not called,
                   so `init` must undo its own half-done work.
* `terminate(reason)` — cleanup after a normal stop or a crash (Erlang's terminate/2).

and the base turns every ending into exactly one `ChildExited(child_name, actor_urn, reason)` told
to the supervisor that started it. The URN lets the supervisor ignore a report from an incarnation
it has already replaced. Ask-path failures count as crashes only in methods decorated with
`@crash_on_error`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import pykka
from loguru import logger as _loguru
from pykka import ActorDeadError, ActorRef, ActorRegistry

logger = _loguru.bind(actor="supervision")


@dataclass(frozen=True)
class ExitReason:
    """Why an actor ended. `normal` exits are not restarted for TRANSIENT children."""

    normal: bool
    description: str
    error: BaseException | None = None

    @classmethod
    def stopped(cls) -> ExitReason:
        return cls(True, "stopped")

    @classmethod
    def crashed(cls, error: BaseException | None) -> ExitReason:
        return cls(False, f"crashed: {error!r}", error)

    @classmethod
    def init_failed(cls, error: BaseException) -> ExitReason:
        return cls(False, f"init failed: {error!r}", error)

    @classmethod
    def abnormal(cls, description: str, error: BaseException | None = None) -> ExitReason:
        return cls(False, description, error)

    def __str__(self) -> str:
        return self.description


@dataclass(frozen=True)
class ChildExited:
    """Told to the supervisor exactly once when a supervised actor ends."""

    child_name: str
    actor_urn: str
    reason: ExitReason


@dataclass
class SupervisionLink:
    """Who supervises a child and under which name. Set up by the supervisor around the factory."""

    supervisor: ActorRef[Any]
    child_name: str
    # Called with the child's ref while it is being constructed, in the supervisor's thread and
    # before the child's thread starts, so the child is addressable before its init() runs.
    announce: Callable[[ActorRef[Any]], None] | None = None
    claimed_by_urn: str | None = None
    # Set by the child's thread when it starts handling its exit, before `terminate` runs; the
    # supervisor's liveness check reads it to tell "report on the way" from "died silently".
    exit_begun: bool = False


# The one piece of module state: pykka constructs the actor inside `start()` and offers no hook
# between construction and the thread starting, so the supervisor hands the link to the child's
# `__init__` (which runs in the supervisor's thread) through a context variable. Context
# variables are per thread, so concurrent supervisors cannot see each other's links.
_pending_link: ContextVar[SupervisionLink | None] = ContextVar("pending_supervision_link", default=None)


@contextmanager
def link_next_actor(link: SupervisionLink) -> Iterator[SupervisionLink]:
    """Make the first `SupervisedActor` constructed in this block (in this thread) claim `link`."""
    token = _pending_link.set(link)
    try:
        yield link
    finally:
        _pending_link.reset(token)


def _claim_pending_link(actor_ref: ActorRef[Any]) -> SupervisionLink | None:
    link = _pending_link.get()
    if link is None or link.claimed_by_urn is not None:
        return None
    link.claimed_by_urn = actor_ref.actor_urn
    if link.announce is not None:
        link.announce(actor_ref)
    return link


_PYKKA_HOOKS = ("on_start", "on_stop", "on_failure")


class SupervisedActor(pykka.ThreadingActor):
    """Base class for every actor in the supervision tree. Override `init` and `terminate`."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [hook for hook in _PYKKA_HOOKS if hook in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}; a SupervisedActor overrides "
                "init() and terminate(reason) instead, so that every exit reaches its supervisor"
            )

    def __init__(self) -> None:
        super().__init__()
        self._supervision_link = _claim_pending_link(self.actor_ref)
        self._exit_handled = False

    @property
    def child_name(self) -> str | None:
        """The name this actor runs under in its supervisor, or None when unsupervised."""
        return self._supervision_link.child_name if self._supervision_link else None

    # ------------------------------------------------------------------ hooks for subclasses

    def init(self) -> None:
        """Set up in the actor's own thread before the first message. Raising kills the actor."""

    def terminate(self, reason: ExitReason) -> None:
        """Clean up after a normal stop or a crash. Not called when `init` failed."""

    # ------------------------------------------------------------------ pykka hooks (final)

    def on_start(self) -> None:
        try:
            self.init()
        except BaseException as error:
            logger.exception("{} failed in init()", self)
            self._die_now(ExitReason.init_failed(error), run_terminate=False)
            if not isinstance(error, Exception):
                # pykka lets a BaseException from on_start end the thread while the actor still
                # looks alive; we have marked it dead and reported it, now let it propagate.
                raise

    def on_stop(self) -> None:
        self._handle_exit(ExitReason.stopped())

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # pykka has already logged the traceback, unregistered us and set actor_stopped.
        self._handle_exit(ExitReason.crashed(exception_value))

    # ------------------------------------------------------------------ dying on purpose

    def crash(self, error: BaseException) -> None:
        """End this actor now, as if a tell handler had raised `error`, and report it as a crash.

        The current message finishes; queued asks then get `ActorDeadError` and queued tells are
        dropped, exactly as after a tell-path crash. Used by `@crash_on_error`.
        """
        logger.opt(exception=error).error("{} crashed: {!r}", self, error)
        self._die_now(ExitReason.crashed(error))

    def _die_now(self, reason: ExitReason, *, run_terminate: bool = True) -> None:
        # The same two steps pykka takes for an unhandled tell-path exception; the actor loop
        # checks actor_stopped after every message and then drains the inbox.
        ActorRegistry.unregister(self.actor_ref)
        self.actor_stopped.set()
        self._handle_exit(reason, run_terminate=run_terminate)

    def _handle_exit(self, reason: ExitReason, *, run_terminate: bool = True) -> None:
        if self._exit_handled:  # crash() inside a tell handler reaches on_failure afterwards
            return
        self._exit_handled = True
        if self._supervision_link is not None:
            self._supervision_link.exit_begun = True
        if run_terminate:
            try:
                self.terminate(reason)
            except Exception as error:
                logger.exception("{} failed in terminate()", self)
                if reason.normal:
                    reason = ExitReason.abnormal(f"terminate failed: {error!r}", error)
        self._report_exit(reason)

    def _report_exit(self, reason: ExitReason) -> None:
        link = self._supervision_link
        if link is None:
            self._on_exit_without_supervisor(reason)
            return
        try:
            link.supervisor.tell(ChildExited(link.child_name, self.actor_urn, reason))
        except ActorDeadError:
            # The supervisor is gone (it is stopping us, or it died); nobody is left to restart us.
            logger.debug("{} exited ({}) after its supervisor", self, reason)

    def _on_exit_without_supervisor(self, reason: ExitReason) -> None:
        """Extension point for the root supervisor, which has nobody to report to."""
        logger.debug("Unsupervised {} exited: {}", self, reason)


ActorT = TypeVar("ActorT", bound=SupervisedActor)
P = ParamSpec("P")
R = TypeVar("R")


def crash_on_error(method: Callable[Concatenate[ActorT, P], R]) -> Callable[Concatenate[ActorT, P], R]:
    """Make an exception in this method crash the actor even when it was called by ask/proxy.

    pykka hands ask-path exceptions to the caller and keeps the actor running, which is right for
    a bad request but wrong for an actor whose state may now be inconsistent. Decorated methods
    (including `on_receive` itself) still re-raise to the caller, and the actor also dies and is
    reported to its supervisor as crashed.
    """

    @functools.wraps(method)
    def guarded(self: ActorT, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            self.crash(error)
            raise

    return guarded
