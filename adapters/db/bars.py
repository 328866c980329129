"""`historical_1min_bars`: upserted 1-minute bars, read back for backtests and replays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects import mysql, sqlite

from adapters.db.database import Database
from adapters.db.models import HistoricalBar
from adapters.db.types import UtcDateTime
from dca.market import Bar

BATCH = 1000
PAGE = 10_000
_VALUES = ("open", "high", "low", "close", "volume", "trade_count", "vwap")


class BarStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(self, asset_id: int, bars: Sequence[Bar], extras: Sequence[tuple] | None = None) -> int:
        """Insert or update bars by (asset, minute); re-running adds no duplicates. Returns how many
        of them were new. `extras` optionally gives (trade_count, vwap) per bar."""
        if not bars:
            return 0
        before = self.count(asset_id, bars[0].time, bars[-1].time)
        now = self._db.now()
        dialect = self._db.engine.dialect.name
        with self._db.transaction() as session:
            for start in range(0, len(bars), BATCH):
                chunk = bars[start:start + BATCH]
                extra = extras[start:start + BATCH] if extras else [(None, None)] * len(chunk)
                rows = [
                    {"asset_id": asset_id, "timestamp": bar.time, "open": bar.open, "high": bar.high, "low": bar.low,
                     "close": bar.close, "volume": bar.volume, "trade_count": count, "vwap": vwap,
                     "created_at": now, "updated_at": now}
                    for bar, (count, vwap) in zip(chunk, extra, strict=True)
                ]
                session.execute(_upsert_statement(dialect), rows)
        return self.count(asset_id, bars[0].time, bars[-1].time) - before

    def count(self, asset_id: int, start: datetime | None = None, end: datetime | None = None) -> int:
        with self._db.transaction() as session:
            query = select(func.count()).select_from(HistoricalBar).where(HistoricalBar.asset_id == asset_id)
            query = _in_range(query, start, end)
            return int(session.execute(query).scalar_one())

    def latest_time(self, asset_id: int) -> datetime | None:
        with self._db.transaction() as session:
            value = session.execute(
                select(func.max(HistoricalBar.timestamp)).where(HistoricalBar.asset_id == asset_id)
            ).scalar()
        # MAX() bypasses the column type on some engines: normalise to aware UTC here
        return UtcDateTime().process_result_value(_as_datetime(value), self._db.engine.dialect) if value else None

    def iter_bars(self, asset_id: int, symbol: str, start: datetime, end: datetime) -> Iterator[Bar]:
        """Bars with start ≤ time < end, oldest first, read in pages."""
        after: datetime | None = None
        while True:
            with self._db.transaction() as session:
                since = HistoricalBar.timestamp > after if after else HistoricalBar.timestamp >= start
                query = (select(HistoricalBar)
                         .where(HistoricalBar.asset_id == asset_id, since, HistoricalBar.timestamp < end)
                         .order_by(HistoricalBar.timestamp).limit(PAGE))
                rows = session.execute(query).scalars().all()
            for row in rows:
                yield Bar(symbol, row.timestamp, row.open, row.high, row.low, row.close, row.volume)
            if len(rows) < PAGE:
                return
            after = rows[-1].timestamp


    def iter_prices(self, asset_id: int, start: datetime, end: datetime
                    ) -> Iterator[tuple[datetime, Decimal, Decimal, Decimal, Decimal]]:
        """(time, open, high, low, close) with start ≤ time < end, oldest first: `iter_bars` without
        building ORM objects, for loading a backtest's year of minutes."""
        table = HistoricalBar.__table__
        columns = (table.c.timestamp, table.c.open, table.c.high, table.c.low, table.c.close)
        after: datetime | None = None
        while True:
            since = table.c.timestamp > after if after else table.c.timestamp >= start
            query = (select(*columns).where(table.c.asset_id == asset_id, since, table.c.timestamp < end)
                     .order_by(table.c.timestamp).limit(PAGE))
            with self._db.transaction() as session:
                rows = [tuple(row) for row in session.execute(query)]
            yield from rows  # type: ignore[misc]
            if len(rows) < PAGE:
                return
            after = rows[-1][0]


def _upsert_statement(dialect: str):  # type: ignore[no-untyped-def]
    table = HistoricalBar.__table__
    if dialect == "sqlite":
        statement = sqlite.insert(table)
        return statement.on_conflict_do_update(
            index_elements=["asset_id", "timestamp"],
            set_={name: statement.excluded[name] for name in (*_VALUES, "updated_at")},
        )
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update({name: statement.inserted[name] for name in (*_VALUES, "updated_at")})


def _in_range(query, start: datetime | None, end: datetime | None):  # type: ignore[no-untyped-def]
    if start is not None:
        query = query.where(HistoricalBar.timestamp >= start)
    if end is not None:
        query = query.where(HistoricalBar.timestamp <= end)
    return query


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
