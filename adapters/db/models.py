"""SQLAlchemy 2.0 models of the bot's tables.

The four tables of the original specification (`dca_assets`, `dca_cycles`, `dca_orders`,
`historical_1min_bars`) keep their columns, decimal precisions, keys and indexes. What we add, and
why, is listed in adapters/db/README.md; in short:

* money accumulators the original did not keep (cycle cost, fees, realized P/L) as DECIMAL(40,20);
* the link from an order to its cycle, and our client_order_id as a UNIQUE key, because the order's
  row is written *before* it is submitted (so `dca_orders` gets a surrogate primary key `pk`, and
  the exchange's order `id` becomes a nullable UNIQUE column filled in when the exchange answers);
* DATETIME(6) in UTC instead of TIMESTAMP;
* `dca_cycle_events`, the audit trail of every transition, order and fill of a cycle;
* `dca_meta`, a key/value table holding this installation's order-id tag.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from adapters.db.types import ExactDecimal, UtcDateTime

PRICE = ExactDecimal(20, 10)  # the original's DECIMAL(20,10)
QTY = ExactDecimal(30, 15)  # the original's DECIMAL(30,15)
PERCENT = ExactDecimal(10, 4)  # the original's DECIMAL(10,4)
MONEY = ExactDecimal(40, 20)  # our accumulators: sums of qty × price keep every digit


MYSQL_TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_general_ci"}


class Base(DeclarativeBase):
    pass


class DcaAsset(Base):
    __tablename__ = "dca_assets"
    __table_args__ = (UniqueConstraint("asset_symbol", name="asset_symbol"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_symbol: Mapped[str] = mapped_column(String(25), nullable=False)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("1"))
    base_order_amount: Mapped[Decimal] = mapped_column(PRICE, nullable=False, server_default=text("10"))
    safety_order_amount: Mapped[Decimal] = mapped_column(PRICE, nullable=False, server_default=text("20"))
    max_safety_orders: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("15"))
    safety_order_deviation: Mapped[Decimal] = mapped_column(PERCENT, nullable=False, server_default=text("0.9"))
    take_profit_percent: Mapped[Decimal] = mapped_column(PERCENT, nullable=False, server_default=text("2"))
    ttp_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("1"))
    ttp_deviation_percent: Mapped[Decimal | None] = mapped_column(PERCENT, server_default=text("1"))
    last_sell_price: Mapped[Decimal | None] = mapped_column(PRICE)
    buy_order_price_deviation_percent: Mapped[Decimal] = mapped_column(
        PERCENT, nullable=False, server_default=text("1")
    )
    cooldown_period: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("120"))
    # added: 3Commas-style martingale coefficients (1 = the original's fixed steps and sizes)
    safety_order_step_scale: Mapped[Decimal] = mapped_column(PERCENT, nullable=False, server_default=text("1"))
    safety_order_volume_scale: Mapped[Decimal] = mapped_column(PERCENT, nullable=False, server_default=text("1"))
    # added: coin left by completed cycles below the trade increment; joins the next sell
    dust_quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    # added (0005): 3Commas' deal start condition, price range and stop loss; NULL = off
    start_condition: Mapped[str | None] = mapped_column(String(500))
    min_price: Mapped[Decimal | None] = mapped_column(PRICE)
    max_price: Mapped[Decimal | None] = mapped_column(PRICE)
    stop_loss_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    stop_loss_timeout: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    # added (0007): the take-profit's order type and 3Commas' max active safety orders
    take_profit_order_type: Mapped[str] = mapped_column(String(10), nullable=False, server_default=text("'market'"))
    active_safety_orders: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DcaCycle(Base):
    __tablename__ = "dca_cycles"
    __table_args__ = (Index("asset_id", "asset_id"), Index("idx_asset_status", "asset_id", "status"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("dca_assets.id", ondelete="CASCADE"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    average_purchase_price: Mapped[Decimal] = mapped_column(PRICE, nullable=False, server_default=text("0"))
    safety_orders: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    latest_order_id: Mapped[str | None] = mapped_column(String(255))  # the exchange's id of the live order
    latest_order_created_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_order_fill_price: Mapped[Decimal | None] = mapped_column(PRICE)
    highest_trailing_price: Mapped[Decimal | None] = mapped_column(PRICE)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sell_price: Mapped[Decimal | None] = mapped_column(PRICE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # added: what the cycle paid and earned, and what it is waiting for
    latest_order_client_id: Mapped[str | None] = mapped_column(String(64))  # our id of the live order
    order_seq: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    cost: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default=text("0"))
    bought_qty: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    buy_fees: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    sold_qty: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    sell_notional: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default=text("0"))
    sell_fees: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default=text("0"))
    realized_pnl: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default=text("0"))
    cooldown_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # added (0006): since when the bid has stayed below the stop-loss level; when the operator asked to close
    stop_loss_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    close_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DcaOrder(Base):
    __tablename__ = "dca_orders"
    __table_args__ = (
        UniqueConstraint("id", name="uq_order_id"),
        UniqueConstraint("client_order_id", name="idx_client_order_id"),
        Index("idx_symbol", "symbol"),
        Index("idx_status", "status"),
        Index("idx_side", "side"),
        Index("idx_created_at", "created_at"),
        Index("idx_filled_at", "filled_at"),
        Index("idx_fetched_at", "fetched_at"),
        Index("idx_cycle_id", "cycle_id"),
        MYSQL_TABLE,
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # added: see module doc
    id: Mapped[str | None] = mapped_column(String(36))  # the exchange's order id, once it has answered
    client_order_id: Mapped[str] = mapped_column(String(128), nullable=False)
    asset_id: Mapped[str | None] = mapped_column(String(36))  # Alpaca's asset UUID (not dca_assets.id)
    symbol: Mapped[str | None] = mapped_column(String(25))
    asset_class: Mapped[str | None] = mapped_column(String(20))
    order_class: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("''"))
    order_type: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(20))
    side: Mapped[str | None] = mapped_column(String(10))
    position_intent: Mapped[str | None] = mapped_column(String(20))
    qty: Mapped[Decimal | None] = mapped_column(QTY)
    notional: Mapped[Decimal | None] = mapped_column(PRICE)
    filled_qty: Mapped[Decimal | None] = mapped_column(QTY)
    filled_avg_price: Mapped[Decimal | None] = mapped_column(PRICE)
    limit_price: Mapped[Decimal | None] = mapped_column(PRICE)
    stop_price: Mapped[Decimal | None] = mapped_column(PRICE)
    trail_price: Mapped[Decimal | None] = mapped_column(PRICE)
    trail_percent: Mapped[Decimal | None] = mapped_column(PERCENT)
    ratio_qty: Mapped[Decimal | None] = mapped_column(QTY)
    hwm: Mapped[Decimal | None] = mapped_column(PRICE)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    time_in_force: Mapped[str] = mapped_column(String(10), nullable=False)
    extended_hours: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    filled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    replaced_by: Mapped[str | None] = mapped_column(String(36))
    replaces: Mapped[str | None] = mapped_column(String(36))
    legs: Mapped[str | None] = mapped_column(Text)  # JSON
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_by_fetch_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # added: the bot's side of the order (NULL for orders the bot did not place)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("dca_cycles.id", ondelete="SET NULL"))
    dca_asset_id: Mapped[int | None] = mapped_column(ForeignKey("dca_assets.id", ondelete="SET NULL"))
    order_kind: Mapped[str | None] = mapped_column(String(20))  # base / safety / take_profit
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when the cycle decided to place it
    applied_filled_qty: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    applied_notional: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default=text("0"))
    applied_fee: Mapped[Decimal] = mapped_column(MONEY, nullable=False, server_default=text("0"))
    fee_source: Mapped[str] = mapped_column(String(8), nullable=False, server_default=text("'estimate'"))
    position_before: Mapped[Decimal | None] = mapped_column(QTY)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # added (0007): one of its cycle's resting orders, placed ahead of need (a safety order of the
    # ladder, or the limit take-profit); set while the cycle holds it, cleared once the cycle lets it go
    # (so a restart loads back exactly the live ones); false for the cycle's one acting order
    resting: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("0"))


class HistoricalBar(Base):
    __tablename__ = "historical_1min_bars"
    __table_args__ = (
        UniqueConstraint("asset_id", "timestamp", name="unique_asset_timestamp"),
        Index("idx_timestamp", "timestamp"),
        Index("idx_asset_id", "asset_id"),
        Index("idx_asset_timestamp_range", "asset_id", "timestamp"),
        {"comment": "Historical 1-minute OHLCV bars for cryptocurrency backtesting", **MYSQL_TABLE},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("dca_assets.id", ondelete="CASCADE"), nullable=False)
    timestamp: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    open: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    high: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    low: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    close: Mapped[Decimal] = mapped_column(PRICE, nullable=False)
    volume: Mapped[Decimal] = mapped_column(QTY, nullable=False, server_default=text("0"))
    trade_count: Mapped[Decimal | None] = mapped_column(PRICE)
    vwap: Mapped[Decimal | None] = mapped_column(PRICE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DcaCycleEvent(Base):
    """Added: one row per thing that happened to a cycle (transition, order, fill), in order."""

    __tablename__ = "dca_cycle_events"
    __table_args__ = (Index("idx_cycle_event", "cycle_id", "id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("dca_cycles.id", ondelete="CASCADE"), nullable=False)
    asset_id: Mapped[int] = mapped_column(ForeignKey("dca_assets.id", ondelete="CASCADE"), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, nullable=False)


class DcaMeta(Base):
    """Added: installation-wide facts (the order-id tag)."""

    __tablename__ = "dca_meta"
    __table_args__ = (MYSQL_TABLE,)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), nullable=False)


class DcaRequest(Base):
    """Added: a command for the running supervisor (e.g. `adopt`), handled by the asset's own actor."""

    __tablename__ = "dca_requests"
    __table_args__ = (Index("idx_request_pending", "handled_at"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    symbol: Mapped[str] = mapped_column(String(25), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[str | None] = mapped_column(Text)


class DcaOwnerLease(Base):
    """Added: who owns the book (one row). A supervisor renews its lease by heartbeat; another process
    may take it only once it has expired, by compare-and-set on `token` (adapters/db/lease.py)."""

    __tablename__ = "dca_owner_lease"
    __table_args__ = (MYSQL_TABLE,)

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str | None] = mapped_column(String(64))  # NULL: released
    holder: Mapped[str] = mapped_column(String(32), nullable=False)  # the command: run, adopt
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
