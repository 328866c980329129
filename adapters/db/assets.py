"""`dca_assets`: which pairs the bot trades and with which parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import select

from adapters.db.database import Database
from adapters.db.models import DcaAsset
from adapters.db.types import ExactDecimal
from dca.assets import AssetRecord
from dca.cycle import OrderType
from dca.params import AssetParams, InvalidParams, with_overrides

# The parameters with a column (a parameter whose migration has not landed yet keeps its default)
PARAM_FIELDS = tuple(f.name for f in fields(AssetParams) if f.name in DcaAsset.__table__.columns)


class UnknownAsset(LookupError):
    pass


class AssetRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, symbols: Iterable[str], params: AssetParams, enabled: bool) -> tuple[list[AssetRecord], list[str]]:
        """Insert the symbols not yet configured (one transaction); returns (added, already there)."""
        _check_storable(params)
        now = self._db.now()
        added, existing = [], []
        with self._db.transaction() as session:
            known = set(session.execute(select(DcaAsset.asset_symbol)).scalars())
            for symbol in symbols:
                if symbol in known:
                    existing.append(symbol)
                    continue
                row = DcaAsset(asset_symbol=symbol, is_enabled=enabled, created_at=now, updated_at=now,
                               **_param_columns(params))
                session.add(row)
                session.flush()
                added.append(_record(row))
                known.add(symbol)
        return added, existing

    def all(self) -> list[AssetRecord]:
        with self._db.transaction() as session:
            return [_record(row) for row in session.execute(select(DcaAsset).order_by(DcaAsset.id)).scalars()]

    def enabled(self) -> list[AssetRecord]:
        return [asset for asset in self.all() if asset.enabled]

    def get(self, symbol: str) -> AssetRecord | None:
        with self._db.transaction() as session:
            row = session.execute(select(DcaAsset).where(DcaAsset.asset_symbol == symbol)).scalar_one_or_none()
            return _record(row) if row is not None else None

    def by_id(self, asset_id: int) -> AssetRecord | None:
        with self._db.transaction() as session:
            row = session.get(DcaAsset, asset_id)
            return _record(row) if row is not None else None

    def update_params(self, symbol: str, overrides: Mapping[str, Any]) -> AssetRecord:
        """Apply `name=value` overrides; every bad value is named and nothing is written."""
        with self._db.transaction() as session:
            row = _row(session, symbol)
            params = with_overrides(_record(row).params, overrides)
            _check_storable(params)
            for name, value in _param_columns(params).items():
                setattr(row, name, value)
            row.updated_at = self._db.now()
            return _record(row)

    def set_enabled(self, symbol: str, enabled: bool) -> AssetRecord:
        with self._db.transaction() as session:
            row = _row(session, symbol)
            row.is_enabled = enabled
            row.updated_at = self._db.now()
            return _record(row)


def _row(session: Any, symbol: str) -> DcaAsset:
    row = session.execute(select(DcaAsset).where(DcaAsset.asset_symbol == symbol)).scalar_one_or_none()
    if row is None:
        raise UnknownAsset(f"{symbol} is not configured (see `assets list`)")
    return row


def _param_columns(params: AssetParams) -> dict[str, Any]:
    return {name: getattr(params, name) for name in PARAM_FIELDS}


def _check_storable(params: AssetParams) -> None:
    """The columns' DECIMAL scale is part of the contract: refuse a value the database would round."""
    problems = {}
    for name in PARAM_FIELDS:
        value = getattr(params, name)
        column_type = DcaAsset.__table__.columns[name].type
        if isinstance(column_type, ExactDecimal) and value is not None and not column_type.fits(value):
            problems[name] = f"at most {column_type.scale} decimal places and {column_type.precision} digits"
    if problems:
        raise InvalidParams(problems)


def _record(row: DcaAsset) -> AssetRecord:
    columns = {name: getattr(row, name) for name in PARAM_FIELDS}
    columns["take_profit_order_type"] = OrderType(columns["take_profit_order_type"])
    params = AssetParams(**columns)
    return AssetRecord(row.id, row.asset_symbol, bool(row.is_enabled), params, row.last_sell_price, row.dust_quantity)
