"""A simulator in this process for `bars fetch` to fetch from (its history is deterministic)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.sim.config import SimConfig
from adapters.sim.service import SimulatorService


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorService]:
    service = SimulatorService(SimConfig(symbols=["BTC/USD", "ETH/USD"], port=0, pacing="manual",
                                         rate_limit_per_minute=0, seed=3))
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def sim_env(simulator: SimulatorService) -> dict[str, str]:
    return {"ALPACA_SIM_URL": simulator.urls.data}
