"""`dca_owner_lease`: which process owns the book, decided by the database alone.

One row. A process owns the book while the row carries its random `token` and `expires_at` lies in
the future. Every statement is one compare-and-set `UPDATE` (or the first `INSERT`), so two processes
can never both succeed, on SQLite and MariaDB alike. Times are the *database's* clock
(`UTC_TIMESTAMP(6)` on MariaDB, the SQLite host's clock), never the caller's: hosts whose clocks
disagree still agree on whether a lease has expired.

Every connection here has short timeouts and no pool, so a renewal can fail but never hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, literal_column, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from adapters.db.engine import create_db_engine
from adapters.db.models import DcaOwnerLease

BOOK = "book"
STATEMENT_TIMEOUT_S = 5
_LEASE = DcaOwnerLease.__table__


class LeaseUnavailable(Exception):
    """The database did not answer the lease statement; the message is the driver's, on one line."""


@dataclass(frozen=True, slots=True)
class Claimant:
    holder: str  # the command, e.g. "run"
    host: str
    pid: int
    token: str


@dataclass(frozen=True, slots=True)
class Holder:
    """The current owner as the database sees it, with the database's time of reading."""

    holder: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    token: str
    read_at: datetime

    def describe(self) -> str:
        return (f"`supervisor.py {self.holder}` on host {self.host}, pid {self.pid}, since "
                f"{self.started_at:%Y-%m-%d %H:%M:%S} UTC (last heartbeat {self.heartbeat_age_s:.0f} s ago)")

    @property
    def heartbeat_age_s(self) -> float:
        return max(0.0, (self.read_at - self.heartbeat_at).total_seconds())


class LeaseStore:
    def __init__(self, url: str) -> None:
        self._engine = create_db_engine(url, pooled=False, timeout_s=STATEMENT_TIMEOUT_S)
        sqlite = self._engine.dialect.name == "sqlite"
        self._now_sql = "strftime('%Y-%m-%d %H:%M:%f000', 'now')" if sqlite else "UTC_TIMESTAMP(6)"
        self._sqlite = sqlite

    def _now(self) -> ColumnElement[Any]:
        return literal_column(self._now_sql)

    def _later(self, seconds: int) -> ColumnElement[Any]:
        if self._sqlite:
            return literal_column(f"strftime('%Y-%m-%d %H:%M:%f000', 'now', '+{int(seconds)} seconds')")
        return literal_column(f"DATE_ADD(UTC_TIMESTAMP(6), INTERVAL {int(seconds)} SECOND)")

    def try_acquire(self, claimant: Claimant, lease_s: int) -> bool:
        """Take the book if nobody holds it or the holder's lease has expired."""
        claim = {"token": claimant.token, "holder": claimant.holder, "host": claimant.host, "pid": claimant.pid,
                 "started_at": self._now(), "heartbeat_at": self._now(), "expires_at": self._later(lease_s)}
        free = (_LEASE.c.token.is_(None)) | (_LEASE.c.expires_at < self._now())
        with self._begin() as connection:
            taken = connection.execute(update(_LEASE).where(_LEASE.c.name == BOOK, free).values(**claim)).rowcount
            if taken == 1:
                return True
            if connection.execute(select(_LEASE.c.name).where(_LEASE.c.name == BOOK)).first() is not None:
                return False
        try:
            with self._begin() as connection:
                connection.execute(insert(_LEASE).values(name=BOOK, **claim))
        except IntegrityError:  # another process inserted the row first: it holds the book
            return False
        return True

    def renew(self, token: str, lease_s: int) -> bool:
        """Extend our lease; False if it is no longer ours (another process took it over)."""
        with self._begin() as connection:
            statement = (update(_LEASE).where(_LEASE.c.name == BOOK, _LEASE.c.token == token)
                         .values(heartbeat_at=self._now(), expires_at=self._later(lease_s)))
            return connection.execute(statement).rowcount == 1

    def release(self, token: str) -> bool:
        """Give the book up at once (a clean stop), so the next process need not wait for the expiry."""
        with self._begin() as connection:
            statement = (update(_LEASE).where(_LEASE.c.name == BOOK, _LEASE.c.token == token)
                         .values(token=None, expires_at=datetime(1970, 1, 1, tzinfo=UTC)))
            return connection.execute(statement).rowcount == 1

    def holder(self) -> Holder | None:
        """The process holding an unexpired lease, or None."""
        columns = [_LEASE.c.holder, _LEASE.c.host, _LEASE.c.pid, _LEASE.c.started_at, _LEASE.c.heartbeat_at,
                   _LEASE.c.expires_at, _LEASE.c.token, self._now().label("read_at")]
        with self._begin() as connection:
            row = connection.execute(select(*columns).where(_LEASE.c.name == BOOK)).first()
        if row is None or row.token is None:
            return None
        read_at = _utc(row.read_at)
        if row.expires_at < read_at:
            return None
        return Holder(row.holder, row.host, row.pid, row.started_at, row.heartbeat_at, row.expires_at, row.token,
                      read_at)

    def dispose(self) -> None:
        self._engine.dispose()

    def _begin(self) -> Any:
        return _Translated(self._engine.begin())


class _Translated:
    """A transaction whose driver errors arrive as `LeaseUnavailable` (one line, the driver's words)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> Any:
        try:
            return self._inner.__enter__()
        except (SQLAlchemyError, OSError) as error:
            raise LeaseUnavailable(_one_line(error)) from None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        try:
            self._inner.__exit__(kind, error, tb)
        except (SQLAlchemyError, OSError) as failure:
            raise LeaseUnavailable(_one_line(failure)) from None
        if isinstance(error, IntegrityError):
            return False
        if isinstance(error, SQLAlchemyError | OSError):
            raise LeaseUnavailable(_one_line(error)) from None
        return False


def _one_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return " ".join(str(cause).split())


def _utc(value: Any) -> datetime:
    """The database's clock reading: MariaDB returns a datetime, SQLite the text we formatted."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
