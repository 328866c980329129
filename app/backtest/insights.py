"""What a DCA user reads first, beyond the summary: the strategy beside buy-and-hold, drawdowns
with their dates, the open cycle, the cycles' extremes, a month-by-month table, the fees split by
maker/taker and buy/sell, and how far take-profits filled below their trigger.

Money comes from the session's exact records (Decimal); curve-based figures (drawdowns, monthly
equity) are floats from `metrics.Curves`, like the summary's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from app.backtest.metrics import Curves, Summary
from app.backtest.runner import RunOutcome
from app.backtest.series import EPOCH
from dca.backtest.records import CycleRecord
from dca.cycle import OrderKind, Side
from dca.money import ZERO


@dataclass(frozen=True)
class Drawdown:
    """The largest fall of a curve from its running peak: how deep, when, and how long it lasted."""

    fraction: float  # of the peak (or of the capital deployed, for the strategy's drawdown)
    value: float  # in money
    peak_at: datetime | None
    trough_at: datetime | None
    recovered_at: datetime | None  # the first bar back at the peak; None if it never got there
    duration: timedelta | None  # peak to recovery, or to the last bar while it has not recovered

    def json(self) -> dict[str, Any]:
        return {"fraction": self.fraction, "value": self.value, "peak_at": _iso(self.peak_at),
                "trough_at": _iso(self.trough_at), "recovered_at": _iso(self.recovered_at),
                "duration_seconds": self.duration.total_seconds() if self.duration is not None else None}


def drawdown(times: np.ndarray, curve: np.ndarray, base: np.ndarray | None = None) -> Drawdown:
    """The deepest fall of `curve` below its running peak, as a fraction of that peak or, with
    `base`, of `base` at the trough (e.g. the most capital deployed so far)."""
    if len(curve) == 0:
        return Drawdown(0.0, 0.0, None, None, None, None)
    peak = np.maximum.accumulate(curve)
    fall = peak - curve
    denominator = peak if base is None else base
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(denominator > 0, fall / denominator, 0.0)
    trough = int(np.argmax(share))
    if share[trough] <= 0:
        return Drawdown(0.0, 0.0, None, None, None, None)
    top = int(np.flatnonzero(curve[: trough + 1] == peak[trough])[-1])
    after = np.flatnonzero(curve[trough:] >= peak[trough])
    recovered = trough + int(after[0]) if len(after) else None
    end = recovered if recovered is not None else len(curve) - 1
    return Drawdown(float(share[trough]), float(fall[trough]), _time(times, top), _time(times, trough),
                    _time(times, recovered) if recovered is not None else None,
                    _time(times, end) - _time(times, top))


def buy_and_hold(outcome: RunOutcome) -> dict[str, Any]:
    """All the starting cash in the coin at the first bar's open, held to the last close (no fees)."""
    series, cash = outcome.series, outcome.session.start.cash
    if len(series) == 0:
        return {}
    first, last = series.prices(0)[0], series.prices(len(series) - 1)[3]
    pnl = cash * (last / first - 1)
    held = float(cash / first) * series.close
    return {"first_price": first, "last_price": last, "pnl": pnl, "return": float(pnl / cash),
            "max_drawdown": drawdown(series.times, held)}


def strategy_drawdown(outcome: RunOutcome, curve: Curves) -> Drawdown:
    """The fall of the strategy's P/L (equity − starting cash) from its peak, as a fraction of the
    most capital it had deployed by then: what the cycles lost of the money they put to work, which
    the account's drawdown dilutes with idle cash."""
    deployed = np.maximum.accumulate(curve.committed) if len(curve.committed) else curve.committed
    pnl = curve.equity - float(outcome.session.start.cash)
    return drawdown(outcome.series.times, pnl, base=deployed)


def open_cycle(outcome: RunOutcome, summary: Summary) -> dict[str, Any] | None:
    session = outcome.session
    cycle = session.state.cycle
    if cycle.is_flat and not cycle.live_orders:
        return None
    return {"cycle": cycle.id, "status": cycle.status.value, "started_at": _iso(session.cycle_started_at(cycle.id)),
            "quantity": cycle.quantity, "cost": cycle.cost, "average_price": cycle.average_price,
            "safety_orders": cycle.safety_orders, "unrealized_pnl": summary.unrealized_pnl,
            "unrealized_pnl_percent": float(summary.unrealized_pnl / cycle.cost) if cycle.cost > 0 else None,
            "open_order": cycle.order.kind.value if cycle.order is not None else None}


def cycle_extremes(outcome: RunOutcome) -> dict[str, Any]:
    cycles = [c for c in outcome.session.log.cycles if c.cost > 0]
    timed = [c for c in cycles if c.started_at is not None and c.completed_at is not None]
    worst = min(cycles, key=pnl_percent, default=None)
    longest = max(timed, key=lambda c: c.completed_at - c.started_at, default=None)  # type: ignore[operator]
    return {
        "safety_orders_total": sum(c.safety_orders for c in outcome.session.log.cycles)
        + outcome.session.state.cycle.safety_orders,
        "worst_cycle": _cycle_brief(worst), "longest_cycle": _cycle_brief(longest),
    }


def pnl_percent(cycle: CycleRecord) -> float:
    """Realized P/L as a share of what the sold coin cost."""
    return float(cycle.realized_pnl / cycle.cost) if cycle.cost > 0 else 0.0


def fees_split(outcome: RunOutcome) -> dict[str, Decimal]:
    """Fees in USD by who paid them (maker, taker) and by side."""
    split = {f"{who}_{side}": ZERO for who in ("maker", "taker") for side in ("buy", "sell")}
    for fill, who in zip(outcome.session.log.fills, fill_liquidity(outcome), strict=True):
        split[f"{who}_{fill.side.value}"] += fill.fee_value
    return split


def fill_liquidity(outcome: RunOutcome) -> list[str]:
    """maker or taker for each fill of the log, in order (from the exchange's executions)."""
    pending = {coid: list(kinds) for coid, kinds in outcome.session.venue.liquidity().items()}  # type: ignore[attr-defined]
    return [pending[fill.client_order_id].pop(0) for fill in outcome.session.log.fills]


def take_profit_slippage(outcome: RunOutcome) -> dict[str, Any]:
    """How far the take-profit sells filled below the trigger bid they were decided at, as a share
    of the trigger (negative: above it). A market sell fills at the next quote's bid, and a trailing
    take-profit sells on a pull-back from its peak, so some distance is the strategy working."""
    gaps = [float((o.trigger - o.average_price) / o.trigger) for o in outcome.session.log.orders
            if o.kind is OrderKind.TAKE_PROFIT and o.side is Side.SELL and o.trigger and o.average_price is not None
            and o.filled_qty > 0]
    if not gaps:
        return {"sells": 0, "mean": None, "worst": None}
    return {"sells": len(gaps), "mean": float(np.mean(gaps)), "worst": float(max(gaps))}


def monthly(outcome: RunOutcome, curve: Curves) -> list[dict[str, Any]]:
    """Per UTC month: cycles completed, realized P/L, fees, equity at the month's last bar and the
    month's return (from the previous month's end, the first from the starting cash)."""
    series = outcome.series
    if len(series) == 0:
        return []
    months = series.times.astype("datetime64[s]").astype("datetime64[M]")
    ends = np.append(np.flatnonzero(months[1:] != months[:-1]), len(months) - 1)
    rows, before = [], float(outcome.session.start.cash)
    log = outcome.session.log
    for end in ends.tolist():
        month = str(months[end])
        equity = float(curve.equity[end])
        done = [c for c in log.cycles if c.completed_at is not None and _month(c.completed_at) == month]
        rows.append({"month": month, "cycles_completed": len(done),
                     "realized_pnl": sum((c.realized_pnl for c in done), ZERO),
                     "fees": sum((f.fee_value for f in log.fills if _month(f.time) == month), ZERO),
                     "end_equity": equity, "return": equity / before - 1 if before > 0 else None})
        before = equity
    return rows


def hourly_equity(outcome: RunOutcome, curve: Curves) -> list[tuple[str, float, float, float, float]]:
    """(time, close, equity, cash, committed) at each UTC hour's last bar (and the last bar)."""
    times = outcome.series.times
    if len(times) == 0:
        return []
    hours = times // 3600
    ends = np.append(np.flatnonzero(hours[1:] != hours[:-1]), len(hours) - 1)
    stamps = np.char.add(np.datetime_as_string(times[ends].astype("datetime64[s]")), "Z").tolist()
    columns = (outcome.series.close[ends], curve.equity[ends], curve.cash[ends], curve.committed[ends])
    return list(zip(stamps, *(column.tolist() for column in columns), strict=True))


def _cycle_brief(cycle: CycleRecord | None) -> dict[str, Any] | None:
    if cycle is None:
        return None
    span = cycle.completed_at - cycle.started_at if cycle.completed_at and cycle.started_at else None
    return {"cycle": cycle.cycle_id, "realized_pnl": cycle.realized_pnl, "pnl_percent": pnl_percent(cycle),
            "safety_orders": cycle.safety_orders, "started_at": _iso(cycle.started_at),
            "completed_at": _iso(cycle.completed_at), "duration_seconds": span.total_seconds() if span else None}


def _time(times: np.ndarray, index: int) -> datetime:
    return EPOCH + timedelta(seconds=int(times[index]))


def _month(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def insights(outcome: RunOutcome, curve: Curves, summary: Summary) -> dict[str, Any]:
    """Everything above for one symbol (Decimals and `Drawdown`s; `report.plain` makes it JSON)."""
    return {
        "buy_and_hold": buy_and_hold(outcome),
        "account_drawdown": drawdown(outcome.series.times, curve.equity),
        "strategy_drawdown": strategy_drawdown(outcome, curve),
        "open_cycle": open_cycle(outcome, summary),
        **cycle_extremes(outcome),
        "fees_split": fees_split(outcome),
        "take_profit_slippage": take_profit_slippage(outcome),
        "monthly": monthly(outcome, curve),
    }


def take_profit_triggers(outcome: RunOutcome) -> dict[int, Decimal]:
    """cycle id → the trigger of its take-profit sell that filled."""
    return {o.cycle_id: o.trigger for o in outcome.session.log.orders
            if o.kind is OrderKind.TAKE_PROFIT and o.trigger is not None and o.filled_qty > 0}
