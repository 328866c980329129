"""`dca_cycles` (+ the bot's side of `dca_orders`, `dca_cycle_events`): storing what `decide` decided.

`save` writes one decision in one transaction: the cycle row, a completed cycle and its successor,
the order rows (a new order's row, with its client_order_id, is written here, *before* the actor
submits it), the asset's last sell price and dust, and the decision's notes as cycle events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.db.database import Database
from adapters.db.models import DcaAsset, DcaCycle, DcaCycleEvent, DcaOrder
from adapters.db.orders import NEVER_SENT, SUBMITTING, exchange_id_holder, warn_exchange_id_taken
from dca.assets import AssetRecord
from dca.cycle import AssetState, Cycle, CycleStatus, FeeSource, LiveOrder, OrderKind, OrderType, Side
from dca.events import FeeConfirmed
from dca.fees import ended_cycle_sold_cost
from dca.money import ZERO
from dca.strategy import Decision

CURRENT_STATUSES = tuple(s.value for s in CycleStatus if not s.is_terminal)
FINISHED_ORDER_STATUSES = ("filled", "canceled", "expired", "rejected", "done_for_day")


@dataclass(frozen=True, slots=True)
class OrderFee:
    """One order's fee as the books hold it."""

    client_order_id: str
    exchange_id: str | None
    cycle_id: int | None
    side: Side
    fee: Decimal
    source: FeeSource
    filled_qty: Decimal
    symbol: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredCycle:
    """A cycle row for reports and caretakers (the asset it belongs to, and its state)."""

    asset_id: int
    symbol: str
    cycle: Cycle
    created_at: datetime
    updated_at: datetime


class CycleStore:
    def __init__(self, db: Database, on_id_taken: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_id_taken = on_id_taken or (lambda: None)  # see adapters/db/orders.py: ids stored once

    # --- loading ---------------------------------------------------------------------------------

    def load(self, asset: AssetRecord) -> AssetState:
        """The asset's current cycle with its live order; a new watching cycle if it has none."""
        with self._db.transaction() as session:
            row = self._current_row(session, asset.id)
            if row is None:
                row = self._insert_cycle(session, asset.id, Cycle(id=None, status=CycleStatus.WATCHING))
                self._event(session, row, None, CycleStatus.WATCHING, "cycle started: watching for a base order")
            return AssetState(_cycle(session, row), asset.last_sell_price, asset.dust)

    def current_cycles(self) -> list[StoredCycle]:
        """Every asset's current cycle (for caretakers and `status`)."""
        with self._db.transaction() as session:
            query = (select(DcaCycle, DcaAsset.asset_symbol).join(DcaAsset, DcaAsset.id == DcaCycle.asset_id)
                     .where(DcaCycle.status.in_(CURRENT_STATUSES)).order_by(DcaCycle.id))
            return [StoredCycle(row.asset_id, symbol, _cycle(session, row), row.created_at, row.updated_at)
                    for row, symbol in session.execute(query)]

    def cycle(self, cycle_id: int) -> StoredCycle | None:
        with self._db.transaction() as session:
            row = session.get(DcaCycle, cycle_id)
            if row is None:
                return None
            symbol = session.get(DcaAsset, row.asset_id).asset_symbol  # type: ignore[union-attr]
            return StoredCycle(row.asset_id, symbol, _cycle(session, row), row.created_at, row.updated_at)

    def realized_total(self, asset_id: int) -> Decimal:
        """Realized profit of every cycle of the asset (completed ones, and partial sells so far)."""
        with self._db.transaction() as session:
            values = session.execute(select(DcaCycle.realized_pnl).where(DcaCycle.asset_id == asset_id)).scalars()
            return sum(values, ZERO)

    def lifetime_totals(self) -> list[tuple[str, Decimal, dict[str, int]]]:
        """(symbol, realized profit, ended cycles by outcome) of every asset the books know."""
        terminal = [s.value for s in CycleStatus if s.is_terminal]
        with self._db.transaction() as session:
            query = (select(DcaAsset.asset_symbol, DcaCycle.status, func.count(), func.sum(DcaCycle.realized_pnl))
                     .join(DcaCycle, DcaCycle.asset_id == DcaAsset.id, isouter=True)
                     .group_by(DcaAsset.asset_symbol, DcaCycle.status))
            totals: dict[str, tuple[Decimal, dict[str, int]]] = {}
            for symbol, status, count, realized in session.execute(query):
                total, ended = totals.setdefault(symbol, (ZERO, {}))
                if status in terminal:
                    ended[status] = int(count)
                totals[symbol] = (total + Decimal(realized or 0), ended)
            return [(symbol, total, ended) for symbol, (total, ended) in sorted(totals.items())]

    def realized_since(self, moment: datetime) -> Decimal:
        """Realized profit of the cycles completed (or ended in error) at or after `moment`."""
        with self._db.transaction() as session:
            values = session.execute(select(DcaCycle.realized_pnl).where(DcaCycle.completed_at >= moment)).scalars()
            return sum(values, ZERO)

    def completed_since(self, moment: datetime | None) -> list[StoredCycle]:
        """Cycles that ended (complete or error) at or after `moment` (all of them for None), oldest first."""
        with self._db.transaction() as session:
            query = (select(DcaCycle, DcaAsset.asset_symbol).join(DcaAsset, DcaAsset.id == DcaCycle.asset_id)
                     .where(DcaCycle.status.in_([s.value for s in CycleStatus if s.is_terminal]))
                     .order_by(DcaCycle.completed_at, DcaCycle.id))
            if moment is not None:
                query = query.where(DcaCycle.completed_at >= moment)
            return [StoredCycle(row.asset_id, symbol, _cycle(session, row), row.created_at, row.updated_at)
                    for row, symbol in session.execute(query)]

    def events(self, cycle_id: int) -> list[tuple[datetime, str | None, str | None, str]]:
        """Everything that happened to a cycle, in order: (time, from status, to status, what)."""
        with self._db.transaction() as session:
            rows = session.execute(select(DcaCycleEvent).where(DcaCycleEvent.cycle_id == cycle_id)
                                   .order_by(DcaCycleEvent.id)).scalars()
            return [(row.at, row.from_status, row.to_status, row.detail) for row in rows]

    # --- saving ----------------------------------------------------------------------------------

    def save(self, asset_id: int, before: AssetState, decision: Decision, at: datetime) -> AssetState:
        """Store `decision` (made from `before`) atomically; returns its state with ids assigned."""
        state = decision.state
        with self._db.transaction() as session:
            old_row = session.get(DcaCycle, before.cycle.id)
            if old_row is None:
                raise LookupError(f"cycle {before.cycle.id} is not stored")
            if decision.finished_order is not None:
                row = self._write_order(session, asset_id, old_row.id, decision.finished_order)
                if decision.finished_order.exchange_id is None and row.status == SUBMITTING:
                    row.status = NEVER_SENT  # ended before the exchange held it (not found, or refused)
            if decision.completed is not None:
                _write_cycle(old_row, decision.completed, self._db.now())
                new_row = self._insert_cycle(session, asset_id, state.cycle)
                state = state.evolve(cycle=state.cycle.evolve(id=new_row.id))
                self._notes(session, old_row, before.cycle.status, decision.completed.status, decision.lines, at)
                self._event(session, new_row, None, state.cycle.status, _start_note(state.cycle), at)
            else:
                _write_cycle(old_row, state.cycle, self._db.now())
                self._notes(session, old_row, before.cycle.status, state.cycle.status, decision.lines, at)
            if state.cycle.order is not None:
                self._write_order(session, asset_id, state.cycle.id, state.cycle.order)
            self._write_resting(session, asset_id, before.cycle, state.cycle)
            if decision.confirmed_fee is not None:
                self._confirm_fee(session, decision.confirmed_fee)
            if state.last_sell_price != before.last_sell_price or state.dust != before.dust:
                asset = session.get(DcaAsset, asset_id)
                assert asset is not None
                asset.last_sell_price, asset.dust_quantity = state.last_sell_price, state.dust
                asset.updated_at = self._db.now()
        return state

    @staticmethod
    def _confirm_fee(session: Session, confirmed: FeeConfirmed) -> None:
        """The order's fee as the venue charged it; a completed cycle's P/L takes a sell's difference
        (the current cycle's figures came with the decision)."""
        row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == confirmed.client_order_id)
                              ).scalar_one()
        row.applied_fee, row.fee_source = confirmed.confirmed, FeeSource.VENUE.value
        if confirmed.in_current_cycle or row.cycle_id is None:
            return
        cycle = session.get(DcaCycle, row.cycle_id)
        assert cycle is not None
        change = confirmed.confirmed - confirmed.estimated
        if confirmed.side is Side.SELL:
            cycle.sell_fees, cycle.realized_pnl = cycle.sell_fees + change, cycle.realized_pnl - change
        elif CycleStatus(cycle.status).ended_by_sale:  # the coins sold carried a larger share of the cost
            sold_cost = ended_cycle_sold_cost(cycle.cost, cycle.bought_qty - cycle.buy_fees, change)
            cycle.realized_pnl -= sold_cost - cycle.cost
            cycle.cost, cycle.buy_fees = sold_cost, cycle.buy_fees + change

    def order_fee(self, client_order_id: str) -> OrderFee | None:
        """What the books hold for an order's fee, and whether the venue confirmed it."""
        with self._db.transaction() as session:
            row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == client_order_id)
                                  ).scalar_one_or_none()
            if row is None or row.side is None:
                return None
            return OrderFee(client_order_id, row.id, row.cycle_id, Side(row.side), row.applied_fee,
                            FeeSource(row.fee_source), row.applied_filled_qty, row.symbol or "", row.created_at)

    def estimated_fees(self, limit: int = 200) -> list[OrderFee]:
        """Finished orders of the bot with fills whose fee is still an estimate, oldest first."""
        with self._db.transaction() as session:
            query = (select(DcaOrder, DcaAsset.asset_symbol).join(DcaAsset, DcaAsset.id == DcaOrder.dca_asset_id)
                     .where(DcaOrder.fee_source == FeeSource.ESTIMATE.value, DcaOrder.id.is_not(None),
                            DcaOrder.status.in_(FINISHED_ORDER_STATUSES))
                     .order_by(DcaOrder.created_at).limit(limit))
            return [OrderFee(row.client_order_id, row.id, row.cycle_id, Side(row.side or "buy"), row.applied_fee,
                             FeeSource(row.fee_source), row.applied_filled_qty, symbol, row.created_at)
                    for row, symbol in session.execute(query)]

    def save_peak(self, cycle_id: int, peak: Decimal | None) -> None:
        """The trailing peak alone: soft state, stored now and then rather than at every tick."""
        with self._db.transaction() as session:
            row = session.get(DcaCycle, cycle_id)
            if row is not None:
                row.highest_trailing_price = peak

    # --- rows --------------------------------------------------------------------------------------

    @staticmethod
    def _current_row(session: Session, asset_id: int) -> DcaCycle | None:
        query = (select(DcaCycle).where(DcaCycle.asset_id == asset_id, DcaCycle.status.in_(CURRENT_STATUSES))
                 .order_by(DcaCycle.id.desc()).limit(1))
        return session.execute(query).scalar_one_or_none()

    def _insert_cycle(self, session: Session, asset_id: int, cycle: Cycle) -> DcaCycle:
        now = self._db.now()
        row = DcaCycle(asset_id=asset_id, created_at=now)
        _write_cycle(row, cycle, now)
        session.add(row)
        session.flush()
        return row

    def _write_order(self, session: Session, asset_id: int, cycle_id: int | None, order: LiveOrder) -> DcaOrder:
        row = session.execute(
            select(DcaOrder).where(DcaOrder.client_order_id == order.client_order_id)
        ).scalar_one_or_none()
        now = self._db.now()
        if row is None:
            row = DcaOrder(
                client_order_id=order.client_order_id, status=SUBMITTING, time_in_force="gtc",
                created_at=order.created_at, fetched_at=now, updated_by_fetch_at=now,
                cycle_id=cycle_id, dca_asset_id=asset_id, order_kind=order.kind.value, decided_at=order.created_at,
                side=order.side.value, type=order.order_type.value, order_type=order.order_type.value,
                qty=order.qty, limit_price=order.limit_price, filled_qty=ZERO,
            )
            session.add(row)
        if order.exchange_id is not None and row.id is None:
            holder = exchange_id_holder(session, order.exchange_id, order.client_order_id)
            if holder is None:
                row.id = order.exchange_id
            else:  # the cycle goes on (it knows the id in memory); only the mirror row lacks it
                warn_exchange_id_taken(order.exchange_id, order.client_order_id, holder)
                self._on_id_taken()
        row.applied_filled_qty, row.applied_notional, row.applied_fee = (
            order.filled_qty, order.filled_notional, order.fee)
        row.fee_source = (order.fee_source if order.filled_qty else FeeSource.VENUE).value  # no fill, no fee
        row.position_before = order.position_before
        row.cancel_requested_at = order.cancel_requested_at
        return row

    def _write_resting(self, session: Session, asset_id: int, before: Cycle, after: Cycle) -> None:
        """The cycle's resting orders: each one's row is marked `resting` while the cycle holds it, and
        unmarked once the cycle lets it go (filled, cancelled, or taken over as the acting order), so a
        restarted bot loads back exactly the ones still live. (An order that ends is the decision's
        `finished_order`, whose figures were written above.)"""
        for order in after.resting:
            self._write_order(session, asset_id, after.id, order).resting = True
        kept = {order.client_order_id for order in after.resting}
        for order in before.resting:
            if order.client_order_id not in kept:
                row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == order.client_order_id)
                                      ).scalar_one_or_none()
                if row is not None:
                    row.resting = False

    def _notes(self, session: Session, row: DcaCycle, before: CycleStatus, after: CycleStatus,
               notes: tuple[str, ...], at: datetime) -> None:
        for index, note in enumerate(notes):
            last = index == len(notes) - 1
            self._event(session, row, before if last and before is not after else None,
                        after if last and before is not after else None, note, at)

    def _event(self, session: Session, row: DcaCycle, before: CycleStatus | None, after: CycleStatus | None,
               detail: str, at: datetime | None = None) -> None:
        session.add(DcaCycleEvent(cycle_id=row.id, asset_id=row.asset_id, at=at or self._db.now(),
                                  from_status=before.value if before else None,
                                  to_status=after.value if after else None, detail=detail))


def _start_note(cycle: Cycle) -> str:
    if cycle.status is CycleStatus.COOLDOWN and cycle.cooldown_until is not None:
        return f"cycle started: cooldown until {cycle.cooldown_until.isoformat()}"
    return "cycle started: watching for a base order"


def _write_cycle(row: DcaCycle, cycle: Cycle, now: datetime) -> None:
    order = cycle.order
    row.status = cycle.status.value
    row.quantity = cycle.quantity
    row.average_purchase_price = cycle.average_price
    row.safety_orders = cycle.safety_orders
    row.latest_order_id = order.exchange_id if order else None
    row.latest_order_client_id = order.client_order_id if order else None
    row.latest_order_created_at = order.created_at if order else None
    row.last_order_fill_price = cycle.last_fill_price
    row.highest_trailing_price = cycle.peak_price
    row.completed_at = cycle.completed_at
    row.sell_price = cycle.sell_price
    row.order_seq = cycle.order_seq
    row.cost = cycle.cost
    row.bought_qty, row.buy_fees = cycle.bought_qty, cycle.buy_fees
    row.sold_qty, row.sell_notional, row.sell_fees = cycle.sold_qty, cycle.sell_notional, cycle.sell_fees
    row.realized_pnl = cycle.realized_pnl
    row.cooldown_until, row.retry_at = cycle.cooldown_until, cycle.retry_at
    row.stop_loss_since, row.close_requested_at = cycle.stop_loss_since, cycle.close_requested_at
    row.updated_at = now


def _cycle(session: Session, row: DcaCycle) -> Cycle:
    order = None
    if row.latest_order_client_id:
        order_row = session.execute(
            select(DcaOrder).where(DcaOrder.client_order_id == row.latest_order_client_id)
        ).scalar_one_or_none()
        if order_row is not None:
            order = _live_order(order_row)
    resting = session.execute(select(DcaOrder).where(DcaOrder.cycle_id == row.id, DcaOrder.resting.is_(True))
                              .order_by(DcaOrder.pk)).scalars()
    return Cycle(
        id=row.id, status=CycleStatus(row.status), quantity=row.quantity, cost=row.cost,
        safety_orders=row.safety_orders, last_fill_price=row.last_order_fill_price,
        peak_price=row.highest_trailing_price, order=order, order_seq=row.order_seq,
        cooldown_until=row.cooldown_until, retry_at=row.retry_at, bought_qty=row.bought_qty,
        buy_fees=row.buy_fees, sold_qty=row.sold_qty, sell_notional=row.sell_notional, sell_fees=row.sell_fees,
        realized_pnl=row.realized_pnl, sell_price=row.sell_price, completed_at=row.completed_at,
        stop_loss_since=row.stop_loss_since, close_requested_at=row.close_requested_at,
        resting=tuple(_live_order(order_row) for order_row in resting),
    )


def _live_order(row: DcaOrder) -> LiveOrder:
    return LiveOrder(
        client_order_id=row.client_order_id, kind=OrderKind(row.order_kind), side=Side(row.side),
        order_type=OrderType(row.type), qty=row.qty or ZERO, limit_price=row.limit_price,
        created_at=row.decided_at or row.created_at, exchange_id=row.id, filled_qty=row.applied_filled_qty,
        filled_notional=row.applied_notional, fee=row.applied_fee, position_before=row.position_before,
        cancel_requested_at=row.cancel_requested_at,
        fee_source=FeeSource(row.fee_source) if row.applied_filled_qty else FeeSource.ESTIMATE,  # see _write_order
    )
