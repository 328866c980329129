"""alpaca-py's models and raw stream messages → the bot's plain, exact values.

Decimals are taken from the wire's strings (alpaca-py keeps order and position figures as `str`;
the trade-update model would coerce `position_qty` to float, which is why trade updates are read
raw). Quote prices arrive as msgpack floats; `Decimal(repr(x))` recovers the shortest decimal that
the float stands for, which is the price the venue sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dca.assets import compact_symbol
from dca.exchange import ExchangeOrder, Position
from dca.market import Quote
from dca.money import ZERO
from ports.streams import TradeUpdate

QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "BTC", "ETH")


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def timestamp(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def order_from_json(data: dict[str, Any]) -> ExchangeOrder:
    """An order from its JSON form (a REST body, a trade update, or a model dumped to JSON)."""
    legs = data.get("legs")
    return ExchangeOrder(
        id=str(data["id"]), client_order_id=str(data["client_order_id"]), symbol=_order_symbol(data),
        side=_enum(data.get("side")), type=_enum(data.get("type") or data.get("order_type")),
        time_in_force=_enum(data.get("time_in_force")), status=_enum(data.get("status")),
        created_at=_required_time(data, "created_at"),
        qty=decimal_or_none(data.get("qty")), notional=decimal_or_none(data.get("notional")),
        filled_qty=decimal_or_none(data.get("filled_qty")) or ZERO,
        filled_avg_price=_positive(decimal_or_none(data.get("filled_avg_price"))),
        limit_price=decimal_or_none(data.get("limit_price")), stop_price=decimal_or_none(data.get("stop_price")),
        updated_at=timestamp(data.get("updated_at")), submitted_at=timestamp(data.get("submitted_at")),
        filled_at=timestamp(data.get("filled_at")), canceled_at=timestamp(data.get("canceled_at")),
        expired_at=timestamp(data.get("expired_at")), expires_at=timestamp(data.get("expires_at")),
        failed_at=timestamp(data.get("failed_at")), replaced_at=timestamp(data.get("replaced_at")),
        replaced_by=_str(data.get("replaced_by")), replaces=_str(data.get("replaces")),
        asset_id=_str(data.get("asset_id")), asset_class=_enum(data.get("asset_class")) or None,
        order_class=_enum(data.get("order_class")), position_intent=_enum(data.get("position_intent")) or None,
        extended_hours=bool(data.get("extended_hours")),
        trail_price=decimal_or_none(data.get("trail_price")), trail_percent=decimal_or_none(data.get("trail_percent")),
        hwm=decimal_or_none(data.get("hwm")), ratio_qty=decimal_or_none(data.get("ratio_qty")),
        legs=json.dumps(legs, default=str) if legs else None,
    )


def _order_symbol(data: dict[str, Any]) -> str:
    """A crypto order's pair in the canonical `BTC/USD` form, also where the venue names it `BTCUSD`
    (older documentation and responses do): the books and the mirror key pairs by the canonical form."""
    symbol = str(data.get("symbol") or "")
    if _enum(data.get("asset_class")) == "crypto":
        return slash_symbol(symbol, {})
    return symbol


def order_from_model(model: Any) -> ExchangeOrder:
    return order_from_json(model.model_dump(mode="json"))


def trade_update_from_raw(message: dict[str, Any]) -> TradeUpdate:
    """A raw `{"stream": "trade_updates", "data": {...}}` message."""
    data = message.get("data", message)
    order = order_from_json(data["order"])
    return TradeUpdate(
        event=str(data["event"]), order=order, time=timestamp(data.get("timestamp")) or order.created_at,
        price=decimal_or_none(data.get("price")), qty=decimal_or_none(data.get("qty")),
        position_qty=decimal_or_none(data.get("position_qty")), execution_id=_str(data.get("execution_id")),
    )


def quote_from_raw(message: dict[str, Any]) -> Quote:
    """A raw msgpack quote `{"T":"q","S":..,"bp":..,"ap":..,"bs":..,"as":..,"t":Timestamp}`. The sizes
    are left out: the strategy does not use them, and this runs for every quote."""
    stamp = message["t"]
    when = stamp.to_datetime() if hasattr(stamp, "to_datetime") else timestamp(stamp)
    return Quote(message["S"], Decimal(repr(message["bp"])), Decimal(repr(message["ap"])), when)


def position_from_model(model: Any, known_symbols: dict[str, str]) -> Position:
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else model
    return Position(
        symbol=slash_symbol(str(data["symbol"]), known_symbols), qty=Decimal(str(data["qty"])),
        avg_entry_price=Decimal(str(data["avg_entry_price"])),
        qty_available=decimal_or_none(data.get("qty_available")),
    )


def slash_symbol(symbol: str, known: dict[str, str]) -> str:
    """`BTCUSD` → `BTC/USD` (positions come back in the compact form)."""
    if "/" in symbol:
        return symbol
    if symbol in known:
        return known[symbol]
    for quote in QUOTE_CURRENCIES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return f"{symbol[:-len(quote)]}/{quote}"
    return symbol


def compact_index(symbols: list[str]) -> dict[str, str]:
    return {compact_symbol(s): s for s in symbols}


def _required_time(data: dict[str, Any], key: str) -> datetime:
    value = timestamp(data.get(key))
    if value is None:
        raise ValueError(f"order {data.get('id')} has no {key}")
    return value


def _enum(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _positive(value: Decimal | None) -> Decimal | None:
    """Alpaca reports filled_avg_price 0 until something fills."""
    return value if value is not None and value > 0 else None
