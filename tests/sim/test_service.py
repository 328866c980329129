"""The simulator as a service: state file, bar replay, the accelerated clock and the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.historical.crypto import CryptoHistoricalDataClient
from alpaca.data.requests import CryptoBarsRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from adapters.sim.assets import make_asset
from adapters.sim.clock import AcceleratedClock
from adapters.sim.config import SimConfig
from adapters.sim.exchange import Exchange
from adapters.sim.orders import OrderRequest
from dca.market import Bar, bar_quote_path
from tests.sim.conftest import T0, make_service
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
REPLAY_START = datetime(2024, 7, 26, 14, 15, tzinfo=UTC)
CSV = """timestamp,open,high,low,close,volume,trade_count,vwap
2024-07-26T14:15:00Z,67745.75,67784.0,67726.0,67768.0,26.98425,120,67760.5
2024-07-26T14:16:00Z,67768.0,67810.0,67730.0,67740.33,26.43686,98,67770.1
2024-07-26T14:17:00Z,67740.33,67750.0,67600.0,67610.0,30.1,130,67680.0
"""


def trading(sim) -> TradingClient:  # type: ignore[no-untyped-def]
    return TradingClient(sim.key_id, sim.secret_key, url_override=sim.urls.trading)


def test_state_file_keeps_account_orders_client_ids_and_clock_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "sim-state.json"
    keys = {"key_id": "PKTEST", "secret_key": "secret"}
    with make_service(state_file=state, **keys) as sim:
        client = trading(sim)
        client.submit_order(
            MarketOrderRequest(
                symbol="BTC/USD",
                qty=0.01,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                client_order_id="keep-1",
            )
        )
        client.submit_order(
            LimitOrderRequest(
                symbol="ETH/USD",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=100,
                client_order_id="rest",
            )
        )
        sim.exchange.advance()
        cash, position, stopped_at = sim.exchange.cash, sim.exchange.positions(), sim.clock.now()
    assert state.exists()
    with make_service(state_file=state, **keys) as again:
        client = trading(again)
        assert again.exchange.cash == cash and again.exchange.positions() == position
        assert again.clock.now() >= stopped_at
        assert client.get_order_by_client_id("rest").status == "new" and again.exchange.buying_power == cash - 100
        with pytest.raises(APIError) as caught:
            client.submit_order(
                MarketOrderRequest(
                    symbol="BTC/USD",
                    qty=0.01,
                    side=OrderSide.BUY,
                    time_in_force=TimeInForce.GTC,
                    client_order_id="keep-1",
                )
            )
        assert caught.value.status_code == 422
        again.exchange.push_quote(
            again.exchange.latest_quote("ETH/USD").__class__(
                "ETH/USD", D("99"), D("100"), again.clock.now() + timedelta(seconds=1)
            )
        )
        assert client.get_order_by_client_id("rest").status == "filled"  # resting orders keep matching


def _exchange(**options: object) -> Exchange:
    return Exchange(SimConfig(symbols=["BTC/USD"], pacing="manual", start=T0, **options))  # type: ignore[arg-type]


def _buy(exchange: Exchange) -> str:
    return str(exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc", qty=D("0.001"))).id)


def test_a_new_exchange_never_repeats_an_earlier_ones_account_or_order_ids(tmp_path: Path) -> None:
    state = tmp_path / "sim-state.json"
    first = _exchange(state_file=state)
    placed = _buy(first)
    first.save()
    resumed = _exchange(state_file=state)  # a saved exchange is the same exchange
    assert (resumed.account_number, resumed.account_id) == (first.account_number, first.account_id)
    assert str(resumed.order(placed).id) == placed and _buy(resumed) != placed
    state.unlink()  # same seed, but the state is gone: a different exchange
    fresh = _exchange(state_file=state)
    assert fresh.account_number.startswith("PA3SIM00001-") and fresh.account_number != first.account_number
    assert fresh.account_id != first.account_id and _buy(fresh) != placed


def test_a_fixed_instance_salt_repeats_ids_and_old_state_files_keep_their_account(tmp_path: Path) -> None:
    one, two = _exchange(instance_salt="fixed"), _exchange(instance_salt="fixed")
    assert one.account_number == two.account_number == "PA3SIM00001-FIXED" and _buy(one) == _buy(two)
    state = tmp_path / "sim-state.json"
    _exchange(state_file=state, instance_salt="").save()  # what a state file from before salts restores to
    saved = json.loads(state.read_text())
    del saved["state"]["salt"]
    state.write_text(json.dumps(saved))
    assert _exchange(state_file=state).account_number == "PA3SIM00001"  # the books recorded this number


def write_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(CSV)
    return path


def test_replay_turns_bars_into_the_backtesters_quote_path(tmp_path: Path) -> None:
    with make_service(replay_csv=write_csv(tmp_path), replay_symbol="BTC/USD", start=None) as sim:
        assert sim.clock.now() == REPLAY_START
        spec = make_asset("BTC/USD")
        bar = Bar(
            "BTC/USD",
            REPLAY_START + timedelta(minutes=1),
            D("67768.0"),
            D("67810.0"),
            D("67730.0"),
            D("67740.33"),
            D("26.43686"),
        )
        expected = bar_quote_path(bar, spec.spread_bps, spec.price_increment)
        seen = []
        for _ in range(8):
            sim.exchange.step("BTC/USD")
            seen.append(sim.exchange.latest_quote("BTC/USD"))
        assert [(q.bid, q.ask, q.time) for q in seen[3:7]] == [(q.bid, q.ask, q.time) for q in expected]
        for _ in range(25):
            sim.exchange.step("BTC/USD")  # past the last bar: continues synthetically, 1 s ticks
        assert sim.clock.now() > REPLAY_START + timedelta(minutes=3)
        bars = (
            CryptoHistoricalDataClient(url_override=sim.urls.data)
            .get_crypto_bars(
                CryptoBarsRequest(
                    symbol_or_symbols="BTC/USD",
                    timeframe=TimeFrame.Minute,
                    start=REPLAY_START - timedelta(minutes=2),
                    end=REPLAY_START + timedelta(minutes=2),
                )
            )
            .data["BTC/USD"]
        )
    replayed = [(b.open, b.high, b.low, b.close, b.trade_count, b.vwap) for b in bars[2:]]
    assert replayed == [
        (67745.75, 67784.0, 67726.0, 67768.0, 120, 67760.5),
        (67768.0, 67810.0, 67730.0, 67740.33, 98, 67770.1),
        (67740.33, 67750.0, 67600.0, 67610.0, 130, 67680.0),
    ]
    assert len(bars) == 5 and bars[0].timestamp == REPLAY_START - timedelta(minutes=2)
    assert abs(bars[1].close / 67745.75 - 1) < 0.01  # synthetic history meets the replay without a jump


def test_replay_accepts_an_iterable_of_bars_as_the_database_hook() -> None:
    rows = [
        Bar(
            "BTC/USD",
            REPLAY_START + timedelta(minutes=i),
            D(60000 + i),
            D(60010 + i),
            D(59990 + i),
            D(60005 + i),
        )
        for i in range(3)
    ]
    with make_service(replay_bars=rows, replay_symbol="BTC/USD", start=None) as sim:
        sim.exchange.step("BTC/USD")
        assert sim.exchange.latest_quote("BTC/USD").time == REPLAY_START + timedelta(seconds=15)


def test_accelerated_clock_runs_speed_times_faster() -> None:
    real = iter([100.0, 100.0, 101.5])
    clock = AcceleratedClock(REPLAY_START, 60, monotonic=lambda: next(real))
    assert clock.now() == REPLAY_START
    assert clock.now() == REPLAY_START + timedelta(minutes=1, seconds=30)


# ---------------------------------------------------------------- command line


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "supervisor.py", "sim", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_cli_help_explains_every_option() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for option in (
        "--port",
        "--symbols",
        "--speed",
        "--seed",
        "--fault",
        "--state-file",
        "--replay",
        "--replay-symbol",
        "--pacing",
        "--cash",
        "ws_close_every",
        "reject_mode",
        "--quirk",
        "gross_position_qty",
        "usd_fee_activity",
    ):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--speed", "0"), "--speed"),
        (("--port", "70000"), "--port"),
        (("--symbols", "BTC USD"), "--symbols"),
        (("--fault", "nope=1"), "--fault"),
        (("--quirk", "nope"), "--quirk"),
        (("--quirk", "position_lag=soon"), "position_lag"),
        (("--replay", "x.csv"), "--replay"),
    ],
)
def test_cli_bad_arguments_exit_2_naming_the_option(args: tuple[str, ...], named: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2 and named in result.stderr


@dataclass
class SimProcess:
    banner: str  # the first six lines it printed
    stderr: str = ""
    returncode: int | None = None


@contextmanager
def sim_process(*args: str, cwd: Path, env: dict[str, str]) -> Iterator[SimProcess]:
    """`supervisor.py sim --port 0 ...` in its own process; stopped with SIGINT on leaving."""
    process = subprocess.Popen([sys.executable, str(ROOT / "supervisor.py"), "sim", "--port", "0", *args],
                               cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = SimProcess("")
    try:
        run.banner = "".join(process.stdout.readline() for _ in range(6))  # type: ignore[union-attr]
        yield run
    finally:
        process.send_signal(signal.SIGINT)
        _, run.stderr = process.communicate(timeout=20)
        run.returncode = process.returncode


def test_cli_serves_alpaca_py_from_another_process_and_exits_0_on_sigint(tmp_path: Path) -> None:
    env = {**os.environ, "APCA_API_KEY_ID": "PKCLI", "APCA_API_SECRET_KEY": "cli-secret"}
    state = tmp_path / "state.json"
    with sim_process("--speed", "100", "--state-file", str(state), cwd=ROOT, env=env) as sim:
        urls = re.findall(r"(?:http|ws)://127\.0\.0\.1:\d+\S*", sim.banner)
        assert len(urls) == 4 and urls[2].endswith("/v1beta3/crypto/us") and urls[3].endswith("/stream")
        client = TradingClient("PKCLI", "cli-secret", url_override=urls[0])
        order = client.submit_order(
            MarketOrderRequest(symbol="BTC/USD", qty=0.001, side=OrderSide.BUY, time_in_force=TimeInForce.GTC)
        )
        wait_for(lambda: client.get_order_by_id(order.id).status == "filled", timeout=10)
    assert sim.returncode == 0, sim.stderr
    assert state.exists() and "state saved" in sim.stderr


def test_cli_reads_the_keys_from_dot_env_as_the_bot_does(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("APCA_API_KEY_ID=PKDOTENV\nAPCA_API_SECRET_KEY=dotenv-secret\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("APCA_")}
    with sim_process("--pacing", "manual", cwd=tmp_path, env=env) as sim:
        assert "from the environment or .env" in sim.banner and "generated keys" not in sim.banner
        trading_url = re.findall(r"http://127\.0\.0\.1:\d+", sim.banner)[0]
        assert TradingClient("PKDOTENV", "dotenv-secret", url_override=trading_url).get_account().status == "ACTIVE"
    assert sim.returncode == 0, sim.stderr


def test_a_paused_market_sends_no_quotes_until_it_resumes():
    import time
    from decimal import Decimal

    from adapters.sim.config import SimConfig
    from adapters.sim.service import SimulatorService

    config = SimConfig(symbols=["BTC/USD"], speed=Decimal(600), port=0, rate_limit_per_minute=0)
    with SimulatorService(config) as service:
        exchange = service.exchange
        time.sleep(0.3)
        exchange.pause()
        time.sleep(0.05)
        frozen = exchange.latest_quote("BTC/USD")
        time.sleep(0.3)
        assert exchange.paused and exchange.latest_quote("BTC/USD") == frozen
        exchange.resume()
        deadline = time.monotonic() + 5
        while exchange.latest_quote("BTC/USD") == frozen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert exchange.latest_quote("BTC/USD") != frozen


def test_admin_routes_pause_the_market_and_list_every_order(tmp_path):
    import json
    import urllib.request
    from decimal import Decimal

    from adapters.sim.config import SimConfig
    from adapters.sim.orders import OrderRequest
    from adapters.sim.service import SimulatorService

    with SimulatorService(SimConfig(symbols=["BTC/USD"], speed=Decimal(60), port=0)) as service:
        headers = {"APCA-API-KEY-ID": service.key_id, "APCA-API-SECRET-KEY": service.secret_key}

        def call(path, method="GET"):
            request = urllib.request.Request(service.urls.trading + path, method=method, headers=headers,
                                             data=b"" if method == "POST" else None)
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())

        service.exchange.submit_order(OrderRequest("BTC/USD", "buy", "market", "gtc", qty=Decimal("0.001"),
                                                   client_order_id="admin-1"))
        assert call("/sim/pause", "POST") == {"paused": True} and call("/sim/state")["paused"] is True
        (order,) = call("/sim/orders")
        assert order["client_order_id"] == "admin-1" and order["qty"] == "0.001" and order["side"] == "buy"
        assert call("/sim/resume", "POST") == {"paused": False}


def test_replay_db_serves_the_stored_bars_of_the_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.db.assets import AssetRepository
    from adapters.db.bars import BarStore
    from adapters.db.database import Database
    from cli.errors import UsageError
    from cli.sim import build_config
    from dca.params import AssetParams
    from supervisor import build_parser

    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    monkeypatch.chdir(tmp_path)  # no .env of this machine
    monkeypatch.setenv("DATABASE_URL", url)
    db = Database(url)
    db.upgrade()
    AssetRepository(db).add(["BTC/USD"], AssetParams(), enabled=False)
    asset = AssetRepository(db).get("BTC/USD")
    assert asset is not None
    bars = [Bar("BTC/USD", REPLAY_START + timedelta(minutes=i), D(60000 + i), D(60010 + i), D(59990 + i),
                D(60005 + i)) for i in range(3)]
    BarStore(db).upsert(asset.id, bars)
    args = build_parser().parse_args(["sim", "--symbols", "BTC/USD,ETH/USD", "--replay", "db",
                                      "--replay-symbol", "BTC/USD"])
    with make_service(replay_bars=build_config(args).replay_bars, replay_symbol="BTC/USD", start=None) as sim:
        sim.exchange.step("BTC/USD")
        assert sim.exchange.latest_quote("BTC/USD").time == REPLAY_START + timedelta(seconds=15)
    empty = build_parser().parse_args(["sim", "--symbols", "ETH/USD", "--replay", "db", "--replay-symbol", "ETH/USD"])
    with pytest.raises(UsageError, match="--replay db: no bars of ETH/USD"):
        build_config(empty)
