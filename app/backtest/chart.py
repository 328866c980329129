"""`chart.png` and, for a two-parameter sweep, `sweep_heatmap.png`.

The run's chart: a title with the pair(s), the period, the parameters and the totals; per symbol a
price panel with the cycle's average cost, its take-profit trigger and distinct markers for base,
safety and sell fills; a P/L panel in dollars of the strategy (realized + unrealized, not the
account's equity, where the P/L is a sliver of idle cash); a drawdown panel (of the capital the
cycles deployed, and of the account). Legends sit outside the axes, so they never cover data.

matplotlib's Agg backend (no display needed). A year of minutes is thinned to at most
`MAX_POINTS` per line (every k-th bar); the fill markers are all drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.backtest.metrics import Curves, Portfolio, Summary, take_profit_curve
from app.backtest.runner import RunOutcome
from dca.cycle import OrderKind
from dca.money import plain

MAX_POINTS = 6_000  # per line: four per pixel column of the 1,700-pixel-wide chart
FILL_STYLES = {  # kind: (marker, colour, label)
    OrderKind.BASE: ("o", "tab:blue", "base order fills"),
    OrderKind.SAFETY: ("^", "tab:green", "safety order fills"),
    OrderKind.TAKE_PROFIT: ("v", "tab:red", "sell fills"),
    OrderKind.STOP_LOSS: ("X", "black", "stop-loss fills"),
}
OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.005, 1.0), "borderaxespad": 0.0, "fontsize": 8}


def draw(path: Path, outcomes: Sequence[RunOutcome], curve_list: Sequence[Curves], portfolio: Portfolio,
         summaries: Sequence[Summary], insight: Sequence[dict[str, Any]]) -> None:
    plt = _pyplot()
    rows = len(outcomes) + 2
    heights = [3.0] * len(outcomes) + [1.6, 1.3]
    figure, axes = plt.subplots(rows, 1, figsize=(17, sum(heights) + 1.4), sharex=True, squeeze=False,
                                gridspec_kw={"height_ratios": heights})
    for axis, outcome, curve, summary in zip(axes[:, 0], outcomes, curve_list, summaries, strict=False):
        _price_panel(axis, outcome, curve, summary)
    _pnl_panel(axes[-2, 0], outcomes, curve_list, len(outcomes) > 1)
    _drawdown_panel(axes[-1, 0], outcomes, curve_list, portfolio)
    title = _title(summaries, insight)
    figure.suptitle(title, fontsize=10, x=0.01, ha="left")
    height = sum(heights) + 1.4
    # fixed margins (one layout pass, not three): the legends live in the right-hand 15 %
    figure.subplots_adjust(left=0.06, right=0.84, bottom=0.5 / height, hspace=0.25,
                           top=1 - (0.45 + 0.2 * (title.count("\n") + 1)) / height)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def draw_heatmap(path: Path, rows: Sequence[dict[str, Any]], names: Sequence[str], metric: str) -> None:
    """The metric over a two-parameter grid (rows: the first parameter, columns: the second)."""
    plt = _pyplot()
    first, second = names
    ys = _axis_values(rows, first)
    xs = _axis_values(rows, second)
    grid = np.full((len(ys), len(xs)), np.nan)
    for row in rows:
        value = row.get(metric)
        if value is not None:
            grid[ys.index(row[first]), xs.index(row[second])] = float(value)
    figure, axis = plt.subplots(figsize=(max(6.0, 0.6 * len(xs) + 3), max(4.0, 0.45 * len(ys) + 2)))
    from matplotlib.colors import TwoSlopeNorm

    low, high = (float(np.nanmin(grid)), float(np.nanmax(grid))) if np.isfinite(grid).any() else (0.0, 0.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=low, vmax=high) if low < 0 < high else None  # white at zero
    cmap = "RdYlGn_r" if metric in ("max_drawdown", "fees") else "RdYlGn"
    image = axis.imshow(grid, origin="lower", aspect="auto", cmap=cmap, norm=norm)
    axis.set_xticks(range(len(xs)), xs, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(len(ys)), ys, fontsize=8)
    axis.set_xlabel(second)
    axis.set_ylabel(first)
    if grid.size <= 400:  # small enough to print every value
        for (y, x), value in np.ndenumerate(grid):
            if not np.isnan(value):
                axis.text(x, y, f"{value:.3g}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axis, label=metric)
    axis.set_title(f"{metric} over {first} × {second}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _price_panel(axis: Any, outcome: RunOutcome, curve: Curves, summary: Summary) -> None:
    series = outcome.series
    times = series.times.astype("datetime64[s]")
    step = _stride(len(series))
    axis.plot(times[::step], series.close[::step], lw=0.7, color="0.35", label="close")
    axis.plot(times[::step], curve.average_cost[::step], lw=1.1, color="tab:orange", label="average cost")
    axis.plot(times[::step], take_profit_curve(outcome)[::step], lw=0.9, ls="--", color="tab:purple",
              label="take-profit trigger")
    fills = outcome.session.log.fills
    for kind, (marker, colour, label) in FILL_STYLES.items():
        chosen = [f for f in fills if f.kind is kind]
        if chosen:
            axis.scatter(np.array([f.time.replace(tzinfo=None) for f in chosen], dtype="datetime64[s]"),
                         [float(f.price) for f in chosen], marker=marker, color=colour, s=26, zorder=3,
                         edgecolors="black", linewidths=0.3, label=f"{label} ({len(chosen)})")
    config = outcome.setup.config.params
    axis.set_title(f"{summary.symbol}: {_params(config)}", fontsize=9, loc="left")
    axis.set_ylabel("price")
    axis.legend(**OUTSIDE)
    axis.grid(alpha=0.3)


def _pnl_panel(axis: Any, outcomes: Sequence[RunOutcome], curve_list: Sequence[Curves], several: bool) -> None:
    for outcome, curve in zip(outcomes, curve_list, strict=True):
        step = _stride(len(curve.equity))
        pnl = curve.equity - float(outcome.session.start.cash)
        axis.plot(outcome.series.times.astype("datetime64[s]")[::step], pnl[::step], lw=0.9,
                  label=f"{outcome.setup.symbol} P/L" if several else "P/L (realized + unrealized)")
    axis.axhline(0, color="0.5", lw=0.6)
    axis.set_ylabel("strategy P/L (USD)")
    axis.legend(**OUTSIDE)
    axis.grid(alpha=0.3)


def _drawdown_panel(axis: Any, outcomes: Sequence[RunOutcome], curve_list: Sequence[Curves],
                    portfolio: Portfolio) -> None:
    for outcome, curve in zip(outcomes, curve_list, strict=True):
        step = _stride(len(curve.equity))
        pnl = curve.equity - float(outcome.session.start.cash)
        deployed = np.maximum.accumulate(curve.committed)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(deployed > 0, (np.maximum.accumulate(pnl) - pnl) / deployed, 0.0)
        times = outcome.series.times.astype("datetime64[s]")[::step]
        axis.fill_between(times, -100 * share[::step], 0, alpha=0.35,
                          label=f"{outcome.setup.symbol}: of the capital deployed")
    step = _stride(len(portfolio.equity))
    peak = np.maximum.accumulate(portfolio.equity)
    account = np.where(peak > 0, (peak - portfolio.equity) / peak, 0.0)
    axis.plot(portfolio.times.astype("datetime64[s]")[::step], -100 * account[::step], color="black", lw=0.8,
              label="of the account")
    axis.set_ylabel("drawdown %")
    axis.legend(**OUTSIDE)
    axis.grid(alpha=0.3)


def _title(summaries: Sequence[Summary], insight: Sequence[dict[str, Any]]) -> str:
    first = min(s.first_bar for s in summaries if s.first_bar is not None)
    last = max(s.last_bar for s in summaries if s.last_bar is not None)
    lines = [f"{', '.join(s.symbol for s in summaries)}   {first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC"]
    for summary, more in zip(summaries, insight, strict=True):
        hold = more["buy_and_hold"]
        lines.append(
            f"{summary.symbol}: P/L {float(summary.total_pnl):,.2f} USD (realized {float(summary.realized_pnl):,.2f}, "
            f"{summary.cycles_completed} cycles, fees {float(summary.fees):,.2f}); buy-and-hold "
            f"{float(hold['pnl']):,.2f}; max drawdown {100 * more['strategy_drawdown'].fraction:.1f} % of the "
            f"capital deployed, {100 * summary.max_drawdown:.2f} % of the account")
    return "\n".join(lines)


def _params(params: Any) -> str:
    """The parameters as a reader writes them (50, not the database's 50.0000000000)."""
    trailing = f", trailing {plain(params.ttp_deviation_percent)} %" if params.ttp_enabled else ""
    return (f"base {plain(params.base_order_amount)} USD, {params.max_safety_orders} safety orders of "
            f"{plain(params.safety_order_amount)} USD every {plain(params.safety_order_deviation)} % "
            f"(×{plain(params.safety_order_step_scale)} step, ×{plain(params.safety_order_volume_scale)} size), "
            f"take-profit {plain(params.take_profit_percent)} %{trailing}, cooldown {params.cooldown_period} s")


def _axis_values(rows: Sequence[dict[str, Any]], name: str) -> list[str]:
    seen = list(dict.fromkeys(row[name] for row in rows))
    try:
        return sorted(seen, key=float)
    except ValueError:
        return seen


def _stride(n: int) -> int:
    return max(1, n // MAX_POINTS)
