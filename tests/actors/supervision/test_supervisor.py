"""One-for-one supervision on real pykka actors: restarts, restart types, intensity, escalation,
backoff, addressing by name, dynamic children, stale reports and the liveness backstop."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pykka
import pytest

from actors.supervision import (
    EXIT_GAVE_UP,
    Backoff,
    ChildDirectory,
    ChildExited,
    ChildSpec,
    ExitReason,
    ProcessExit,
    Restart,
    RestartIntensity,
    Supervisor,
    supervisor_spec,
)
from actors.supervision.scheduler import Scheduler
from tests.actors.supervision.clocks import HandClock
from tests.actors.supervision.conftest import TEST_CLOCK_SPEED
from tests.actors.supervision.helpers import InitFailures, RecordingListener, Worker
from tests.actors.supervision.recorder import WAIT_S, Recorder

GENEROUS = RestartIntensity(max_restarts=100, within_s=3600)


def worker(recorder: Recorder, name: str, restart: Restart = Restart.PERMANENT, **kwargs: Any) -> ChildSpec:
    return ChildSpec(name, Worker, args=(recorder, name), kwargs=kwargs, restart=restart)


class Tree:
    """A started supervisor with its directory, for tests."""

    def __init__(self, scheduler: Scheduler, recorder: Recorder, children: Any, **options: Any) -> None:
        options = {
            "intensity": GENEROUS,
            "backoff": Backoff.none(),
            "liveness_check_s": None,
            "listener": RecordingListener(recorder),
            **options,
        }
        self.directory = ChildDirectory()
        self.ref = Supervisor.start(
            options.pop("name", "sup"), children, scheduler=scheduler, directory=self.directory, **options
        )

    def children(self) -> list[Any]:
        """Also a barrier: the supervisor has handled every message told to it before this call."""
        return self.ref.proxy().which_children().get(timeout=WAIT_S)


def inits(recorder: Recorder, name: str) -> list[str]:
    return [event[2] for event in recorder.of_kind("init") if event[1] == name]


def test_children_start_in_order_and_are_reachable_by_name(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, name) for name in ("a", "b", "c")])

    recorder.wait_count("init", 3)

    assert [status.name for status in tree.children()] == ["a", "b", "c"]
    assert tree.directory.handle("b").ask("ping", timeout=WAIT_S) == "pong"


def test_crashed_child_is_replaced_by_a_new_actor_and_its_queued_messages_are_not_replayed(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "w")])
    recorder.wait_count("init", 1)
    old = tree.directory.ref("w")
    assert old is not None
    gate = threading.Event()

    old.tell(("crash_when", gate))
    old.tell(("record", "queued behind the crash 1"))
    old.tell(("record", "queued behind the crash 2"))
    gate.set()
    recorder.wait_count("restarted", 1)
    assert tree.directory.handle("w").tell(("record", "after restart"))
    recorder.wait_count("got", 1)

    new_urn = inits(recorder, "w")[1]
    assert new_urn != old.actor_urn
    assert not old.is_alive()
    assert recorder.of_kind("got") == [("got", "w", new_urn, "after restart")]
    exited = recorder.of_kind("exited")[0]
    assert exited[1:3] == ("sup", "w")
    assert not exited[3].normal


def test_child_whose_init_fails_is_reported_and_restarted(scheduler: Scheduler, recorder: Recorder) -> None:
    Tree(scheduler, recorder, [worker(recorder, "w", init_failures=InitFailures(2))])

    recorder.wait_count("init", 1)

    assert len(recorder.of_kind("init_failed")) == 2
    restarted = recorder.wait_count("restarted", 2)
    assert all(event[3].description.startswith("init failed") for event in restarted)


def test_transient_child_is_not_restarted_after_a_normal_exit(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "job", Restart.TRANSIENT)])
    recorder.wait_count("init", 1)

    tree.directory.handle("job").tell("stop")
    recorder.wait_count("exited", 1)

    assert tree.children() == []
    assert len(inits(recorder, "job")) == 1
    assert recorder.of_kind("exited")[0][3].normal
    assert tree.directory.ref("job") is None


def test_transient_child_is_restarted_after_a_crash(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "job", Restart.TRANSIENT)])
    recorder.wait_count("init", 1)

    tree.directory.handle("job").tell("crash")

    recorder.wait_count("init", 2)
    recorder.wait_count("restarted", 1)


def test_temporary_child_is_never_restarted(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "once", Restart.TEMPORARY)])
    recorder.wait_count("init", 1)

    tree.directory.handle("once").tell("crash")
    recorder.wait_count("exited", 1)

    assert tree.children() == []
    assert recorder.of_kind("restarted") == []


def test_permanent_child_is_restarted_even_after_a_normal_exit(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "w")])
    recorder.wait_count("init", 1)

    tree.directory.handle("w").tell("stop")

    restarted = recorder.wait_count("restarted", 1)
    assert restarted[0][3].normal
    assert tree.directory.handle("w").ask("ping", timeout=WAIT_S) == "pong"


def test_exceeding_restart_intensity_stops_the_children_and_the_supervisor_and_tells_the_parent(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    inner_directory = ChildDirectory()
    inner = supervisor_spec(
        "inner",
        [worker(recorder, "flaky"), worker(recorder, "steady")],
        scheduler=scheduler,
        directory=inner_directory,
        intensity=RestartIntensity(max_restarts=1, within_s=3600),
        backoff=Backoff.none(),
        listener=RecordingListener(recorder),
        liveness_check_s=None,
    )
    parent = Tree(scheduler, recorder, [inner], name="parent")
    recorder.wait_count("init", 2)
    first_inner = parent.directory.ref("inner")
    assert first_inner is not None

    inner_directory.handle("flaky").tell("crash")
    recorder.wait_count("restarted", 1)
    inner_directory.handle("flaky").tell("crash")  # the second restart in the window: too many

    gave_up = recorder.wait_count("gave_up", 1)
    assert gave_up[0][1] == "inner"
    assert "restart intensity exceeded" in gave_up[0][2]
    first_inner.actor_stopped.wait(WAIT_S)
    steady_terminations = [event for event in recorder.of_kind("terminate") if event[1] == "steady"]
    assert steady_terminations and steady_terminations[0][3].normal, "the healthy sibling was stopped"
    recorder.wait_for(lambda events: ("restarted", "parent", "inner") in [e[:3] for e in events])
    inner_exit = next(e for e in recorder.of_kind("exited") if e[1:3] == ("parent", "inner"))
    assert not inner_exit[3].normal
    assert "gave up" in inner_exit[3].description
    # The parent replaced the whole subtree: a new inner supervisor with fresh children.
    recorder.wait_for(lambda events: len([e for e in events if e[:2] == ("init", "steady")]) == 2)
    assert parent.directory.ref("inner") not in (None, first_inner)


def test_nested_escalation_reaches_the_root_whose_give_up_requests_a_non_zero_exit(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    process_exit = ProcessExit()
    middle = supervisor_spec(
        "middle",
        [worker(recorder, "broken", init_failures=InitFailures(1000))],
        scheduler=scheduler,
        intensity=RestartIntensity(max_restarts=0, within_s=3600),
        backoff=Backoff.none(),
        listener=RecordingListener(recorder),
        liveness_check_s=None,
    )
    root = Tree(
        scheduler,
        recorder,
        [middle],
        name="root",
        intensity=RestartIntensity(max_restarts=1, within_s=3600),
        on_give_up=process_exit.give_up,
    )

    assert process_exit.wait(WAIT_S)

    assert process_exit.code == EXIT_GAVE_UP != 0
    assert process_exit.reason is not None
    assert "root supervisor 'root' exited: gave up: restart intensity exceeded" in process_exit.reason
    root.ref.actor_stopped.wait(WAIT_S)
    assert [event[1] for event in recorder.of_kind("gave_up")] == ["middle", "middle", "root"]


def test_an_orderly_shutdown_requested_first_is_not_turned_into_a_failure(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    process_exit = ProcessExit()
    give_ups: list[str] = []

    def on_give_up(reason: str) -> None:
        give_ups.append(reason)
        process_exit.give_up(reason)

    root = Tree(scheduler, recorder, [worker(recorder, "w")], name="root", on_give_up=on_give_up)
    recorder.wait_count("init", 1)

    process_exit.request(0, "SIGTERM")
    root.ref.stop(timeout=WAIT_S)

    assert give_ups == ["root supervisor 'root' exited: stopped"], "the root always reports its end"
    assert (process_exit.code, process_exit.reason) == (0, "SIGTERM")


def test_a_root_taken_down_by_stop_all_still_releases_the_main_thread(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    process_exit = ProcessExit()
    Tree(scheduler, recorder, [worker(recorder, "w")], name="root", on_give_up=process_exit.give_up)
    recorder.wait_count("init", 1)

    pykka.ActorRegistry.stop_all(timeout=WAIT_S)  # what pykka does after a BaseException in an actor

    assert process_exit.wait(WAIT_S)
    assert process_exit.code == EXIT_GAVE_UP


def test_restarts_back_off_exponentially_on_the_scheduler_clock(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    backoff = Backoff(initial_s=2, factor=2, max_s=4, reset_after_s=3600)
    Tree(scheduler, recorder, [worker(recorder, "w", init_failures=InitFailures(3))], backoff=backoff)

    recorder.wait_count("init", 1)

    attempts = recorder.times_of("init_failed", "init")
    gaps_clock_s = [(later - earlier) * TEST_CLOCK_SPEED for earlier, later in itertools.pairwise(attempts)]
    assert len(gaps_clock_s) == 3
    for gap, expected in zip(gaps_clock_s, [2, 4, 4], strict=True):  # 2, 4, then capped at 4
        assert expected <= gap + 0.1 < expected + 25, gaps_clock_s


def test_backoff_starts_over_once_a_child_has_run_long_enough(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    backoff = Backoff(initial_s=1, factor=20, max_s=1000, reset_after_s=5)
    tree = Tree(scheduler, recorder, [worker(recorder, "w")], backoff=backoff)
    handle = tree.directory.handle("w")
    recorder.wait_count("restarted", 0)
    recorder.wait_count("init", 1)

    handle.tell("crash")  # ran < 5 s: first restart waits 1 s
    recorder.wait_count("restarted", 1)
    time.sleep(10 / TEST_CLOCK_SPEED)  # now it has run 10 clock seconds: the streak is over
    crashed_at = time.monotonic()
    handle.tell("crash")
    recorder.wait_count("restarted", 2)

    waited_clock_s = (recorder.times_of("restarted")[1] - crashed_at) * TEST_CLOCK_SPEED
    assert 1 <= waited_clock_s + 0.1 < 20, "the delay went back to initial_s, not initial_s * factor"


def test_child_handle_follows_restarts_and_reports_down_meanwhile(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    backoff = Backoff(initial_s=30, reset_after_s=3600)  # 0.3 real seconds down
    tree = Tree(scheduler, recorder, [worker(recorder, "w")], backoff=backoff)
    handle = tree.directory.handle("w")
    recorder.wait_count("init", 1)

    handle.tell("crash")
    recorder.wait_count("exited", 1)
    tree.children()

    assert handle.tell(("record", "lost")) is False
    assert handle.ref is None and handle.proxy() is None and not handle.is_alive()
    with pytest.raises(pykka.ActorDeadError):
        handle.ask("ping")
    recorder.wait_count("restarted", 1)
    assert handle.tell(("record", "delivered")) is True
    recorder.wait_count("got", 1)
    assert recorder.of_kind("got")[0][2:] == (inits(recorder, "w")[1], "delivered")


def test_children_can_be_started_and_stopped_at_runtime(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [])
    supervisor = tree.ref.proxy()

    assert supervisor.start_child(worker(recorder, "BTC/USD")).get(timeout=WAIT_S) is True
    assert supervisor.start_child(worker(recorder, "BTC/USD")).get(timeout=WAIT_S) is False
    assert tree.directory.handle("BTC/USD").ask("ping", timeout=WAIT_S) == "pong"

    assert supervisor.stop_child("BTC/USD").get(timeout=WAIT_S) is True

    assert recorder.of_kind("terminate")[0][3].normal
    assert tree.children() == []
    assert recorder.of_kind("restarted") == []
    assert supervisor.stop_child("BTC/USD").get(timeout=WAIT_S) is False
    assert supervisor.start_child(worker(recorder, "BTC/USD")).get(timeout=WAIT_S) is True


def test_start_child_raises_a_factory_error_to_the_caller_and_the_supervisor_lives_on(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    tree = Tree(scheduler, recorder, [])

    def broken_factory() -> pykka.ActorRef[Any]:
        raise LookupError("no such asset")

    with pytest.raises(LookupError):
        tree.ref.proxy().start_child(ChildSpec("x", broken_factory)).get(timeout=WAIT_S)

    assert tree.ref.is_alive()
    assert tree.children() == []


def test_a_factory_must_start_a_supervised_actor(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [])
    plain = pykka.ThreadingActor.start

    with pytest.raises(TypeError, match="SupervisedActor"):
        tree.ref.proxy().start_child(ChildSpec("plain", plain)).get(timeout=WAIT_S)

    assert [ref.actor_class for ref in pykka.ActorRegistry.get_all()] == [Supervisor]


def test_a_stale_exit_report_is_ignored(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "w")])
    recorder.wait_count("init", 1)
    tree.directory.handle("w").tell("crash")
    recorder.wait_count("restarted", 1)
    first_urn, current_urn = inits(recorder, "w")

    crash = ExitReason.abnormal("late report")
    tree.ref.tell(ChildExited("w", first_urn, crash))  # from the replaced incarnation
    tree.ref.tell(ChildExited("w", "urn:uuid:never-existed", crash))
    tree.ref.tell(ChildExited("nobody", current_urn, crash))

    assert [status.actor_urn for status in tree.children()] == [current_urn]
    assert len(recorder.of_kind("exited")) == 1


def test_children_stop_in_reverse_start_order_when_the_supervisor_stops(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, name) for name in ("a", "b", "c")])
    recorder.wait_count("init", 3)

    tree.ref.stop(timeout=WAIT_S)

    assert [event[1] for event in recorder.of_kind("terminate")] == ["c", "b", "a"]
    assert recorder.of_kind("restarted") == []
    assert pykka.ActorRegistry.get_all() == []


def test_a_child_that_dies_without_reporting_is_restarted_by_the_liveness_check(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "w")], liveness_check_s=1)
    recorder.wait_count("init", 1)

    tree.directory.handle("w").tell(("vanish",))

    restarted = recorder.wait_count("restarted", 1)
    assert restarted[0][3].description == "died without reporting its exit"


def test_restarts_wait_on_the_restart_schedulers_clock_while_liveness_checks_run_on_the_other(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    hand = HandClock()
    restarts = Scheduler(hand, max_wait_s=0.05).start()
    try:
        tree = Tree(scheduler, recorder, [worker(recorder, "a"), worker(recorder, "b")], restart_scheduler=restarts,
                    backoff=Backoff(initial_s=5, reset_after_s=3600), liveness_check_s=1)
        recorder.wait_count("init", 2)

        tree.directory.handle("a").tell("crash")
        recorder.wait_count("exited", 1)
        tree.children()  # the restart is scheduled by now
        assert restarts.pending_count(tree.ref) == 1  # on the hand clock, which stands still
        tree.directory.handle("b").tell(("vanish",))  # meanwhile the liveness check, on the running clock, goes on
        recorder.wait_count("exited", 2)
        tree.children()
        assert restarts.pending_count(tree.ref) == 2
        assert recorder.of_kind("restarted") == []
        assert not tree.directory.handle("a").is_alive() and not tree.directory.handle("b").is_alive()

        hand.advance(5)  # the backoff passes on the restart scheduler's clock
        restarts.wake()
        recorder.wait_count("restarted", 2)
        assert sorted(r[2] for r in recorder.of_kind("restarted")) == ["a", "b"]
    finally:
        pykka.ActorRegistry.stop_all(timeout=10)
        restarts.stop()


def test_a_slow_terminate_is_not_mistaken_for_a_silent_death(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    class SlowToStop(Worker):
        def terminate(self, reason: ExitReason) -> None:
            time.sleep(20 / TEST_CLOCK_SPEED)  # many liveness intervals
            super().terminate(reason)

    spec = ChildSpec("job", SlowToStop, args=(recorder, "job"), restart=Restart.TRANSIENT)
    tree = Tree(scheduler, recorder, [spec], liveness_check_s=1)
    recorder.wait_count("init", 1)

    tree.directory.handle("job").tell("stop")
    recorder.wait_count("exited", 1)

    assert recorder.of_kind("exited")[0][3].normal
    assert tree.children() == []
    assert recorder.of_kind("restarted") == []


def test_a_restarted_supervisor_rebuilds_its_children_from_a_callable(
    scheduler: Scheduler, recorder: Recorder
) -> None:
    enabled_assets = ["BTC/USD"]
    assets = ChildDirectory()
    asset_supervisor = supervisor_spec(
        "assets",
        lambda: [worker(recorder, symbol) for symbol in enabled_assets],
        scheduler=scheduler,
        directory=assets,
        liveness_check_s=None,
    )
    root = Tree(scheduler, recorder, [asset_supervisor], name="root")
    recorder.wait_count("init", 1)

    enabled_assets.append("ETH/USD")
    first_assets = root.directory.ref("assets")
    assert first_assets is not None
    first_assets.stop()  # a permanent child: it comes back

    recorder.wait_for(lambda events: ("init", "ETH/USD") in [e[:2] for e in events])
    assert assets.handle("ETH/USD").ask("ping", timeout=WAIT_S) == "pong"
    assert sorted(assets.names()) == ["BTC/USD", "ETH/USD"]


def test_timers_of_a_crashed_child_are_cancelled(scheduler: Scheduler, recorder: Recorder) -> None:
    tree = Tree(scheduler, recorder, [worker(recorder, "w")])
    recorder.wait_count("init", 1)
    old = tree.directory.ref("w")
    assert old is not None
    scheduler.call_later(3600, old, ("record", "never"))

    old.tell("crash")
    recorder.wait_count("restarted", 1)

    assert scheduler.pending_count(old) == 0
