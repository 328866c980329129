"""Reading back what `bars fetch|import` stored."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.database import Database


def stored(cwd: Path, symbol: str) -> tuple[int, datetime | None]:
    """(bar count, newest bar time) of `symbol` in the scratch folder's SQLite database."""
    path = cwd / "data" / "dca.sqlite3"
    if not path.exists():  # nothing was ever written
        return 0, None
    db = Database(f"sqlite:///{path}")
    try:
        asset = AssetRepository(db).get(symbol)
        if asset is None:
            return 0, None
        store = BarStore(db)
        return store.count(asset.id), store.latest_time(asset.id)
    finally:
        db.dispose()
