"""`supervisor.py db upgrade|status`: the schema migrations (also applied automatically at start), and
the one-off conversion of the seed bot's database (only by `db upgrade`, never at start)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.common import _database_setting, open_database, settings_from
from config.settings import ConfigError, Settings

if TYPE_CHECKING:
    from adapters.db.database import Database
    from adapters.db.seed_schema import Inspection, Step


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "db", help="database schema: upgrade, status",
        description="Manage the database schema (Alembic migrations). A database created by the seed bot "
                    "(the cron/watchdog bot this one replaces) is recognised and converted in place by "
                    "`db upgrade`; see docs/migrating.md.")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade", help="apply every pending migration, or convert the seed bot's schema (safe to repeat)",
        description="Apply every pending migration. On the seed bot's database, first convert its tables in "
                    "place (every row kept), then stamp and migrate. Back the database up first.")
    upgrade.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")
    upgrade.set_defaults(handler=_upgrade)
    status = actions.add_parser(
        "status", help="show the database URL (password hidden), schema revision and whose books it keeps")
    status.set_defaults(handler=_status)


def _upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings, upgrade=False)
    from adapters.db import migrate
    from adapters.db.seed_schema import SchemaKind, SeedDataRefused, convert, inspect_schema, plan_conversion

    found = _known(inspect_schema(db.engine), settings)
    where = settings.redacted_database_url()
    if found.kind is SchemaKind.SEED:
        if args.dry_run:
            _print_plan(db, where, found, plan_conversion(db.engine, found), "would")
            return 0
        print(f"{where}: converting {found.describe()}; engine: {_atomicity(db)}")
        try:
            summary = convert(db.engine, found, db.now, progress=lambda line: print(f"  - {line}"))
        except SeedDataRefused as error:
            raise ConfigError(f"{_database_setting(settings)}: {error}") from None
        print("done (the steps above, then):")
        for line in summary.lines():
            print(f"  {line}")
        return 0
    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    if args.dry_run:
        todo = "nothing to do" if current == head else f"would migrate from {current or 'an empty database'} to {head}"
        print(f"{where}: schema at revision {current or 'none'}: {todo}")
        return 0
    db.upgrade()
    print(f"{where}: schema at revision {migrate.current_revision(db.engine)} (current)")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings, upgrade=False)
    from adapters.db import migrate
    from adapters.db.seed_schema import SchemaKind, inspect_schema, plan_conversion

    found = _known(inspect_schema(db.engine), settings)
    if found.kind is SchemaKind.SEED:
        _print_plan(db, settings.redacted_database_url(), found, plan_conversion(db.engine, found), "will")
        return 1
    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    state = "current" if current == head else f"behind: run `supervisor.py db upgrade` to reach {head}"
    print(f"{settings.redacted_database_url()}: schema at revision {current or 'none'} ({state})")
    if current is not None:
        from adapters.db.meta import MetaStore
        from app.books import recorded_owner
        from app.takeover import takeover_note

        meta = MetaStore(db)
        owner = recorded_owner(meta)
        print(f"books of: {owner.describe() if owner else 'nobody yet (the first `run` claims them)'}")
        if note := takeover_note(meta):
            print(note)
    return 0 if current == head else 1


def _known(found: Inspection, settings: Settings) -> Inspection:
    from adapters.db.seed_schema import SchemaKind

    if found.kind is SchemaKind.UNKNOWN:
        where = settings.redacted_database_url()
        raise ConfigError(f"{_database_setting(settings)}: {where} holds {found.describe()}. "
                          "It is neither this bot's nor the seed bot's and is left as it is; point the setting at "
                          "an empty database or one of this bot's")
    return found


def _print_plan(db: Database, where: str, found: Inspection, steps: list[Step], verb: str) -> None:
    from adapters.db.seed_schema import OPTIONAL_TABLES, REQUIRED_TABLES, row_counts

    seed_tables = [t for t in (*REQUIRED_TABLES, *OPTIONAL_TABLES) if t in found.tables]
    counts = ", ".join(f"{table} {count} rows" for table, count in row_counts(db.engine, seed_tables).items())
    print(f"{where}: {found.describe()} ({counts}), not converted yet")
    print(f"{_backup_hint(db)}. Then `supervisor.py db upgrade` {verb}, keeping every row:")
    for step in steps:
        print(f"  - {step.description}")


def _backup_hint(db: Database) -> str:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return f"Back the database up first: `sqlite3 {url.database} \".backup {url.database}.before-upgrade\"`"
    host = f" -h {url.host}" + (f" -P {url.port}" if url.port else "") if url.host else ""
    return (f"Back the database up first: `mysqldump --single-transaction{host} -u {url.username or 'USER'} -p "
            f"{url.database} > before-upgrade.sql`")


def _atomicity(db: Database) -> str:
    if db.engine.dialect.name == "sqlite":
        return "SQLite, one transaction (all or nothing)"
    return ("MariaDB/MySQL commits each table change on its own, so the conversion is not one transaction; "
            "every step checks what is already done, so running `db upgrade` again finishes an interrupted one")
