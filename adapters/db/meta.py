"""`dca_meta`: small installation-wide facts kept in the database (the kill switch, the tag)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from adapters.db.database import Database
from adapters.db.models import DcaMeta

KILL_SWITCH = "kill_switch"
HEARTBEAT = "heartbeat"


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

    def beat(self) -> None:
        """A running supervisor says so (wall-clock time: the reader compares with its own clock)."""
        self.set(HEARTBEAT, datetime.now(UTC).isoformat())

    def stopped(self) -> None:
        """A supervisor that stops cleanly says so at once, rather than letting its heartbeat age out."""
        self.delete(HEARTBEAT)

    def supervisor_running(self, within_seconds: float = 15.0) -> bool:
        stamp = self.get(HEARTBEAT)
        if not isinstance(stamp, str):
            return False
        return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds() < within_seconds
