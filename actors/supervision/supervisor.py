"""`Supervisor`: Erlang-style one-for-one supervision of `SupervisedActor` children on pykka.

A supervisor starts its children in order and restarts a child that exits, with a *new* actor, as
its `Restart` type says: PERMANENT always, TRANSIENT after an abnormal exit, TEMPORARY never. A
child that will not be restarted is forgotten, so its name can be started again.

* Backoff: the n-th consecutive restart of a child waits `Backoff.delay_s(n)` clock seconds. The
  wait is a timer on the restart scheduler (`restart_scheduler`, by default `scheduler`) that tells
  the supervisor `_RestartDue`; the supervisor thread never sleeps and keeps handling other children
  meanwhile. Intensity is counted on the same clock.
* Intensity: more than `RestartIntensity.max_restarts` restarts within `within_s`, across all
  children, and the supervisor gives up: it stops every child (reverse start order), dies with an
  abnormal reason, and so escalates to its own supervisor, which treats that as a crash of a child.
* Root: a supervisor nobody supervises calls `on_give_up(reason)` whenever it ends, for whatever
  reason (gave up, crashed, stopped, or taken down by `ActorRegistry.stop_all()`). Wire it to
  `ProcessExit.give_up` and let the main thread exit non-zero (see actors/supervision/README.md).
* Liveness backstop: every `liveness_check_s` the supervisor checks `ref.is_alive()`. A child seen
  dead on two checks in a row without having begun its exit report is treated as crashed.
* Stale reports: every report names the child and its actor URN; a report from an incarnation the
  supervisor already replaced or stopped is ignored.
* Shutdown: stopping a supervisor stops its children in reverse start order, each bounded by its
  `ChildSpec.shutdown_timeout_s`, and restarts nothing.

Children are reached by name through the supervisor's `ChildDirectory` (see child_directory.py).
Public methods `start_child`, `stop_child` and `which_children` are meant to be called through a
proxy (`ref.proxy().start_child(spec).get()`): an exception there goes back to the caller and does
not count as a crash of the supervisor.

Logging: loguru, bound to `actor=<supervisor name>`. Every exit, restart and give-up is logged with the
supervisor name, child name and reason.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pykka
from loguru import logger
from pykka import ActorRef

from actors.supervision.child_directory import ChildDirectory
from actors.supervision.child_spec import ChildSpec, Restart
from actors.supervision.clock import Clock, describe_delay
from actors.supervision.restart_limits import Backoff, RestartIntensity, RestartWindow
from actors.supervision.scheduler import Scheduler, TimerHandle
from actors.supervision.supervised_actor import (
    ChildExited,
    ExitReason,
    SupervisedActor,
    SupervisionLink,
    link_next_actor,
)


class SupervisionListener:
    """Observability hooks (e.g. Prometheus counters). Override what you need; the defaults do
    nothing. Called in the supervisor's thread: keep them fast. Exceptions are logged and ignored."""

    def on_child_exited(self, supervisor_name: str, child_name: str, reason: ExitReason) -> None:
        """A child ended (normally or not); called before any restart decision."""

    def on_child_restarted(self, supervisor_name: str, child_name: str, reason: ExitReason) -> None:
        """A new incarnation of the child was started; `reason` is why the previous one ended."""

    def on_gave_up(self, supervisor_name: str, reason: str) -> None:
        """The supervisor exceeded its restart intensity and is stopping itself."""


class RestartIntensityExceeded(Exception):
    """The error in the ExitReason of a supervisor that gave up."""


@dataclass(frozen=True)
class ChildStatus:
    """A snapshot of one child, from `Supervisor.which_children()`."""

    name: str
    actor_urn: str | None  # None while the child waits for a restart
    restart: Restart
    restarts: int


@dataclass(frozen=True)
class _RestartDue:
    child_name: str
    token: int


@dataclass(frozen=True)
class _CheckLiveness:
    pass


@dataclass
class _Child:
    spec: ChildSpec
    ref: ActorRef[Any] | None = None
    link: SupervisionLink | None = None
    started_at_s: float = 0.0
    consecutive_restarts: int = 0
    restarts: int = 0
    pending_restart: TimerHandle | None = None
    restart_token: int | None = None
    restart_reason: ExitReason | None = None
    seen_dead: bool = False


ChildSpecs = Sequence[ChildSpec] | Callable[[], Sequence[ChildSpec]]


class Supervisor(SupervisedActor):
    """A one-for-one supervisor. It is itself a `SupervisedActor`, so supervisors nest.

    Args:
        name: used in logs, listener calls and the give-up reason; match the ChildSpec name.
        children: the static children, in start order, or a zero-argument callable returning them.
            The callable runs in every incarnation's `init`, so a restarted supervisor can rebuild
            a dynamic child set (e.g. one actor per enabled asset) from the database.
        scheduler: the Scheduler of the liveness check (and, without `restart_scheduler`, of restarts).
        restart_scheduler: the Scheduler whose clock measures backoff and intensity (default:
            `scheduler`). Give the liveness check the wall clock and restarts the venue's clock, and a
            frozen venue clock holds restarts back while a silent death is still noticed.
        directory: where the current child refs are published (default: a new one per incarnation).
        intensity, backoff: restart limits (see restart_limits.py for defaults).
        listener: observability hooks.
        on_give_up: root only; called once with a reason whenever this supervisor ends while it has
            no supervisor of its own.
        liveness_check_s: backstop check interval in clock seconds; None disables it.
    """

    def __init__(
        self,
        name: str,
        children: ChildSpecs = (),
        *,
        scheduler: Scheduler,
        restart_scheduler: Scheduler | None = None,
        directory: ChildDirectory | None = None,
        intensity: RestartIntensity | None = None,
        backoff: Backoff | None = None,
        listener: SupervisionListener | None = None,
        on_give_up: Callable[[str], None] | None = None,
        liveness_check_s: float | None = 5.0,
    ) -> None:
        super().__init__()
        self.name = name
        self.directory = directory if directory is not None else ChildDirectory()
        self._child_specs = children
        self._scheduler = scheduler
        self._restart_scheduler = restart_scheduler or scheduler
        self._log = logger.bind(actor=name)
        self._restart_window = RestartWindow(intensity or RestartIntensity())
        self._backoff = backoff or Backoff()
        self._listener = listener or SupervisionListener()
        self._on_give_up = on_give_up
        self._liveness_check_s = liveness_check_s
        self._children: dict[str, _Child] = {}  # insertion order is start order
        self._restart_tokens = itertools.count()
        self._gave_up = False

    # ------------------------------------------------------------------ lifecycle

    def init(self) -> None:
        if not self._restart_scheduler.running:
            self._log.warning("Supervisor {}: its scheduler is not running; delayed restarts will wait", self.name)
        self.directory.clear()
        specs = self._child_specs() if callable(self._child_specs) else self._child_specs
        for spec in specs:
            if spec.name in self._children:
                raise ValueError(f"supervisor {self.name!r}: duplicate child name {spec.name!r}")
            self._children[spec.name] = _Child(spec)
        for child in list(self._children.values()):
            if self._gave_up:
                return
            self._start_or_handle_failure(child)
        if self._liveness_check_s is not None and not self._gave_up:
            self._scheduler.every(self._liveness_check_s, self.actor_ref, _CheckLiveness())

    def terminate(self, reason: ExitReason) -> None:
        self._stop_all_children()
        self._scheduler.cancel_all_for(self.actor_ref)
        self._restart_scheduler.cancel_all_for(self.actor_ref)

    def on_receive(self, message: Any) -> Any:
        match message:
            case ChildExited():
                self._on_child_exited(message)
            case _RestartDue():
                self._on_restart_due(message)
            case _CheckLiveness():
                self._check_liveness()
            case _:
                return super().on_receive(message)
        return None

    # ------------------------------------------------------------------ public, via proxy

    def start_child(self, spec: ChildSpec) -> bool:
        """Start a new child at runtime. False if a child with that name exists (running or
        waiting to restart). A factory exception is raised to the caller and nothing is kept; a
        later failure in the child's `init` is handled like any crash."""
        if spec.name in self._children:
            return False
        child = _Child(spec)
        self._children[spec.name] = child
        error = self._start_incarnation(child)
        if error is not None:
            del self._children[spec.name]
            raise error
        self._log.info("Supervisor {} started child {}", self.name, spec.name)
        return True

    def stop_child(self, name: str) -> bool:
        """Stop a child and forget it (it will not be restarted). False if there is no such child."""
        child = self._children.pop(name, None)
        if child is None:
            return False
        self._stop_incarnation(child)
        self._log.info("Supervisor {} stopped child {}", self.name, name)
        return True

    def which_children(self) -> list[ChildStatus]:
        return [
            ChildStatus(
                name,
                child.ref.actor_urn if child.ref is not None else None,
                child.spec.restart,
                child.restarts,
            )
            for name, child in self._children.items()
        ]

    # ------------------------------------------------------------------ starting

    def _start_incarnation(self, child: _Child) -> Exception | None:
        """Start a new incarnation of `child`; return the factory's exception instead of raising."""
        name = child.spec.name
        link = SupervisionLink(self.actor_ref, name, announce=lambda ref: self.directory.publish(name, ref))
        child.started_at_s = self._now_s()
        try:
            with link_next_actor(link):
                ref = child.spec.start()
            if link.claimed_by_urn != ref.actor_urn:
                self._stop_stray(ref, child.spec)
                raise TypeError(f"the factory of child {name!r} must start and return a SupervisedActor")
        except Exception as error:
            self.directory.withdraw(name)
            self._log.exception("Supervisor {} could not start child {}", self.name, name)
            return error
        child.ref, child.link, child.seen_dead = ref, link, False
        return None

    def _stop_stray(self, ref: ActorRef[Any], spec: ChildSpec) -> None:
        # A factory that started something we cannot supervise: stop it rather than leak it.
        try:
            ref.stop(block=True, timeout=spec.shutdown_timeout_s)
        except pykka.Timeout:
            self._log.error("Supervisor {}: stray actor {} did not stop in time", self.name, ref)

    def _start_or_handle_failure(self, child: _Child) -> bool:
        error = self._start_incarnation(child)
        if error is None:
            return True
        self._on_child_down(child, ExitReason.abnormal(f"start failed: {error!r}", error))
        return False

    # ------------------------------------------------------------------ exits and restarts

    def _on_child_exited(self, report: ChildExited) -> None:
        child = self._children.get(report.child_name)
        if child is None or child.ref is None or child.ref.actor_urn != report.actor_urn:
            self._log.debug("Supervisor {} ignores a stale exit report: {}", self.name, report)
            return
        self._on_child_down(child, report.reason)

    def _on_child_down(self, child: _Child, reason: ExitReason) -> None:
        """The single place that decides what happens after a child ended."""
        name = child.spec.name
        self._forget_incarnation(child)
        # the error rides along without its traceback (the actor logged that): a log sink can then tell
        # an outage that crashes every actor (one line per episode) from a bug
        self._log.opt(exception=_summary(reason)).log("INFO" if reason.normal else "ERROR",
                                                      "Supervisor {}: child {} exited: {}", self.name, name, reason)
        self._listener_call(self._listener.on_child_exited, name, reason)

        if not child.spec.restart.restarts_after(reason):
            del self._children[name]
            return
        now_s = self._now_s()
        if self._restart_window.record(now_s):
            intensity = self._restart_window.intensity
            self._give_up(
                f"restart intensity exceeded: more than {intensity.max_restarts} restarts in "
                f"{intensity.within_s:g}s (last: child {name} {reason})"
            )
            return
        if now_s - child.started_at_s >= self._backoff.reset_after_s:
            child.consecutive_restarts = 0
        delay_s = self._backoff.delay_s(child.consecutive_restarts)
        child.consecutive_restarts += 1
        if delay_s <= 0:
            self._restart(child, reason)
            return
        self._log.opt(exception=_summary(reason)).warning(
            "Supervisor {} restarts child {} in {}", self.name, name, describe_delay(delay_s, self._restart_clock))
        child.restart_token = next(self._restart_tokens)
        child.restart_reason = reason
        child.pending_restart = self._restart_scheduler.call_later(
            delay_s, self.actor_ref, _RestartDue(name, child.restart_token)
        )

    def _on_restart_due(self, due: _RestartDue) -> None:
        child = self._children.get(due.child_name)
        if child is None or child.ref is not None or child.restart_token != due.token:
            return  # stopped or restarted by other means since the timer was set
        reason = child.restart_reason or ExitReason.abnormal("unknown")
        child.pending_restart = child.restart_token = child.restart_reason = None
        self._restart(child, reason)

    def _restart(self, child: _Child, reason: ExitReason) -> None:
        if not self._start_or_handle_failure(child):
            return
        child.restarts += 1
        assert child.ref is not None
        self._log.opt(exception=_summary(reason)).warning(  # an outage's restarts fold into its episode line
            "Supervisor {} restarted child {} as {} (previous exit: {})",
            self.name, child.spec.name, child.ref.actor_urn, reason)
        self._listener_call(self._listener.on_child_restarted, child.spec.name, reason)

    def _forget_incarnation(self, child: _Child) -> None:
        self.directory.withdraw(child.spec.name)
        if child.ref is not None:
            self._scheduler.cancel_all_for(child.ref)  # its timers must not outlive it
            if self._restart_scheduler is not self._scheduler:
                self._restart_scheduler.cancel_all_for(child.ref)
        child.ref = child.link = None
        child.seen_dead = False

    def _check_liveness(self) -> None:
        for child in list(self._children.values()):
            if self._gave_up:
                return
            if child.ref is None or child.ref.is_alive():
                child.seen_dead = False
            elif child.link is not None and child.link.exit_begun:
                continue  # its report is on the way (terminate may be slow)
            elif not child.seen_dead:
                child.seen_dead = True  # give a report racing with this check one more interval
            else:
                self._on_child_down(child, ExitReason.abnormal("died without reporting its exit"))

    # ------------------------------------------------------------------ giving up and stopping

    def _give_up(self, reason: str) -> None:
        self._gave_up = True
        self._log.critical("Supervisor {} gives up: {}", self.name, reason)
        self._listener_call(self._listener.on_gave_up, reason)
        self._stop_all_children()
        self._die_now(ExitReason.abnormal(f"gave up: {reason}", RestartIntensityExceeded(reason)))

    def _stop_all_children(self) -> None:
        children = list(self._children.values())
        self._children.clear()  # from here on, every report from these children is stale
        for child in reversed(children):
            self._stop_incarnation(child)
        self.directory.clear()

    def _stop_incarnation(self, child: _Child) -> None:
        if child.pending_restart is not None:
            child.pending_restart.cancel()
        ref = child.ref
        self._forget_incarnation(child)
        if ref is None:
            return
        try:
            ref.stop(block=True, timeout=child.spec.shutdown_timeout_s)
        except pykka.Timeout:
            self._log.error("Supervisor {}: child {} did not stop within {}s; abandoning it",
                            self.name, child.spec.name, child.spec.shutdown_timeout_s)

    def _on_exit_without_supervisor(self, reason: ExitReason) -> None:
        if self._on_give_up is None:
            self._log.info("Unsupervised supervisor {} exited: {}", self.name, reason)
            return
        try:
            self._on_give_up(f"root supervisor {self.name!r} exited: {reason}")
        except Exception:
            self._log.exception("on_give_up of supervisor {} failed", self.name)

    # ------------------------------------------------------------------ helpers

    @property
    def _restart_clock(self) -> Clock:
        return self._restart_scheduler.clock

    def _now_s(self) -> float:
        """Now on the clock that measures backoff and intensity."""
        return self._restart_clock.now().timestamp()

    def _listener_call(self, hook: Callable[..., None], *args: Any) -> None:
        try:
            hook(self.name, *args)
        except Exception:
            self._log.exception("Supervision listener {} failed", getattr(hook, "__name__", hook))


def supervisor_spec(
    name: str,
    children: ChildSpecs = (),
    *,
    scheduler: Scheduler,
    restart_scheduler: Scheduler | None = None,
    directory: ChildDirectory | None = None,
    intensity: RestartIntensity | None = None,
    backoff: Backoff | None = None,
    listener: SupervisionListener | None = None,
    liveness_check_s: float | None = 5.0,
    restart: Restart = Restart.PERMANENT,
    shutdown_timeout_s: float | None = None,
) -> ChildSpec:
    """A ChildSpec that starts a nested `Supervisor` named like the child."""
    return ChildSpec(
        name,
        Supervisor,
        kwargs={
            "name": name,
            "children": children,
            "scheduler": scheduler,
            "restart_scheduler": restart_scheduler,
            "directory": directory,
            "intensity": intensity,
            "backoff": backoff,
            "listener": listener,
            "liveness_check_s": liveness_check_s,
        },
        restart=restart,
        shutdown_timeout_s=shutdown_timeout_s,
    )


def _summary(reason: ExitReason) -> tuple[type[BaseException], BaseException, None] | None:
    error = reason.error
    return (type(error), error, None) if error is not None else None
