"""`supervisor.py bars fetch|import`: fill historical_1min_bars for backtests (replaces
fetch_historical_bars.py). Heavy imports happen inside the handlers so `--help` stays instant."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.report_text import table
from cli import inputs
from cli.common import open_database, settings_from
from cli.errors import EXIT_FAILURE, UsageError

FETCH_DESCRIPTION = """\
Fetch 1-minute bars through alpaca-py's CryptoHistoricalDataClient into historical_1min_bars, one
chunk of a week at a time (paged; a 429 is waited out), upserted (a re-run adds no duplicates).
One symbol's failure does not stop the others; the exit code is 1 if any failed.

Where from (--source auto): with ALPACA_SIM_URL, that simulator; else with Alpaca keys
(APCA_API_KEY_ID/APCA_API_SECRET_KEY), Alpaca's market-data API (APCA_DATA_URL overrides its URL);
with neither, the embedded simulator started in this process, which serves deterministic synthetic
history for any past range. --source alpaca uses Alpaca's API even without keys (crypto data needs
none; keys raise the rate limit).

A pair that is not configured gets a DISABLED dca_assets row with default parameters (the bars
table references dca_assets); the bot does not trade it until you enable it."""

IMPORT_DESCRIPTION = """\
Load bars from a file: columns timestamp,open,high,low,close,volume[,trade_count,vwap] with a header,
timestamps ISO-8601 UTC on whole minutes, .csv or .csv.gz. The whole file is checked first (a
problem names its line and column, exit 2, nothing written), then upserted (re-imports add no
duplicates). A pair that is not configured gets a disabled dca_assets row, as with fetch."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("bars", help="historical 1-minute bars for backtests: fetch, import",
                                 description="Fill historical_1min_bars, the backtester's data.")
    actions = parser.add_subparsers(dest="bars_action", metavar="ACTION", required=True)
    fetch = actions.add_parser("fetch", help="fetch bars from Alpaca or the simulator", description=FETCH_DESCRIPTION,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    which = fetch.add_mutually_exclusive_group(required=True)
    which.add_argument("--symbols", help="comma-separated pairs, e.g. BTC/USD,ETH/USD")
    which.add_argument("--all-configured", action="store_true", help="every pair in dca_assets (enabled or not)")
    fetch.add_argument("--mode", choices=("bulk", "incremental"), default="bulk",
                       help="bulk: --start to --end (default); incremental: from each pair's newest stored bar "
                            "(a pair with none: from --start, or 30 days back) to --end")
    fetch.add_argument("--start", help="first day, YYYY-MM-DD (UTC) or an ISO-8601 time (incremental: only for "
                                       "pairs with no stored bars)")
    fetch.add_argument("--end", help="last day, included (YYYY-MM-DD), or an exclusive ISO-8601 time (default: now)")
    fetch.add_argument("--source", choices=("auto", "alpaca", "embedded"), default="auto",
                       help="auto (default): ALPACA_SIM_URL, else Alpaca with keys, else the embedded simulator")
    fetch.set_defaults(handler=_fetch)
    load = actions.add_parser("import", help="load bars from a CSV file", description=IMPORT_DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    load.add_argument("file", metavar="FILE.csv[.gz]")
    load.add_argument("--symbol", required=True, help="the pair the file holds, e.g. BTC/USD")
    load.set_defaults(handler=_import)


# --- fetch ------------------------------------------------------------------------------------------


def _fetch(args: argparse.Namespace) -> int:
    symbols = inputs.symbols(args.symbols) if args.symbols else None
    end = _end(args.end)
    if args.mode == "bulk" and args.start is None:
        raise UsageError("--start: required with --mode bulk (YYYY-MM-DD)")
    start = inputs.moment(args.start, "--start") if args.start is not None else None
    if start is not None and start >= end:
        raise UsageError(f"--start: {args.start} is not before the end ({end.isoformat()})")
    settings = settings_from(args)
    db = open_database(settings)
    from adapters.db.assets import AssetRepository
    from adapters.db.bars import BarStore
    from app.bars import asset_rows, open_bar_endpoint

    repo = AssetRepository(db)
    if symbols is None:
        symbols = [asset.symbol for asset in repo.all()]
        if not symbols:
            raise UsageError("--all-configured: no pairs are configured (add some with `assets add`)")
    assets, added = asset_rows(repo, symbols)
    _say_added(added)
    endpoint = open_bar_endpoint(settings, symbols, args.source)
    print(f"fetching 1-minute bars from {endpoint.description}")
    try:
        results = _sync_all(endpoint.fetcher, BarStore(db), assets, start, end, incremental=args.mode == "incremental")
    finally:
        endpoint.close()
    _print_results(results)
    return EXIT_FAILURE if any(r.error for r in results) else 0


def _end(text: str | None) -> datetime:
    from app.bars import floor_minute

    now = floor_minute(datetime.now(UTC))
    if text is None:
        return now
    return min(inputs.moment(text, "--end", end_of_day=True), now)  # nothing after now exists yet


def _sync_all(fetcher: Any, store: Any, assets: list[Any], start: datetime | None, end: datetime,
              incremental: bool) -> list[Any]:
    """Bulk: [start, end) for every pair. Incremental: from each pair's newest stored bar (a pair with
    none from `start`, or 30 days back)."""
    from tqdm import tqdm

    from app.bars import SyncResult, incremental_start, sync_symbol

    spans = [(asset, incremental_start(store, asset.id, end, first=start) if incremental else start)
             for asset in assets]
    total = sum(len(fetcher.chunks(first, end)) for _, first in spans)
    results = []
    with tqdm(total=total, unit="chunk", desc="bars", disable=not sys.stderr.isatty()) as bar:
        for asset, first in spans:
            if first >= end:
                results.append(SyncResult(asset.symbol, first, end))
                continue
            bar.set_postfix_str(asset.symbol)
            chunks = len(fetcher.chunks(first, end))
            done = [0]

            def advance(_count: int, done: list[int] = done) -> None:
                done[0] += 1
                bar.update(1)

            result = sync_symbol(fetcher, store, asset.id, asset.symbol, first, end, on_chunk=advance)
            bar.update(chunks - done[0])  # a failed symbol's remaining chunks
            results.append(result)
    return results


def _print_results(results: list[Any]) -> None:
    rows = [[r.symbol, _time(r.start), _time(r.end), r.fetched, r.new,
             r.error or ("up to date" if r.start >= r.end else "ok")] for r in results]
    print(table(["symbol", "from", "to (excl.)", "fetched", "new", "result"], rows, right=(3, 4)))
    failed = [r.symbol for r in results if r.error]
    if failed:
        print(f"\n{len(failed)} of {len(results)} pairs failed: {', '.join(failed)}", file=sys.stderr)


def _say_added(added: list[str]) -> None:
    for symbol in added:
        print(f"{symbol}: not configured; added to dca_assets DISABLED with default parameters "
              f"(the bars table references it; the bot will not trade it)")


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


# --- import -----------------------------------------------------------------------------------------

BATCH = 5000


def _import(args: argparse.Namespace) -> int:
    symbol = inputs.symbols(args.symbol, "--symbol")
    if len(symbol) != 1:
        raise UsageError("--symbol: give exactly one pair")
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"FILE: {path} does not exist")
    from app.bars_csv import BarFileError, read_bar_rows

    try:
        count = sum(1 for _ in read_bar_rows(path, symbol[0]))
    except BarFileError as error:
        raise UsageError(f"{error} (nothing was written)") from None
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise UsageError(f"FILE: cannot read {path}: {error}") from None
    if count == 0:
        raise UsageError(f"FILE: {path} has no bars")
    return _store_rows(args, path, symbol[0], count, read_bar_rows)


def _store_rows(args: argparse.Namespace, path: Path, symbol: str, count: int, read_rows: Any) -> int:
    from tqdm import tqdm

    from adapters.db.assets import AssetRepository
    from adapters.db.bars import BarStore
    from app.bars import asset_rows

    db = open_database(settings_from(args))
    (asset,), added = asset_rows(AssetRepository(db), [symbol])
    _say_added(added)
    store, new, batch = BarStore(db), 0, []
    first = last = None
    with tqdm(total=count, unit="bar", desc="import", disable=not sys.stderr.isatty()) as bar:
        for row in read_rows(path, symbol):
            batch.append(row)
            first = row.bar.time if first is None else min(first, row.bar.time)
            last = row.bar.time if last is None else max(last, row.bar.time)
            if len(batch) >= BATCH:
                new += _upsert(store, asset.id, batch)
                bar.update(len(batch))
                batch = []
        new += _upsert(store, asset.id, batch)
        bar.update(len(batch))
    assert first is not None and last is not None
    print(table(["symbol", "file", "first", "last", "bars", "new", "updated"],
                [[symbol, path.name, _time(first), _time(last), count, new, count - new]], right=(4, 5, 6)))
    return 0


def _upsert(store: Any, asset_id: int, rows: list[Any]) -> int:
    if not rows:
        return 0
    rows = sorted(rows, key=lambda row: row.bar.time)  # BarStore counts new rows over the batch's time span
    return store.upsert(asset_id, [row.bar for row in rows], [(row.trade_count, row.vwap) for row in rows])
