"""Database engines for MariaDB/MySQL (PyMySQL) and SQLite, configured for many writer threads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool


def create_db_engine(url: str, *, echo: bool = False, pooled: bool = True) -> Engine:
    """An engine for `url`. SQLite gets WAL, foreign keys and `BEGIN IMMEDIATE` transactions (so two
    actors that both read then write wait for each other instead of failing with "database is
    locked"); its folder is created if missing. MariaDB gets connection liveness checks."""
    parsed = make_url(url)
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}  # unpooled: a fresh connection each time
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, **pool)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if not pooled:
        return create_engine(url, echo=echo, **pool)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_recycle=3600, pool_size=10, max_overflow=30)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event open the transaction
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
