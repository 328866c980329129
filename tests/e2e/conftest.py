"""Each end-to-end test gets an empty database of its own, on SQLite or on the real MariaDB."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.conftest import MARIADB_SERVER, _mariadb_admin


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    request.getfixturevalue("mariadb_url")  # fails (or skips when switched off) like every MariaDB test
    name = f"dca_e2e_{secrets.token_hex(4)}"
    admin = _mariadb_admin()
    admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"{MARIADB_SERVER}/{name}?charset=utf8mb4"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'bot.sqlite3'}"
