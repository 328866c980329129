"""`dca_orders` as a mirror of the exchange: every order's latest exchange-side state.

The bot's own rows are created by `CycleStore.save` before submission; `record` fills in what the
exchange says (its id, status, fills, timestamps). Orders the bot did not place are mirrored too
(with no cycle), because the reports and the janitor want to see them.

An exchange id is stored once. Should the exchange hand out an id that another order's row already
holds (a simulator started afresh on a kept database repeats ids; the books guard normally refuses
that start), the newcomer is mirrored without its id and the clash is logged and counted, instead of
an IntegrityError that would crash the actor on every retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from loguru import logger
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapters.db.database import Database
from adapters.db.models import DcaCycle, DcaOrder
from dca.exchange import ExchangeOrder
from dca.order_ids import parse_client_order_id

_MIRRORED = (
    "symbol", "side", "type", "time_in_force", "status", "created_at", "qty", "notional", "filled_qty",
    "filled_avg_price", "limit_price", "stop_price", "updated_at", "submitted_at", "filled_at", "canceled_at",
    "expired_at", "expires_at", "failed_at", "replaced_at", "replaced_by", "replaces", "asset_id", "asset_class",
    "order_class", "position_intent", "extended_hours", "trail_price", "trail_percent", "hwm", "ratio_qty", "legs",
)


def exchange_id_holder(session: Session, exchange_id: str, client_order_id: str) -> str | None:
    """The client_order_id of another order whose row already holds `exchange_id`, if any."""
    holder = session.execute(select(DcaOrder.client_order_id).where(DcaOrder.id == exchange_id)).scalar_one_or_none()
    return holder if holder is not None and holder != client_order_id else None


def warn_exchange_id_taken(exchange_id: str, client_order_id: str, holder: str) -> None:
    logger.warning("exchange order id {} of {} already belongs to {} in this database: the exchange repeats ids "
                   "(was it started afresh on this database?); {} is kept without its exchange id",
                   exchange_id, client_order_id, holder, client_order_id)


def copy_exchange_fields(row: DcaOrder, order: ExchangeOrder) -> None:
    """The exchange's view of an order onto its mirror row (everything but the ids and our links)."""
    for name in _MIRRORED:
        setattr(row, name, getattr(order, name))
    row.order_type = order.type


class OrderMirror:
    def __init__(self, db: Database, namespace: str, on_id_taken: Callable[[], None] | None = None) -> None:
        self._db = db
        self._namespace = namespace
        self._on_id_taken = on_id_taken or (lambda: None)  # counts clashes (a metric in the supervisor)

    def record(self, order: ExchangeOrder) -> None:
        self.record_many([order])

    def record_many(self, orders: Iterable[ExchangeOrder]) -> int:
        """Upsert by client_order_id (then by exchange id); returns how many rows were written."""
        count = 0
        for order in orders:
            try:
                self._upsert(order)
            except IntegrityError:  # a concurrent writer inserted it first: now it exists, update it
                self._upsert(order)
            count += 1
        return count

    def _upsert(self, order: ExchangeOrder) -> None:
        now = self._db.now()
        with self._db.transaction() as session:
            row = session.execute(
                select(DcaOrder).where(DcaOrder.client_order_id == order.client_order_id)
            ).scalar_one_or_none()
            holder = exchange_id_holder(session, order.id, order.client_order_id)
            if row is None:
                row = DcaOrder(client_order_id=order.client_order_id, fetched_at=now)
                row.cycle_id, row.dca_asset_id = self._cycle_link(session, order.client_order_id)
                session.add(row)
            if holder is None:
                row.id = order.id
            copy_exchange_fields(row, order)
            row.updated_by_fetch_at = now
        if holder is not None:
            warn_exchange_id_taken(order.id, order.client_order_id, holder)
            self._on_id_taken()

    def _cycle_link(self, session, client_order_id: str) -> tuple[int | None, int | None]:  # type: ignore[no-untyped-def]
        ref = parse_client_order_id(client_order_id)
        if ref is None or ref.namespace != self._namespace:
            return None, None
        cycle = session.get(DcaCycle, ref.cycle_id)
        return (cycle.id, cycle.asset_id) if cycle is not None and cycle.asset_id == ref.asset_id else (None, None)

    def latest_exchange_update(self) -> datetime | None:
        """When the newest mirrored order last changed on the exchange (the catch-up starts there)."""
        with self._db.transaction() as session:
            return session.execute(select(func.max(DcaOrder.updated_at)).where(DcaOrder.id.is_not(None))).scalar()

    def for_cycle(self, cycle_id: int) -> list[dict[str, Any]]:
        """A cycle's orders, oldest first: what was decided, what the exchange did, what was applied."""
        with self._db.transaction() as session:
            rows = session.execute(select(DcaOrder).where(DcaOrder.cycle_id == cycle_id).order_by(DcaOrder.pk))
            return [{"client_order_id": row.client_order_id, "exchange_id": row.id, "kind": row.order_kind,
                     "side": row.side, "type": row.type, "qty": row.qty, "limit_price": row.limit_price,
                     "status": row.status, "filled_qty": row.applied_filled_qty,
                     "filled_avg_price": row.filled_avg_price, "fee": row.applied_fee, "decided_at": row.decided_at,
                     "filled_at": row.filled_at, "canceled_at": row.canceled_at} for row in rows.scalars()]

    def recent_fills(self, limit: int) -> list[dict[str, Any]]:
        """The bot's newest filled orders, newest first (the status page)."""
        with self._db.transaction() as session:
            query = (select(DcaOrder).where(DcaOrder.cycle_id.is_not(None), DcaOrder.filled_at.is_not(None))
                     .order_by(DcaOrder.filled_at.desc(), DcaOrder.pk.desc()).limit(limit))
            rows = session.execute(query)
            return [{"symbol": row.symbol, "cycle_id": row.cycle_id, "kind": row.order_kind, "side": row.side,
                     "qty": row.applied_filled_qty, "price": row.filled_avg_price, "filled_at": row.filled_at}
                    for row in rows.scalars()]

    def known_client_ids(self, client_order_ids: Iterable[str]) -> set[str]:
        ids = list(client_order_ids)
        if not ids:
            return set()
        with self._db.transaction() as session:
            query = select(DcaOrder.client_order_id).where(DcaOrder.client_order_id.in_(ids))
            return set(session.execute(query).scalars())
