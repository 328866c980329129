"""SupervisedActor: every way a pykka actor can end becomes exactly one report to its supervisor."""

from __future__ import annotations

import threading
from typing import Any

import pykka
import pytest

from actors.supervision.scheduler import Scheduler
from actors.supervision.supervised_actor import (
    ChildExited,
    SupervisedActor,
    SupervisionLink,
    crash_on_error,
    link_next_actor,
)
from actors.supervision.supervisor import Supervisor
from tests.actors.supervision.helpers import InitFailures, Worker
from tests.actors.supervision.recorder import WAIT_S, Recorder


class ReportCollector(pykka.ThreadingActor):
    """Stands in for a supervisor: records every report it is told."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def on_receive(self, message: Any) -> None:
        if isinstance(message, ChildExited):
            self.recorder.add("report", message)


def start_linked(recorder: Recorder, *, name: str = "worker", **kwargs: Any) -> pykka.ActorRef[Any]:
    collector = ReportCollector.start(recorder)
    with link_next_actor(SupervisionLink(collector, name)):
        return Worker.start(recorder, name, **kwargs)


def single_report(recorder: Recorder) -> ChildExited:
    reports = recorder.wait_count("report", 1)
    assert len(reports) == 1
    return reports[0][1]


def test_tell_crash_is_reported_with_child_name_urn_and_an_abnormal_reason(recorder: Recorder) -> None:
    worker = start_linked(recorder)
    worker.tell("crash")

    report = single_report(recorder)

    assert (report.child_name, report.actor_urn) == ("worker", worker.actor_urn)
    assert not report.reason.normal
    assert isinstance(report.reason.error, RuntimeError)
    assert recorder.of_kind("terminate")[0][3] == report.reason, "terminate runs after a crash too"


def test_init_failure_is_reported_and_terminate_is_not_called(recorder: Recorder) -> None:
    worker = start_linked(recorder, init_failures=InitFailures(1))

    report = single_report(recorder)

    assert report.reason.description.startswith("init failed")
    assert not worker.is_alive()
    assert recorder.of_kind("terminate") == []
    with pytest.raises(pykka.ActorDeadError):
        worker.ask("ping", timeout=WAIT_S)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # re-raised on purpose
def test_a_base_exception_in_init_leaves_no_live_looking_zombie(recorder: Recorder) -> None:
    class ExitsInInit(Worker):
        def init(self) -> None:
            raise SystemExit(3)

    collector = ReportCollector.start(recorder)
    with link_next_actor(SupervisionLink(collector, "exits")):
        exits = ExitsInInit.start(recorder, "exits")

    report = single_report(recorder)
    assert report.reason.description.startswith("init failed")
    assert not exits.is_alive()
    assert exits not in pykka.ActorRegistry.get_all()
    for thread in threading.enumerate():  # let the re-raised SystemExit end it inside this test
        if thread.name.startswith("ExitsInInit-"):
            thread.join(WAIT_S)


def test_normal_stop_is_reported_as_a_normal_exit_after_terminate(recorder: Recorder) -> None:
    worker = start_linked(recorder)
    worker.stop()

    report = single_report(recorder)

    assert report.reason.normal
    assert [event[0] for event in recorder.events] == ["init", "terminate", "report"]


def test_failing_terminate_turns_a_normal_stop_into_an_abnormal_exit(recorder: Recorder) -> None:
    class BadCleanup(Worker):
        def terminate(self, reason: Any) -> None:
            raise OSError("socket already closed")

    collector = ReportCollector.start(recorder)
    with link_next_actor(SupervisionLink(collector, "bad")):
        BadCleanup.start(recorder, "bad").stop()

    report = single_report(recorder)
    assert not report.reason.normal
    assert "terminate failed" in report.reason.description


def test_an_ask_failure_does_not_kill_a_pykka_actor(recorder: Recorder) -> None:
    worker = start_linked(recorder)

    with pytest.raises(RuntimeError):
        worker.ask("crash", timeout=WAIT_S)

    assert worker.ask("ping", timeout=WAIT_S) == "pong"
    assert recorder.of_kind("report") == []


class Strict(SupervisedActor):
    @crash_on_error
    def on_receive(self, message: Any) -> Any:
        if message == "bad request":
            raise ValueError("state may be inconsistent now")
        return "ok"


def test_crash_on_error_makes_an_ask_failure_a_crash_and_still_tells_the_caller(recorder: Recorder) -> None:
    collector = ReportCollector.start(recorder)
    with link_next_actor(SupervisionLink(collector, "strict")):
        strict = Strict.start()

    with pytest.raises(ValueError, match="inconsistent"):
        strict.ask("bad request", timeout=WAIT_S)

    report = single_report(recorder)
    assert not report.reason.normal
    assert isinstance(report.reason.error, ValueError)
    assert not strict.is_alive()


def test_crash_on_error_on_the_tell_path_reports_only_once(recorder: Recorder) -> None:
    collector = ReportCollector.start(recorder)
    with link_next_actor(SupervisionLink(collector, "strict")):
        strict = Strict.start()

    strict.tell("bad request")

    single_report(recorder)
    strict.actor_stopped.wait(WAIT_S)
    collector.ask("flush", timeout=WAIT_S)  # every report told so far has been handled
    assert len(recorder.of_kind("report")) == 1


def test_an_actor_started_outside_a_supervisor_runs_and_reports_to_nobody(recorder: Recorder) -> None:
    worker = Worker.start(recorder, "loner")

    assert worker.ask("ping", timeout=WAIT_S) == "pong"
    worker.tell("crash")
    worker.actor_stopped.wait(WAIT_S)
    assert recorder.of_kind("report") == []


def test_only_the_first_actor_constructed_under_a_link_claims_it(recorder: Recorder) -> None:
    collector = ReportCollector.start(recorder)
    link = SupervisionLink(collector, "first")
    with link_next_actor(link):
        first = Worker.start(recorder, "first")
        Worker.start(recorder, "second").stop()

    assert link.claimed_by_urn == first.actor_urn
    first.stop()
    report = single_report(recorder)
    assert report.actor_urn == first.actor_urn


@pytest.mark.parametrize("hook", ["on_start", "on_stop", "on_failure"])
def test_a_subclass_may_not_override_the_pykka_hooks(hook: str) -> None:
    with pytest.raises(TypeError, match=r"init\(\) and terminate"):
        type("Sneaky", (SupervisedActor,), {hook: lambda self, *args: None})


def test_no_private_name_of_ours_shadows_one_of_pykka() -> None:
    # pykka's Actor keeps its machinery in underscore names (e.g. `_stop`, `_actor_ref`); shadowing
    # one breaks the actor loop in ways no type checker notices. Constructing without start() is
    # allowed and runs no actor.
    def private(names: Any) -> set[str]:
        return {n for n in names if n.startswith("_") and not n.startswith("__") and n != "_abc_impl"}

    pykka_names = private(n for cls in pykka.ThreadingActor.__mro__ for n in vars(cls))
    pykka_names |= private(vars(pykka.ThreadingActor()))
    ours = private(n for cls in (Supervisor, SupervisedActor) for n in vars(cls))
    ours |= private(vars(Supervisor("unstarted", scheduler=Scheduler())))
    inherited = private(vars(pykka.ThreadingActor()))  # set by pykka's own __init__
    assert (ours - inherited) & pykka_names == set()
