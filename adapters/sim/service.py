"""`SimulatorService`: the simulator as a server, in process (the bot's embedded default, tests) or
standalone (`python supervisor.py sim`).

    service = SimulatorService(SimConfig(symbols=["BTC/USD"], port=0))
    service.start()                      # binds, then serves from a background thread and event loop
    TradingClient(service.key_id, service.secret_key, url_override=service.urls.trading)
    service.clock.now()                  # simulated UTC time
    service.exchange                     # the in-process exchange (state, faults, manual pacing)
    service.stop()                       # closes sockets, saves the state file
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import string
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.sim.clock import AcceleratedClock, ManualClock
from adapters.sim.config import SimConfig
from adapters.sim.exchange import Exchange
from adapters.sim.rest import DATA_PREFIX, add_routes, build_middleware
from adapters.sim.streams import DataStreamHub, TradeStreamHub

log = logging.getLogger(__name__)
PACER_MAX_SLEEP = 0.25


@dataclass(frozen=True, slots=True)
class SimUrls:
    """The four `url_override` values for alpaca-py."""

    trading: str  # TradingClient
    data: str  # CryptoHistoricalDataClient
    data_stream: str  # CryptoDataStream
    trading_stream: str  # TradingStream


def generate_keys() -> tuple[str, str]:
    """A key pair shaped like Alpaca's paper keys."""
    alphabet = string.ascii_uppercase + string.digits
    key = "PK" + "".join(secrets.choice(alphabet) for _ in range(18))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))
    return key, secret


class SimulatorService:
    def __init__(self, config: SimConfig) -> None:
        config.validate()
        if config.key_id is None or config.secret_key is None:
            config.key_id, config.secret_key = generate_keys()
        self.config = config
        self.key_id: str = config.key_id
        self.secret_key: str = config.secret_key
        self.exchange = Exchange(config)
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._startup_error: BaseException | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.data_hub: DataStreamHub | None = None
        self.trade_hub: TradeStreamHub | None = None

    @property
    def clock(self) -> AcceleratedClock | ManualClock:
        return self.exchange.clock

    @property
    def urls(self) -> SimUrls:
        if self.port is None:
            raise RuntimeError("the simulator has not been started")
        host = self.config.host if self.config.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        http, ws = f"http://{host}:{self.port}", f"ws://{host}:{self.port}"
        return SimUrls(http, http, f"{ws}{DATA_PREFIX}", f"{ws}/stream")

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> SimulatorService:
        """Bind and serve from a background thread; returns once the port is open (idempotent)."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="alpaca-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the simulator did not start in time")
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection, stop serving and save the state file."""
        loop = self._loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        self.exchange.save()
        self._stopped.set()

    def disconnect_clients(self, timeout: float = 5.0) -> None:
        """Close every WebSocket now (clients reconnect, as after a network blip)."""
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close_streams(), self._loop).result(timeout)

    def wait(self) -> None:
        """Block until `stop` (the CLI's main thread)."""
        self._stopped.wait()

    def __enter__(self) -> SimulatorService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # report bind errors to start()
            self._startup_error = error
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.gather(*asyncio.all_tasks(loop), return_exceptions=True))
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        exchange = self.exchange
        loop = asyncio.get_running_loop()
        self.data_hub = DataStreamHub(exchange, self.key_id, self.secret_key)
        self.trade_hub = TradeStreamHub(exchange, self.key_id, self.secret_key)
        self.trade_hub.start()
        trade_hub, data_hub = self.trade_hub, self.data_hub
        exchange.on_trade_updates(lambda events: loop.call_soon_threadsafe(trade_hub.enqueue, events))
        exchange.on_market_data(lambda updates: loop.call_soon_threadsafe(data_hub.publish, updates))
        app = web.Application(middlewares=[build_middleware(exchange, self.key_id, self.secret_key)])
        app.router.add_get(DATA_PREFIX, data_hub.handle)
        app.router.add_get("/stream", trade_hub.handle)
        add_routes(app, exchange)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1] if sockets else self.config.port
        if self.config.pacing == "realtime":
            self._tasks.append(loop.create_task(self._pace()))
        if self.config.state_file is not None:
            self._tasks.append(loop.create_task(self._autosave()))
        self._tasks.append(loop.create_task(self._close_sockets_periodically()))

    async def _pace(self) -> None:
        """Real-time pacing: process every due tick, then sleep until the next one."""
        exchange = self.exchange
        while True:
            try:
                if not exchange.paused:
                    exchange.run_until(exchange.clock.now())
                elif exchange.quirks.pending_events:
                    exchange.finish_pending_cancels()
            except Exception:  # keep the market alive; the error is a bug to see in the log
                log.exception("market tick failed")
            await asyncio.sleep(min(max(exchange.time_until_next_tick(), 0.001), PACER_MAX_SLEEP))

    async def _autosave(self) -> None:
        while True:
            await asyncio.sleep(self.config.autosave_seconds)
            try:
                self.exchange.save()
            except OSError:
                log.exception("could not save the state file")

    async def _close_sockets_periodically(self) -> None:
        """The `ws_close_every` fault: drop every WebSocket every N seconds (clients reconnect)."""
        elapsed = 0.0
        while True:
            await asyncio.sleep(0.25)
            every = self.exchange.faults.ws_close_every
            elapsed = elapsed + 0.25 if every > 0 else 0.0
            if every > 0 and elapsed >= every:
                elapsed = 0.0
                await self._close_streams()

    async def _close_streams(self) -> None:
        if self.data_hub is not None:
            await self.data_hub.close_all()
        if self.trade_hub is not None:
            for connection in list(self.trade_hub.connections):
                await connection.close(code=1001, message=b"simulated disconnect")

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self._close_streams()
        if self.trade_hub is not None:
            await self.trade_hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
