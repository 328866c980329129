#!/usr/bin/env python3
"""Simulator throughput, measured with the real alpaca-py clients (run by hand; see bench/README.md).

1. Quotes per second delivered to ONE CryptoDataStream client (counted in its async handler), with the
   simulator in its own process (`supervisor.py sim`), as the bot would see it.
2. Order round trips per second through TradingClient: submit_order + get_order_by_id.

    .venv/bin/python bench/sim_throughput.py [--symbols 1000] [--speed 40] [--seconds 10] [--orders 500]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alpaca.data.live.crypto import CryptoDataStream  # noqa: E402
from alpaca.trading.client import TradingClient  # noqa: E402
from alpaca.trading.enums import OrderSide, TimeInForce  # noqa: E402
from alpaca.trading.requests import LimitOrderRequest  # noqa: E402

KEY, SECRET = "PKBENCH", "bench-secret"


def start_simulator(symbols: int, speed: float) -> tuple[subprocess.Popen[str], list[str]]:
    names = ["BTC/USD", "ETH/USD", *[f"SYM{i:04d}/USD" for i in range(max(0, symbols - 2))]][:symbols]
    env = {**os.environ, "APCA_API_KEY_ID": KEY, "APCA_API_SECRET_KEY": SECRET}
    process = subprocess.Popen(
        [
            sys.executable,
            "supervisor.py",
            "sim",
            "--port",
            "0",
            "--symbols",
            ",".join(names),
            "--speed",
            str(speed),
            "--tick",
            "1",
            "--rate-limit",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = "".join(process.stdout.readline() for _ in range(6))  # type: ignore[union-attr]
    urls = re.findall(r"(?:http|ws)://127\.0\.0\.1:\d+\S*", lines)
    if len(urls) != 4:
        process.kill()
        raise SystemExit(f"simulator did not start:\n{lines}")
    return process, urls


def stop_simulator(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def quotes_per_second(data_stream_url: str, warmup: float, seconds: float) -> tuple[float, int]:
    counter = {"n": 0}

    async def on_quote(_: Any) -> None:
        counter["n"] += 1

    stream = CryptoDataStream(KEY, SECRET, url_override=data_stream_url)
    stream.subscribe_quotes(on_quote, "*")
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    time.sleep(warmup)
    start_count, started = counter["n"], time.perf_counter()
    time.sleep(seconds)
    delivered = counter["n"] - start_count
    elapsed = time.perf_counter() - started
    stream.stop()
    return delivered / elapsed, delivered


def order_round_trips(trading_url: str, count: int) -> float:
    client = TradingClient(KEY, SECRET, url_override=trading_url)
    request = LimitOrderRequest(
        symbol="BTC/USD", qty=0.001, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=20000
    )  # rests: $20 reserved per order
    client.get_order_by_id(client.submit_order(request).id)  # warm the connection
    started = time.perf_counter()
    for _ in range(count):
        client.get_order_by_id(client.submit_order(request).id)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbols", type=int, default=1000, help="pairs in the market (default 1000)")
    parser.add_argument("--speed", type=float, default=40.0, help="simulated s per real s (default 40)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window (default 10)")
    parser.add_argument("--orders", type=int, default=500, help="order round trips to time (default 500)")
    args = parser.parse_args()

    offered = args.symbols * args.speed  # one quote per pair per simulated second
    process, urls = start_simulator(args.symbols, args.speed)
    try:
        rate, delivered = quotes_per_second(urls[2], warmup=2.0, seconds=args.seconds)
    finally:
        stop_simulator(process)
    print(
        f"market data: {args.symbols} pairs x {args.speed:g}x speed = {offered:,.0f} quotes/s offered; "
        f"delivered to one CryptoDataStream: {rate:,.0f} quotes/s ({delivered:,} in {args.seconds:g} s)"
    )

    process, urls = start_simulator(2, 1.0)
    try:
        trips = order_round_trips(urls[0], args.orders)
    finally:
        stop_simulator(process)
    print(f"orders: {trips:,.0f} round trips/s (submit_order + get_order_by_id, {args.orders} sequential)")


if __name__ == "__main__":
    main()
