"""Shared fixtures: databases on both engines, a controllable clock.

Persistence tests take the `database` fixture and run twice: on a SQLite file and on the real
MariaDB at 127.0.0.1:3306 (`DCA_TEST_MARIADB_URL` overrides the server). Each test process gets
its own MariaDB database, created and migrated once, emptied before every test and dropped at the
end. MariaDB being down is a failure, not a skip: set `DCA_TEST_MARIADB=skip` to opt out
explicitly (the skip is then reported as such).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from loguru import logger
from sqlalchemy import text

from adapters.db.database import Database
from adapters.db.models import Base

MARIADB_SERVER = os.environ.get("DCA_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")

# Tests keep loguru quiet (warnings and worse); the logging tests configure their own sinks.
logger.remove()
logger.add(sys.stderr, level=os.environ.get("DCA_TEST_LOG_LEVEL", "WARNING"))


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.value = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.value

    def advance(self, seconds: float) -> datetime:
        self.value += timedelta(seconds=seconds)
        return self.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _mariadb_admin():  # type: ignore[no-untyped-def]
    import pymysql
    from sqlalchemy.engine import make_url

    url = make_url(MARIADB_SERVER)
    return pymysql.connect(host=url.host, port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", autocommit=True)


@contextmanager
def scratch_mariadb_database(prefix: str) -> Iterator[str]:
    """A new, empty MariaDB database named `prefix_<random>`, dropped afterwards; yields its name."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = _mariadb_admin()
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield name
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    if os.environ.get("DCA_TEST_MARIADB") == "skip":
        pytest.skip("MariaDB tests switched off with DCA_TEST_MARIADB=skip")
    name = f"dca_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = _mariadb_admin()
    except Exception as error:  # any connection failure is reported the same way
        pytest.fail(f"MariaDB is not reachable at {MARIADB_SERVER} ({error}); start it with "
                    "`scripts/ensure-test-services` or set DCA_TEST_MARIADB=skip", pytrace=False)
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"{MARIADB_SERVER}/{name}?charset=utf8mb4"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(scope="session")
def _sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'dca.sqlite3'}"


_migrated: dict[str, Database] = {}


def _migrated_database(url: str) -> Database:
    if url not in _migrated:
        db = Database(url)
        db.upgrade()
        _migrated[url] = db
    return _migrated[url]


def _empty(db: Database) -> None:
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Database]:
    """A migrated, empty database on each engine, stamping rows with the test's clock."""
    url = request.getfixturevalue("mariadb_url" if request.param == "mariadb" else "_sqlite_url")
    db = _migrated_database(url)
    _empty(db)
    db.now = clock.now
    yield db


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "dca.sqlite3"


# --- sharing the suite between xdist workers (tests/xdist_scheduling.py) -------------------------------

@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: two workers per core, at most eight. The slow tests (actor trees, real processes,
    Prometheus) spend most of their time waiting for a simulated venue, a lease or a scrape (the e2e
    directory keeps a core busy ~15% of its wall time), so one worker per core leaves the cores idle;
    eight bounds the MariaDB databases and connections the workers hold at once."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook honours it
    return max(2, min(2 * len(os.sched_getaffinity(0)), 8))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadgroup":
        return None  # another --dist on the command line: xdist's own
    from tests.xdist_scheduling import SharedSetupScheduling

    return SharedSetupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and config.getvalue("dist") == "loadgroup":
        from tests.xdist_scheduling import slowest_first

        slowest_first(items)  # every worker collects the same order, as xdist requires
