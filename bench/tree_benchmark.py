"""Benchmarks of the running actor tree (issue #4). Run by hand; prints its figures.

    .venv/bin/python bench/tree_benchmark.py throughput [--assets 60] [--rate 24000] [--seconds 20]
                                             [--params quiet|trailing] [--every-quote-to-actors]
                                             [--decide-every-quote]
    .venv/bin/python bench/tree_benchmark.py memory [--assets 60 1000]
    .venv/bin/python bench/tree_benchmark.py startup [--assets 60]

The simulator runs as a separate process (`supervisor.py sim`), so the bot under test has the
interpreter to itself, as in production. `throughput` measures, in one run: (a) the quotes per
second the tree decides across N asset actors and the latency from a quote's arrival at the router to
the asset's decision (p50/p99), then (b) the same load through a deliberately naive handler that reads
the asset and its cycle from the database on every tick over a fresh connection (the prior system's
design), and prints the ratio.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loguru import logger  # noqa: E402

KEYS = {"APCA_API_KEY_ID": "PKBENCH", "APCA_API_SECRET_KEY": "bench-secret"}
# Far-away triggers: after its base order, every asset only decides (no more orders), so the quote
# path itself is what is measured.
QUIET_PARAMS = {"base_order_amount": "10", "safety_order_amount": "10", "max_safety_orders": 1,
                "safety_order_deviation": "50", "take_profit_percent": "50", "ttp_enabled": False,
                "cooldown_period": 0}


# Trailing take-profit armed right after the base order fills, with a stop far below: every new
# high moves the peak, so a share of the quotes reaches the actors and changes their state.
TRAILING_PARAMS = {**QUIET_PARAMS, "take_profit_percent": "0.01", "ttp_enabled": True, "ttp_deviation_percent": "20"}
PARAMS = {"quiet": QUIET_PARAMS, "trailing": TRAILING_PARAMS}


def symbols(count: int) -> list[str]:
    return [f"B{index:04d}/USD" for index in range(count)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_simulator(pairs: list[str], speed: float, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **KEYS}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "supervisor.py"), "sim", "--port", str(port), "--symbols", ",".join(pairs),
         "--speed", str(speed), "--tick", "1", "--rate-limit", "0", "--seed", "5"],
        cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(url + "/v2/clock", headers=_headers()), timeout=1).close()
            return process, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the simulator did not start")


def _headers() -> dict[str, str]:
    return {"APCA-API-KEY-ID": KEYS["APCA_API_KEY_ID"], "APCA-API-SECRET-KEY": KEYS["APCA_API_SECRET_KEY"]}


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def configure_assets(database_url: str, pairs: list[str], params: dict[str, object] = QUIET_PARAMS) -> None:
    from adapters.db.assets import AssetRepository
    from adapters.db.database import Database
    from dca.params import AssetParams, with_overrides

    db = Database(database_url)
    db.upgrade()
    AssetRepository(db).add(pairs, with_overrides(AssetParams(), params), enabled=True)
    db.dispose()


def start_bot(database_url: str, sim_url: str, tmp: Path):  # type: ignore[no-untyped-def]
    from actors.runtime import Intervals
    from adapters.db.database import Database
    from config.settings import load_settings
    from wiring.bot import Bot, open_venue

    settings = load_settings(env_file=None, database_url=database_url, alpaca_sim_url=sim_url,
                             apca_api_key_id=KEYS["APCA_API_KEY_ID"], apca_api_secret_key=KEYS["APCA_API_SECRET_KEY"],
                             metrics_port=0, log_dir=tmp / "logs", data_dir=tmp / "data")
    db = Database(database_url)
    venue = open_venue(settings, db)
    # caretaker periods are on the venue's clock: keep them this many real seconds apart whatever the speed
    speed = venue.clock.speed or 1.0
    quiet = Intervals(order_janitor=600 * speed, cooldown_keeper=600 * speed, reconciler=600 * speed,
                      asset_watcher=600 * speed, order_history_sync=3600 * speed, bars_sync=10**9)
    bot = Bot(settings, db, venue, intervals=quiet, keep_bars=False)
    return bot.start(serve_metrics=False)


class LatencyRecorder:
    """Stands in for the latency histogram: keeps every observation (seconds)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.lock = threading.Lock()

    def observe(self, value: float) -> None:
        self.values.append(value)


def wait_until_quiet(bot, pairs: list[str], timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    """Every asset has placed and filled its base order (from then on it only decides)."""
    from adapters.db.cycles import CycleStore

    store = CycleStore(bot.db)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cycles = store.current_cycles()
        if len(cycles) == len(pairs) and all(c.cycle.quantity > 0 and c.cycle.order is None for c in cycles):
            return
        time.sleep(0.5)
    raise RuntimeError("the assets did not settle into position")


def measure(bot, seconds: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Every quote ends one of three ways: settled on arrival by the quote board (outside the cycle's
    triggers: its decision latency is the board's publish call, timed here), decided by the asset's
    actor (latency from arrival to decision, from the histogram's observations), or conflated
    (overwritten by a newer quote before the actor looked)."""
    metrics, board = bot.runtime.metrics, bot.runtime.board
    recorder = LatencyRecorder()
    metrics.decision_latency = recorder
    publish, settled_ns = board.publish, []

    def timed_publish(quote):  # type: ignore[no-untyped-def]
        started = time.perf_counter_ns()
        before = board.settled(quote.symbol)
        publish(quote)
        if board.settled(quote.symbol) is not before:
            settled_ns.append(time.perf_counter_ns() - started)

    offered_before = _sum(metrics.quotes)
    conflated_before = _sum(metrics.quotes_conflated)
    board.publish = timed_publish
    time.sleep(seconds)
    board.publish = publish
    by_actor, settled = recorder.values[:], [ns / 1e9 for ns in settled_ns]
    offered, conflated = _sum(metrics.quotes) - offered_before, _sum(metrics.quotes_conflated) - conflated_before
    every, actor = sorted(by_actor + settled), sorted(by_actor)
    return {
        "offered_per_s": offered / seconds, "decided_per_s": len(every) / seconds,
        "actor_per_s": len(actor) / seconds, "conflated_share": conflated / offered if offered else 0.0,
        "p50_ms": _percentile(every, 0.50) * 1000, "p99_ms": _percentile(every, 0.99) * 1000,
        "max_ms": (every[-1] if every else 0.0) * 1000,
        "actor_p50_ms": _percentile(actor, 0.50) * 1000, "actor_p99_ms": _percentile(actor, 0.99) * 1000,
    }


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _sum(counter) -> float:  # type: ignore[no-untyped-def]
    return sum(sample.value for metric in counter.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


def make_naive() -> None:
    """Swap the asset actors' quote handler for the prior system's: read the asset row and its latest
    cycle from the database, over a fresh connection, on every tick, then decide."""
    from actors.asset_actor import AssetActor
    from adapters.db.assets import AssetRepository
    from adapters.db.cycles import CycleStore
    from adapters.db.database import Database
    from dca.strategy import decide

    databases: dict[str, Database] = {}

    def naive_on_quote_ready(self) -> None:  # type: ignore[no-untyped-def]
        quote, arrived_ns = self._rt.board.take(self._symbol)
        if quote is None:
            return
        url = self._rt.cycles._db.url
        db = databases.setdefault(url, Database(url, pooled=False))
        record = AssetRepository(db).by_id(self._driver._asset_id)
        state = CycleStore(db).load(record)
        decide(self._driver.snapshot()[0], state, quote)
        self._rt.metrics.decision_latency.observe((time.perf_counter_ns() - arrived_ns) / 1e9)

    AssetActor._on_quote_ready = naive_on_quote_ready
    decide_on_every_quote()


def send_every_quote_to_the_actors() -> None:
    """Switch off settling on arrival: the board wakes the asset's actor for every quote (the actor
    still skips `decide` for a quote outside its triggers, as it does in production)."""
    from actors.quote_board import QuoteBoard
    from dca.strategy import ALWAYS

    release = QuoteBoard.release

    def stay_held(self: QuoteBoard, symbol: str, _triggers: object) -> None:
        release(self, symbol, ALWAYS)

    QuoteBoard.release = stay_held  # type: ignore[method-assign]


def decide_on_every_quote() -> None:
    """No triggers anywhere: every quote wakes its actor and runs the full `decide` (the worst case)."""
    from app.driver.asset_driver import AssetDriver
    from dca.strategy import ALWAYS

    AssetDriver._refresh_triggers = lambda self: setattr(self, "_triggers", ALWAYS)


def throughput(args: argparse.Namespace) -> None:
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    pairs = symbols(args.assets)
    speed = args.rate / len(pairs)  # one quote per pair per simulated second
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        database_url = args.database or f"sqlite:///{tmp / 'bench.sqlite3'}"
        configure_assets(database_url, pairs, PARAMS[args.params])
        if args.every_quote_to_actors:
            send_every_quote_to_the_actors()
        if args.decide_every_quote:
            decide_on_every_quote()
        simulator, sim_url = start_simulator(pairs, speed, tmp)
        try:
            bot = start_bot(database_url, sim_url, tmp)
            wait_until_quiet(bot, pairs)
            time.sleep(3)
            tree = measure(bot, args.seconds)
            bot.stop()
            make_naive()
            bot = start_bot(database_url, sim_url, tmp)
            time.sleep(5)
            naive = measure(bot, args.seconds)
            bot.stop()
        finally:
            stop(simulator)
    path = ("every quote decided in full by the actors" if args.decide_every_quote
            else "every quote to the actors" if args.every_quote_to_actors else "settling on arrival")
    print(f"assets {args.assets} ({args.params} cycles, {path}), quotes offered by the simulator ≈ {args.rate}/s, "
          f"measured over {args.seconds} s, GIL switch interval {sys.getswitchinterval() * 1000:g} ms")
    for name, result in (("actor tree", tree), ("naive (DB read per tick)", naive)):
        print(f"  {name:26} offered {result['offered_per_s']:9.0f}/s  decided {result['decided_per_s']:9.0f}/s  "
              f"conflated {result['conflated_share']:6.1%}  p50 {result['p50_ms']:7.3f} ms  "
              f"p99 {result['p99_ms']:7.3f} ms  max {result['max_ms']:8.2f} ms")
        print(f"  {'':26} of which by the asset actors {result['actor_per_s']:9.0f}/s  "
              f"p50 {result['actor_p50_ms']:7.3f} ms  p99 {result['actor_p99_ms']:7.3f} ms")
    ratio = tree["decided_per_s"] / max(naive["decided_per_s"], 1e-9)
    print(f"  ratio (decided per second, tree / naive): {ratio:.0f}×")


def memory(args: argparse.Namespace) -> None:
    for count in args.assets:
        pairs = symbols(count)
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            configure_assets(database_url, pairs)
            _park_in_cooldown(database_url)
            simulator, sim_url = start_simulator(pairs, max(1.0, 2000 / count), tmp)
            try:
                probe = subprocess.run(
                    [sys.executable, __file__, "_rss", database_url, sim_url, str(count)], capture_output=True,
                    text=True, timeout=600)
            finally:
                stop(simulator)
            print(f"  {count:5} assets: {probe.stdout.strip() or probe.stderr.strip()[-500:]}")


def _park_in_cooldown(database_url: str) -> None:
    """A current cycle in a long cooldown per asset: the tree runs, decides on quotes, orders nothing."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from adapters.db.database import Database
    from adapters.db.models import DcaAsset, DcaCycle

    db = Database(database_url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        for asset_id in session.execute(select(DcaAsset.id)).scalars():
            session.add(DcaCycle(asset_id=asset_id, status="cooldown", created_at=now, updated_at=now,
                                 cooldown_until=now + timedelta(days=3650)))
    db.dispose()


def _rss(database_url: str, sim_url: str, count: str) -> None:
    """(Child process) start the tree, let it run, print its resident memory."""
    logger.remove()
    with tempfile.TemporaryDirectory() as folder:
        bot = start_bot(database_url, sim_url, Path(folder))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(bot.runtime.asset_directory.names()) < int(count):
            time.sleep(0.5)
        time.sleep(10)
        alive = len(bot.runtime.asset_directory.names())
        rss = _vm("VmRSS")
        threads = threading.active_count()
        bot.stop()
    print(f"RSS {rss / 1024:.0f} MiB with {alive} asset actors running ({threads} threads)")


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def startup(args: argparse.Namespace) -> None:
    """Open cycles first (every asset buys its base order; the simulator runs slowly enough that the
    bot's 190 requests/minute, Alpaca's limit, keep up), then a fresh `python supervisor.py` process
    is timed from its start to its first decision."""
    pairs = symbols(args.assets)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        configure_assets(database_url, pairs)
        simulator, sim_url = start_simulator(pairs, 5, tmp)
        try:
            first = start_bot(database_url, sim_url, tmp)
            try:
                wait_until_quiet(first, pairs, timeout=600)
            finally:
                first.stop()
            port = free_port()
            env = {**os.environ, **KEYS, "DATABASE_URL": database_url, "ALPACA_SIM_URL": sim_url,
                   "METRICS_PORT": str(port), "BARS_SYNC_INTERVAL_SECONDS": "0", "LOG_DIR": str(tmp / "logs")}
            started = time.monotonic()
            process = subprocess.Popen([sys.executable, str(ROOT / "supervisor.py")], cwd=tmp, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            decided = _wait_first_decision(port)
            elapsed = time.monotonic() - started
            stop(process)
        finally:
            stop(simulator)
    print(f"  {args.assets} assets with open cycles: first decision {elapsed:.2f} s after the process started"
          + ("" if decided else " (no decision seen!)"))


def _wait_first_decision(port: int, timeout: float = 60) -> bool:
    """Until the first quote reaches a live asset actor's slot on the quote board: from then on every
    quote is decided (settled on arrival outside the cycle's triggers, else by the actor)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1).read().decode()
            for line in text.splitlines():
                if line.startswith(("dca_quotes_total{", "dca_quote_decision_latency_seconds_count")) \
                        and float(line.split()[-1]) > 0:
                    return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_rss":
        _rss(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("throughput")
    one.add_argument("--assets", type=int, default=60)
    one.add_argument("--rate", type=float, default=24_000, help="quotes per second the simulator offers")
    one.add_argument("--seconds", type=float, default=20)
    one.add_argument("--database", help="a SQLAlchemy URL (default: a temporary SQLite file)")
    one.add_argument("--switch-interval", type=float, help="override sys.setswitchinterval (seconds)")
    one.add_argument("--params", choices=sorted(PARAMS), default="quiet",
                     help="quiet: cycles holding with far triggers; trailing: trailing take-profits chasing peaks")
    one.add_argument("--every-quote-to-actors", action="store_true",
                     help="switch off settling quotes on arrival, to measure the asset actors' own capacity")
    one.add_argument("--decide-every-quote", action="store_true",
                     help="no triggers at all: every quote wakes its actor and runs the full decide (worst case)")
    mem = sub.add_parser("memory")
    mem.add_argument("--assets", type=int, nargs="+", default=[60, 1000])
    start = sub.add_parser("startup")
    start.add_argument("--assets", type=int, default=60)
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    {"throughput": throughput, "memory": memory, "startup": startup}[args.what](args)


if __name__ == "__main__":
    main()
