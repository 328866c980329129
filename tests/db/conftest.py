"""What the migration tests share: an empty database on each engine, the row counts they keep, a
table's columns and a downgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect, text

from adapters.db import migrate
from adapters.db.database import Database
from tests.conftest import MARIADB_SERVER, scratch_mariadb_database


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database (no tables) on SQLite or on a scratch MariaDB database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'books.sqlite3'}"
        return
    request.getfixturevalue("mariadb_url")
    with scratch_mariadb_database("dca_mig") as name:
        yield f"{MARIADB_SERVER}/{name}?charset=utf8mb4"


def row_counts(db: Database, tables: tuple[str, ...]) -> tuple[int, ...]:
    """How many rows each of `tables` holds, in that order."""
    with db.engine.begin() as connection:
        return tuple(int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()) for table in tables)


def columns(db: Database, table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def downgrade(db: Database, revision: str) -> None:
    config = migrate._config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
