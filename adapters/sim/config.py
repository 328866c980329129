"""`SimConfig`: everything a simulator run is made of. The CLI builds one from its options; the bot
builds one for the embedded simulator; tests build small ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.sim.quirks import parse_quirks
from adapters.sim.rules import ExchangeRules, FillModel
from dca.market import Bar

DEFAULT_SYMBOLS = ("BTC/USD", "ETH/USD")


@dataclass
class SimConfig:
    symbols: list[str] = field(default_factory=lambda: list(DEFAULT_SYMBOLS))
    host: str = "127.0.0.1"
    port: int = 8765  # 0 = an ephemeral port (see SimulatorService.urls)
    seed: int = 1
    # Which exchange this is, mixed into the account number and the order ids. None: a random one for
    # a new exchange, so a fresh state never repeats ids a database still holds; a state file keeps its
    # own. Tests that need the same ids from two exchanges fix it.
    instance_salt: str | None = None
    speed: Decimal = Decimal(60)  # simulated seconds per real second
    tick: timedelta = timedelta(seconds=1)  # simulated time between two quotes of a pair
    start: datetime | None = None  # simulated start; default: now (or the first replayed bar)
    pacing: str = "realtime"  # "realtime" (ticks follow the accelerated clock) or "manual" (lockstep)
    starting_cash: Decimal = Decimal(100_000)
    key_id: str | None = None  # None: generated (printed by the CLI)
    secret_key: str | None = None
    state_file: Path | None = None
    replay_csv: Path | None = None
    replay_symbol: str | None = None
    replay_bars: Iterable[Bar] | None = None  # e.g. rows of historical_1min_bars, for replay_symbol
    rules: ExchangeRules = field(default_factory=ExchangeRules)
    fill_model: FillModel = field(default_factory=FillModel)
    faults: dict[str, Any] = field(default_factory=dict)
    # venue quirks (adapters/sim/quirks.py): name -> value as a string, "" for a switch
    quirks: dict[str, str] = field(default_factory=dict)
    rate_limit_per_minute: int = 200  # trading REST, per key; 0 = off
    data_rate_limit_per_minute: int = 0  # market-data REST, per key or client address; 0 = off
    rate_limit_window_seconds: float = 60.0  # the window both limits count over (tests shorten it)
    bar_retention_minutes: int = 10_080  # live minute bars kept per pair (older ones fall back to history)
    max_catchup_ticks: int = 600
    autosave_seconds: float = 5.0  # state file flush interval while running (real seconds)

    def validate(self) -> None:
        """Raise ValueError naming the bad option."""
        if not self.symbols:
            raise ValueError("symbols: at least one symbol is required")
        if self.speed <= 0:
            raise ValueError("speed: must be > 0")
        if self.tick <= timedelta(0):
            raise ValueError("tick: must be > 0")
        if self.pacing not in ("realtime", "manual"):
            raise ValueError("pacing: must be realtime or manual")
        if not 0 <= self.port <= 65535:
            raise ValueError("port: must be 0-65535")
        if self.starting_cash < 0:
            raise ValueError("cash: must be >= 0")
        if (self.replay_csv is not None or self.replay_bars is not None) and not self.replay_symbol:
            raise ValueError("replay-symbol: required with a replay source")
        try:
            parse_quirks(self.quirks)
        except ValueError as error:
            raise ValueError(f"quirk: {error}") from None
        if (self.key_id is None) != (self.secret_key is None):
            raise ValueError("keys: set both the key id and the secret key, or neither")
