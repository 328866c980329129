"""`AssetWatcher`: keeps the running asset actors in step with `dca_assets`.

An asset enabled with `supervisor.py assets enable` gets its actor within one interval; a disabled
one has its actor stopped (its cycle and any open order stay as they are, and are picked up again
when it is re-enabled); changed parameters reach the running actor without a restart. This replaces
the original's fixed subscription list, which needed a restart for every change (B17).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from actors.asset_actor import MARKET_DATA_ROUTER, asset_spec
from actors.caretakers.base import Caretaker
from actors.messages import Adopt, CancelOrders, CloseCycle, HandleRequests, ParamsChanged, Unsubscribe
from actors.runtime import ASSET_PREFIX, Runtime, asset_actor_name
from dca.params import AssetParams
from ports.stores import Answer

ASSET_SUPERVISOR = "assets"
REFUSED_PAIRS = "refused_pairs"  # dca_meta key: enabled pairs the venue does not trade, and why
REQUEST_POLL_SECONDS = 2.0  # real seconds: an operator's command reaches the asset's actor this fast


class AssetWatcher(Caretaker):
    name = "asset_watcher"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.asset_watcher)
        self._params: dict[str, AssetParams] = {}
        self._refused_pairs: dict[str, str] = {}

    def init(self) -> None:
        super().init()
        if self._rt.meta is not None:  # what this start refuses is said again below
            self._rt.meta.set(REFUSED_PAIRS, {})
        rt = self._rt
        rt.real_time_scheduler.every(rt.real_time_seconds(REQUEST_POLL_SECONDS), self.actor_ref, HandleRequests())

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, HandleRequests):  # between runs; a failure waits for the next poll or run
            try:
                self._handle_requests()
            except Exception as error:
                self._log.opt(exception=error).warning("operator requests not handled now: {}", error)
            return None
        return super().on_receive(message)

    def run_once(self) -> None:
        rt = self._rt
        supervisor = rt.root_directory.handle(ASSET_SUPERVISOR).proxy()
        if supervisor is None:
            return
        running = {name.removeprefix(ASSET_PREFIX) for name in rt.asset_directory.names()}
        for record in rt.assets.all():
            if record.enabled and record.symbol not in running:
                if self._refused(record.symbol):
                    continue
                if supervisor.start_child(asset_spec(record, rt)).get(timeout=30):
                    self._log.info("{} enabled: started its actor", record.symbol)
            elif not record.enabled and record.symbol in running:
                self._disable(supervisor, record.symbol)
            elif record.enabled and self._params.get(record.symbol) not in (None, record.params):
                rt.asset_handle(record.symbol).tell(ParamsChanged(record))
                self._log.info("{}: parameters changed; the running actor takes them now", record.symbol)
            self._params[record.symbol] = record.params
        self._handle_requests()

    def _refused(self, symbol: str) -> bool:
        """An enabled pair the venue does not trade (unlisted, not tradable, not USD-quoted) gets no actor:
        it would only produce rejected orders. Logged once, shown by `status`, and a gauge says so."""
        problem = self._rt.pair_problem(symbol)
        if problem is None:
            return False
        if symbol not in self._refused_pairs:
            self._refused_pairs[symbol] = problem
            if self._rt.meta is not None:  # stored before the gauge says so: `status` agrees with the metric
                self._rt.meta.set(REFUSED_PAIRS, dict(self._refused_pairs))
            self._rt.metrics.pairs_refused.labels(symbol, problem).set(1)
            self._log.error("{} is enabled but the venue does not trade it ({}): its actor is not started; "
                            "disable it with `supervisor.py assets disable {}`", symbol, problem.replace("_", " "),
                            symbol)
        return True

    def _handle_requests(self) -> None:
        """Commands the CLI left for the running supervisor, carried out by the asset's own actor."""
        rt = self._rt
        for request in rt.requests.pending():
            handle = rt.asset_handle(request.symbol)
            if request.kind not in ("adopt", "close", "cancel-orders"):
                result = Answer(f"refused: unknown request {request.kind!r}", refused=True)
            elif not handle.is_alive():
                result = Answer(f"refused: {request.symbol} is not enabled (enable it first)", refused=True)
            elif request.kind == "close":
                result = handle.ask(CloseCycle(), timeout=30)
            elif request.kind == "cancel-orders":
                result = self._cancel_orders(request.symbol, handle)
            else:
                payload = request.payload
                result = handle.ask(Adopt(_decimal(payload.get("quantity")), _decimal(payload.get("price"))),
                                    timeout=30)
            rt.requests.finish(request.id, result)
            self._log.info("{} {}: {}", request.kind, request.symbol, result)

    def _cancel_orders(self, symbol: str, handle: Any) -> Answer:
        """Cancel through the asset's actor (which then places nothing more), then pause the asset the
        way `assets disable` does: its actor stops, its cycle stays as it is until `assets enable`."""
        result = handle.ask(CancelOrders(), timeout=30)
        self._rt.assets.set_enabled(symbol, False)
        supervisor = self._rt.root_directory.handle(ASSET_SUPERVISOR).proxy()
        if supervisor is not None:
            self._disable(supervisor, symbol)
        resume = f"resume with `supervisor.py assets enable {symbol}`"
        return Answer(f"{result.text}; {symbol} is paused (disabled): {resume}", refused=result.refused)

    def _disable(self, supervisor: Any, symbol: str) -> None:
        supervisor.stop_child(asset_actor_name(symbol)).get(timeout=60)
        self._rt.board.unregister(symbol)
        self._rt.root_directory.handle(MARKET_DATA_ROUTER).tell(Unsubscribe((symbol,)))
        self._rt.metrics.forget([symbol])
        self._log.info("{} disabled: stopped its actor (its cycle and orders stay as they are)", symbol)


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
