"""Each end-to-end test gets an empty database of its own, on SQLite or on the real MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import MARIADB_SERVER, scratch_mariadb_database


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    request.getfixturevalue("mariadb_url")  # fails (or skips when switched off) like every MariaDB test
    with scratch_mariadb_database("dca_e2e") as name:
        yield f"{MARIADB_SERVER}/{name}?charset=utf8mb4"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"
