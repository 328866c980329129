"""What most commands need: settings, a migrated database, and who owns the book."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.errors import Unavailable
from config.errors import ConfigError

if TYPE_CHECKING:  # pydantic and SQLAlchemy load with the first command that needs them, not for --help
    from adapters.db.database import Database
    from adapters.db.lease import Holder
    from config.settings import Settings


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment and .env (a ConfigError becomes exit code 2 in supervisor.py).
    Until a command sets up its own sinks, log lines go to the console with the secrets redacted."""
    cached = getattr(args, "_settings", None)
    if cached is None:
        from config.settings import load_settings

        cached = load_settings()
        args._settings = cached
        from adapters.logging import configure_logging

        configure_logging(level=cached.log_level, secrets=cached.secret_values())
    return cached


def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """The configured database, migrated to the current schema unless told otherwise. One that cannot
    be opened is `Unavailable` (exit 1, one line naming the setting): the server may just not be up yet,
    so a service manager's retry can succeed, unlike with bad configuration (exit 2)."""
    from adapters.db.database import DatabaseUnreachable, UnusableDatabaseUrl, open_checked
    from adapters.db.migrate import ForeignSchema

    try:
        return open_checked(settings.sqlalchemy_url(), upgrade=upgrade)
    except ForeignSchema as error:  # the seed bot's tables, or nobody's: nothing was changed
        raise ConfigError(f"{_database_setting(settings)}: {settings.redacted_database_url()}: {error}") from None
    except UnusableDatabaseUrl as error:  # Settings checks the URL first; this is the backstop
        raise ConfigError(f"{_database_setting(settings)}: SQLAlchemy cannot use this URL ({error})") from None
    except DatabaseUnreachable as error:
        raise Unavailable(f"{_database_setting(settings)}: cannot open the database "
                          f"{settings.redacted_database_url()}: {_blank_secrets(str(error), settings)}") from None


def book_owner(db: Database) -> Holder | None:
    """The process that owns the book now (a running supervisor), or None."""
    from adapters.db.lease import LeaseStore

    store = LeaseStore(db.url)
    try:
        return store.holder()
    finally:
        store.dispose()


def _database_setting(settings: Settings) -> str:
    if settings.database_url is not None:
        return "DATABASE_URL"
    return "DB_HOST" if settings.db_host is not None else "DATA_DIR"


def _blank_secrets(text: str, settings: Settings) -> str:
    for secret in settings.secret_values():
        text = text.replace(secret, "***")
    return text
