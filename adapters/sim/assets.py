"""The tradable crypto pairs: their increments, minimums and the parameters of their synthetic market.

Known pairs carry price levels and volatilities near the real ones (2025-26); any other `BASE/QUOTE`
symbol (e.g. `SYM0042/USD`) gets parameters derived from a hash of its name, so the same symbol always
gets the same asset and a market of 1,000 pairs needs no table.
"""

from __future__ import annotations

import functools
import hashlib
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

ASSET_NAMESPACE = uuid.UUID("5b3b2f0e-8a1e-4d3a-9a51-0c9b3f1d7a11")
QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "BTC")  # longest first: "BTCUSDT" is BTC/USDT, not BTCUSD+T
MIN_TRADE_INCREMENT = Decimal("0.000000001")  # the live venue's value for every pair in 2026


@dataclass(frozen=True, slots=True)
class AssetSpec:
    """One crypto pair as the exchange lists it, plus how its synthetic market behaves."""

    symbol: str  # canonical "BTC/USD"
    name: str
    price: Decimal  # reference mid price for the synthetic market and history
    price_increment: Decimal
    min_trade_increment: Decimal
    min_order_size: Decimal
    annual_volatility: float
    spread_bps: Decimal
    market_loading: float  # correlation of its returns with the common crypto factor

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote_currency(self) -> str:
        return self.symbol.split("/")[1]

    @property
    def compact_symbol(self) -> str:
        """The position symbol: `BTCUSD`."""
        return self.symbol.replace("/", "")

    @property
    def id(self) -> uuid.UUID:
        return asset_id(self.symbol)


# symbol: (name, price, price_increment, annual volatility, spread bps, market loading)
_KNOWN: dict[str, tuple[str, str, str, float, str, float]] = {
    "BTC": ("Bitcoin", "95000", "1", 0.55, "6", 0.90),
    "ETH": ("Ethereum", "3300", "0.1", 0.70, "8", 0.85),
    "SOL": ("Solana", "180", "0.01", 0.90, "12", 0.75),
    "DOGE": ("Dogecoin", "0.32", "0.00001", 1.00, "15", 0.70),
    "XRP": ("XRP", "2.2", "0.0001", 0.90, "12", 0.70),
    "LTC": ("Litecoin", "100", "0.01", 0.80, "15", 0.75),
    "LINK": ("Chainlink", "20", "0.001", 0.90, "15", 0.75),
    "AVAX": ("Avalanche", "35", "0.001", 1.00, "15", 0.75),
    "BCH": ("Bitcoin Cash", "450", "0.01", 0.80, "15", 0.75),
    "DOT": ("Polkadot", "6.5", "0.001", 0.90, "20", 0.70),
    "UNI": ("Uniswap", "12", "0.001", 1.00, "20", 0.70),
    "AAVE": ("Aave", "300", "0.01", 0.90, "20", 0.70),
    "SHIB": ("Shiba Inu", "0.000022", "0.000000001", 1.00, "25", 0.65),
    "PEPE": ("Pepe", "0.000012", "0.0000000001", 1.20, "30", 0.60),
    "USDT": ("Tether", "1", "0.0001", 0.01, "2", 0.0),
    "USDC": ("USD Coin", "1", "0.0001", 0.01, "2", 0.0),
}


def listed_usd_pairs() -> list[str]:
    """The US-dollar pairs with real increments and spreads in this catalog (the ones Alpaca lists);
    any other symbol's figures are generated from its name."""
    return [f"{base}/USD" for base in _KNOWN]


@functools.lru_cache(maxsize=4096)  # read on every order and quote the engine handles (backtest sweeps)
def canonical_symbol(symbol: str) -> str:
    """`BTC/USD` from `BTC/USD`, `btcusd` or `BTCUSD`; raises ValueError for anything else."""
    text = symbol.strip().upper()
    if "/" in text:
        base, _, quote = text.partition("/")
        if base.isalnum() and quote.isalnum() and base and quote:
            return f"{base}/{quote}"
        raise ValueError(f"invalid symbol: {symbol}")
    for quote in QUOTE_CURRENCIES:
        if text.endswith(quote) and len(text) > len(quote) and text.isalnum():
            return f"{text[: -len(quote)]}/{quote}"
    raise ValueError(f"invalid symbol: {symbol}")


@functools.lru_cache(maxsize=4096)  # a uuid5 per call otherwise, and `AssetSpec.id` is read per order
def asset_id(symbol: str) -> uuid.UUID:
    """A stable UUID per pair, independent of the seed and of which other pairs are listed."""
    return uuid.uuid5(ASSET_NAMESPACE, canonical_symbol(symbol))


def _is_canonical(symbol: str) -> bool:
    try:
        return canonical_symbol(symbol) == symbol
    except ValueError:
        return False


def _unit(name: str, salt: str) -> float:
    """A number in [0, 1) fixed by the name: generated parameters never depend on PYTHONHASHSEED."""
    digest = hashlib.sha256(f"{salt}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _increment_for(price: Decimal) -> Decimal:
    """Five significant digits of price resolution (e.g. 0.01 at 180, 1e-9 at 2.2e-5)."""
    exponent = math.floor(math.log10(float(price))) - 4
    return Decimal(1).scaleb(exponent)


def _usd_price(base: str) -> Decimal:
    if base in _KNOWN:
        return Decimal(_KNOWN[base][1])
    # 0.01 … 1,000 USD, log-uniform, rounded to 4 significant digits
    value = 10 ** (-2 + 5 * _unit(base, "price"))
    return Decimal(f"{value:.4g}")


def make_asset(symbol: str) -> AssetSpec:
    """The asset for any `BASE/QUOTE` pair, known or generated."""
    symbol = canonical_symbol(symbol)
    base, quote = symbol.split("/")
    quote_price = Decimal(1) if quote in ("USD", "USDT", "USDC") else _usd_price(quote)
    price = _usd_price(base) / quote_price
    price = Decimal(f"{price:.6g}")
    if base in _KNOWN and quote == "USD":
        name, _, increment, volatility, spread, loading = _KNOWN[base]
        price_increment, spread_bps = Decimal(increment), Decimal(spread)
    else:
        name = base.title()
        price_increment = _increment_for(price)
        volatility = 0.6 + 0.8 * _unit(symbol, "vol")
        spread_bps = Decimal(10 + int(30 * _unit(symbol, "spread")))
        loading = 0.5 + 0.3 * _unit(symbol, "loading")
        if base in _KNOWN:
            volatility, loading = _KNOWN[base][3], _KNOWN[base][5]
    # about one dollar of the coin, as on the live venue (0.000015873 BTC at ~63k)
    min_order_size = max(MIN_TRADE_INCREMENT, Decimal(f"{1 / price:.5g}").quantize(MIN_TRADE_INCREMENT))
    quote_name = {"USD": "US Dollar", "USDT": "Tether", "USDC": "USD Coin"}.get(quote, quote)
    return AssetSpec(
        symbol=symbol,
        name=f"{name} / {quote_name}",
        price=price,
        price_increment=price_increment,
        min_trade_increment=MIN_TRADE_INCREMENT,
        min_order_size=min_order_size,
        annual_volatility=volatility,
        spread_bps=spread_bps,
        market_loading=loading,
    )


class AssetCatalog:
    """The listed pairs, looked up by `BTC/USD`, `BTCUSD` or asset id."""

    def __init__(self, symbols: list[str] | tuple[str, ...], overrides: dict[str, AssetSpec] | None = None):
        self._assets: dict[str, AssetSpec] = {}
        for symbol in symbols:
            spec = make_asset(symbol)
            self._assets[spec.symbol] = spec
        for spec in (overrides or {}).values():
            self._assets[spec.symbol] = spec
        self._by_id = {str(spec.id): spec for spec in self._assets.values()}
        # what `find` answers in one dict read: asset ids, and symbols already in canonical spelling (an
        # override's symbol that is not canonical is found only through the full lookup, as before)
        self._exact = {symbol: spec for symbol, spec in self._assets.items() if _is_canonical(symbol)}
        self._exact.update(self._by_id)

    def __iter__(self) -> Iterator[AssetSpec]:
        return iter(self._assets.values())

    def __len__(self) -> int:
        return len(self._assets)

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, str) and self.find(symbol) is not None

    @property
    def symbols(self) -> list[str]:
        return list(self._assets)

    def find(self, symbol_or_id: str) -> AssetSpec | None:
        """The asset for a symbol in either spelling or an asset id, else None."""
        spec = self._exact.get(symbol_or_id)  # the engine asks per order and per quote, nearly always this way
        if spec is not None:
            return spec
        if symbol_or_id in self._by_id:
            return self._by_id[symbol_or_id]
        try:
            return self._assets.get(canonical_symbol(symbol_or_id))
        except ValueError:
            return None

    def get(self, symbol: str) -> AssetSpec:
        spec = self.find(symbol)
        if spec is None:
            raise KeyError(symbol)
        return spec
