"""The rows behind taking over the seed bot's open cycles (app/takeover.py decides, this stores).

`db upgrade` records the converted database's open cycles under the `dca_meta` key `takeover`; the
first `run` reads them here, gives each one the exchange's view of its live order (the seed bot placed
it without a client_order_id of ours, so Alpaca's own client id is what the cycle tracks), and then
records which cycles it took over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from adapters.db.database import Database
from adapters.db.models import DcaAsset, DcaCycle, DcaCycleEvent, DcaMeta, DcaOrder
from adapters.db.orders import copy_exchange_fields
from adapters.db.seed_schema import TAKEOVER
from dca.cycle import OrderKind
from dca.exchange import ExchangeOrder
from dca.money import ZERO, plain
from dca.order_ids import is_ours


@dataclass(frozen=True)
class SeedCycle:
    id: int
    asset_id: int
    symbol: str
    status: str
    quantity: Decimal
    average_price: Decimal
    safety_orders: int
    last_fill_price: Decimal | None
    peak_price: Decimal | None
    order_id: str | None  # the seed's latest_order_id: Alpaca's id of the cycle's live order

    def describe(self) -> str:
        coin, quote = self.symbol.split("/") if "/" in self.symbol else (self.symbol, "USD")

        def price(value: Decimal | None) -> str:
            return "-" if value is None else f"{plain(value)} {quote}"

        return (f"{self.symbol} {self.status}, {plain(self.quantity)} {coin} at {price(self.average_price)}, "
                f"{self.safety_orders} safety orders, last fill {price(self.last_fill_price)}, "
                f"trailing peak {price(self.peak_price)}")


class TakeoverStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self) -> dict | None:  # type: ignore[type-arg]
        with self._db.transaction() as session:
            row = session.get(DcaMeta, TAKEOVER)
            return json.loads(row.value) if row is not None else None

    def pending(self) -> list[int]:
        return list((self.record() or {}).get("pending", []))

    def cycles(self, ids: list[int]) -> list[SeedCycle]:
        with self._db.transaction() as session:
            query = (select(DcaCycle, DcaAsset.asset_symbol).join(DcaAsset, DcaAsset.id == DcaCycle.asset_id)
                     .where(DcaCycle.id.in_(ids)).order_by(DcaCycle.id))
            return [SeedCycle(row.id, row.asset_id, symbol, row.status, row.quantity, row.average_purchase_price,
                              row.safety_orders, row.last_order_fill_price, row.highest_trailing_price,
                              row.latest_order_id) for row, symbol in session.execute(query)]

    def explains(self, order: ExchangeOrder, namespace: str) -> bool:
        """Whether either bot's books know `order`: ours by its client id, the seed bot's by its
        order mirror (`dca_orders`) or a cycle's latest_order_id."""
        if is_ours(order.client_order_id, namespace):
            return True
        with self._db.transaction() as session:
            mirrored = session.execute(select(func.count()).select_from(DcaOrder).where(
                (DcaOrder.id == order.id) | (DcaOrder.client_order_id == order.client_order_id))).scalar_one()
            tracked = session.execute(select(func.count()).select_from(DcaCycle).where(
                DcaCycle.latest_order_id == order.id)).scalar_one()
            return bool(mirrored or tracked)

    def last_written(self) -> datetime | None:
        """The newest bookkeeping time the seed bot left on its cycles. Every trade of the seed bot writes
        a cycle; its asset rows are left out because this bot's `assets` commands, which a user may well
        run between `db upgrade` and the first `run`, stamp them too."""
        with self._db.transaction() as session:
            return session.execute(select(func.max(DcaCycle.updated_at))).scalar()

    def attach(self, cycle: SeedCycle, order: ExchangeOrder, kind: OrderKind, position_before: Decimal | None,
               note: str) -> None:
        """Make `order` the cycle's tracked live order; none of its fills are applied yet (the seed bot
        applied an order's fills only when it ended), so the cycle's read-back applies them once."""
        with self._db.transaction() as session:
            row = session.execute(select(DcaOrder).where(
                (DcaOrder.client_order_id == order.client_order_id) | (DcaOrder.id == order.id))).scalars().first()
            now = self._db.now()
            if row is None:
                row = DcaOrder(client_order_id=order.client_order_id, fetched_at=now)
                session.add(row)
            row.id = order.id
            copy_exchange_fields(row, order)
            row.updated_by_fetch_at = now
            row.cycle_id, row.dca_asset_id, row.order_kind = cycle.id, cycle.asset_id, kind.value
            row.decided_at = order.created_at
            row.applied_filled_qty, row.applied_notional, row.applied_fee = ZERO, ZERO, ZERO
            row.position_before = position_before
            stored = session.get(DcaCycle, cycle.id)
            assert stored is not None
            stored.latest_order_id, stored.latest_order_client_id = order.id, order.client_order_id
            stored.latest_order_created_at = order.created_at
            stored.updated_at = now
            self._event(session, stored, note, now)

    def release(self, cycle: SeedCycle, status: str, note: str) -> None:
        """The cycle's order is not on the exchange: it carries on without one, in `status`."""
        with self._db.transaction() as session:
            stored = session.get(DcaCycle, cycle.id)
            assert stored is not None
            now = self._db.now()
            before = stored.status
            stored.status, stored.latest_order_id, stored.latest_order_created_at = status, None, None
            stored.updated_at = now
            self._event(session, stored, note, now, before)

    def note(self, cycle: SeedCycle, note: str) -> None:
        with self._db.transaction() as session:
            stored = session.get(DcaCycle, cycle.id)
            assert stored is not None
            self._event(session, stored, note, self._db.now())

    def finish(self, taken: list[int], at: datetime) -> None:
        with self._db.transaction() as session:
            row = session.get(DcaMeta, TAKEOVER)
            value = json.dumps({"taken_over": taken, "at": at.isoformat()})
            if row is None:
                session.add(DcaMeta(key=TAKEOVER, value=value))
            else:
                row.value = value

    def foreign_live_orders(self, namespace: str) -> dict[str, int]:
        """client_order_id -> asset id of the taken-over live orders (not in our namespace), so their
        trade updates reach their cycle."""
        with self._db.transaction() as session:
            rows = session.execute(select(DcaCycle.latest_order_client_id, DcaCycle.asset_id).where(
                DcaCycle.latest_order_client_id.is_not(None)))
            return {client_id: asset_id for client_id, asset_id in rows if not is_ours(client_id, namespace)}

    @staticmethod
    def _event(session, row: DcaCycle, detail: str, at: datetime,  # type: ignore[no-untyped-def]
               before: str | None = None) -> None:
        moved = before is not None and before != row.status
        session.add(DcaCycleEvent(cycle_id=row.id, asset_id=row.asset_id, at=at, detail=detail,
                                  from_status=before if moved else None, to_status=row.status if moved else None))
