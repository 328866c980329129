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
from app.backtest.series import BarSeries
from dca.backtest.records import AccountPoint, CycleRecord, OrderRecord
from dca.cycle import Cycle, CycleStatus
from dca.events import CloseReason
from dca.memo import per_object
from dca.money import ZERO
from dca.strategy import take_profit_trigger

DAYS_PER_YEAR = 365
SECONDS_PER_DAY = 86_400


class Curves:
    """Per-bar floats: cash, coin held, the cycle's coin and cost, equity, capital committed. Each is
    the account records' values repeated over the bars they are in force for, built on first use.
    A sweep point reads only figures of the equity, which come from the records and the closes
    without building the per-bar curve (`max_drawdown`, `daily_returns`)."""

    def __init__(self, points: list[AccountPoint], bars: np.ndarray, close: np.ndarray) -> None:
        self._points, self._bars, self._close = points, bars, close
        self._values: dict[str, np.ndarray] = {}

    def _column(self, name: str) -> np.ndarray:
        return np.repeat(self._record_values(name), self._bars)

    def _record_values(self, name: str) -> np.ndarray:
        kept = self._values.get(name)
        if kept is None:
            kept = self._values[name] = np.array([float(getattr(p, name)) for p in self._points], dtype=np.float64)
        return kept

    @cached_property
    def _first_bars(self) -> np.ndarray:
        """The bar each record comes into force at (a record in force for no bar shares its bar
        with the next one)."""
        return np.concatenate(([0], np.cumsum(self._bars)[:-1]))

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

    def equity_at(self, bars: np.ndarray) -> np.ndarray:
        """`equity[bars]` without the per-bar curve: the same two float operations per bar."""
        record = np.searchsorted(self._first_bars, bars, "right") - 1
        return self._record_values("cash")[record] + self._record_values("position")[record] * self._close[bars]

    def max_drawdown(self) -> tuple[float, float]:
        """`max_drawdown(equity)`, bit for bit, mostly without the per-bar curve (`piecewise_drawdown`)."""
        if "equity" not in self.__dict__:
            figures = piecewise_drawdown(self._first_bars, self._record_values("cash"),
                                         self._record_values("position"), self._close)
            if figures is not None:
                return figures
        return max_drawdown(self.equity)

    def daily_returns(self, times: np.ndarray, start: float) -> np.ndarray:
        """`daily_returns(times, equity, start)`, reading the equity at the days' last bars only."""
        if len(times) == 0 or start <= 0:
            return np.empty(0)
        return returns_from(self.equity_at(last_bar_of_each_day(times)), start)

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
        holding = np.array([p.cycle_quantity > ZERO for p in self._points], dtype=bool)  # no float per record
        return int(self._bars[holding].sum()) / total


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
                  closes_of(outcome.series))


@per_object(kept=8)
def closes_of(series: BarSeries) -> np.ndarray:
    """The series' closes as one contiguous array (its own are a column of the o/h/l/c rows, which
    whole-array passes read several times slower), copied once per series: every point of a sweep
    has the same bars."""
    return np.ascontiguousarray(series.close)


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
    drawdown, drawdown_value = curve.max_drawdown()
    daily = curve.daily_returns(series.times, float(session.start.cash))
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


PIECE_BARS = 512  # the longest piece `piecewise_drawdown` bounds as one (and may then evaluate bar by bar)


def piecewise_drawdown(first_bars: np.ndarray, cash: np.ndarray, position: np.ndarray, close: np.ndarray,
                       piece_bars: int = PIECE_BARS) -> tuple[float, float] | None:
    """`max_drawdown(equity)` for equity = cash[r] + position[r] × close per bar (r the record in force
    from `first_bars[r]`), bit for bit, evaluating only the pieces that could hold its maxima; None
    where the shortcut's premises fail (no bars, a non-finite value, coin below zero, equity at the
    first bar not above zero), for the caller to take the per-bar curve.

    The bars are cut into pieces of one record and at most `piece_bars` bars. Within a piece,
    equity = c + p × close with p ≥ 0 is, rounding included, non-decreasing in the close, so its
    highest and lowest values are those at the piece's highest and lowest close: the running peak
    entering each piece is exact, and as rounded operations are monotonic, the fall (peak − equity)
    and share (fall / peak) of any bar of it are at most fall_bound = peak after the piece − its
    lowest equity and fall_bound / the lowest peak it can have. A piece whose bounds cannot beat the
    best exact figures found so far is skipped; the others are computed bar by bar as `max_drawdown`
    does."""
    n = len(close)
    if n == 0:
        return None
    starts = np.concatenate((np.arange(0, n, piece_bars), first_bars[first_bars < n]))
    starts.sort()
    starts = starts[np.concatenate(([True], starts[1:] != starts[:-1]))]  # unique (np.unique hashes: slower)
    record = np.searchsorted(first_bars, starts, "right") - 1
    c, p = cash[record], position[record]
    with np.errstate(invalid="ignore", over="ignore"):
        highest = c + p * np.maximum.reduceat(close, starts)
        lowest = c + p * np.minimum.reduceat(close, starts)
        opening = c + p * close[starts]
    if not (np.isfinite(highest).all() and np.isfinite(lowest).all() and (p >= 0).all() and opening[0] > 0):
        return None
    peak_after = np.maximum.accumulate(highest)
    peak_before = np.concatenate(([-np.inf], peak_after[:-1]))
    fall_bound = peak_after - lowest
    share_bound = fall_bound / np.maximum(peak_before, opening)
    return _best_pieces(starts, np.append(starts[1:], n), c, p, close, peak_before, share_bound, fall_bound)


def _best_pieces(starts: np.ndarray, ends: np.ndarray, cash: np.ndarray, position: np.ndarray, close: np.ndarray,
                 peak_before: np.ndarray, share_bound: np.ndarray, fall_bound: np.ndarray) -> tuple[float, float]:
    """The largest share and fall over the pieces: first those of the pieces with the highest bounds,
    then every piece whose bounds could still beat them (most pieces cannot)."""
    def piece(k: int) -> tuple[float, float]:
        equity = cash[k] + position[k] * close[starts[k]:ends[k]]
        peak = np.maximum(np.maximum.accumulate(equity), peak_before[k])
        fall = peak - equity
        return float((fall / peak).max()), float(fall.max())

    best_share, best_fall = 0.0, 0.0  # every curve has a bar at its peak
    for k in {int(share_bound.argmax()), int(fall_bound.argmax())}:
        share, fall = piece(k)
        best_share, best_fall = max(best_share, share), max(best_fall, fall)
    rest = np.flatnonzero((share_bound > best_share) | (fall_bound > best_fall))
    for k in rest[np.argsort(-share_bound[rest], kind="stable")].tolist():
        if share_bound[k] > best_share or fall_bound[k] > best_fall:
            share, fall = piece(k)
            best_share, best_fall = max(best_share, share), max(best_fall, fall)
    return best_share, best_fall


def daily_returns(times: np.ndarray, equity: np.ndarray, start: float) -> np.ndarray:
    """Returns of equity from one UTC day's last bar to the next (the first from `start`)."""
    if len(times) == 0 or start <= 0:
        return np.empty(0)
    return returns_from(equity[last_bar_of_each_day(times)], start)


def returns_from(closes: np.ndarray, start: float) -> np.ndarray:
    """Each day's close against the previous one's (the first against `start`)."""
    previous = np.concatenate(([start], closes[:-1]))
    return closes / previous - 1


@per_object(kept=8)
def last_bar_of_each_day(times: np.ndarray) -> np.ndarray:
    """The index of each UTC day's last bar, computed once per bar-time array (every point of a
    sweep has the same bars)."""
    day = times // SECONDS_PER_DAY
    return np.append(np.flatnonzero(np.diff(day)), len(day) - 1)


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
