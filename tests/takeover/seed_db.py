"""A database as the seed bot's user has it: built from the seed's own DDL (tests/data/seed/), then
filled with rows the way the seed bot writes them (naive UTC timestamps, Alpaca's order ids)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

SEED_DDL = Path(__file__).resolve().parents[1] / "data" / "seed"


def seed_engine(url: str) -> Engine:
    """A plain engine (none of our session settings); MariaDB sessions in UTC, as the seed bot's rows are."""
    engine = create_engine(url)
    if engine.dialect.name != "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", lambda conn, _: conn.cursor().execute("SET time_zone = '+00:00'"))
    return engine


def statements(dialect: str) -> list[str]:
    name = "seed_schema_sqlite.sql" if dialect == "sqlite" else "seed_schema_mariadb.sql"
    lines = [line for line in (SEED_DDL / name).read_text().splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def create_seed_schema(url: str, *, with_bars: bool = True, drop_later_columns: bool = False) -> None:
    """The seed's CREATE TABLE statements, as its README has the user run them. `drop_later_columns`
    gives a database created before the seed bot added its trailing take-profit and cooldown columns."""
    engine = seed_engine(url)
    with engine.begin() as connection:
        for statement in statements(engine.dialect.name):
            if with_bars or "historical_1min_bars" not in statement:
                connection.exec_driver_sql(statement)
        if drop_later_columns:
            for table, column in (("dca_assets", "ttp_deviation_percent"), ("dca_assets", "cooldown_period"),
                                  ("dca_cycles", "highest_trailing_price"), ("dca_cycles", "sell_price")):
                connection.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    engine.dispose()


def insert(url: str, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    engine = seed_engine(url)
    with engine.begin() as connection:
        for row in rows:
            names = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({values})"), dict(row))
    engine.dispose()


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in key order: to prove a run changed nothing."""
    from sqlalchemy import inspect

    from adapters.db.seed_schema import column_names

    engine = seed_engine(url)
    inspector = inspect(engine)
    found = {}
    with engine.connect() as connection:
        for table in sorted(inspector.get_table_names()):
            columns = sorted(column_names(engine, table))
            quoted = ", ".join(engine.dialect.identifier_preparer.quote(c) for c in columns)
            rows = connection.execute(text(f"SELECT {quoted} FROM {table}"))
            found[table] = sorted(tuple(str(v) for v in row) for row in rows)
            found[f"{table} columns"] = [tuple(columns)]
    engine.dispose()
    return found
