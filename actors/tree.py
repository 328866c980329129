"""The supervision tree of design.md, assembled from a `Runtime`.

    root (one-for-one)
     ├─ assets            one AssetActor per enabled asset (rebuilt from dca_assets on restart)
     ├─ caretakers        OrderJanitor, CooldownKeeper, Reconciler, FeeKeeper, AssetWatcher, OrderHistorySync, BarsSync
     ├─ trade_update_router
     └─ market_data_router

Children start in this order and stop in reverse: on shutdown the streams stop first (no new
events), then the caretakers, then the asset actors finish what they are doing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loguru import logger

from actors.asset_actor import MARKET_DATA_ROUTER, asset_spec
from actors.caretakers.asset_watcher import ASSET_SUPERVISOR, AssetWatcher
from actors.caretakers.bars_sync import BarsSync
from actors.caretakers.cooldown_keeper import CooldownKeeper
from actors.caretakers.fee_keeper import FeeKeeper
from actors.caretakers.order_history_sync import OrderHistorySync
from actors.caretakers.order_janitor import OrderJanitor
from actors.caretakers.reconciler import Reconciler
from actors.caretakers.risk_keeper import RiskKeeper
from actors.health import Health
from actors.market_data_router import MarketDataRouter
from actors.notifier import NotifierHandle
from actors.runtime import Runtime
from actors.supervision import (
    Backoff,
    ChildDirectory,
    ChildSpec,
    ExitReason,
    RestartIntensity,
    SupervisionListener,
    Supervisor,
    supervisor_spec,
)
from actors.trade_update_router import TradeUpdateRouter
from dca.notices import asset_given_up

CARETAKERS = (RiskKeeper, OrderJanitor, CooldownKeeper, Reconciler, FeeKeeper, AssetWatcher, OrderHistorySync,
              BarsSync)
TRADE_UPDATE_ROUTER = "trade_update_router"
LIVENESS_CHECK_SECONDS = 5.0  # real seconds between a supervisor's checks for children that died silently


class RestartCounter(SupervisionListener):
    """Restarts by actor, for Prometheus and the log."""

    def __init__(self, metrics: Any, notifier: NotifierHandle, health: Health) -> None:
        self._metrics = metrics
        self._notifier = notifier
        self._health = health

    def on_child_restarted(self, supervisor_name: str, child_name: str, reason: ExitReason) -> None:
        self._metrics.actor_restarts.labels(child_name).inc()
        error = reason.error  # an outage's restarts then fold into its one episode line (adapters/log_episodes.py)
        logger.bind(actor=supervisor_name).opt(exception=(type(error), error, None) if error else None).warning(
            "restarted {} ({})", child_name, reason)

    def on_gave_up(self, supervisor_name: str, reason: str) -> None:
        logger.bind(actor=supervisor_name).critical("gave up: {}", reason)
        self._health.gave_up(supervisor_name)
        if supervisor_name == ASSET_SUPERVISOR:
            self._notifier.post(asset_given_up("the asset actors", reason))


def start_tree(runtime: Runtime, on_give_up: Callable[[str], None]) -> Any:
    """Start the whole tree; returns the root supervisor's ref."""
    listener = RestartCounter(runtime.metrics, runtime.notifier, runtime.health)
    # Two time bases (docs/operations.md, "Time bases"). The asset actors trade on the venue: their restart
    # backoff and intensity are seconds on the venue's clock, like every interval a user sets, so an
    # accelerated simulator scales them with the rest. Safety work stays on the wall clock, so a stalled venue
    # clock freezes none of it: every liveness check, and the restarts of the caretakers (the risk keeper and
    # its kill switch among them), the stream routers and the supervisors themselves.
    wall = {"scheduler": runtime.real_time_scheduler, "listener": listener,
            "liveness_check_s": runtime.real_time_seconds(LIVENESS_CHECK_SECONDS)}
    venue = {**wall, "restart_scheduler": runtime.scheduler}
    wall_backoff = Backoff(initial_s=runtime.real_time_seconds(0.5), max_s=runtime.real_time_seconds(30),
                           reset_after_s=runtime.real_time_seconds(60))
    venue_backoff = Backoff(initial_s=0.5, max_s=30, reset_after_s=60)
    root_intensity = RestartIntensity(max_restarts=5, within_s=runtime.real_time_seconds(60))
    # many independent assets: one flapping asset is slowed by its backoff, not escalated at once
    asset_intensity = RestartIntensity(max_restarts=50, within_s=60)

    def asset_children() -> list[ChildSpec]:
        # a pair the venue does not trade gets no actor (the asset watcher reports it)
        return [asset_spec(record, runtime) for record in runtime.assets.enabled()
                if runtime.pair_problem(record.symbol) is None]

    caretakers = [ChildSpec(cls.name, cls, args=(runtime,)) for cls in CARETAKERS]
    specs = [
        supervisor_spec(ASSET_SUPERVISOR, asset_children, directory=runtime.asset_directory,
                        intensity=asset_intensity, backoff=venue_backoff, **venue),
        supervisor_spec("caretakers", caretakers, directory=ChildDirectory(), intensity=root_intensity,
                        backoff=wall_backoff, **wall),
        ChildSpec(TRADE_UPDATE_ROUTER, TradeUpdateRouter, args=(runtime,), shutdown_timeout_s=15.0),
        ChildSpec(MARKET_DATA_ROUTER, MarketDataRouter, args=(runtime,), shutdown_timeout_s=15.0),
    ]
    runtime.metrics.actors_started([*(spec.name for spec in specs), *(spec.name for spec in caretakers)])
    return Supervisor.start("root", specs, directory=runtime.root_directory, intensity=root_intensity,
                            backoff=wall_backoff, on_give_up=on_give_up, **wall)
