"""`python supervisor.py sim`: run the Alpaca-compatible exchange simulator as a server.

Imports of the simulator itself happen inside the handler, so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cli.errors import UsageError
from cli.inputs import arg_type, fault, non_negative, port, positive, quirk

DESCRIPTION = """\
Run an Alpaca-compatible crypto exchange: the trading REST API (/v2), crypto market data
(/v1beta3/crypto/us), the market-data WebSocket (MessagePack) and the trade-updates WebSocket
(/stream), all on one port, for the real alpaca-py clients (point their url_override at it).

Keys: APCA_API_KEY_ID and APCA_API_SECRET_KEY from the environment or .env (as the bot reads
them), or a generated pair (printed).
State (cash, positions, orders, used client ids, clock) survives restarts with --state-file.
Ctrl-C or SIGTERM stops it cleanly (exit 0) after saving the state."""

DEMO_PAIRS = ("BTC/USD", "ETH/USD", "SOL/USD")  # the bot's demo assets (wiring/bot.py DEMO_ASSETS)

EPILOG = """\
faults (--fault name=value, repeatable; also POST /sim/faults {"name": value} at run time):
  ws_close_every=SECONDS          close every WebSocket every N real seconds (0 = off)
  http_5xx_rate=0..1              answer that share of requests with http_5xx_status (default 504)
  http_5xx_mode=before|after      after: the request IS processed, then the client sees the error
  http_5xx_next=N                 fail exactly the next N requests
  http_429_rate=0..1              answer that share of requests with 429
  http_429_next=N                 answer exactly the next N requests with 429
  http_fault_paths=/v2/orders     comma-separated path prefixes the 5xx/429 faults apply to
  latency_ms=MS, latency_jitter_ms=MS   added to every HTTP response
  trade_update_delay_ms=MS        delay every trade update
  trade_update_duplicate_rate=0..1, trade_update_reorder_rate=0..1, trade_update_drop_rate=0..1
  reject_rate=0..1, reject_mode=http403|http422|event   reject valid orders
  partial_fill_rate=0..1          fill only part of the remaining quantity per fill opportunity

{quirks}

example:
  python supervisor.py sim --port 8765 --symbols BTC/USD,ETH/USD --speed 60 --seed 1 \\
      --fault http_5xx_rate=0.05 --state-file data/sim-state.json
  python supervisor.py sim --quirk fees_eod --quirk fee_tier=25/40 --quirk position_lag=2"""

QUIRKS_HEADING = """venue quirks (--quirk NAME[=VALUE], repeatable; fixed for the run; see docs/venue-quirks.md):"""


def _symbols(text: str) -> list[str]:
    from adapters.sim.assets import canonical_symbol  # light: no vendor imports

    symbols = [part.strip() for part in text.split(",") if part.strip()]
    if not symbols:
        raise argparse.ArgumentTypeError("at least one symbol is required, e.g. BTC/USD,ETH/USD")
    try:
        return list(dict.fromkeys(canonical_symbol(symbol) for symbol in symbols))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from adapters.sim.quirks import describe  # pure Python, no vendor imports: --help stays instant

    parser = subparsers.add_parser(
        "sim",
        help="run the Alpaca-compatible exchange simulator",
        description=DESCRIPTION,
        epilog=EPILOG.replace("{quirks}", QUIRKS_HEADING + "\n" + describe()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=arg_type(port), default=8765, help="port for REST and both WebSockets (default 8765; 0 = any)")
    add(
        "--symbols",
        type=_symbols,
        default=list(DEMO_PAIRS),
        help="comma-separated pairs (default: the demo pairs BTC/USD,ETH/USD,SOL/USD; unknown ones get "
             "generated markets)",
    )
    add(
        "--speed",
        type=arg_type(positive),
        default=Decimal(60),
        help="simulated seconds per real second (default 60: an hour a minute)",
    )
    add(
        "--tick",
        type=arg_type(positive),
        default=Decimal(1),
        help="simulated seconds between two quotes of a pair (default 1)",
    )
    add("--seed", type=int, default=1, help="seed of the market, the order ids and the faults (default 1)")
    add(
        "--start",
        type=_start,
        default=None,
        help="simulated start time, ISO-8601 UTC (default: now, or the first replayed bar)",
    )
    add(
        "--pacing",
        choices=("realtime", "manual"),
        default="realtime",
        help="realtime: quotes follow the accelerated clock; manual: only POST /sim/advance moves them",
    )
    add(
        "--cash",
        type=arg_type(non_negative),
        default=Decimal(100_000),
        help="starting cash in USD (default 100000)",
    )
    add(
        "--state-file",
        type=Path,
        default=None,
        help="JSON file keeping account, orders, client ids and clock across restarts",
    )
    add(
        "--replay",
        type=Path,
        default=None,
        metavar="CSV|db",
        help="1-minute bars to replay: a file timestamp,open,high,low,close,volume[,trade_count,vwap] (.csv, "
        ".gz), or `db` for the pair's rows of historical_1min_bars in the bot's database (DATABASE_URL)",
    )
    add("--replay-symbol", default=None, help="the pair the replayed bars belong to (required with --replay)")
    add(
        "--fault",
        type=arg_type(fault),
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="inject a fault (repeatable; see the list below)",
    )
    add(
        "--quirk",
        type=arg_type(quirk),
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="make the venue behave another plausible way (repeatable; see the list below)",
    )
    add(
        "--maker-fee-bps",
        type=arg_type(non_negative),
        default=Decimal(15),
        help="maker fee (default 15 = 0.15%%)",
    )
    add(
        "--taker-fee-bps",
        type=arg_type(non_negative),
        default=Decimal(25),
        help="taker fee (default 25 = 0.25%%)",
    )
    add(
        "--min-notional",
        type=arg_type(non_negative),
        default=Decimal(10),
        help="minimum order cost basis in USD (default 10)",
    )
    add(
        "--slippage-bps",
        type=arg_type(non_negative),
        default=Decimal(0),
        help="market orders fill this much worse than the quote (default 0)",
    )
    add("--allow-fok", action="store_true", help="accept time_in_force=fok (rejected like day by default)")
    add(
        "--price-increment-policy",
        choices=("reject", "round"),
        default="reject",
        help="prices off the pair's price_increment: reject with 422 (default) or round",
    )
    add(
        "--rate-limit",
        type=int,
        default=200,
        help="trading requests per minute per key (default 200; 0 = off)",
    )
    parser.set_defaults(handler=run)


def build_config(args: argparse.Namespace) -> Any:
    from adapters.sim.config import SimConfig
    from adapters.sim.rules import ExchangeRules

    if (args.replay is None) != (args.replay_symbol is None):
        raise UsageError("--replay and --replay-symbol go together")
    from_db = args.replay is not None and str(args.replay) == "db"
    if args.replay is not None and not from_db and not args.replay.exists():
        raise UsageError(f"--replay: no such file: {args.replay}")
    replay_symbol = None
    if args.replay_symbol is not None:
        replay_symbol = _symbols(args.replay_symbol)[0]
        if replay_symbol not in args.symbols:
            raise UsageError(f"--replay-symbol: {replay_symbol} must be one of --symbols")
    from config.settings import load_alpaca_keys

    key, secret = load_alpaca_keys()  # like the bot: the environment, then .env, so both use one key pair
    if (key is None) != (secret is None):
        raise UsageError("APCA_API_KEY_ID and APCA_API_SECRET_KEY must be set together")
    rules = ExchangeRules(
        maker_fee_bps=args.maker_fee_bps,
        taker_fee_bps=args.taker_fee_bps,
        min_notional=args.min_notional,
        slippage_bps=args.slippage_bps,
        allow_fok=args.allow_fok,
        price_increment_policy=args.price_increment_policy,
    )
    if args.rate_limit < 0:
        raise UsageError("--rate-limit: must be >= 0")
    return SimConfig(
        symbols=args.symbols,
        host=args.host,
        port=args.port,
        seed=args.seed,
        speed=args.speed,
        tick=timedelta(seconds=float(args.tick)),
        start=args.start,
        pacing=args.pacing,
        starting_cash=args.cash,
        key_id=key,
        secret_key=secret,
        state_file=args.state_file,
        replay_csv=None if from_db else args.replay,
        replay_bars=_stored_bars(replay_symbol) if from_db and replay_symbol else None,
        replay_symbol=replay_symbol,
        rules=rules,
        faults=dict(args.fault),
        quirks=dict(args.quirk),
        rate_limit_per_minute=args.rate_limit,
    )


def _stored_bars(symbol: str) -> Any:
    """The pair's rows of historical_1min_bars (oldest first, read lazily in pages)."""
    from adapters.db.assets import AssetRepository
    from adapters.db.bars import BarStore
    from cli.common import open_database
    from config.settings import load_settings

    db = open_database(load_settings())
    asset = AssetRepository(db).get(symbol)
    store = BarStore(db)
    if asset is None or store.count(asset.id) == 0:
        raise UsageError(f"--replay db: no bars of {symbol} are stored (fetch or import them with `bars`)")
    return store.iter_bars(asset.id, symbol, datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


def run(args: argparse.Namespace) -> int:
    config = build_config(args)
    generated = config.key_id is None
    resumed = config.state_file is not None and config.state_file.exists()
    from adapters.sim.service import SimulatorService

    try:
        service = SimulatorService(config)
        service.start()
    except OSError as error:
        raise UsageError(f"--host/--port {config.host}:{config.port}: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(str(error)) from None
    stop = threading.Event()  # handlers before the banner: whoever reads it may signal at once
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    urls = service.urls
    print(
        f"alpaca simulator on {config.host}:{service.port}  seed={config.seed} speed={config.speed}x "
        f"pacing={config.pacing} symbols={','.join(config.symbols)}"
    )
    if generated:
        print(f"generated keys:  APCA_API_KEY_ID={service.key_id}  APCA_API_SECRET_KEY={service.secret_key}")
    else:
        print("keys: APCA_API_KEY_ID / APCA_API_SECRET_KEY from the environment or .env")
    print(f"url_override  TradingClient:               {urls.trading}")
    print(f"url_override  CryptoHistoricalDataClient:  {urls.data}")
    print(f"url_override  CryptoDataStream:            {urls.data_stream}")
    print(f"url_override  TradingStream:               {urls.trading_stream}")
    if resumed:
        print(f"state: resumed from {config.state_file} (account, orders, clock)")
    quirks = ", ".join(f"{name}={value}" if value else name for name, value in config.quirks.items())
    print(f"simulated time {service.clock.now().isoformat()}  quirks: {quirks or 'none'}  (Ctrl-C to stop)",
          flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    saved = f"; state saved to {config.state_file}" if config.state_file else ""
    print(f"simulator stopped at simulated {service.clock.now().isoformat()}{saved}", file=sys.stderr)
    return 0
