"""`supervisor.py backtest`: replay 1-minute bars through the bot's own strategy code.

Heavy imports (numpy, pyarrow, matplotlib, the simulator, a database) happen inside the handler and
only on the paths that need them, so `--help` stays instant and a backtest of a bar file loads
neither SQLAlchemy nor alpaca-py.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.backtest.summary_text import cell, summary_lines, sweep_cell
from app.report_text import table
from cli import inputs
from cli.common import open_database, settings_from
from cli.errors import EXIT_FAILURE, Unavailable, UsageError

DESCRIPTION = """\
Replay 1-minute bars through the same strategy code that trades (dca.strategy.decide), with the
simulator's matching engine as the exchange. Each bar becomes four quotes (open, then the wick
nearest the open, the other wick, close) half a spread either side of the price; an order is
filled from the NEXT quote on (no look-ahead), as a taker at the touch or, resting, as a maker at
its limit; fees are taken in the asset received; order timeouts and cooldowns run in bar time.
Parameters come from the asset's dca_assets row when it is configured (else the defaults) and
--params overrides. Each symbol trades its own account with --cash. Quiet bars are skipped by a
fast path that is proven (tests, --verify) to give the same result as replaying every bar.
Details: docs/backtesting.md."""

EPILOG = """\
examples:
  supervisor.py backtest --symbols BTC/USD --start 2024-07-27 --end 2024-08-24
  supervisor.py backtest --symbols BTC/USD --data csv:bars/btc.csv.gz --params take_profit_percent=1.5
  supervisor.py backtest --symbols BTC/USD,ETH/USD --data 'csv:bars/{symbol}.csv.gz' --start 2025-06-01 \\
      --end 2025-06-30 --sweep safety_order_deviation=0.5:3.0:0.5 take_profit_percent=1,1.5,2
  supervisor.py backtest --symbols ETH/USD --data csv:binance_ETH_USDT-1m.csv.gz --sweep take_profit_percent=1,2,3 \\
      --train-until 2025-06-01 --cluster tcp://10.0.0.5:8786

outputs (in --out): result.json, cycles.csv (the open cycle last), fills.csv, equity.csv (hourly), chart.png;
a sweep writes sweep.csv and sweep.json (+ sweep_heatmap.png over two parameters, validation.csv with
--train-until). A bar file is read once and kept beside it as FILE.cache.npz (re-read when it changes).
Only pairs the venue trades for a dollar account (BTC/USD, ETH/USD, ...) can be backtested: a USDT file's
prices are traded with --symbols ETH/USD."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("backtest", help="replay historical bars through the strategy (fast)",
                                 description=DESCRIPTION, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--symbols", required=True, help="comma-separated pairs, e.g. BTC/USD,ETH/USD")
    add("--start", help="first day, YYYY-MM-DD (UTC) or an ISO-8601 time; required with --data db")
    add("--end", help="last day, included (YYYY-MM-DD), or an exclusive ISO-8601 time; required with --data db")
    add("--data", default="db", metavar="db|csv:PATH",
        help="bars from historical_1min_bars (default) or a CSV file; PATH may contain {symbol} (BTC-USD) "
             "or {base} (BTC) for several symbols")
    add("--params", nargs="+", default=[], metavar="NAME=VALUE",
        help="parameter overrides, e.g. take_profit_percent=1.5 max_safety_orders=5")
    add("--cash", default="10000", metavar="USD", help="starting cash of each symbol's account (default 10000)")
    add("--spread-bps", metavar="BPS", help="bid/ask spread of the replayed quotes (default: the pair's spread "
                                            "in the simulator's catalog, e.g. 6 for BTC/USD)")
    add("--out", metavar="DIR", help="output folder (default out/backtest/<symbols>_<start>_<end>)")
    add("--reference", action="store_true", help="replay every bar (the slow oracle) instead of the fast path")
    add("--verify", action="store_true", help="also run the reference loop and fail unless the results are identical")
    add("--no-chart", action="store_true", help="skip chart.png")
    add("--sweep", nargs="+", default=[], metavar="NAME=SPEC",
        help="run a grid instead: NAME=START:STOP:STEP (inclusive) or NAME=V1,V2,... (start_condition: "
             "C1|C2|none); ranked table + sweep.csv")
    add("--rank-by", default="total_pnl", metavar="METRIC",
        help="sweep ranking: total_pnl (default), realized_pnl, return_on_capital, sharpe, sortino, "
             "cycles_completed, max_drawdown, fees")
    add("--train-until", metavar="DATE",
        help="sweep: rank the grid on the bars before DATE (YYYY-MM-DD or ISO-8601) and show the --top sets' "
             "results on the bars from DATE on beside their training results (validation.csv)")
    add("--workers", type=int, metavar="N", help="sweep processes (default: one per CPU)")
    add("--cluster", metavar="tcp://HOST:PORT",
        help="run the sweep on this Dask distributed scheduler's workers instead of local processes "
             "(workers must run this project's code; see docs/backtesting.md)")
    add("--top", type=int, default=20, metavar="N", help="sweep rows shown in the terminal (default 20)")
    parser.set_defaults(handler=_backtest)


# --- the command -------------------------------------------------------------------------------------


def _backtest(args: argparse.Namespace) -> int:
    symbols = inputs.symbols(args.symbols)
    from app.backtest.inputs import DataSource, InputError, untradable

    refused = [problem for problem in map(untradable, symbols) if problem is not None]
    if refused:
        raise UsageError("--symbols: " + "; ".join(refused))
    try:
        source = DataSource.parse(args.data, symbols)
    except InputError as error:
        raise UsageError(str(error)) from None
    start, end = inputs.time_range(args.start, args.end, required=source.kind == "db")
    overrides = inputs.assignments(args.params, "--params")
    cash = inputs.option("--cash", inputs.positive, args.cash)
    spread = None if args.spread_bps is None else inputs.option("--spread-bps", inputs.non_negative, args.spread_bps)
    if args.rank_by not in _rankings():
        raise UsageError(f"--rank-by: {args.rank_by!r} is not one of {', '.join(_rankings())}")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers: must be 1 or more")
    if args.cluster is not None and not (args.sweep and args.cluster.startswith(("tcp://", "tls://"))):
        raise UsageError(f"--cluster: {args.cluster!r}: expected tcp://HOST:PORT (a Dask scheduler), with --sweep")
    settings = settings_from(args)
    db = open_database(settings) if source.kind == "db" or _database_exists(settings) else None
    setups = _setups(symbols, db, overrides, settings, cash, spread)
    points = _sweep_points(args.sweep, setups)
    split = inputs.moment(args.train_until, "--train-until") if args.train_until else None
    if split is not None and points is None:
        raise UsageError("--train-until: only with --sweep (it splits the bars into a ranking and a validation window)")
    series = _load(source, symbols, start, end, db)
    if series is None:
        return EXIT_FAILURE
    windows = _windows(series, split) if split is not None else None
    out = Path(args.out) if args.out else _default_out(symbols, series)
    out.mkdir(parents=True, exist_ok=True)
    if points is not None:
        return _sweep(args, setups, series, points, out, windows)
    return _single(args, setups, series, source, out)


def _windows(series: list[Any], split: Any) -> tuple[list[Any], list[Any]]:
    """(training, validation) bars of every symbol; each window must hold bars of each symbol."""
    train = [s.between(None, split) for s in series]
    test = [s.between(split, None) for s in series]
    for before, after in zip(train, test, strict=True):
        if len(before) == 0 or len(after) == 0:
            empty = "before" if len(before) == 0 else "from"
            raise UsageError(f"--train-until: {before.symbol} has no bars {empty} {split.isoformat()} "
                             f"(its bars: {_span_of(before, after)})")
    return train, test


def _span_of(before: Any, after: Any) -> str:
    whole = [s for s in (before, after) if len(s)]
    return f"{whole[0].time(0).isoformat()} to {whole[-1].time(len(whole[-1]) - 1).isoformat()}"


def _database_exists(settings: Any) -> bool:
    """Is there a database that may configure the pairs? A SQLite file that is not there configures
    nothing, and a backtest of a bar file then neither creates it nor loads SQLAlchemy."""
    url = settings.sqlalchemy_url()
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite"):
        return True
    return bool(rest.lstrip("/")) and Path(rest[1:]).exists()


def _setups(symbols: list[str], db: Any, overrides: dict[str, str], settings: Any, cash: Decimal,
            spread: Decimal | None) -> list[Any]:
    from app.backtest.inputs import configured_params, setup_for
    from dca.params import InvalidParams
    from wiring.settings_maps import backtest_terms

    terms = backtest_terms(settings)
    setups = []
    for symbol in symbols:
        params, configured = configured_params(db, symbol)
        try:
            setups.append(setup_for(symbol, params, overrides, terms, cash, spread))
        except InvalidParams as error:
            raise UsageError("--params: " + "; ".join(f"{k}: {v}" for k, v in error.problems.items())) from None
        origin = "dca_assets" if configured else "defaults (not configured)"
        print(f"{symbol}: parameters from {origin}" + (f" with {_show(overrides)}" if overrides else ""))
    return setups


def _sweep_points(specs: list[str], setups: list[Any]) -> list[dict[str, str]] | None:
    if not specs:
        return None
    from app.backtest.sweep import SweepError, checked, grid, parse_axis

    try:
        points = grid([parse_axis(spec) for spec in specs])
        checked(setups, points)
    except SweepError as error:
        raise UsageError(str(error)) from None
    return points


def _load(source: Any, symbols: list[str], start: Any, end: Any, db: Any) -> list[Any] | None:
    from app.backtest.inputs import InputError, load_series

    loaded = []
    for symbol in _progress(symbols, "loading bars"):
        try:
            loaded.append(load_series(source, symbol, start, end, db))
        except InputError as error:
            raise UsageError(str(error)) from None
        except LookupError as error:
            print(f"supervisor.py backtest: {error.args[0]}", file=sys.stderr)
            return None
    return loaded


def _single(args: argparse.Namespace, setups: list[Any], series: list[Any], source: Any, out: Path) -> int:
    from app.backtest import chart, report
    from app.backtest.compare import differences
    from app.backtest.insights import insights
    from app.backtest.metrics import curves, portfolio, summarize
    from app.backtest.runner import run

    outcomes = [run(setup, bars, fast=not args.reference)
                for setup, bars in _progress(list(zip(setups, series, strict=True)), "backtesting")]
    curve_list = [curves(o) for o in outcomes]
    summaries = [summarize(o, c) for o, c in zip(outcomes, curve_list, strict=True)]
    insight = [insights(o, c, s) for o, c, s in zip(outcomes, curve_list, summaries, strict=True)]
    book = portfolio(outcomes, curve_list)
    assumptions = report.Assumptions(source.describe(), all(o.fast for o in outcomes), setups[0].cash)
    result = report.result_json(list(zip(summaries, outcomes, strict=True)), assumptions, book.figures(), insight)
    report.write_json(out / "result.json", result)
    report.write_cycles_csv(out / "cycles.csv", outcomes, [more["open_cycle"] for more in insight])
    report.write_fills_csv(out / "fills.csv", outcomes)
    report.write_equity_csv(out / "equity.csv", outcomes, curve_list)
    if not args.no_chart:
        chart.draw(out / "chart.png", outcomes, curve_list, book, summaries, insight)
    print("\n".join(summary_lines(summaries, book.figures(), outcomes, insight)))
    written = "result.json, cycles.csv, fills.csv, equity.csv" + ("" if args.no_chart else ", chart.png")
    print(f"\nwritten to {out}/: {written}")
    if args.verify:
        return _verify(outcomes, not args.reference, differences)
    return 0


def _verify(outcomes: list[Any], was_fast: bool, differences: Any) -> int:
    from app.backtest.runner import run

    failed = False
    for outcome in outcomes:
        other = run(outcome.setup, outcome.series, fast=not was_fast)
        found = differences(outcome, other)
        fast, reference = (outcome, other) if was_fast else (other, outcome)
        speed = f"fast {fast.seconds:.3f} s ({fast.replayed} bars replayed), reference {reference.seconds:.3f} s"
        if found:
            failed = True
            print(f"verify {outcome.setup.symbol}: DIFFERENT: {'; '.join(found)}", file=sys.stderr)
        else:
            print(f"verify {outcome.setup.symbol}: fast path and reference loop identical ({speed})")
    return EXIT_FAILURE if failed else 0


def _sweep(args: argparse.Namespace, setups: list[Any], series: list[Any], points: list[dict[str, str]],
           out: Path, windows: tuple[list[Any], list[Any]] | None) -> int:
    from app.backtest.sweep import ranked

    names = list(points[0])
    ranking_bars = windows[0] if windows is not None else series
    rows = _run_grid(args, setups, ranking_bars, points, "sweep" if windows is None else "sweep (training)")
    best = ranked(rows, args.rank_by)
    path = _write_sweep_csv(out / "sweep.csv", best, [*names, *SWEEP_COLUMNS])
    _write_sweep_json(out / "sweep.json", best, args.rank_by)
    shown = [[rank, *(sweep_cell(c, row[c]) for c in [*names, *SWEEP_COLUMNS])]
             for rank, row in enumerate(best[:args.top], start=1)]
    window = "" if windows is None else f" on the training window (before {args.train_until})"
    print(f"\n{len(points)} parameter sets{window}, ranked by {args.rank_by} (best first):")
    print(table(["#", *names, *SWEEP_COLUMNS], shown, right=range(len(names) + 1, len(names) + len(SWEEP_COLUMNS) + 1)))
    print(f"\nfull table: {path}")
    if len(names) == 2 and not args.no_chart:
        from app.backtest.chart import draw_heatmap

        draw_heatmap(out / "sweep_heatmap.png", rows, names, args.rank_by)
        print(f"heatmap of {args.rank_by}: {out / 'sweep_heatmap.png'}")
    if windows is not None:
        _validate(args, setups, windows[1], best[:args.top], names, out)
    return 0


SWEEP_COLUMNS = ["total_pnl", "realized_pnl", "unrealized_pnl", "fees", "cycles_completed", "return_on_capital",
                 "max_drawdown", "sharpe", "sortino", "max_committed", "time_in_market"]
VALIDATION_COLUMNS = ["total_pnl", "return_on_capital", "max_drawdown", "cycles_completed", "sharpe"]


def _validate(args: argparse.Namespace, setups: list[Any], bars: list[Any], top: list[dict[str, Any]],
              names: list[str], out: Path) -> None:
    """The best sets of the training window, run on the bars after it: do they hold up?"""
    points = [{name: row[name] for name in names} for row in top]
    later = _run_grid(args, setups, bars, points, "validation")
    rows = [{**{name: row[name] for name in names}, **{f"train_{c}": row[c] for c in VALIDATION_COLUMNS},
             **{f"test_{c}": after[c] for c in VALIDATION_COLUMNS}} for row, after in zip(top, later, strict=True)]
    columns = [*names, *(f"{window}_{c}" for c in VALIDATION_COLUMNS for window in ("train", "test"))]
    path = _write_sweep_csv(out / "validation.csv", rows, columns)
    shown = [[rank, *(sweep_cell(_bare(c), row[c]) for c in columns)] for rank, row in enumerate(rows, start=1)]
    print(f"\nthe top {len(rows)} on the validation window (from {args.train_until}), beside their training results:")
    print(table(["#", *columns], shown, right=range(len(names) + 1, len(columns) + 1)))
    print(f"\nvalidation table: {path}")


def _run_grid(args: argparse.Namespace, setups: list[Any], series: list[Any], points: list[dict[str, str]],
              what: str) -> list[dict[str, Any]]:
    from adapters.dask_cluster import ClusterUnavailable
    from app.backtest.sweep import run_sweep

    with _bar(len(points), what) as bar:
        try:
            return run_sweep(setups, series, points, args.workers, on_done=lambda: bar.update(1), cluster=args.cluster)
        except ClusterUnavailable as error:
            raise Unavailable(f"--cluster: {error}") from None


def _write_sweep_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> Path:
    import csv

    from app.backtest.report import money

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", *columns])
        writer.writerows([rank, *(cell(row[c], money, exact=True) for c in columns)]
                         for rank, row in enumerate(rows, start=1))
    return path


def _write_sweep_json(path: Path, rows: list[dict[str, Any]], rank_by: str) -> None:
    """Every set's figures, best first (the same file whether the sweep ran locally or on a cluster)."""
    from app.backtest.report import plain, write_json

    write_json(path, {"ranked_by": rank_by, "sets": [{"rank": rank, **plain(row)} for rank, row in
                                                     enumerate(rows, start=1)]})


def _bare(column: str) -> str:
    for prefix in ("train_", "test_"):
        if column.startswith(prefix):
            return column[len(prefix):]
    return column


# --- option parsing ------------------------------------------------------------------------------


def _rankings() -> list[str]:
    from app.backtest.sweep import RANKINGS

    return list(RANKINGS)


def _show(overrides: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in overrides.items())


def _default_out(symbols: list[str], series: list[Any]) -> Path:
    first = min(s.time(0) for s in series).strftime("%Y-%m-%d")
    last = max(s.time(len(s) - 1) for s in series).strftime("%Y-%m-%d")
    name = "+".join(s.replace("/", "-") for s in symbols)
    return Path("out") / "backtest" / f"{name}_{first}_{last}"


def _progress(items: list[Any], what: str) -> Any:
    from tqdm import tqdm

    return tqdm(items, desc=what, unit="symbol", leave=False, disable=len(items) < 2 or not sys.stderr.isatty())


def _bar(total: int, what: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=what, unit="set", disable=not sys.stderr.isatty(),
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} sets [{elapsed}, ETA {remaining}, "
                           "{rate_fmt}]")
