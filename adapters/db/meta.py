"""`dca_meta`: small installation-wide facts kept in the database (the kill switch, the tag)."""

from __future__ import annotations

import json
from typing import Any

from adapters.db.database import Database
from adapters.db.models import DcaMeta
from ports.meta import KILL_SWITCH

__all__ = ["KILL_SWITCH", "MetaStore"]


class MetaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> Any:
        with self._db.transaction() as session:
            row = session.get(DcaMeta, key)
            return json.loads(row.value) if row is not None else None

    def set(self, key: str, value: Any) -> None:
        with self._db.transaction() as session:
            row = session.get(DcaMeta, key)
            text = json.dumps(value, default=str)
            if row is None:
                session.add(DcaMeta(key=key, value=text))
            else:
                row.value = text

    def delete(self, key: str) -> bool:
        with self._db.transaction() as session:
            row = session.get(DcaMeta, key)
            if row is None:
                return False
            session.delete(row)
            return True
