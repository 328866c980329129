"""Quiet failure logs: one line per episode per cause, with what to do, repeated at most every few minutes.

A full disk, a database server that is down or a venue that does not answer make every actor fail the
same way at once, and each failure used to log its own traceback (96 "database or disk is full"
tracebacks in 20 s). Here every record carrying an exception is classified by the exception's *type*
(and the driver's error code), never its text:

* the first record of a cause starts an episode: it is written as one line naming the cause and what
  to do, without the traceback (the traceback is kept at LOG_LEVEL=DEBUG);
* later records of the same cause are counted, not written, and every `repeat_s` a reminder line says
  how many there were;
* a cause not seen for `repeat_s` ends its episode: the next occurrence starts a new one.

Records without an exception that repeat word for word (WARNING and above) are collapsed the same way.
Exceptions of no known cause (bugs) keep their tracebacks.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

REPEAT_S = 180.0
_MAX_TRACKED = 1000
_SQLITE_FULL = 13  # the primary result code; extended codes carry it in the low byte
_SQLITE_CANTOPEN = 14
_MYSQL_DOWN = {2002, 2003, 2005, 2006, 2013, 2055}  # can't connect, server gone away, lost connection
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                   errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE}


@dataclass(frozen=True, slots=True)
class Cause:
    key: str
    summary: str
    advice: str


DISK_FULL = Cause("disk-full", "the disk is full (the database or a log cannot be written)",
                  "free space on that disk; the supervisor carries on by itself once it can write")
DATABASE_DOWN = Cause("database-down", "the database does not answer",
                      "start or repair the database server (or fix DATABASE_URL/DB_HOST); the supervisor retries, "
                      "and a process manager restarts it if it gives up")
VENUE_DOWN = Cause("venue-down", "the venue does not answer (Alpaca, or the simulator at ALPACA_SIM_URL)",
                   "check the network and the venue's status; the streams reconnect and the caretakers retry by "
                   "themselves, and open orders are read back once it answers")


def classify(error: BaseException | None) -> Cause | None:
    """The operating cause behind an exception, from its types and error codes, or None (a bug)."""
    chain = list(_chain(error))
    for link in chain:
        if _is_disk_full(link):
            return DISK_FULL
    if any(_module(link).startswith(("sqlalchemy", "pymysql", "sqlite3")) for link in chain):
        return DATABASE_DOWN if any(_is_database_down(link) for link in chain) else None
    for link in chain:
        if _is_network(link):
            return VENUE_DOWN
    return None


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), getattr(current, "reason", None), current.__cause__,
                    current.__context__, *(a for a in current.args if isinstance(a, BaseException))]


def _module(error: BaseException) -> str:
    return type(error).__module__ or ""


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(error).__mro__}


def _is_disk_full(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return (isinstance(code, int) and code & 0xFF == _SQLITE_FULL) or (
        isinstance(error, OSError) and error.errno == errno.ENOSPC)


def _is_database_down(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF == _SQLITE_CANTOPEN
    if _module(error).startswith("pymysql") and error.args and isinstance(error.args[0], int):
        return error.args[0] in _MYSQL_DOWN
    return _is_network(error)


def _is_network(error: BaseException) -> bool:
    if isinstance(error, ConnectionError | TimeoutError):
        return True
    if isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS:
        return True
    names = _names(error)
    return bool(names & {"BrokerUnavailable", "ConnectionClosed", "InvalidHandshake", "ClientConnectorError",
                         "ServerDisconnectedError", "NewConnectionError", "MaxRetryError"}) or (
        _module(error).startswith("requests") and bool(names & {"ConnectionError", "Timeout"}))


@dataclass
class _Episode:
    started: float
    last_seen: float
    last_written: float
    hidden: int = 0


@dataclass
class EpisodeGate:
    """Decides, record by record, what reaches the sinks. Thread-safe; `now` is injectable for tests."""

    keep_tracebacks: bool = False
    repeat_s: float = REPEAT_S
    now: Callable[[], float] = time.monotonic
    _episodes: dict[str, _Episode] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, record: dict[str, Any]) -> None:
        """Rewrite `record` in place (one line with the cause and what to do), or mark it hidden
        (`record["extra"]["hidden"] = True`; the sinks' filter drops it)."""
        exception = record["exception"]
        error = exception.value if exception is not None else None
        cause = classify(error)
        if cause is not None:  # one line: a driver's message goes on with the SQL and a link (kept at DEBUG)
            detail = record["message"].split("\n", 1)[0]
            self._admit(record, cause.key, f"{cause.summary}: {detail} — {cause.advice}")
            if not self.keep_tracebacks:
                record["exception"] = None
        elif error is None and record["level"].no >= 30:  # WARNING and above, word for word
            self._admit(record, f"{record['name']}|{record['message']}", record["message"])

    def _admit(self, record: dict[str, Any], key: str, message: str) -> None:
        now = self.now()
        with self._lock:
            episode = self._episodes.get(key)
            if episode is None or now - episode.last_seen >= self.repeat_s:  # a new episode
                self._forget_old(now)
                self._episodes[key] = _Episode(now, now, now)
                record["message"] = message
                return
            episode.last_seen = now
            if now - episode.last_written < self.repeat_s:
                episode.hidden += 1
                record["extra"]["hidden"] = True
                return
            minutes = (now - episode.started) / 60
            record["message"] = (f"still: {message} ({episode.hidden} more like it since the last report; "
                                 f"{minutes:.0f} min into this episode)")
            episode.last_written, episode.hidden = now, 0

    def _forget_old(self, now: float) -> None:
        if len(self._episodes) < _MAX_TRACKED:
            return
        for key in [k for k, e in self._episodes.items() if now - e.last_seen >= self.repeat_s]:
            del self._episodes[key]
        if len(self._episodes) >= _MAX_TRACKED:
            self._episodes.clear()


def shown(record: dict[str, Any]) -> bool:
    """The sinks' filter."""
    return not record["extra"].get("hidden", False)
