"""Whose books a database keeps, so one account's cycles are never reconciled against another's.

The first start on a database records the venue (simulator, paper, live), the account number and
whether it was a dry run. A later start that would trade elsewhere from the same database is refused
before any actor runs: a paper cycle "holding" BTC would otherwise take-profit-sell coins a person
bought by hand on the live account, and a simulator's cycles would be ended in error against Alpaca.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.db.meta import MetaStore
from config.settings import ConfigError, Settings, TradingMode

BOOKS = "books"
SIM_STATE_FILE = "simulator-state.json"  # the embedded simulator's account, under DATA_DIR


@dataclass(frozen=True)
class BooksOwner:
    venue: str  # TradingMode value
    account: str  # the venue's account number; "" when it could not be read
    dry_run: bool

    def describe(self) -> str:
        account = f" account {self.account}" if self.account else ""
        return f"{self.venue}{account}" + (" (dry run)" if self.dry_run else "")

    def same_books_as(self, other: BooksOwner) -> bool:
        accounts_agree = not self.account or not other.account or self.account == other.account
        return self.venue == other.venue and self.dry_run == other.dry_run and accounts_agree


def database_setting(settings: Settings) -> str:
    """The setting that chose the database, for the error message."""
    if settings.database_url is not None:
        return "DATABASE_URL"
    return "DB_NAME" if settings.db_host is not None else "DATA_DIR"


def recorded_owner(meta: MetaStore) -> BooksOwner | None:
    recorded = meta.get(BOOKS)
    return _owner(recorded) if isinstance(recorded, dict) else None


def _owner(recorded: dict[str, Any]) -> BooksOwner:
    return BooksOwner(str(recorded["venue"]), str(recorded.get("account", "")), bool(recorded.get("dry_run")))


def claim_books(meta: MetaStore, owner: BooksOwner, settings: Settings) -> None:
    """Record `owner` on a fresh database; raise ConfigError if the database keeps someone else's books."""
    recorded = meta.get(BOOKS)
    if not isinstance(recorded, dict):
        meta.set(BOOKS, {"venue": owner.venue, "account": owner.account, "dry_run": owner.dry_run,
                         "since": datetime.now(UTC).isoformat()})
        return
    keeper = _owner(recorded)
    if keeper.same_books_as(owner):
        if owner.account and not keeper.account:
            meta.set(BOOKS, {**recorded, "account": owner.account})  # learnt the number it could not read before
        return
    raise ConfigError(
        f"{database_setting(settings)}: this database keeps the books of {keeper.describe()} "
        f"(since {recorded.get('since', '?')[:10]}), but this start would trade on {owner.describe()}. "
        "Its cycles would be reconciled against positions they were not built on. " + _way_out(keeper, owner, settings)
    )


def _way_out(keeper: BooksOwner, owner: BooksOwner, settings: Settings) -> str:
    setting = database_setting(settings)
    if keeper.venue == owner.venue == TradingMode.EMBEDDED_SIM.value and keeper.dry_run == owner.dry_run:
        # same venue, another account: the embedded simulator's state file is not the one these books grew on
        state = settings.data_dir / SIM_STATE_FILE
        return (f"The built-in simulator is a different exchange now: its state file {state} is new or was "
                f"replaced (or SIM_SEED changed). Put back the state file that belongs to this database, or "
                f"start afresh with another {setting}.")
    return f"Point {setting} at another database for {owner.describe()}."
