"""`dca_requests`: commands for the running supervisor (the CLI writes, the AssetWatcher handles)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from adapters.db.database import Database
from adapters.db.models import DcaRequest
from ports.stores import Answer


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    kind: str
    symbol: str
    payload: dict[str, Any]


class RequestStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def submit(self, kind: str, symbol: str, payload: dict[str, Any]) -> int:
        with self._db.transaction() as session:
            row = DcaRequest(kind=kind, symbol=symbol, payload=json.dumps(payload, default=str),
                             created_at=self._db.now())
            session.add(row)
            session.flush()
            return row.id

    def pending(self) -> list[Request]:
        with self._db.transaction() as session:
            rows = session.execute(select(DcaRequest).where(DcaRequest.handled_at.is_(None))
                                   .order_by(DcaRequest.id)).scalars()
            return [Request(row.id, row.kind, row.symbol, json.loads(row.payload)) for row in rows]

    def finish(self, request_id: int, answer: Answer) -> None:
        with self._db.transaction() as session:
            row = session.get(DcaRequest, request_id)
            if row is not None:
                row.handled_at = self._db.now()
                row.result = json.dumps({"text": answer.text, "refused": answer.refused})

    def wait(self, request_id: int, timeout: float) -> Answer | None:
        """The result once handled, or None after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._db.transaction() as session:
                row = session.get(DcaRequest, request_id)
                if row is not None and row.handled_at is not None:
                    return _answer(row.result)
            time.sleep(0.25)
        return None


def _answer(stored: str | None) -> Answer:
    """The stored answer; a row an earlier version handled holds plain text with a "refused: " prefix."""
    try:
        fields = json.loads(stored or "")
        return Answer(str(fields["text"]), bool(fields["refused"]))
    except (ValueError, TypeError, KeyError):
        text = stored or ""
        return Answer(text, refused=text.startswith("refused"))
