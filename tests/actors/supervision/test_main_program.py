"""The whole contract end to end, in a child interpreter, wired as actors/supervision/README.md tells the main
program to wire it: timers on an accelerated clock drive an actor that keeps crashing, its
supervisor gives up, the root gives up, and the process exits non-zero with every thread done."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]

MAIN_PROGRAM = textwrap.dedent(
    """
    import sys, threading
    import pykka
    from actors.supervision.scheduler import Scheduler
    from tests.actors.supervision.clocks import FastClock
    from actors.supervision import (
        Backoff, ChildDirectory, ChildSpec, ProcessExit, RestartIntensity, SupervisedActor,
        Supervisor, supervisor_spec,
    )

    class Tick: pass

    class Ticker(SupervisedActor):
        # Crashes on its second tick; every incarnation re-arms its own timer in init().
        def __init__(self, scheduler):
            super().__init__()
            self.scheduler, self.ticks = scheduler, 0

        def init(self):
            self.scheduler.every(10, self.actor_ref, Tick())  # 10 clock s = 10 ms real

        def on_receive(self, message):
            self.ticks += 1
            if self.ticks == 2:
                raise RuntimeError("tick handler bug")

    scheduler = Scheduler(FastClock(1000)).start()  # the sim's AcceleratedClock in real life
    process_exit = ProcessExit()
    workers = ChildDirectory()
    root = Supervisor.start(
        "root",
        [supervisor_spec(
            "workers", [ChildSpec("ticker", Ticker, kwargs={"scheduler": scheduler})],
            scheduler=scheduler, directory=workers,
            intensity=RestartIntensity(max_restarts=2, within_s=3600),
        )],
        scheduler=scheduler,
        intensity=RestartIntensity(max_restarts=1, within_s=3600),
        on_give_up=process_exit.give_up,
    )

    code = process_exit.wait_for_exit()
    root.stop(timeout=30)
    pykka.ActorRegistry.stop_all(timeout=30)
    scheduler.stop()
    print(process_exit.reason)
    # the exit watcher stays: it ends the process should anything hang from here on
    print("threads left:", [t.name for t in threading.enumerate()
                            if t is not threading.main_thread() and t.name != "exit-watcher"])
    sys.exit(code)
    """
)


def test_a_main_program_exits_non_zero_when_the_supervision_tree_gives_up() -> None:
    result = subprocess.run(
        [sys.executable, "-c", MAIN_PROGRAM], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 70, result.stderr[-3000:]
    reason, threads = result.stdout.strip().splitlines()[-2:]
    assert reason.startswith("root supervisor 'root' exited: gave up: restart intensity exceeded")
    assert threads == "threads left: []"
    assert "tick handler bug" in result.stderr  # pykka logged every crash
