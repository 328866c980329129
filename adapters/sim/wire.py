"""Alpaca's JSON shapes (alpaca-wire.md §2.4): orders, positions, account, assets, trade updates.

Money and quantities leave as strings (alpaca-py's `str` fields reject JSON numbers); timestamps as
RFC 3339 with microseconds and `Z`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from adapters.sim.accounting import Position
from adapters.sim.assets import AssetSpec
from adapters.sim.events import TradeEvent
from adapters.sim.orders import Order, Side

DISPLAY_QUANTUM = Decimal("1e-10")


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dec(value: Decimal | None) -> str | None:
    """Exact decimal text without exponent or trailing zeros: `0.0009975`, `60005`."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def display(value: Decimal) -> str:
    """A derived figure (ratio, market value) rounded to 10 decimals for display."""
    return dec(value.quantize(DISPLAY_QUANTUM, ROUND_HALF_EVEN))  # type: ignore[return-value]


def order_json(order: Order, legacy_symbol: bool = False) -> dict[str, Any]:
    """`legacy_symbol` (quirk legacy_symbols): the pair as `BTCUSD`, as older docs show it."""
    return {
        "id": str(order.id),
        "client_order_id": order.client_order_id,
        "created_at": rfc3339(order.created_at),
        "updated_at": rfc3339(order.updated_at),
        "submitted_at": rfc3339(order.submitted_at),
        "filled_at": rfc3339(order.filled_at),
        "expired_at": rfc3339(order.expired_at),
        "canceled_at": rfc3339(order.canceled_at),
        "failed_at": rfc3339(order.failed_at),
        "expires_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": str(order.asset_id),
        "symbol": order.symbol.replace("/", "") if legacy_symbol else order.symbol,
        "asset_class": "crypto",
        "notional": dec(order.notional),
        "qty": dec(order.qty),
        "filled_qty": dec(order.filled_qty),
        "filled_avg_price": dec(order.filled_avg_price),
        "order_class": "",
        "order_type": order.type.value,
        "type": order.type.value,
        "side": order.side.value,
        "position_intent": "buy_to_open" if order.side is Side.BUY else "sell_to_close",
        "time_in_force": order.time_in_force.value,
        "limit_price": dec(order.limit_price),
        "stop_price": dec(order.stop_price),
        "status": order.status.value,
        "extended_hours": order.extended_hours,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
        "subtag": None,
        "source": None,
    }


def position_json(
    position: Position, spec: AssetSpec, qty_available: Decimal, current: Decimal, lastday: Decimal
) -> dict[str, Any]:
    market_value = position.qty * current
    cost_basis = position.cost_basis
    unrealized = market_value - cost_basis
    intraday = (current - lastday) * position.qty
    return {
        "asset_id": str(spec.id),
        "symbol": spec.compact_symbol,
        "exchange": "CRYPTO",
        "asset_class": "crypto",
        "asset_marginable": False,
        "qty": dec(position.qty),
        "qty_available": dec(qty_available),
        "avg_entry_price": dec(position.avg_entry_price),
        "side": "long",
        "market_value": display(market_value),
        "cost_basis": display(cost_basis),
        "unrealized_pl": display(unrealized),
        "unrealized_plpc": display(unrealized / cost_basis) if cost_basis else "0",
        "unrealized_intraday_pl": display(intraday),
        "unrealized_intraday_plpc": display(intraday / (lastday * position.qty)) if lastday else "0",
        "current_price": dec(current),
        "lastday_price": dec(lastday),
        "change_today": display(current / lastday - 1) if lastday else "0",
    }


def account_json(
    account_id: uuid.UUID,
    account_number: str,
    view: Any,
    long_market_value: Decimal,
    last_equity: Decimal,
    created_at: datetime,
    true_cash: Decimal,
) -> dict[str, Any]:
    """`view` is the exchange's `AccountView`: cash as reported, the buying-power fields, crypto_status."""
    equity = true_cash + long_market_value
    power = dec(view.buying_power)
    return {
        "id": str(account_id),
        "account_number": account_number,
        "status": "ACTIVE",
        "crypto_status": view.crypto_status,
        "currency": "USD",
        "cash": dec(view.cash),
        "buying_power": power,
        "regt_buying_power": power,
        "non_marginable_buying_power": dec(view.non_marginable_buying_power),
        "options_buying_power": power,
        "accrued_fees": "0",
        "pending_transfer_in": "0",
        "pending_transfer_out": "0",
        "portfolio_value": display(equity),
        "equity": display(equity),
        "last_equity": display(last_equity),
        "long_market_value": display(long_market_value),
        "short_market_value": "0",
        "initial_margin": "0",
        "maintenance_margin": "0",
        "last_maintenance_margin": "0",
        "sma": "0",
        "multiplier": dec(view.multiplier),
        "shorting_enabled": False,
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "trade_suspended_by_user": False,
        "created_at": rfc3339(created_at),
        "options_approved_level": 0,
        "options_trading_level": 0,
        "crypto_tier": 1,
    }


def asset_json(spec: AssetSpec, min_order_size: Decimal | None = None) -> dict[str, Any]:
    return {
        "id": str(spec.id),
        "class": "crypto",
        "exchange": "CRYPTO",
        "symbol": spec.symbol,
        "name": spec.name,
        "status": "active",
        "tradable": spec.quote_currency == "USD",
        "marginable": False,
        "maintenance_margin_requirement": 100,
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": True,
        "attributes": [],
        "min_order_size": dec(min_order_size if min_order_size is not None else spec.min_order_size),
        "min_trade_increment": dec(spec.min_trade_increment),
        "price_increment": dec(spec.price_increment),
    }


def trade_update_json(event: TradeEvent, legacy_symbol: bool = False, position_qty: bool = True) -> dict[str, Any]:
    """`position_qty=False` (quirk no_position_qty): fills carry no position_qty (it is optional)."""
    data: dict[str, Any] = {
        "event": event.event,
        "timestamp": rfc3339(event.timestamp),
        "order": order_json(event.order, legacy_symbol),
    }
    if event.execution is not None:
        execution = event.execution
        data.update(execution_id=str(execution.id), price=dec(execution.price), qty=dec(execution.qty))
        if position_qty:
            data["position_qty"] = dec(event.position_qty)
    return {"stream": "trade_updates", "data": data}
