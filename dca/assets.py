"""A configured asset: a `dca_assets` row as the rest of the bot sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from dca.money import ZERO
from dca.params import AssetParams

_SYMBOL = re.compile(r"^[A-Z0-9]{1,15}/[A-Z0-9]{1,8}$")


@dataclass(frozen=True, slots=True)
class AssetRecord:
    id: int
    symbol: str
    enabled: bool
    params: AssetParams
    last_sell_price: Decimal | None = None
    dust: Decimal = ZERO


def normalize_symbol(raw: str) -> str:
    """`btc/usd` → `BTC/USD`; ValueError unless the symbol has the BASE/QUOTE form."""
    symbol = raw.strip().upper()
    if not _SYMBOL.match(symbol):
        raise ValueError(f"{raw.strip()!r} is not a BASE/QUOTE symbol such as BTC/USD")
    return symbol


def compact_symbol(symbol: str) -> str:
    """`BTC/USD` → `BTCUSD`, the form Alpaca uses for positions."""
    return symbol.replace("/", "")
