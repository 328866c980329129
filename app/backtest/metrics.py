"""From a finished run to its figures: the account per bar, equity, drawdown, Sharpe, Sortino, P/L.

Money figures come from the session's exact records (Decimal). The per-bar curves are floats
computed with numpy from the account timeline, which only changes on bars the strategy acted on, so
the fast path and the reference loop give bit-identical curves.

Conventions (also in docs/backtesting.md):
* equity = cash + coin held × the bar's close (the mid at the end of the bar);
* maximum drawdown = the largest fall of equity from its running peak, as a fraction of that peak;
* Sharpe and Sortino use DAILY returns of equity at each UTC day's last bar (the first one against
  the starting cash), risk-free rate 0, annualised by √365 because crypto trades every day:
  Sharpe = mean / sample standard deviation × √365; Sortino = mean / √(mean(min(r, 0)²)) × √365;
  None with fewer than two days or no variation (no downside, for Sortino);
* time in market = the share of bars that ended with coin in the cycle;
* capital committed = the cycle's cost plus the unfilled part of a live buy; return on capital =
  (realized + unrealized P/L) / the most capital committed at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property

import numpy as np

from app.backtest.runner import RunOutcome
from dca.backtest.records import AccountPoint, CycleRecord, OrderRecord
from dca.cycle import Cycle, CycleStatus
from dca.events import CloseReason
from dca.money import ZERO
from dca.strategy import take_profit_trigger

DAYS_PER_YEAR = 365
SECONDS_PER_DAY = 86_400


class Curves:
    """Per-bar floats: cash, coin held, the cycle's coin and cost, equity, capital committed. Each is
    the account records' values repeated over the bars they are in force for, built on first use
    (a sweep point reads only the equity)."""

    def __init__(self, points: list[AccountPoint], bars: np.ndarray, close: np.ndarray) -> None:
        self._points, self._bars, self._close = points, bars, close

    def _column(self, name: str) -> np.ndarray:
        return np.repeat(self._record_values(name), self._bars)

    def _record_values(self, name: str) -> np.ndarray:
        return np.array([float(getattr(p, name)) for p in self._points], dtype=np.float64)

    @cached_property
    def cash(self) -> np.ndarray:
        return self._column("cash")

    @cached_property
    def position(self) -> np.ndarray:
        return self._column("position")

    @cached_property
    def cycle_quantity(self) -> np.ndarray:
        return self._column("cycle_quantity")

    @cached_property
    def cycle_cost(self) -> np.ndarray:
        return self._column("cycle_cost")

    @cached_property
    def equity(self) -> np.ndarray:
        return self.cash + self.position * self._close

    @cached_property
    def committed(self) -> np.ndarray:
        """Capital tied up by the strategy: the cycle's cost plus a live buy's unfilled part."""
        return self._column("committed")

    @property
    def average_cost(self) -> np.ndarray:
        """The cycle's average cost per coin, NaN while flat."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.cycle_quantity > 0, self.cycle_cost / self.cycle_quantity, np.nan)

    def time_in_market(self) -> float:
        """The share of bars that ended with coin in the cycle (0 without bars): what
        `np.mean(cycle_quantity > 0)` gives, counted over the records instead of the bars."""
        total = int(self._bars.sum())
        if total == 0:
            return 0.0
        return int(self._bars[self._record_values("cycle_quantity") > 0].sum()) / total


@dataclass(frozen=True)
class Summary:
    symbol: str
    first_bar: datetime | None
    last_bar: datetime | None
    bars: int
    bars_replayed: int
    starting_cash: Decimal
    final_equity: Decimal
    cycles_completed: int  # cycles ended by a sale: take-profit or stop loss
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal  # every fee in the quote currency (coin fees valued at their fill price)
    max_committed: Decimal
    return_on_capital: Decimal | None
    max_drawdown: float
    max_drawdown_value: float
    sharpe: float | None
    sortino: float | None
    time_in_market: float
    average_cycle_duration: timedelta | None
    max_safety_orders_used: int  # over completed cycles
    winning_cycles: int
    losing_cycles: int
    open_cycle_quantity: Decimal
    open_cycle_safety_orders: int
    open_orders: int
    orders_rejected: int  # refused by the exchange at submission (insufficient cash, below a minimum, ...)
    first_rejection: OrderRecord | None
    seconds: float

    @property
    def total_pnl(self) -> Decimal:
        return self.realized_pnl + self.unrealized_pnl

    @property
    def win_rate(self) -> float:
        """Completed cycles that made money, as a share of completed cycles (0 without any)."""
        done = self.winning_cycles + self.losing_cycles
        return self.winning_cycles / done if done else 0.0


def curves(outcome: RunOutcome) -> Curves:
    return Curves([outcome.session.start, *outcome.session.log.timeline], bars_of_record(outcome),
                  outcome.series.close)


def record_of_bar(outcome: RunOutcome) -> np.ndarray:
    """Per bar, the account record in force: 0 = the start, k = the k-th timeline point."""
    bars = bars_of_record(outcome)
    return np.repeat(np.arange(len(bars)), bars)


def bars_of_record(outcome: RunOutcome) -> np.ndarray:
    """How many bars each account record is in force for: the start until the first timeline
    point's bar, each point until the next one's (timeline points have increasing bar indices)."""
    marks = np.array([p.bar_index for p in outcome.session.log.timeline], dtype=np.int64)
    return np.diff(np.concatenate(([0], marks, [len(outcome.series)])))


def take_profit_curve(outcome: RunOutcome) -> np.ndarray:
    """The take-profit trigger per bar (NaN while flat), by the core's own `take_profit_trigger`."""
    config = outcome.setup.config
    points = [outcome.session.start, *outcome.session.log.timeline]
    levels = [float(take_profit_trigger(config, Cycle(None, CycleStatus.WATCHING, p.cycle_quantity, p.cycle_cost)))
              if p.cycle_quantity > 0 else math.nan for p in points]
    return np.array(levels, dtype=np.float64)[record_of_bar(outcome)]


def summarize(outcome: RunOutcome, curve: Curves | None = None) -> Summary:
    curve = curve if curve is not None else curves(outcome)
    session, series = outcome.session, outcome.series
    log, state = session.log, session.state
    last_close = series.prices(len(series) - 1)[3] if len(series) else None
    cycle = state.cycle
    unrealized = cycle.quantity * last_close - cycle.cost if last_close is not None and cycle.quantity else ZERO
    # every cycle that sold what it held counts, the stop loss's losses included: counting take-profits
    # only would show "won 100%" beside cycles the stop loss closed at a loss
    complete = [c for c in log.cycles if c.status.ended_by_sale]
    rejected = [o for o in log.orders if o.outcome == CloseReason.REJECTED.value]
    realized = sum((c.realized_pnl for c in log.cycles), ZERO)
    committed = max((p.committed for p in [session.start, *log.timeline]), default=ZERO)
    final_point = log.timeline[-1] if log.timeline else session.start
    final_equity = final_point.cash + (final_point.position * last_close if last_close is not None else ZERO)
    drawdown, drawdown_value = max_drawdown(curve.equity)
    daily = daily_returns(series.times, curve.equity, float(session.start.cash))
    return Summary(
        symbol=series.symbol, first_bar=series.time(0) if len(series) else None,
        last_bar=series.time(len(series) - 1) if len(series) else None, bars=len(series),
        bars_replayed=outcome.replayed, starting_cash=session.start.cash, final_equity=final_equity,
        cycles_completed=len(complete), realized_pnl=realized, unrealized_pnl=unrealized,
        fees=sum((f.fee_value for f in log.fills), ZERO), max_committed=committed,
        return_on_capital=(realized + unrealized) / committed if committed > 0 else None,
        max_drawdown=drawdown, max_drawdown_value=drawdown_value, sharpe=sharpe(daily), sortino=sortino(daily),
        time_in_market=curve.time_in_market(),
        average_cycle_duration=_average_duration(complete),
        max_safety_orders_used=max((c.safety_orders for c in complete), default=0),
        winning_cycles=sum(1 for c in complete if c.realized_pnl > 0),
        losing_cycles=sum(1 for c in complete if c.realized_pnl <= 0),
        open_cycle_quantity=cycle.quantity, open_cycle_safety_orders=cycle.safety_orders,
        open_orders=len(cycle.live_orders),  # the acting order and any resting ahead
        orders_rejected=len(rejected), first_rejection=rejected[0] if rejected else None,
        seconds=outcome.seconds,
    )


def max_drawdown(equity: np.ndarray) -> tuple[float, float]:
    """(largest fall from a running peak as a fraction of that peak, the same fall in money)."""
    if len(equity) == 0:
        return 0.0, 0.0
    peak = np.maximum.accumulate(equity)
    fall = peak - equity
    if peak[0] > 0:  # a running peak never falls below its first value: every share is fall / peak
        share = fall / peak
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(peak > 0, fall / peak, 0.0)
    return float(share.max()), float(fall.max())


def daily_returns(times: np.ndarray, equity: np.ndarray, start: float) -> np.ndarray:
    """Returns of equity from one UTC day's last bar to the next (the first from `start`)."""
    if len(times) == 0 or start <= 0:
        return np.empty(0)
    closes = equity[last_bar_of_each_day(times)]
    previous = np.concatenate(([start], closes[:-1]))
    return closes / previous - 1


_DAY_ENDS: dict[int, tuple[np.ndarray, np.ndarray]] = {}
DAY_ENDS_KEPT = 8


def last_bar_of_each_day(times: np.ndarray) -> np.ndarray:
    """The index of each UTC day's last bar, computed once per bar-time array (every point of a
    sweep has the same bars)."""
    kept = _DAY_ENDS.get(id(times))
    if kept is not None and kept[0] is times:
        return kept[1]
    day = times // SECONDS_PER_DAY
    ends = np.append(np.flatnonzero(np.diff(day)), len(day) - 1)
    if len(_DAY_ENDS) >= DAY_ENDS_KEPT:
        _DAY_ENDS.pop(next(iter(_DAY_ENDS)))
    _DAY_ENDS[id(times)] = (times, ends)
    return ends


def sharpe(returns: np.ndarray) -> float | None:
    if len(returns) < 2:
        return None
    spread = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / spread * math.sqrt(DAYS_PER_YEAR) if spread > 0 else None


def sortino(returns: np.ndarray) -> float | None:
    if len(returns) < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    return float(np.mean(returns)) / downside * math.sqrt(DAYS_PER_YEAR) if downside > 0 else None


def _average_duration(cycles: list[CycleRecord]) -> timedelta | None:
    spans = [c.completed_at - c.started_at for c in cycles if c.started_at and c.completed_at]
    return sum(spans, timedelta()) / len(spans) if spans else None



def union_of_times(all_times: list[np.ndarray]) -> np.ndarray:
    """Every bar time of the symbols, ascending. Each array is already sorted and unique, so one
    symbol's times (or several identical ones) are the union as they are: no sort of the year."""
    if not all_times:
        return np.empty(0, np.int64)
    first = all_times[0]
    if all(len(t) == len(first) and np.array_equal(t, first) for t in all_times[1:]):
        return first
    return np.unique(np.concatenate(all_times))


@dataclass(frozen=True)
class Portfolio:
    """Several symbols' accounts added up on the union of their bar times (each account's equity
    carried forward between its own bars; its starting cash before its first bar)."""

    times: np.ndarray
    equity: np.ndarray
    starting_cash: float

    def figures(self) -> dict[str, float | None]:
        drawdown, value = max_drawdown(self.equity)
        daily = daily_returns(self.times, self.equity, self.starting_cash)
        return {"max_drawdown": drawdown, "max_drawdown_value": value, "sharpe": sharpe(daily),
                "sortino": sortino(daily)}


def portfolio(outcomes: list[RunOutcome], curve_list: list[Curves]) -> Portfolio:
    if len(outcomes) == 1:  # one account: its own curve (what the general case computes, without the lookups)
        return Portfolio(outcomes[0].series.times, curve_list[0].equity, float(outcomes[0].session.start.cash))
    times = union_of_times([o.series.times for o in outcomes])
    total = np.zeros(len(times))
    start = 0.0
    for outcome, curve in zip(outcomes, curve_list, strict=True):
        cash = float(outcome.session.start.cash)
        start += cash
        which = np.searchsorted(outcome.series.times, times, "right") - 1
        total += np.where(which >= 0, curve.equity[np.maximum(which, 0)], cash)
    return Portfolio(times, total, start)
