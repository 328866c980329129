"""Logging with loguru: a console sink and one file per process, rotated daily and kept 7 days.

Replaces the original's log_rotator.py cron job. One owner per file: each long-running process
writes its own file (`logs/supervisor.log`), because loguru loses lines when two processes rotate
the same file (see the tooling notes). The owner holds an exclusive lock on `<process>.lock` beside
the file, so a second process configured with the same LOG_DIR is refused instead of silently
corrupting the first one's log at midnight. Standard-library logging (alpaca-py,
pykka, SQLAlchemy) is routed into the same sinks. Every record passes a redactor that blanks the
configured secrets and anything shaped like a credential, so a secret cannot reach a log by accident.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from loguru import logger

from adapters.log_episodes import EpisodeGate, shown

CONSOLE_FORMAT = ("<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> <cyan>{extra[actor]}</cyan> "
                  "{message}{extra[traceback]}")
FILE_FORMAT = ("{time:YYYY-MM-DD HH:mm:ss.SSS!UTC}Z {level: <7} [{extra[actor]}] {name}:{line} "
               "{message}{extra[traceback]}")
_CREDENTIAL_PATTERNS = (
    re.compile(r"(?i)(secret[_-]?key|api[_-]?secret|password|passwd|token)([\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"),
    re.compile(r"(?i)(APCA-API-SECRET-KEY[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"),
    re.compile(r"(://[^:/@\s]+:)([^@\s]+)(@)"),  # user:password@host in URLs
)


class LogFileInUse(Exception):
    """Another process already owns this log file."""


_held_locks: dict[Path, IO[str]] = {}  # lock files this process holds, open for as long as it owns the log


def claim_log_file(log_dir: Path, process: str) -> Path:
    """Become the one owner of `log_dir/<process>.log` (locks taken for earlier sinks are released);
    raises LogFileInUse naming the owner's pid if another process holds it. The lock file's name
    stays clear of the rotated files' pattern, so retention never deletes it."""
    lock_path = (log_dir / f"{process}.lock").resolve()
    for other in [p for p in _held_locks if p != lock_path]:
        _held_locks.pop(other).close()
    if lock_path in _held_locks:
        return lock_path
    handle = lock_path.open("a+", encoding="ascii")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise LogFileInUse(f"{log_dir / (process + '.log')} is written by another process (pid {owner}); "
                           "give each process its own LOG_DIR") from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held_locks[lock_path] = handle
    return lock_path


class Redactor:
    """Blanks known secret values and credential-shaped text in every log message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _CREDENTIAL_PATTERNS[0].sub(lambda m: m.group(1) + m.group(2) + "***", text)
        text = _CREDENTIAL_PATTERNS[1].sub(lambda m: m.group(1) + "***", text)
        return _CREDENTIAL_PATTERNS[2].sub(lambda m: m.group(1) + "***" + m.group(3), text)


def configure_logging(*, level: str = "INFO", log_dir: Path | None = None, process: str = "supervisor",
                      json_lines: bool = False, secrets: Iterable[str] = (), console: bool = True) -> Path | None:
    """Set up the sinks for this process; returns the log file's path (None without a file).
    Raises LogFileInUse when another process owns the file."""
    redact = Redactor(secrets)
    episodes = EpisodeGate(keep_tracebacks=level in ("TRACE", "DEBUG"))

    def patch(record: Any) -> None:
        record["message"] = redact(record["message"])
        for key, value in record["extra"].items():  # bound values reach the JSON lines too
            if isinstance(value, str):
                record["extra"][key] = redact(value)
        record["extra"].setdefault("actor", "-")
        record["extra"]["traceback"] = ""
        episodes.admit(record)  # a known cause: one line per episode, its traceback only at DEBUG
        if record["exception"] is not None:  # tracebacks quote exception messages: redact them too
            kind, value, tb = record["exception"]
            text = "".join(traceback.format_exception(kind, value, tb)).rstrip()
            record["extra"]["traceback"] = "\n" + redact(text)
            record["exception"] = None

    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        claim_log_file(log_dir, process)
    logger.remove()
    logger.configure(patcher=patch, extra={"actor": "-"})
    if console:
        logger.add(sys.stderr, level=level, format=CONSOLE_FORMAT, colorize=sys.stderr.isatty(), diagnose=False,
                   filter=shown)
    path = None
    if log_dir is not None:
        path = log_dir / f"{process}.log"
        logger.add(path, level=level, format=FILE_FORMAT, rotation="00:00", retention="7 days", compression="gz",
                   enqueue=True, serialize=json_lines, diagnose=False, encoding="utf-8", filter=shown)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    # alpaca-py says INFO on every reconnect attempt; our stream routers report connects and disconnects
    for noisy in ("sqlalchemy", "urllib3", "websockets", "asyncio", "aiohttp.access", "alembic", "alpaca"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def shutdown_logging() -> None:
    """Flush queued records (the file sink writes from a background thread)."""
    logger.complete()


class _InterceptHandler(logging.Handler):
    """Standard-library records into loguru, keeping their level and origin."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).bind(actor=record.name).log(level, record.getMessage())
