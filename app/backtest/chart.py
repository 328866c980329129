"""`chart.png`: price with buy and sell markers and the cycle's average cost, and the equity curve.

matplotlib's Agg backend (no display needed). A year of minutes is thinned to at most
`MAX_POINTS` per line (every k-th bar); the fill markers are all drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.backtest.metrics import Curves, Portfolio
from app.backtest.runner import RunOutcome
from dca.cycle import Side

MAX_POINTS = 20_000


def draw(path: Path, outcomes: Sequence[RunOutcome], curve_list: Sequence[Curves], portfolio: Portfolio) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(outcomes) + 1
    figure, axes = plt.subplots(rows, 1, figsize=(14, 3.2 * rows + 1), sharex=True, squeeze=False)
    for axis, outcome, curve in zip(axes[:, 0], outcomes, curve_list, strict=False):
        _price_panel(axis, outcome, curve)
    _equity_panel(axes[-1, 0], portfolio, len(outcomes) > 1)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _price_panel(axis, outcome: RunOutcome, curve: Curves) -> None:  # type: ignore[no-untyped-def]
    series = outcome.series
    times = series.times.astype("datetime64[s]")
    step = _stride(len(series))
    axis.plot(times[::step], series.close[::step], lw=0.7, color="0.35", label=f"{series.symbol} close")
    axis.plot(times[::step], curve.average_cost[::step], lw=1.0, color="tab:orange", label="average cost")
    for side, marker, color in ((Side.BUY, "^", "tab:green"), (Side.SELL, "v", "tab:red")):
        fills = [f for f in outcome.session.log.fills if f.side is side]
        if fills:
            axis.scatter(np.array([f.time.replace(tzinfo=None) for f in fills], dtype="datetime64[s]"),
                         [float(f.price) for f in fills], marker=marker, color=color, s=28, zorder=3,
                         label=f"{side.value} fills")
    axis.set_ylabel("price")
    axis.legend(loc="upper left", fontsize=8)
    axis.grid(alpha=0.3)


def _equity_panel(axis, portfolio: Portfolio, combined: bool) -> None:  # type: ignore[no-untyped-def]
    step = _stride(len(portfolio.times))
    axis.plot(portfolio.times.astype("datetime64[s]")[::step], portfolio.equity[::step], color="tab:blue", lw=0.9)
    axis.set_ylabel("equity (all symbols)" if combined else "equity")
    axis.grid(alpha=0.3)


def _stride(n: int) -> int:
    return max(1, n // MAX_POINTS)
