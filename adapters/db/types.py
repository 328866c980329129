"""Column types that keep money exact and time in UTC on both MariaDB and SQLite.

SQLite has no DECIMAL: SQLAlchemy's `Numeric` would store a float there and give back a number
that is off by a few units in the 16th digit. `ExactDecimal` stores the decimal's text on SQLite
and a real `DECIMAL(p, s)` on MariaDB/MySQL. Values are rounded half-even to the column's scale
before they are written, so what is read back is what was written, on both engines.

`UtcDateTime` stores naive UTC (`DATETIME(6)` on MariaDB: microseconds keep events in order) and
hands back aware UTC datetimes. MariaDB `TIMESTAMP` is avoided on purpose: it converts through the
session time zone and ends in 2038.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_WIDE = Context(prec=80)


class ExactDecimal(TypeDecorator[Decimal]):
    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)
        self._limit = Decimal(10) ** (precision - scale)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal | int):
            raise TypeError(f"decimal column expects Decimal or int, got {type(value).__name__}")
        exact = Decimal(value).quantize(self._quantum, rounding=ROUND_HALF_EVEN, context=_WIDE)
        if abs(exact) >= self._limit:
            raise ValueError(f"{value} does not fit DECIMAL({self.precision},{self.scale})")
        return str(exact) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))

    def fits(self, value: Decimal) -> bool:
        """Whether `value` is stored without rounding."""
        return value == value.quantize(self._quantum, context=_WIDE) and abs(value) < self._limit


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"datetime column expects datetime, got {type(value).__name__}")
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
