"""`Caretaker`: a supervised actor that runs one job on a timer, timed and counted."""

from __future__ import annotations

import abc
import time
from typing import Any

from loguru import logger

from actors.messages import RunCaretaker
from actors.runtime import Runtime
from actors.supervision import SupervisedActor
from actors.supervision.clock import describe_delay

FIRST_RUN_AFTER_SECONDS = 1.0  # real seconds after the start (sooner if the interval is shorter)
MIN_REAL_PERIOD_SECONDS = 1.0  # a caretaker on the venue's clock runs at most once a real second


class Caretaker(SupervisedActor, abc.ABC):
    """Subclasses set `name`, `interval` and implement `run_once`. The interval is in seconds on the
    venue's clock, like every interval a user sets (but never less than MIN_REAL_PERIOD_SECONDS of real
    time), unless the caretaker is safety work (`on_wall_clock`): then it is real seconds on the wall
    clock. A run that raises
    is logged and counted as a failure; the caretaker carries on (restarting it would not help,
    and the `caretaker failing` alert watches the counter)."""

    name = "caretaker"
    on_wall_clock = False  # safety work: runs in real time even when the venue's clock stalls or jumps

    def __init__(self, runtime: Runtime, interval: float) -> None:
        super().__init__()
        self._rt = runtime
        self._interval = interval
        self._log = logger.bind(actor=self.name)

    def init(self) -> None:
        rt = self._rt
        if self.on_wall_clock:
            scheduler, interval_s = rt.real_time_scheduler, rt.real_time_seconds(self._interval)
            first_delay_s = rt.real_time_seconds(FIRST_RUN_AFTER_SECONDS)
        else:
            scheduler = rt.scheduler
            # a very fast simulator must not turn the caretakers into a busy loop
            interval_s = max(self._interval, rt.clock_seconds(MIN_REAL_PERIOD_SECONDS) if rt.clock.speed else 0)
            first_delay_s = min(interval_s, rt.clock_seconds(FIRST_RUN_AFTER_SECONDS))
        scheduler.every(interval_s, self.actor_ref, RunCaretaker(), first_delay_s=first_delay_s)
        # in real seconds: the stale-caretaker alert compares it with the wall clock
        speed = scheduler.clock.speed
        rt.metrics.caretaker_started(self.name, interval_s / speed if speed > 0 else interval_s)
        self._log.debug("runs every {}", describe_delay(interval_s, scheduler.clock))

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, RunCaretaker):
            return self.run()
        return None

    def run(self) -> bool:
        """One run now (also handy from tests); True when it succeeded."""
        metrics = self._rt.metrics
        started = time.monotonic()
        metrics.caretaker_runs.labels(self.name).inc()
        try:
            self.run_once()
        except Exception as error:
            metrics.caretaker_failures.labels(self.name).inc()
            self._log.opt(exception=error).error("run failed: {}", error)
            return False
        finally:
            metrics.caretaker_duration.labels(self.name).observe(time.monotonic() - started)
        metrics.caretaker_last_success.labels(self.name).set(time.time())
        return True

    @abc.abstractmethod
    def run_once(self) -> None:
        """The job itself."""
