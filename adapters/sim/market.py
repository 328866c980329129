"""The seeded synthetic market: one quote per symbol per tick, for any number of symbols.

Model, per tick of `dt` seconds (vectorised over symbols with numpy):

* log-returns r = sqrt(h·dt)·z with z = ρ·z_market + sqrt(1 − ρ²)·ε: every pair loads on one common
  crypto factor (ρ = `AssetSpec.market_loading`), so BTC, ETH and SOL move together.
* h, the variance per second, follows a GARCH(1,1)-like recursion on an hourly scale
  (α = 0.05, β = 0.94): big moves raise volatility, which then decays over days (clustering).
* jumps: each pair jumps about once a simulated day (σ ≈ 1 % scaled by its volatility), and the
  whole market jumps about every other day.
* the spread widens with volatility (×0.5 … ×4 of the pair's base spread); bid and ask sit on the
  pair's price grid via `dca.market.quote_around`, the same helper the bar replay uses.
* quote sizes are log-normal around $20k a side.

The generator state (prices, variances, numpy bit generator) is exportable, so a restarted simulator
continues the same path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np

from adapters.sim.assets import AssetSpec
from dca.market import Quote, quote_around

SECONDS_PER_YEAR = 365 * 86_400
GARCH_ALPHA, GARCH_BETA, GARCH_SCALE_SECONDS = 0.05, 0.94, 3600.0
JUMPS_PER_DAY, MARKET_JUMPS_PER_DAY = 1.0, 0.5
SIDE_NOTIONAL_USD = 20_000.0


def size_decimal(value: float) -> Decimal:
    """A quote size as a short decimal (six significant digits)."""
    return Decimal(f"{value:.6g}")


class SyntheticMarket:
    def __init__(self, assets: Sequence[AssetSpec], seed: int, start_prices: dict[str, float]) -> None:
        self.assets = list(assets)
        self.symbols = [spec.symbol for spec in self.assets]
        self._index = {symbol: i for i, symbol in enumerate(self.symbols)}
        self._rng = np.random.Generator(np.random.PCG64([seed, 0x5EED]))
        vol = np.array([spec.annual_volatility for spec in self.assets])
        self._h_bar = vol**2 / SECONDS_PER_YEAR  # long-run variance per second
        self._h = self._h_bar.copy()
        self._loading = np.array([spec.market_loading for spec in self.assets])
        self._idio = np.sqrt(1 - self._loading**2)
        self._jump_sigma = 0.01 * vol / 0.6
        self._log_price = np.log([start_prices[symbol] for symbol in self.symbols])
        self._spreads = [spec.spread_bps for spec in self.assets]

    def mid(self, symbol: str) -> float:
        return float(math.exp(self._log_price[self._index[symbol]]))

    def set_mid(self, symbol: str, price: float) -> None:
        """Continue `symbol` from `price` (e.g. when its replay runs out)."""
        self._log_price[self._index[symbol]] = math.log(price)

    def step(self, time: datetime, dt: float) -> list[Quote]:
        """Advance every pair by `dt` simulated seconds and return their quotes at `time`."""
        n = len(self.symbols)
        rng = self._rng
        z = self._loading * rng.standard_normal() + self._idio * rng.standard_normal(n)
        returns = np.sqrt(self._h * dt) * z
        jumps = np.where(rng.random(n) < JUMPS_PER_DAY * dt / 86_400, rng.standard_normal(n), 0.0)
        if rng.random() < MARKET_JUMPS_PER_DAY * dt / 86_400:
            jumps = jumps + self._loading * rng.standard_normal() * 1.5
        moves = returns + jumps * self._jump_sigma
        self._log_price += moves - 0.5 * self._h * dt
        weight = min(1.0, dt / GARCH_SCALE_SECONDS)
        shock = moves**2 / dt - self._h
        self._h += weight * ((1 - GARCH_ALPHA - GARCH_BETA) * (self._h_bar - self._h) + GARCH_ALPHA * shock)
        np.clip(self._h, self._h_bar * 0.1, self._h_bar * 50, out=self._h)
        widen = np.clip(np.sqrt(self._h / self._h_bar), 0.5, 4.0)
        mids = np.exp(self._log_price)
        sizes = SIDE_NOTIONAL_USD * np.exp(0.5 * rng.standard_normal((2, n))) / mids
        quotes = []
        for i, spec in enumerate(self.assets):
            spread = self._spreads[i] * Decimal(f"{widen[i]:.3f}")
            base = quote_around(spec.symbol, Decimal(f"{mids[i]:.12g}"), time, spread, spec.price_increment)
            bid_size, ask_size = size_decimal(sizes[0, i]), size_decimal(sizes[1, i])
            quotes.append(Quote(spec.symbol, base.bid, base.ask, time, bid_size, ask_size))
        return quotes

    # ------------------------------------------------------------------ persistence

    def export_state(self) -> dict[str, Any]:
        return {
            "symbols": self.symbols,
            "log_price": self._log_price.tolist(),
            "h": self._h.tolist(),
            "rng": self._rng.bit_generator.state,
        }

    def import_state(self, state: dict[str, Any]) -> None:
        """Restore prices and variances of the pairs both runs know; new pairs keep their start."""
        for i, symbol in enumerate(state["symbols"]):
            if symbol in self._index:
                j = self._index[symbol]
                self._log_price[j], self._h[j] = state["log_price"][i], state["h"][i]
        if state["symbols"] == self.symbols:
            self._rng.bit_generator.state = state["rng"]
