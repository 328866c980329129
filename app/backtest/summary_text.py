"""The backtest's terminal report as lines of text: the summary table, each symbol's cycles, its
comparison with buy-and-hold, and the cells of a sweep's table. The command prints them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from app.report_text import table


def summary_lines(summaries: Sequence[Any], combined: dict[str, Any], outcomes: Sequence[Any],
                  insight: Sequence[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    from app.backtest.report import money

    headers = ["symbol", "bars", "replayed", "cycles", "rejected", "won", "realized", "unrealized", "fees",
               "max committed", "return on capital", "max drawdown", "sharpe", "sortino", "in market", "loop s"]
    rows = [[s.symbol, s.bars, s.bars_replayed, s.cycles_completed, s.orders_rejected,
             _percent(s.win_rate) if s.cycles_completed else "-",
             _usd(s.realized_pnl, money),
             _usd(s.unrealized_pnl, money), _usd(s.fees, money), _usd(s.max_committed, money),
             _percent(s.return_on_capital), _percent(s.max_drawdown), _ratio(s.sharpe), _ratio(s.sortino),
             _percent(s.time_in_market), f"{s.seconds:.3f}"] for s in summaries]
    lines.append("")
    lines.append(table(headers, rows, right=range(1, len(headers))))
    if len(summaries) > 1:
        lines.append(f"all symbols: max drawdown {_percent(combined['max_drawdown'])}, "
                     f"sharpe {_ratio(combined['sharpe'])}, sortino {_ratio(combined['sortino'])} "
                     "(one equity curve, accounts added up)")
    for summary in summaries:
        lines += _rejection_lines(summary)
    for outcome, summary, more in zip(outcomes, summaries, insight, strict=True):
        lines += _cycle_lines(outcome)
        lines += _insight_lines(summary, more)
    return lines


def _insight_lines(s: Any, more: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    from app.backtest.report import money

    hold = more["buy_and_hold"]
    if not hold:
        return lines
    cash, share = _usd(s.starting_cash, money), _percent(float(s.total_pnl / s.starting_cash))
    lines.append(f"\n{s.symbol} against buy-and-hold of the same {cash} USD over the same bars:")
    lines.append(f"  strategy      total P/L {_usd(s.total_pnl, money):>12} ({share}"
                 f" of the cash), account max drawdown {_drawdown(more['account_drawdown'])}")
    lines.append(f"  buy-and-hold  total P/L {_usd(hold['pnl'], money):>12} ({_percent(hold['return'])}), "
                 f"max drawdown {_drawdown(hold['max_drawdown'])}")
    lines.append(f"  the cycles' own drawdown, of the capital they deployed: {_drawdown(more['strategy_drawdown'])}")
    still = more["open_cycle"]
    if still is not None:
        lines.append(f"  open cycle #{still['cycle']} ({still['status']}): {still['quantity']} coin at average "
                     f"cost {_usd(still['average_price'], money)}, {still['safety_orders']} safety orders, "
                     f"unrealized {_usd(still['unrealized_pnl'], money)} "
                     f"({_percent(still['unrealized_pnl_percent'])})")
    else:
        lines.append("  no cycle open at the end")
    worst, longest = more["worst_cycle"], more["longest_cycle"]
    lines.append(f"  safety orders filled in all: {more['safety_orders_total']}" + (
        f"; worst cycle #{worst['cycle']} {_percent(worst['pnl_percent'])}" if worst else "") + (
        f"; longest cycle #{longest['cycle']} {_seconds(longest['duration_seconds'])}" if longest else ""))
    fees = more["fees_split"]
    lines.append("  fees (USD): " + ", ".join(f"{name.replace('_', ' ')} {_usd(fee, money)}"
                                              for name, fee in fees.items()))
    slip = more["take_profit_slippage"]
    if slip["sells"]:
        side = "below" if slip["mean"] >= 0 else "above"
        furthest = (f"the furthest below: {_percent(slip['worst'])}" if slip["worst"] > 0
                    else "none below it")
        lines.append(f"  take-profit fills: {slip['sells']} sells, on average {_percent(abs(slip['mean']), 4)} "
                     f"{side} their trigger ({furthest})")
    rows = [[m["month"], m["cycles_completed"], _usd(m["realized_pnl"], money), _usd(m["fees"], money),
             f"{m['end_equity']:,.2f}", _percent(m["return"])] for m in more["monthly"]]
    lines.append("")
    lines.append(table(["month", "cycles", "realized", "fees", "equity at end", "return"], rows, right=range(1, 6)))
    return lines


def _drawdown(found: Any) -> str:
    if found.peak_at is None:
        return "none"
    recovered = f"recovered {_when(found.recovered_at)}" if found.recovered_at is not None else "not recovered"
    return (f"{_percent(found.fraction)} ({found.value:,.2f} USD), peak {_when(found.peak_at)}, trough "
            f"{_when(found.trough_at)}, {recovered}, {_seconds(found.duration.total_seconds())}")


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    return f"{minutes // 1440}d {minutes % 1440 // 60:02d}h{minutes % 60:02d}"


def _rejection_lines(summary: Any) -> list[str]:
    lines: list[str] = []
    first = summary.first_rejection
    if first is None:
        return lines
    lines.append(f"\n{summary.symbol}: WARNING: the exchange refused {summary.orders_rejected} orders; the first, "
                 f"{first.kind.value} {first.side.value} at {_when(first.decided_at)}: "
                 f"{first.message or '(no reason)'}. Each refusal doubled the wait before the next try (up to 1 h).")
    return lines


def _cycle_lines(outcome: Any, limit: int = 15) -> list[str]:
    lines: list[str] = []
    cycles = outcome.session.log.cycles
    lines.append(f"\n{outcome.setup.symbol}: {len(cycles)} completed cycles" + (":" if cycles else ""))
    if not cycles:
        return lines
    from app.backtest.report import money

    rows = [[c.cycle_id, _when(c.started_at), _when(c.completed_at), _span(c), c.safety_orders,
             _usd(c.average_price, money), _usd(c.sell_price, money), _usd(c.fees_value, money),
             _usd(c.realized_pnl, money)] for c in cycles[-limit:]]
    lines.append(table(["cycle", "started", "completed", "duration", "SO", "avg cost", "sold at", "fees", "P/L"],
                       rows, right=range(3, 9)))
    if len(cycles) > limit:
        lines.append(f"(the last {limit} of {len(cycles)}; every cycle is in cycles.csv)")
    return lines


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _span(cycle: Any) -> str:
    if cycle.started_at is None or cycle.completed_at is None:
        return "-"
    return _seconds((cycle.completed_at - cycle.started_at).total_seconds())


def _usd(value: Any, money: Any) -> str:
    if value is None:
        return "-"
    return f"{Decimal(money(value)):,.2f}"


def _cents(value: Decimal) -> str:
    return f"{value:,.2f}"


def _percent(value: Any, places: int = 2) -> str:
    return "-" if value is None else f"{float(value) * 100:.{places}f}%"


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


SHOWN_AS_PERCENT = {"return_on_capital", "max_drawdown", "time_in_market"}


def sweep_cell(column: str, value: Any) -> Any:
    """A sweep cell for the terminal: the same units as the single-run summary."""
    if column in SHOWN_AS_PERCENT:
        return _percent(value)
    if column in ("sharpe", "sortino"):
        return _ratio(value)
    return cell(value, _cents)


def cell(value: Any, money: Any, exact: bool = False) -> Any:
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, float):
        return repr(value) if exact else f"{value:.6g}"
    return "" if value is None else value
