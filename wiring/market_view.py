"""What the exchange holds and quotes, for commands run outside the supervisor (`status`, `adopt`).

With Alpaca keys or ALPACA_SIM_URL the venue is asked over REST. With the embedded simulator (no
keys) there is no server to ask when the supervisor is not running, so the simulator's saved state
(`DATA_DIR/simulator-state.json`, saved every few seconds while it runs) is read instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from adapters.db.assets import AssetRepository
from adapters.db.database import Database
from app.books import SIM_STATE_FILE
from config.settings import LIVE_URL, PAPER_URL, Settings, TradingMode
from dca.exchange import Position
from dca.market import Quote


@dataclass(frozen=True, slots=True)
class OpenOrder:
    client_order_id: str
    symbol: str
    side: str
    qty: Decimal | None
    notional: Decimal | None
    limit_price: Decimal | None


class MarketView(Protocol):
    source: str

    def positions(self) -> dict[str, Position]: ...

    def funds(self) -> Funds: ...

    def quotes(self, symbols: list[str]) -> dict[str, Quote]: ...

    def open_orders(self) -> list[OpenOrder]: ...


@dataclass(frozen=True, slots=True)
class Funds:
    """The account's cash and what crypto buys can draw on (`non_marginable_buying_power`); on a
    margin account the two differ, and cash can even be negative."""

    cash: Decimal
    buying_power: Decimal


class VenueView:
    def __init__(self, broker: Any, source: str) -> None:
        self._broker, self.source = broker, source

    def funds(self) -> Funds:
        account = self._broker.account()
        return Funds(account.cash, account.buying_power)

    def positions(self) -> dict[str, Position]:
        return self._broker.positions()

    def quotes(self, symbols: list[str]) -> dict[str, Quote]:
        return self._broker.latest_quotes(symbols) if symbols else {}

    def open_orders(self) -> list[OpenOrder]:
        return [_open_order(o) for o in self._broker.orders(status="open")]


class SavedSimulatorView:
    def __init__(self, exchange: Any, source: str) -> None:
        self._exchange, self.source = exchange, source
        exchange.run_until(exchange.feed.next_tick)  # the saved market's next quote (in memory; never saved back)

    def funds(self) -> Funds:
        return Funds(self._exchange.cash, self._exchange.buying_power)

    def positions(self) -> dict[str, Position]:
        return {p.symbol: Position(p.symbol, p.qty, p.avg_entry_price) for p in self._exchange.positions() if p.qty}

    def quotes(self, symbols: list[str]) -> dict[str, Quote]:
        found = {symbol: self._exchange.latest_quote(symbol) for symbol in symbols}
        return {symbol: quote for symbol, quote in found.items() if quote is not None}

    def open_orders(self) -> list[OpenOrder]:
        return [_open_order(o) for o in self._exchange.open_orders()]


def _open_order(order: Any) -> OpenOrder:
    return OpenOrder(order.client_order_id, order.symbol, str(getattr(order.side, "value", order.side)), order.qty,
                     order.notional, order.limit_price)


def open_market_view(settings: Settings, db: Database) -> MarketView | None:
    """The best view of the venue there is, or None (nothing to read)."""
    from wiring.bot import SIM_PAIRS

    if settings.trading_mode is TradingMode.EMBEDDED_SIM:
        state = settings.data_dir / SIM_STATE_FILE
        if not state.exists():
            return None
        from adapters.sim.config import SimConfig
        from adapters.sim.exchange import Exchange

        symbols = list(dict.fromkeys([a.symbol for a in AssetRepository(db).all()] + list(SIM_PAIRS)))
        return SavedSimulatorView(Exchange(SimConfig(symbols=symbols, state_file=state)),
                                  f"the embedded simulator's saved state ({state})")
    broker = venue_broker(settings)
    broker.remember_symbols([a.symbol for a in AssetRepository(db).all()])
    return VenueView(broker, settings.trading_mode.value)


def venue_pair_problems(settings: Settings, symbols: list[str]) -> dict[str, str] | None:
    """Why the venue cannot trade each of `symbols` (pairs it can are left out), or None when it cannot
    be asked. The embedded simulator trades any USD-quoted pair and nothing else."""
    if settings.trading_mode is TradingMode.EMBEDDED_SIM:
        return {symbol: "not_usd_quoted" for symbol in symbols if not symbol.endswith("/USD")}
    from adapters.alpaca.broker import BrokerError

    try:
        return venue_broker(settings).pair_problems(symbols)
    except BrokerError:
        return None


def venue_broker(settings: Settings) -> Any:
    """A REST client of the configured venue (Alpaca or an external simulator; not the embedded one)."""
    from adapters.alpaca.broker import AlpacaBroker, Endpoints

    key = settings.apca_api_key_id.get_secret_value() if settings.apca_api_key_id else ""
    secret = settings.apca_api_secret_key.get_secret_value() if settings.apca_api_secret_key else ""
    if settings.alpaca_sim_url is not None:
        endpoints = Endpoints.simulator(settings.alpaca_sim_url)
    else:
        trading = None if settings.apca_api_base_url in (PAPER_URL, LIVE_URL) else settings.apca_api_base_url
        endpoints = Endpoints(trading, settings.apca_data_url, None, None,
                              paper=settings.trading_mode is not TradingMode.LIVE)
    return AlpacaBroker(key, secret, endpoints)
