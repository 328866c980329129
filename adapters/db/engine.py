"""Database engines for MariaDB/MySQL (PyMySQL) and SQLite, configured for many writer threads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool


def create_db_engine(url: str, *, echo: bool = False, pooled: bool = True, timeout_s: int | None = None) -> Engine:
    """An engine for `url`. SQLite gets WAL, foreign keys and `BEGIN IMMEDIATE` transactions (so two
    actors that both read then write wait for each other instead of failing with "database is
    locked"); its folder is created if missing. MariaDB gets connection liveness checks. `timeout_s`
    bounds every wait (connect, read, write, SQLite's busy wait) for callers that must never hang."""
    parsed = make_url(url)
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}  # unpooled: a fresh connection each time
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        busy_s = timeout_s or 30
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": busy_s}, **pool)
        event.listen(engine, "connect", lambda connection, _record: _sqlite_on_connect(connection, busy_s))
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if timeout_s is not None:
        pool["connect_args"] = {"connect_timeout": timeout_s, "read_timeout": timeout_s, "write_timeout": timeout_s}
    if not pooled:
        return create_engine(url, echo=echo, **pool)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_recycle=3600, pool_size=10, max_overflow=30,
                         **pool)


def _sqlite_on_connect(dbapi_connection: Any, busy_s: int) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event open the transaction
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_s * 1000}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
