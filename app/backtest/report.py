"""Writing a backtest down: `result.json`, `cycles.csv`, `fills.csv` and the terminal summary.

Money is written as decimal strings (rounded half-even to 10 places, the precision of the bot's
price columns); ratios are plain JSON numbers; times are ISO-8601 UTC.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from app.backtest.insights import Drawdown, fill_liquidity, hourly_equity, pnl_percent, take_profit_triggers
from app.backtest.metrics import Curves, Summary
from app.backtest.runner import RunOutcome
from dca.backtest.records import CycleRecord, OrderRecord
from dca.money import ZERO

MONEY_PLACES = Decimal("1e-10")


@dataclass(frozen=True)
class Assumptions:
    """What the numbers depend on besides the data and the parameters (echoed into result.json)."""

    data: str
    fast_path: bool
    starting_cash: Decimal
    accounts: str = "one independent account per symbol, each with the starting cash"
    quote_path: str = ("4 quotes per bar at +0/15/30/45 s: open, low, high, close for an up bar, "
                       "open, high, low, close for a down bar (dca.market.bar_quote_path)")
    fills: str = ("the simulator's MatchingEngine: an order is matched from the NEXT quote on; taker at the "
                  "touch, a resting limit fills at its limit as maker; fees in the asset received")


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.quantize(MONEY_PLACES, rounding=ROUND_HALF_EVEN), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def summary_json(summary: Summary, outcome: RunOutcome, insight: dict[str, Any] | None = None) -> dict[str, Any]:
    setup, config = outcome.setup, outcome.setup.config
    triggers = take_profit_triggers(outcome)
    return {
        "symbol": summary.symbol,
        "first_bar": _time(summary.first_bar), "last_bar": _time(summary.last_bar),
        "bars_processed": summary.bars, "bars_replayed": summary.bars_replayed,
        "cycles_completed": summary.cycles_completed,
        "realized_pnl": money(summary.realized_pnl), "unrealized_pnl": money(summary.unrealized_pnl),
        "total_pnl": money(summary.total_pnl), "fees": money(summary.fees),
        "starting_cash": money(summary.starting_cash), "final_equity": money(summary.final_equity),
        "max_capital_committed": money(summary.max_committed),
        "return_on_capital": float(summary.return_on_capital) if summary.return_on_capital is not None else None,
        "max_drawdown": summary.max_drawdown, "max_drawdown_value": summary.max_drawdown_value,
        "sharpe": summary.sharpe, "sortino": summary.sortino, "time_in_market": summary.time_in_market,
        "average_cycle_duration_seconds": _seconds(summary.average_cycle_duration),
        "max_safety_orders_used": summary.max_safety_orders_used,
        "winning_cycles": summary.winning_cycles, "losing_cycles": summary.losing_cycles,
        "win_rate": summary.win_rate,
        "open_cycle_quantity": money(summary.open_cycle_quantity),
        "open_cycle_safety_orders": summary.open_cycle_safety_orders, "open_orders": summary.open_orders,
        "orders_rejected": summary.orders_rejected, "first_rejection": _rejection(summary.first_rejection),
        "params": {name: _plain(value) for name, value in vars_of(config.params).items()},
        "exchange": {"min_order_size": _plain(config.rules.min_order_size),
                     "min_trade_increment": _plain(config.rules.min_trade_increment),
                     "price_increment": _plain(config.rules.price_increment),
                     "min_notional": _plain(config.rules.min_notional),
                     "maker_fee_bps": _plain(config.fees.maker_bps), "taker_fee_bps": _plain(config.fees.taker_bps),
                     "spread_bps": _plain(setup.spread_bps)},
        "timing": {"stale_buy_after_seconds": config.timing.stale_buy_after.total_seconds(),
                   "stuck_sell_after_seconds": config.timing.stuck_sell_after.total_seconds(),
                   "retry_after_failure_seconds": config.timing.retry_after_failure.total_seconds()},
        **plain(insight or {}),
        "cycles": [cycle_json(c, triggers.get(c.cycle_id)) for c in outcome.session.log.cycles],
    }


def plain(value: Any) -> Any:
    """JSON-ready: money as decimal strings, times as ISO-8601, drawdowns as objects."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, Drawdown):
        return value.json()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def cycle_json(cycle: CycleRecord, take_profit_trigger: Decimal | None = None) -> dict[str, Any]:
    return {
        "cycle": cycle.cycle_id, "status": cycle.status.value, "started_at": _time(cycle.started_at),
        "completed_at": _time(cycle.completed_at), "duration_seconds": _seconds(_duration(cycle)),
        "safety_orders": cycle.safety_orders, "bought_qty": money(cycle.bought_qty),
        "sold_qty": money(cycle.sold_qty), "average_price": money(cycle.average_price),
        "sell_price": money(cycle.sell_price), "cost": money(cycle.cost),
        "proceeds": money(cycle.sell_notional - cycle.sell_fees), "fees": money(cycle.fees_value),
        "realized_pnl": money(cycle.realized_pnl), "pnl_percent": pnl_percent(cycle),
        "take_profit_trigger": money(take_profit_trigger), "unrealized_pnl": None,
    }


def result_json(pairs: Sequence[tuple[Summary, RunOutcome]], assumptions: Assumptions,
                combined: dict[str, Any], insight: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    summaries = [summary for summary, _ in pairs]
    extra = list(insight) if insight is not None else [None] * len(pairs)
    return {
        "symbols": [s.symbol for s in summaries],
        "cycles_completed": sum(s.cycles_completed for s in summaries),
        "realized_pnl": money(sum((s.realized_pnl for s in summaries), ZERO)),
        "unrealized_pnl": money(sum((s.unrealized_pnl for s in summaries), ZERO)),
        "total_pnl": money(sum((s.total_pnl for s in summaries), ZERO)),
        "fees": money(sum((s.fees for s in summaries), ZERO)),
        "bars_processed": sum(s.bars for s in summaries),
        "orders_rejected": sum(s.orders_rejected for s in summaries),
        **combined,
        "assumptions": {"data": assumptions.data, "fast_path": assumptions.fast_path,
                        "starting_cash_per_symbol": money(assumptions.starting_cash), "accounts": assumptions.accounts,
                        "quote_path": assumptions.quote_path, "fills": assumptions.fills,
                        "sharpe_sortino": "daily returns (UTC days), risk-free 0, annualised by sqrt(365)"},
        "per_symbol": {summary.symbol: summary_json(summary, outcome, more)
                       for (summary, outcome), more in zip(pairs, extra, strict=True)},
    }


def _rejection(order: OrderRecord | None) -> dict[str, Any] | None:
    if order is None:
        return None
    return {"time": _time(order.decided_at), "kind": order.kind.value, "side": order.side.value,
            "qty": money(order.qty), "limit_price": money(order.limit_price), "message": order.message}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_cycles_csv(path: Path, outcomes: Sequence[RunOutcome], open_cycles: Sequence[dict[str, Any] | None] = (),
                     ) -> None:
    """Every completed cycle, then the cycle still open at the end (status `open (<state>)`)."""
    rows = []
    for index, outcome in enumerate(outcomes):
        triggers = take_profit_triggers(outcome)
        rows += [{"symbol": outcome.setup.symbol, **cycle_json(c, triggers.get(c.cycle_id))}
                 for c in outcome.session.log.cycles]
        still = open_cycles[index] if index < len(open_cycles) else None
        if still is not None:
            rows.append({"symbol": outcome.setup.symbol, "cycle": still["cycle"], "status": f"open ({still['status']})",
                         "started_at": still["started_at"], "safety_orders": still["safety_orders"],
                         "bought_qty": money(still["quantity"]), "average_price": money(still["average_price"]),
                         "cost": money(still["cost"]), "unrealized_pnl": money(still["unrealized_pnl"]),
                         "pnl_percent": still["unrealized_pnl_percent"]})
    _write_csv(path, ["symbol", *cycle_json_fields()], rows)


def write_fills_csv(path: Path, outcomes: Sequence[RunOutcome]) -> None:
    fields = ["symbol", "time", "cycle", "kind", "side", "liquidity", "qty", "price", "fee", "fee_value",
              "client_order_id"]
    rows = [{"symbol": o.setup.symbol, "time": _time(f.time), "cycle": f.cycle_id, "kind": f.kind.value,
             "side": f.side.value, "liquidity": who, "qty": money(f.qty), "price": money(f.price), "fee": money(f.fee),
             "fee_value": money(f.fee_value), "client_order_id": f.client_order_id}
            for o in outcomes for f, who in zip(o.session.log.fills, fill_liquidity(o), strict=True)]
    _write_csv(path, fields, rows)


def write_equity_csv(path: Path, outcomes: Sequence[RunOutcome], curve_list: Sequence[Curves]) -> None:
    """The account at each UTC hour's last bar (a year of minutes would be half a million rows)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["symbol", "time", "close", "equity", "cash", "committed"])
        for outcome, curve in zip(outcomes, curve_list, strict=True):
            writer.writerows((outcome.setup.symbol, *row) for row in hourly_equity(outcome, curve))


def cycle_json_fields() -> list[str]:
    return ["cycle", "status", "started_at", "completed_at", "duration_seconds", "safety_orders", "bought_qty",
            "sold_qty", "average_price", "sell_price", "cost", "proceeds", "fees", "realized_pnl", "pnl_percent",
            "take_profit_trigger", "unrealized_pnl"]


def _write_csv(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def vars_of(params: Any) -> dict[str, Any]:
    return {name: getattr(params, name) for name in params.__dataclass_fields__}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _seconds(span: timedelta | None) -> float | None:
    return span.total_seconds() if span is not None else None


def _duration(cycle: CycleRecord) -> timedelta | None:
    if cycle.started_at is None or cycle.completed_at is None:
        return None
    return cycle.completed_at - cycle.started_at
