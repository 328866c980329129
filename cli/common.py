"""What most commands need: settings, a migrated database, and plain-text tables."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from config.settings import Settings, load_settings

if TYPE_CHECKING:
    from adapters.db.database import Database


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment and .env (a ConfigError becomes exit code 2 in supervisor.py).
    Until a command sets up its own sinks, log lines go to the console with the secrets redacted."""
    cached = getattr(args, "_settings", None)
    if cached is None:
        cached = load_settings()
        args._settings = cached
        from adapters.logging import configure_logging

        configure_logging(level=cached.log_level, secrets=cached.secret_values())
    return cached


def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """The configured database, migrated to the current schema unless told otherwise."""
    from adapters.db.database import Database

    db = Database(settings.sqlalchemy_url())
    if upgrade:
        db.upgrade()
    return db


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> str:
    """A plain aligned table; columns whose index is in `right` are right-aligned (numbers)."""
    cells = [[str(h) for h in headers], *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = (v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True)))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])
