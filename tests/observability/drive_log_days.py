"""Child process for test_log_files.py: configures the supervisor's logging and writes log lines at
fake wall-clock times, which it sets itself through libfaketime's timestamp file.

    PYTHONPATH=<repo> FAKETIME_TIMESTAMP_FILE=CLOCK LD_PRELOAD=libfaketimeMT.so.1 python drive_log_days.py LOG_DIR CLOCK

Loguru takes the first rotation time from the log file's creation time (the mtime of a file it did
not create), so day 0 is the day the file was begun, and days 1..3 each begin with a rotation.
After each line it waits for loguru's writer thread (`logger.complete()`), so rotation, compression
and retention run while the clock shows that line's time. Prints the lines it wrote
(`<ISO time> <text>`), one per line.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loguru import logger

from adapters.logging import configure_logging, shutdown_logging

HOURS_EACH_DAY = (1, 12)  # two lines a day; the first after midnight triggers the rotation
DAYS_AFTER_TODAY = 3


def set_clock(clock: Path, at: datetime) -> None:
    clock.write_text(at.strftime("%Y-%m-%d %H:%M:%S") + "\n")


def main(log_dir: Path, clock: Path) -> None:
    path = configure_logging(log_dir=log_dir, process="supervisor", console=False)
    assert path is not None
    created = datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    midnight = (created + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    times = [midnight - timedelta(hours=2), midnight - timedelta(hours=1)]
    times += [midnight + timedelta(days=day, hours=hour) for day in range(DAYS_AFTER_TODAY) for hour in HOURS_EACH_DAY]
    for at in times:
        set_clock(clock, at)
        text = f"line written at {at.isoformat()}"
        logger.info(text)
        logger.complete()
        print(at.isoformat(), text, flush=True)
    shutdown_logging()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
