"""`supervisor.py db upgrade|status`: the schema migrations (also applied automatically at start)."""

from __future__ import annotations

import argparse

from cli.common import open_database, settings_from


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("db", help="database schema: upgrade, status",
                                 description="Manage the database schema (Alembic migrations).")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="apply every pending migration (safe to repeat)")
    upgrade.set_defaults(handler=_upgrade)
    status = actions.add_parser(
        "status", help="show the database URL (password hidden), schema revision and whose books it keeps")
    status.set_defaults(handler=_status)


def _upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings)
    from adapters.db import migrate

    print(f"{settings.redacted_database_url()}: schema at revision {migrate.current_revision(db.engine)} (current)")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    db = open_database(settings, upgrade=False)
    from adapters.db import migrate

    current, head = migrate.current_revision(db.engine), migrate.head_revision()
    state = "current" if current == head else f"behind: run `supervisor.py db upgrade` to reach {head}"
    print(f"{settings.redacted_database_url()}: schema at revision {current or 'none'} ({state})")
    if current is not None:
        from adapters.db.meta import MetaStore
        from app.books import recorded_owner

        owner = recorded_owner(MetaStore(db))
        print(f"books of: {owner.describe() if owner else 'nobody yet (the first `run` claims them)'}")
    return 0 if current == head else 1
