"""Fixtures for the actor runtime tests: a fast accelerated scheduler and actor cleanup."""

from __future__ import annotations

from collections.abc import Iterator

import pykka
import pytest

from actors.supervision.scheduler import Scheduler
from tests.actors.supervision.clocks import FastClock
from tests.actors.supervision.recorder import Recorder

TEST_CLOCK_SPEED = 100.0  # 100 clock seconds per real second: the default 0.5 s backoff is 5 ms


@pytest.fixture(autouse=True)
def _stop_all_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all(timeout=10)
    assert pykka.ActorRegistry.get_all() == [], "a restart during shutdown left an actor running"


@pytest.fixture
def scheduler(_stop_all_actors: None) -> Iterator[Scheduler]:
    # Depends on the cleanup fixture so that actors stop before the scheduler does.
    scheduler = Scheduler(FastClock(TEST_CLOCK_SPEED), max_wait_s=0.05).start()
    yield scheduler
    pykka.ActorRegistry.stop_all(timeout=10)
    scheduler.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
