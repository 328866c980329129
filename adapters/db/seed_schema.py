"""The seed bot's schema: recognising it exactly, and converting it in place to our revision 0001.

People switching over run a MySQL/MariaDB database created from the seed specification's `CREATE
TABLE` statements (shared/seeds/000_*.txt). `inspect_schema` tells such a database apart from an
empty one, one of ours (it has `alembic_version`) and anything else: only the seed's four tables (the
bars table is optional, as are the columns the seed bot added after its first release) with exactly
the seed's columns count, plus what a half-finished conversion leaves (our columns and two tables).
Anything else is refused and never altered.

`plan_conversion` lists what `convert` does, step by step; `convert` then:

* MariaDB/MySQL: alters each table in place (one `ALTER TABLE` per table: add our columns, turn the
  `TIMESTAMP`s into UTC `DATETIME(6)`, give `dca_orders` its surrogate key `pk` with the exchange's
  `id` as a nullable UNIQUE column). MariaDB commits every DDL statement on its own, so the steps are
  computed from what the database looks like now: a rerun after a failure does only what is left.
  `created_at`/`updated_at` keep a server default (`UTC_TIMESTAMP(6)`), so the seed bot's scripts
  could still insert rows.
* SQLite: rebuilds the tables in revision 0001's shape inside one transaction (SQLite cannot change a
  column's type or a primary key in place; its DDL is transactional, so it is all or nothing).

Both then fill in, in one transaction, what our cycles keep and the seed's did not (cost, bought and
sold quantities, realized profit, the end of a cooldown), record the open cycles for the takeover at
the first `run`, and hand over to Alembic (stamp 0001, upgrade to head). Every row keeps its values.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from adapters.db import migrate
from adapters.db.models import MONEY, PRICE, QTY, Base
from adapters.db.types import ExactDecimal, UtcDateTime

SEED_COLUMNS: dict[str, tuple[str, ...]] = {
    "dca_assets": (
        "id", "asset_symbol", "is_enabled", "base_order_amount", "safety_order_amount", "max_safety_orders",
        "safety_order_deviation", "take_profit_percent", "ttp_enabled", "ttp_deviation_percent", "last_sell_price",
        "buy_order_price_deviation_percent", "cooldown_period", "created_at", "updated_at"),
    "dca_cycles": (
        "id", "asset_id", "status", "quantity", "average_purchase_price", "safety_orders", "latest_order_id",
        "latest_order_created_at", "last_order_fill_price", "highest_trailing_price", "completed_at", "sell_price",
        "created_at", "updated_at"),
    "dca_orders": (
        "id", "client_order_id", "asset_id", "symbol", "asset_class", "order_class", "order_type", "type", "side",
        "position_intent", "qty", "notional", "filled_qty", "filled_avg_price", "limit_price", "stop_price",
        "trail_price", "trail_percent", "ratio_qty", "hwm", "status", "time_in_force", "extended_hours",
        "created_at", "updated_at", "submitted_at", "filled_at", "canceled_at", "expired_at", "expires_at",
        "failed_at", "replaced_at", "replaced_by", "replaces", "legs", "fetched_at", "updated_by_fetch_at"),
    "historical_1min_bars": (
        "id", "asset_id", "timestamp", "open", "high", "low", "close", "volume", "trade_count", "vwap",
        "created_at", "updated_at"),
}
# Added by the seed bot after its first release (trailing take-profit, cooldown, sell prices): an
# older database may lack them; the conversion adds them with their defaults.
LATER_COLUMNS: dict[str, frozenset[str]] = {
    "dca_assets": frozenset({"ttp_enabled", "ttp_deviation_percent", "last_sell_price",
                             "buy_order_price_deviation_percent", "cooldown_period"}),
    "dca_cycles": frozenset({"highest_trailing_price", "completed_at", "sell_price"}),
}
REQUIRED_TABLES = ("dca_assets", "dca_cycles", "dca_orders")
OPTIONAL_TABLES = ("historical_1min_bars",)
ADDED_TABLES = ("dca_meta", "dca_cycle_events")  # revision 0001's tables the seed lacks
# columns that keep a server default, so the seed bot's own INSERTs still work after the conversion
SERVER_STAMPED: dict[str, tuple[str, ...]] = {
    "dca_assets": ("created_at", "updated_at"), "dca_cycles": ("created_at", "updated_at"),
    "dca_orders": ("created_at", "fetched_at", "updated_by_fetch_at"),
    "historical_1min_bars": ("created_at", "updated_at"),
}
TERMINAL = ("complete", "error")
SEED_STATUSES = ("watching", "buying", "selling", "trailing", "cooldown", *TERMINAL)
TAKEOVER = "takeover"  # dca_meta key: the old bot's open cycles, waiting for (then taken over by) `run`
REVISION = "0001"  # the shape the conversion builds; Alembic carries on from there


class SchemaKind(enum.Enum):
    EMPTY = "empty"
    OURS = "ours"  # Alembic keeps it (alembic_version exists)
    SEED = "seed"  # the seed bot's tables (perhaps half converted by an interrupted upgrade)
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Inspection:
    kind: SchemaKind
    reason: str = ""  # UNKNOWN: what does not fit
    tables: dict[str, frozenset[str]] = field(default_factory=dict)  # SEED: the columns of each table
    partly_converted: bool = False

    def describe(self) -> str:
        if self.kind is SchemaKind.SEED:
            state = " (partly converted by an interrupted `db upgrade`)" if self.partly_converted else ""
            return f"the seed bot's schema{state}"
        return {SchemaKind.EMPTY: "empty", SchemaKind.OURS: "this bot's schema"}.get(
            self.kind, f"an unknown schema: {self.reason}")


class SeedDataRefused(Exception):
    """The seed tables hold rows the conversion cannot keep as they are; nothing was changed."""


@dataclass(frozen=True)
class Step:
    description: str
    statements: tuple[str, ...] = ()


@dataclass
class Summary:
    rows_before: dict[str, int]
    rows_after: dict[str, int] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    open_cycles: list[int] = field(default_factory=list)
    revision: str | None = None

    def lines(self) -> list[str]:
        kept = ", ".join(f"{table} {self.rows_after.get(table, '?')}/{count}"
                         for table, count in self.rows_before.items())
        return [*self.done, f"rows kept (after/before): {kept}",
                f"open cycles to take over at the first `run`: {_ids(self.open_cycles)}",
                f"schema now at revision {self.revision}"]


# --- recognising ---------------------------------------------------------------------------------


def inspect_schema(engine: Engine) -> Inspection:
    names = set(inspect(engine).get_table_names())
    if not names:
        return Inspection(SchemaKind.EMPTY)
    if "alembic_version" in names:
        return Inspection(SchemaKind.OURS)
    ours = revision_columns()
    missing = [t for t in REQUIRED_TABLES if t not in names]
    strangers = sorted(names - set(SEED_COLUMNS) - set(ADDED_TABLES))
    if missing or strangers:
        what = [f"no table {', '.join(missing)}"] if missing else []
        what += [f"tables {', '.join(strangers)} belong to neither bot"] if strangers else []
        return Inspection(SchemaKind.UNKNOWN, "; ".join(what))
    tables: dict[str, frozenset[str]] = {}
    partly = False
    for table in [t for t in (*REQUIRED_TABLES, *OPTIONAL_TABLES, *ADDED_TABLES) if t in names]:
        columns = column_names(engine, table)
        seed = set(SEED_COLUMNS.get(table, ()))
        allowed = seed | ours[table]
        required = (seed - LATER_COLUMNS.get(table, frozenset())) if seed else ours[table]
        if columns - allowed:
            return Inspection(SchemaKind.UNKNOWN, f"{table} has columns the seed bot never had: "
                                                  f"{', '.join(sorted(columns - allowed))}")
        if required - columns:
            return Inspection(SchemaKind.UNKNOWN, f"{table} lacks the seed bot's columns "
                                                  f"{', '.join(sorted(required - columns))}")
        partly = partly or table in ADDED_TABLES or bool(columns - seed)
        tables[table] = columns
    return Inspection(SchemaKind.SEED, tables=tables, partly_converted=partly)


def column_names(engine: Engine, table: str) -> frozenset[str]:
    """A table's columns (without reflecting their types: the seed's `int(11)` upsets SQLite's reflection)."""
    with engine.connect() as connection:
        return frozenset(connection.execute(text(f"SELECT * FROM {table} WHERE 1 = 0")).keys())


def row_counts(engine: Engine, tables: Iterable[str]) -> dict[str, int]:
    with engine.connect() as connection:
        return {t: connection.execute(select(func.count()).select_from(text(t))).scalar_one() for t in tables}


# --- revision 0001, as Alembic would create it -----------------------------------------------------


@dataclass(frozen=True)
class TableDDL:
    create: str
    columns: dict[str, str]  # name -> definition, in order
    indexes: dict[str, str]  # index name -> CREATE INDEX statement
    foreign_keys: tuple[tuple[str, str], ...]  # (column, "REFERENCES t (id) ON DELETE ...")


_COLUMN = re.compile(r"^\s*[`\"]?(\w+)[`\"]? (.+?),?\s*$")
_INDEX = re.compile(r"^CREATE (?:UNIQUE )?INDEX (\w+) ON (\w+)")
_FOREIGN_KEY = re.compile(r"FOREIGN KEY\s*\((\w+)\)\s*(REFERENCES .+?)(?:,\s*)?$")
_NOT_A_COLUMN = ("PRIMARY KEY", "FOREIGN KEY", "CONSTRAINT", "UNIQUE", "CHECK")


@cache
def revision_ddl(dialect: str) -> dict[str, TableDDL]:
    """Revision 0001's tables for `dialect` ("mysql" or "sqlite"), from Alembic's offline rendering."""
    url = "sqlite://" if dialect == "sqlite" else "mysql+pymysql://offline@localhost/offline"
    creates: dict[str, str] = {}
    indexes: dict[str, dict[str, str]] = {}
    for statement in migrate.revision_sql(url, REVISION):
        if statement.startswith("CREATE TABLE"):
            creates[statement.split()[2]] = statement
        elif match := _INDEX.match(statement):
            indexes.setdefault(match[2], {})[match[1]] = statement
    return {name: _table_ddl(create, indexes.get(name, {})) for name, create in creates.items()}


def _table_ddl(create: str, indexes: dict[str, str]) -> TableDDL:
    body = create[create.index("(") + 1:create.rindex(")")].strip().splitlines()
    columns: dict[str, str] = {}
    keys = []
    for line in (raw.strip() for raw in body):
        if line.startswith("FOREIGN KEY"):
            match = _FOREIGN_KEY.search(line)
            assert match is not None, line
            keys.append((match[1], match[2]))
        elif not line.startswith(_NOT_A_COLUMN) and (match := _COLUMN.match(line)):
            columns[match[1]] = match[2]
    return TableDDL(create, columns, indexes, tuple(keys))


def revision_columns() -> dict[str, frozenset[str]]:
    return {name: frozenset(ddl.columns) for name, ddl in revision_ddl("sqlite").items()}


# --- planning --------------------------------------------------------------------------------------


def plan_conversion(engine: Engine, found: Inspection) -> list[Step]:
    """What `convert` will do to this database, in order (nothing is changed)."""
    steps = _table_steps(engine, found)
    steps.append(Step("fill in what our cycles keep and the seed's did not: cost = quantity × average price and "
                      "the bought quantity of every cycle holding coin; the sold quantity, proceeds and realized "
                      "profit (quantity × (sell price − average price)) of completed cycles; when each cooldown "
                      "ends (its cycle's completion + the asset's cooldown_period)"))
    steps.append(Step("record the old bot's open cycles: the first `supervisor.py run` takes them over (their live "
                      "orders are looked up on the exchange by the seed's latest_order_id)"))
    steps.append(Step(f"stamp Alembic revision {REVISION}, then apply the migrations up to "
                      f"{migrate.head_revision()}"))
    return steps


def _table_steps(engine: Engine, found: Inspection) -> list[Step]:
    if engine.dialect.name == "sqlite":
        return _sqlite_steps(found)
    with engine.connect() as connection:
        return _mysql_steps(_MySqlState.read(connection), revision_ddl("mysql"))


def _sqlite_steps(found: Inspection) -> list[Step]:
    ours = revision_ddl("sqlite")
    steps = []
    rebuilt = _sqlite_rebuilt(found)
    for table in (*REQUIRED_TABLES, *OPTIONAL_TABLES):
        if table in rebuilt:
            added = [c for c in ours[table].columns if c not in found.tables[table]]
            also = f"adds {', '.join(added)}; " if added else ""
            steps.append(Step(f"rebuild {table} in revision {REVISION}'s shape, copying every row ({also}"
                              "exact decimals; timestamps as UTC)"))
    for table in (*OPTIONAL_TABLES, *ADDED_TABLES):
        if table not in found.tables:
            steps.append(Step(f"create {table} (revision {REVISION})"))
    return steps


def _sqlite_rebuilt(found: Inspection) -> list[str]:
    """The seed tables to rebuild: all of them (SQLite stores the seed's decimals as floats, and a
    table left out would lose its rows to the cascade when its parent is rebuilt), unless the one
    transaction that rebuilds them has already committed (it also creates dca_meta)."""
    if "dca_meta" in found.tables:
        return []
    return [t for t in (*REQUIRED_TABLES, *OPTIONAL_TABLES) if t in found.tables]


@dataclass(frozen=True)
class _Column:
    data_type: str
    precision: int | None
    length: int | None
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class _MySqlState:
    columns: dict[str, dict[str, _Column]]
    indexes: dict[str, dict[str, bool]]  # table -> index name -> unique
    foreign_keys: set[tuple[str, str]]  # (table, column)

    @classmethod
    def read(cls, connection: Connection) -> _MySqlState:
        columns: dict[str, dict[str, _Column]] = {}
        for row in connection.execute(text(
                "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, "
                "IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()")):
            columns.setdefault(row[0], {})[row[1]] = _Column(str(row[2]).lower(), row[3], row[4], row[5] == "YES",
                                                             row[6])
        indexes: dict[str, dict[str, bool]] = {}
        for row in connection.execute(text(
                "SELECT TABLE_NAME, INDEX_NAME, MIN(NON_UNIQUE) FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = DATABASE() GROUP BY TABLE_NAME, INDEX_NAME")):
            indexes.setdefault(row[0], {})[row[1]] = int(row[2]) == 0
        keys = {(row[0], row[1]) for row in connection.execute(text(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
            "WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL"))}
        return cls(columns, indexes, keys)


def _mysql_steps(state: _MySqlState, ours: dict[str, TableDDL]) -> list[Step]:
    steps = []
    for table in (*REQUIRED_TABLES, *OPTIONAL_TABLES, *ADDED_TABLES):
        target = ours[table]
        if table not in state.columns:
            steps.append(Step(f"create {table} (revision {REVISION})", _create(table, target, "mysql")))
            continue
        step = _mysql_alter(table, state, target)
        if step is not None:
            steps.append(step)
    for table in [t for t in (*REQUIRED_TABLES, *OPTIONAL_TABLES, *ADDED_TABLES) if t in state.columns]:
        for column, reference in ours[table].foreign_keys:  # (a table created above has its keys)
            if (table, column) not in state.foreign_keys:
                steps.append(Step(f"add the foreign key {table}.{column} {reference}",
                                  (f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) {reference}",)))
    return steps


def _mysql_alter(table: str, state: _MySqlState, target: TableDDL) -> Step | None:
    current, indexes = state.columns[table], state.indexes.get(table, {})
    clauses: list[str] = []
    said: list[str] = []
    before: list[str] = []
    if table == "dca_orders" and "pk" not in current:
        clauses += ["DROP PRIMARY KEY", f"ADD COLUMN pk {target.columns['pk']} PRIMARY KEY FIRST"]
        said.append("key it by a surrogate `pk` (the seed keyed it by Alpaca's order id, which becomes a nullable "
                    "UNIQUE column: our rows are written before the exchange assigns one)")
    added = [c for c in target.columns if c not in current and c != "pk"]
    clauses += [f"ADD COLUMN `{c}` {_mysql_definition(table, c, target)}" for c in added]
    if added:
        said.append(f"add {', '.join(added)}")
    changed = [c for c in target.columns if c in current and _needs_modify(table, c, current[c])]
    clauses += [f"MODIFY `{c}` {_mysql_definition(table, c, target)}" for c in changed]
    stamps = [c for c in changed if "DATETIME" in target.columns[c]]
    if stamps:
        said.append(f"turn {', '.join(stamps)} into DATETIME(6), their values taken as UTC")
        before += [f"UPDATE {table} SET `{c}` = {_fallback(table)} WHERE `{c}` IS NULL"
                   for c in stamps if "NOT NULL" in target.columns[c] and current[c].nullable]
    if others := [c for c in changed if c not in stamps]:
        said.append(f"widen or relax {', '.join(others)}")
    if table == "dca_orders":
        if "uq_order_id" not in indexes:
            clauses.append("ADD UNIQUE KEY uq_order_id (id)")
        if not indexes.get("idx_client_order_id", False):
            clauses += (["DROP INDEX idx_client_order_id"] if "idx_client_order_id" in indexes else [])
            clauses.append("ADD UNIQUE KEY idx_client_order_id (client_order_id)")
            said.append("make client_order_id UNIQUE")
    new_indexes = [name for name in target.indexes if name not in indexes]
    clauses += [f"ADD INDEX {name} {statement[statement.index('('):]}"
                for name, statement in target.indexes.items() if name in new_indexes]
    if new_indexes:
        said.append(f"add the index {', '.join(new_indexes)}")
    after = []
    if table == "dca_orders":  # the seed's '0000-00-00' defaults meant "none"
        after = [f"UPDATE dca_orders SET `{c}` = NULL WHERE `{c}` = '0000-00-00 00:00:00'"
                 for c in ("updated_at", "submitted_at")]
    if not clauses:
        return None
    return Step(f"{table}: {'; '.join(said)}", (*before, f"ALTER TABLE {table} " + ", ".join(clauses), *after))


def _needs_modify(table: str, column: str, current: _Column) -> bool:
    if current.data_type in ("timestamp", "datetime"):
        stamped = column in SERVER_STAMPED.get(table, ())
        return current.data_type != "datetime" or current.precision != 6 or (stamped and current.default is None) \
            or (not stamped and current.default is not None and current.default.upper() != "NULL")
    if table == "dca_orders":
        return ((column == "client_order_id" and current.length != 128) or (column == "id" and not current.nullable)
                or (column == "order_class" and current.default is None)
                or (column == "legs" and current.data_type != "text"))  # the seed's JSON alias is LONGTEXT
    return False


def _mysql_definition(table: str, column: str, target: TableDDL) -> str:
    definition = target.columns[column]
    if column in SERVER_STAMPED.get(table, ()):
        definition += _NOW["mysql"]
    return definition


_NOW = {"mysql": " DEFAULT (UTC_TIMESTAMP(6))", "sqlite": " DEFAULT (datetime('now'))"}  # both UTC


def _create(table: str, target: TableDDL, dialect: str) -> tuple[str, ...]:
    """Revision 0001's CREATE TABLE (and indexes), with the server defaults the seed's INSERTs rely on."""
    create = target.create
    for column in SERVER_STAMPED.get(table, ()):
        definition = target.columns[column]
        create = create.replace(f"{column} {definition}", f"{column} {definition}{_NOW[dialect]}", 1)
    return (create, *target.indexes.values())


def _fallback(table: str) -> str:
    return "`timestamp`" if table == "historical_1min_bars" else "UTC_TIMESTAMP(6)"


# --- converting --------------------------------------------------------------------------------------


def convert(engine: Engine, found: Inspection, now: Callable[[], datetime],
            progress: Callable[[str], None] = print) -> Summary:
    """Convert a database `inspect_schema` found to be the seed's; returns what was done."""
    present = [t for t in (*REQUIRED_TABLES, *OPTIONAL_TABLES) if t in found.tables]
    summary = Summary(row_counts(engine, present))
    refusals = check_rows(engine, bars="historical_1min_bars" in found.tables)
    if refusals:
        raise SeedDataRefused("; ".join(refusals) + ". Nothing was changed; fix these rows and run it again")
    for step in _table_steps(engine, found):
        progress(step.description)
    if engine.dialect.name != "sqlite":
        _convert_mysql(engine)  # DDL: committed step by step, whatever we do
    with engine.begin() as connection:  # SQLite: the rebuild too, so the conversion is all or nothing
        if engine.dialect.name == "sqlite":
            _convert_sqlite(connection, found, now)
        summary.done += _fill_in(connection)
        summary.open_cycles = _record_open_cycles(connection, now())
        migrate.stamp(connection, REVISION)
    migrate.run_chain(engine)
    summary.revision = migrate.current_revision(engine)
    summary.rows_after = row_counts(engine, present)
    return summary


def check_rows(engine: Engine, bars: bool = True) -> list[str]:
    """Rows the conversion could not keep: cycles (or bars) of no asset (the foreign keys), two orders
    with one client_order_id (it becomes UNIQUE), statuses our cycles do not know."""
    problems = []
    with engine.connect() as connection:
        for table in ("dca_cycles", "historical_1min_bars") if bars else ("dca_cycles",):
            orphans = connection.execute(text(f"SELECT c.id FROM {table} c LEFT JOIN dca_assets a "
                                              "ON a.id = c.asset_id WHERE a.id IS NULL ORDER BY c.id")).scalars()
            if ids := list(orphans):
                problems.append(f"{table} {_ids(ids)} belong to no row of dca_assets")
        twice = connection.execute(text(
            "SELECT client_order_id FROM dca_orders GROUP BY client_order_id HAVING COUNT(*) > 1")).scalars()
        if ids := list(twice):
            problems.append(f"dca_orders holds client_order_id {', '.join(ids)} more than once")
        if strange := _unknown_statuses(connection):
            problems.append(f"dca_cycles has statuses the seed bot never wrote: {', '.join(strange)}")
    return problems


def _unknown_statuses(connection: Connection) -> list[str]:
    statuses = connection.execute(text("SELECT DISTINCT status FROM dca_cycles")).scalars()
    return sorted(s for s in statuses if s not in SEED_STATUSES)


def _convert_mysql(engine: Engine) -> None:
    """Each table's ALTER, on a connection of its own. Its session has the server's own time zone, as
    the seed bot's sessions had (it never set one): a TIMESTAMP then becomes the very wall-clock value
    the seed bot read and wrote, which it took as UTC (its caretakers treat a naive time as UTC), and
    so do we. (The SQLite rendition stores the text as written, which comes to the same.)"""
    own = create_engine(engine.url, poolclass=NullPool)
    try:
        with own.connect() as connection:
            connection.exec_driver_sql("SET SESSION time_zone = @@global.time_zone")
            connection.exec_driver_sql("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")  # the seed's zero dates
            for step in _mysql_steps(_MySqlState.read(connection), revision_ddl("mysql")):
                for statement in step.statements:
                    connection.exec_driver_sql(statement)
                connection.commit()
    finally:
        own.dispose()


def _convert_sqlite(connection: Connection, found: Inspection, now: Callable[[], datetime]) -> None:
    """The seed tables rebuilt in revision 0001's shape, in the caller's transaction."""
    ours = revision_ddl("sqlite")
    rebuild = _sqlite_rebuilt(found)
    for table in rebuild:
        connection.exec_driver_sql(f"ALTER TABLE {table} RENAME TO _seed_{table}")
        for index in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (f"_seed_{table}",)).scalars().all():
            connection.exec_driver_sql(f"DROP INDEX {index}")
    for table in (*REQUIRED_TABLES, *OPTIONAL_TABLES, *ADDED_TABLES):
        if table in rebuild or table not in found.tables:
            for statement in _create(table, ours[table], "sqlite"):
                connection.exec_driver_sql(statement)
    for table in rebuild:
        _copy_rows(connection, table, list(ours[table].columns), now())
    for table in reversed(rebuild):  # children first: the foreign keys stay satisfied
        connection.exec_driver_sql(f"DROP TABLE _seed_{table}")


def _copy_rows(connection: Connection, table: str, target_columns: list[str], at: datetime) -> None:
    model = Base.metadata.tables[table]
    rows = connection.exec_driver_sql(f"SELECT * FROM _seed_{table}").mappings().all()
    if not rows:
        return
    shared = [c for c in target_columns if c in rows[0]]
    typed = Table(table, MetaData(), *(Column(c, model.c[c].type) for c in shared))
    fallback = {c for c in shared if not model.c[c].nullable}
    values = [{c: _value(model.c[c].type, row[c], c in fallback, at) for c in shared} for row in rows]
    connection.execute(typed.insert(), values)


def _value(kind: Any, raw: Any, required: bool, at: datetime) -> Any:
    if isinstance(kind, UtcDateTime):
        moment = _moment(raw)
        return at if moment is None and required else moment
    if raw is None:
        return None
    if isinstance(kind, ExactDecimal):
        return Decimal(str(raw))
    if isinstance(kind, Boolean):
        return bool(int(raw))
    return int(raw) if isinstance(kind, Integer) else raw


def _moment(raw: Any) -> datetime | None:
    """A seed timestamp (naive, meaning UTC); the seed's '0000-00-00' means none."""
    if raw is None or (isinstance(raw, str) and raw.startswith("0000-00-00")):
        return None
    moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- filling in ----------------------------------------------------------------------------------------

_meta = MetaData()
_cycles = Table(
    "dca_cycles", _meta, Column("id", Integer, primary_key=True), Column("asset_id", Integer),
    Column("status", String(20)), Column("quantity", QTY), Column("average_purchase_price", PRICE),
    Column("sell_price", PRICE), Column("completed_at", UtcDateTime), Column("cost", MONEY),
    Column("bought_qty", QTY), Column("sold_qty", QTY), Column("sell_notional", MONEY), Column("realized_pnl", MONEY),
    Column("cooldown_until", UtcDateTime), Column("latest_order_id", String(255)),
)
_assets = Table("dca_assets", _meta, Column("id", Integer, primary_key=True), Column("cooldown_period", Integer))
_meta_rows = Table("dca_meta", _meta, Column("key", String(64), primary_key=True), Column("value", String(255)))


def _fill_in(connection: Connection) -> list[str]:
    """The accumulators our cycles keep, from what the seed kept. Only rows not filled in yet are
    touched, so a rerun changes nothing."""
    cooldowns = {row.id: row.cooldown_period for row in connection.execute(select(_assets))}
    rows = connection.execute(select(_cycles).order_by(_cycles.c.id)).all()
    costed = sold = timed = 0
    last_end: dict[int, datetime] = {}
    for row in rows:
        changes: dict[str, Any] = {}
        if row.quantity > 0 and row.bought_qty == 0 and row.cost == 0:
            changes |= {"cost": row.quantity * row.average_purchase_price, "bought_qty": row.quantity}
            costed += 1
            if row.status == "complete" and row.sell_price is not None and row.sold_qty == 0:
                proceeds = row.quantity * row.sell_price
                changes |= {"sold_qty": row.quantity, "sell_notional": proceeds,
                            "realized_pnl": proceeds - changes["cost"]}
                sold += 1
        if row.status == "cooldown" and row.cooldown_until is None and row.asset_id in last_end:
            changes["cooldown_until"] = last_end[row.asset_id] + timedelta(seconds=cooldowns.get(row.asset_id, 0))
            timed += 1
        if row.status in TERMINAL and row.completed_at is not None:
            last_end[row.asset_id] = row.completed_at
        if changes:
            connection.execute(_cycles.update().where(_cycles.c.id == row.id).values(**changes))
    return [f"cycles given their cost and bought quantity: {costed}; completed cycles given their proceeds and "
            f"realized profit: {sold}; cooldowns given their end: {timed}"]


def _record_open_cycles(connection: Connection, at: datetime) -> list[int]:
    import json

    stored = connection.execute(select(_meta_rows.c.value).where(_meta_rows.c.key == TAKEOVER)).scalar()
    if stored is not None:
        return list(json.loads(stored).get("pending", []))
    open_ids = list(connection.execute(
        select(_cycles.c.id).where(_cycles.c.status.not_in(TERMINAL)).order_by(_cycles.c.id)).scalars())
    value = json.dumps({"pending": open_ids, "converted_at": at.isoformat()})
    connection.execute(_meta_rows.insert().values(key=TAKEOVER, value=value))
    return open_ids


def _ids(ids: Iterable[int]) -> str:
    listed = ", ".join(str(i) for i in ids)
    return listed or "none"
