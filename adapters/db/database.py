"""The database handle: an engine, sessions, the clock for bookkeeping columns, migrations."""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from adapters.db import migrate
from adapters.db.engine import create_db_engine
from adapters.db.models import DcaMeta

Now = Callable[[], datetime]
INSTALLATION_TAG = "installation_tag"


def wall_clock() -> datetime:
    return datetime.now(UTC)


class Database:
    """One per process. `now` stamps created_at/updated_at, so in simulator mode the rows carry
    simulated time like everything else."""

    def __init__(self, url: str, now: Now = wall_clock, *, echo: bool = False,
                 on_error: Callable[[str], None] | None = None, pooled: bool = True) -> None:
        self.url = url
        self.engine = create_db_engine(url, echo=echo, pooled=pooled)
        self.now = now
        self.on_error = on_error  # told the error's class name on every failed transaction (metrics)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together on success and rolled back on any error."""
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as error:
            if self.on_error is not None:
                self.on_error(type(error).__name__)
            raise

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def is_current(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision()

    def installation_tag(self) -> str:
        """Five random characters drawn once per database: the middle part of every client_order_id."""
        with self.transaction() as session:
            row = session.get(DcaMeta, INSTALLATION_TAG)
            if row is not None:
                return row.value
        alphabet = string.ascii_lowercase + string.digits
        tag = "".join(secrets.choice(alphabet) for _ in range(5))
        try:
            with self.transaction() as session:
                session.add(DcaMeta(key=INSTALLATION_TAG, value=tag))
        except IntegrityError:  # another process drew one first: use theirs
            pass
        with self.transaction() as session:
            return session.execute(select(DcaMeta.value).where(DcaMeta.key == INSTALLATION_TAG)).scalar_one()

    def dispose(self) -> None:
        self.engine.dispose()


class UnusableDatabaseUrl(Exception):
    """SQLAlchemy cannot use the URL (no such dialect or driver); the message names the error class."""


class DatabaseUnreachable(Exception):
    """The database could not be opened (server down, access denied): the driver's own words, one line."""


def open_checked(url: str, *, upgrade: bool = True) -> Database:
    """A `Database` that has answered once (migrated to the current schema unless told otherwise).
    A database holding another schema raises `migrate.ForeignSchema` (the seed bot's is converted only
    by `supervisor.py db upgrade`, after a backup)."""
    try:
        db = Database(url)
        if upgrade:
            db.upgrade()
        else:
            db.engine.connect().close()
    except (ArgumentError, ImportError) as error:
        raise UnusableDatabaseUrl(type(error).__name__) from None
    except (DBAPIError, OSError) as error:
        raise DatabaseUnreachable(_driver_words(error)) from None
    return db


def _driver_words(error: Exception) -> str:
    """PyMySQL says `(2003, "Can't connect ...")`: keep the words, on one line."""
    cause = getattr(error, "orig", None) or error
    args = getattr(cause, "args", ())
    text = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(cause)
    return " ".join(text.split())
