"""Quiet failure logs: a disk that is full, a database that is down or a venue that does not answer is one
line per episode with what to do (tracebacks only at DEBUG), repeated at most every few minutes."""

from __future__ import annotations

import socket
import sqlite3

import pytest
import requests
from loguru import logger
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from adapters.log_episodes import DATABASE_DOWN, DISK_FULL, VENUE_DOWN, EpisodeGate, classify
from adapters.logging import configure_logging, shutdown_logging


class Clock:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _disk_full(tmp_path) -> BaseException:
    db = sqlite3.connect(tmp_path / "tiny.sqlite3")
    db.execute("PRAGMA max_page_count = 2")  # a database that can grow no further: SQLite's SQLITE_FULL
    try:
        db.execute("CREATE TABLE t (x TEXT)")
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", ("x" * 1000,))
    except sqlite3.OperationalError as error:
        return error
    finally:
        db.close()
    raise AssertionError("the database never filled up")


def _database_down() -> BaseException:
    engine = create_engine(f"mysql+pymysql://root@127.0.0.1:{_closed_port()}/x")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        return error
    raise AssertionError("a closed port answered")


def _venue_down() -> BaseException:
    try:
        requests.get(f"http://127.0.0.1:{_closed_port()}/v2/clock", timeout=5)
    except requests.ConnectionError as error:
        return error
    raise AssertionError("a closed port answered")


def test_real_failures_are_classified_by_their_types_and_codes(tmp_path):
    assert classify(_disk_full(tmp_path)) is DISK_FULL
    assert classify(_database_down()) is DATABASE_DOWN
    assert classify(_venue_down()) is VENUE_DOWN
    assert classify(ValueError("a bug")) is None


@pytest.fixture
def console(tmp_path):
    path = configure_logging(log_dir=tmp_path, process="unit", console=False)
    yield lambda: (shutdown_logging(), path.read_text())[1]


def test_a_hundred_disk_full_failures_in_a_burst_are_one_line_with_advice_and_no_traceback(tmp_path, console):
    error = _disk_full(tmp_path)
    for actor in range(100):
        logger.opt(exception=error).bind(actor=f"asset:{actor}").error("crashed: {}", error)

    lines = console().splitlines()
    assert len(lines) == 1, lines
    assert "the disk is full" in lines[0] and "free space on that disk" in lines[0]
    assert "Traceback" not in lines[0]


def test_a_database_driver_message_over_several_lines_is_one_line_with_advice(console):
    error = _database_down()
    assert "\n" in str(error)  # SQLAlchemy adds a line with a link (and the SQL, when there was one)
    for actor in range(5):
        logger.opt(exception=error).bind(actor=f"asset:{actor}").error("crashed: {}", error)

    lines = console().splitlines()
    assert len(lines) == 1, lines
    assert "the database does not answer" in lines[0] and DATABASE_DOWN.advice in lines[0]


def test_bugs_keep_their_tracebacks(console):
    try:
        raise KeyError("a bug")
    except KeyError:
        logger.exception("caretaker run failed")
    assert "Traceback" in console()


def test_an_episode_is_reported_again_every_few_minutes_with_a_count_and_ends_after_a_quiet_spell(tmp_path):
    clock, error = Clock(), _venue_down()
    gate = EpisodeGate(now=clock)

    def record(message: str) -> dict:
        entry = {"exception": type("E", (), {"value": error})(), "message": message, "extra": {},
                 "level": type("L", (), {"no": 40})(), "name": "alpaca.trading.stream"}
        gate.admit(entry)
        return entry

    first = record("error during websocket communication")
    assert "the venue does not answer" in first["message"] and first["exception"] is None
    assert all(record("again")["extra"].get("hidden") for _ in range(30))
    hidden = []
    for _ in range(17):  # the outage goes on: a failure every 10 s
        clock.value += 10
        hidden.append(record("again")["extra"].get("hidden"))
    assert all(hidden)
    clock.value += 10  # 180 s after the first line
    reminder = record("again")["message"]
    assert reminder.startswith("still: the venue does not answer") and "47 more like it" in reminder
    clock.value += 400  # quiet for longer than the interval: the next failure is a new episode
    assert not record("again")["message"].startswith("still")


def test_identical_warnings_are_collapsed_but_different_ones_are_not(console):
    for _ in range(20):
        logger.warning("could not look up dca-x-1-1-1: connection refused")
    logger.warning("could not look up dca-x-2-1-1: connection refused")
    lines = console().splitlines()
    assert len(lines) == 2
