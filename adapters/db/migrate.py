"""Applying the Alembic migrations from code: `supervisor.py db upgrade` and every start."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class ForeignSchema(Exception):
    """The database holds tables Alembic did not create. The message says whose and what to do."""


class SeedSchemaFound(ForeignSchema):
    """The seed bot's tables: `supervisor.py db upgrade` converts them (after a backup)."""


class UnknownSchema(ForeignSchema):
    """Tables of neither this bot nor the seed bot: never altered."""


def _config(buffer: io.StringIO | None = None) -> Config:
    config = Config(output_buffer=buffer)
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (idempotent). A database holding tables that Alembic did
    not create is refused (ForeignSchema), so Alembic never tries to create a table over them."""
    from adapters.db.seed_schema import SchemaKind, inspect_schema

    found = inspect_schema(engine)
    if found.kind is SchemaKind.SEED:
        raise SeedSchemaFound("the database has the seed bot's schema; back it up, then convert it with "
                              "`supervisor.py db upgrade` (see docs/migrating.md)")
    if found.kind is SchemaKind.UNKNOWN:
        raise UnknownSchema(f"the database holds tables of an unknown schema ({found.reason}); "
                            "nothing was changed. Point the setting at an empty database or one of this bot's")
    run_chain(engine, revision)


def run_chain(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def stamp(connection: Connection, revision: str) -> None:
    """Record `revision` as applied without running it, in the caller's transaction (the seed
    conversion built its shape)."""
    config = _config()
    config.attributes["connection"] = connection
    command.stamp(config, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revision_sql(dialect_url: str, revision: str) -> list[str]:
    """The statements the migrations up to `revision` run on a fresh database of the URL's dialect,
    rendered offline (no connection), without Alembic's own bookkeeping."""
    buffer = io.StringIO()
    config = _config(buffer)
    config.set_main_option("sqlalchemy.url", dialect_url)
    command.upgrade(config, revision, sql=True)
    statements = []
    for chunk in buffer.getvalue().split(";\n"):
        lines = [line for line in chunk.strip().splitlines() if not line.startswith("--")]
        statement = "\n".join(lines).strip()
        if statement and "alembic_version" not in statement:
            statements.append(statement)
    return statements
