"""The supervisor's log file: rotated at midnight into gzip archives of one day each, archives kept
7 days, and written by one process only.

Days pass under libfaketime (Debian's faketime package): a child process configures logging exactly
as `python supervisor.py` does and moves its own wall clock from line to line (drive_log_days.py).
File modification times are not faked, so what earlier days left behind is laid out beforehand with
the mtimes it would have had: the current log file, begun on the morning of DAY_ZERO (loguru dates a
file it did not create by its mtime), and one archive for each of the ten days before.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path

import pytest

from tests.observability.tools import ROOT

HERE = Path(__file__).resolve().parent
DAY_ZERO = datetime(2026, 3, 10, tzinfo=UTC)
LINE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) \d{2}:\d{2}:\d{2}\.\d{3}Z ")


def libfaketime() -> str:
    found = glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    if not found:
        pytest.fail("libfaketime is missing: run scripts/ensure-test-services (installs Debian's faketime)",
                    pytrace=False)
    return found[0]


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def lay_out_earlier_days(log_dir: Path, days: int) -> dict[int, Path]:
    """The log file begun at 08:00 on DAY_ZERO, and one gzip archive for each earlier day as rotation
    would have left it at the midnight ending that day (k = 1: closed at DAY_ZERO 00:00). Also a
    simulator archive as old as the oldest."""
    today = DAY_ZERO
    current = log_dir / "supervisor.log"
    current.touch()
    os.utime(current, ((today + timedelta(hours=8)).timestamp(),) * 2)
    archives = {}
    for k in range(1, days + 1):
        closed = today - timedelta(days=k - 1)
        day = closed - timedelta(days=1)
        path = log_dir / f"supervisor.{day:%Y-%m-%d_%H-%M-%S_%f}.log.gz"
        path.write_bytes(gzip.compress(f"{day:%Y-%m-%d} 12:00:00.000Z INFO    [-] x:1 earlier day\n".encode()))
        os.utime(path, (closed.timestamp(), closed.timestamp()))
        archives[k] = path
    other = log_dir / f"simulator.{today - timedelta(days=days):%Y-%m-%d_%H-%M-%S_%f}.log.gz"
    other.write_bytes(gzip.compress(b"another process's log\n"))
    os.utime(other, (archives[days].stat().st_mtime,) * 2)
    archives[0] = other
    return archives


def dates_in(text: str) -> set[str]:
    return {m.group(1) for m in map(LINE_TIME.match, text.splitlines()) if m}


def test_the_log_rotates_at_midnight_into_one_gzip_archive_a_day_and_keeps_seven_days(tmp_path: Path) -> None:
    log_dir, clock = tmp_path / "logs", tmp_path / "clock"
    log_dir.mkdir()
    earlier = lay_out_earlier_days(log_dir, days=10)
    clock.write_text(f"{DAY_ZERO:%Y-%m-%d} 09:00:00\n")
    run = subprocess.run(
        [sys.executable, str(HERE / "drive_log_days.py"), str(log_dir), str(clock)], capture_output=True, text=True,
        timeout=120, env=child_env(TZ="UTC", LD_PRELOAD=libfaketime(), FAKETIME_TIMESTAMP_FILE=str(clock),
                                   FAKETIME_NO_CACHE="1", DONT_FAKE_MONOTONIC="1"))
    assert run.returncode == 0, run.stderr
    written = [line.split(" ", 1) for line in run.stdout.splitlines()]
    days = sorted({at[:10] for at, _text in written})
    assert days == ["2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"]  # DAY_ZERO and three midnights

    live = (log_dir / "supervisor.log").read_text()
    assert dates_in(live) == {days[-1]}
    ours = sorted(set(log_dir.glob("supervisor.*.log.gz")) - set(earlier.values()))
    assert [path.name for path in ours] == [  # named after the time each file was begun
        "supervisor.2026-03-10_08-00-00_000000.log.gz", "supervisor.2026-03-11_01-00-00_000000.log.gz",
        "supervisor.2026-03-12_01-00-00_000000.log.gz"]
    archived = [gzip.decompress(path.read_bytes()).decode() for path in ours]
    assert [dates_in(text) for text in archived] == [{day} for day in days[:-1]], "one day per archive"
    every_line = "".join([*archived, live])
    assert [text for _at, text in written] == [line.split("] ", 1)[1].split(" ", 1)[1]
                                               for line in every_line.splitlines()], "no line lost or repeated"
    assert not list(log_dir.glob("supervisor.*.log")), "no rotated file left uncompressed"

    # at the last rotation (2026-03-13 01:00) archives closed more than 7 days earlier were deleted
    kept = sorted(k for k, path in earlier.items() if k and path.exists())
    assert kept == [1, 2, 3, 4]
    assert len(kept) + len(ours) == 7
    assert earlier[0].exists(), "another process's archives are not this sink's to delete"
    assert (log_dir / "supervisor.lock").exists()


def hold(log_dir: Path, process: str = "supervisor") -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(HERE / "hold_log_file.py"), str(log_dir), process],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env())


def test_one_process_owns_the_log_file_and_a_second_supervisor_on_it_refuses_to_start(tmp_path: Path) -> None:
    log_dir = tmp_path / "logs"
    owner = hold(log_dir)
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().split() == ["owner", str(owner.pid)]
        second = subprocess.run(
            [sys.executable, str(ROOT / "supervisor.py"), "--duration", "1"], cwd=tmp_path, capture_output=True,
            text=True, timeout=120, env=child_env(LOG_DIR=str(log_dir), DATA_DIR=str(tmp_path / "data"),
                                                   METRICS_PORT="0"))
        assert second.returncode == 2, second.stderr
        assert f"is written by another process (pid {owner.pid})" in second.stderr
        assert not (tmp_path / "data").exists(), "refused before touching anything else"
        elsewhere = hold(tmp_path / "other-logs")  # another LOG_DIR is another file: no conflict
        assert elsewhere.stdout is not None and elsewhere.stdout.readline().startswith("owner ")
        elsewhere.communicate(timeout=30)
    finally:
        owner.kill()  # even a killed owner releases the file: the kernel drops its lock
        owner.wait(timeout=30)
    successor = hold(log_dir)
    out, _ = successor.communicate(timeout=30)
    assert out.split() == ["owner", str(successor.pid)]
