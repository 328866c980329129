"""Would Alpaca accept this order? Each check raises `OrderRejected` with Alpaca's status, code and
message; none changes anything (the engine validates fully before it accepts)."""

from __future__ import annotations

from decimal import Decimal

from adapters.sim.assets import AssetCatalog, AssetSpec
from adapters.sim.errors import OrderRejected, forbidden, invalid
from adapters.sim.orders import OrderRequest, OrderType, Side, TimeInForce
from adapters.sim.rules import ExchangeRules
from dca.market import Quote
from dca.money import round_down, round_nearest

CENT = Decimal("0.01")
NON_CRYPTO_TIF = ("day", "opg", "cls")


def text(value: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros (10, 0.0009975), as the venue's messages show it."""
    shown = format(value, "f")
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def kind(request: OrderRequest, catalog: AssetCatalog, rules: ExchangeRules
         ) -> tuple[AssetSpec, Side, OrderType, TimeInForce]:
    spec = catalog.find(request.symbol)
    if spec is None:
        raise invalid(f'asset "{request.symbol}" not found')
    if request.side not in ("buy", "sell"):
        raise invalid(f"invalid side: {request.side}")
    if request.type in ("stop", "trailing_stop"):
        raise invalid("invalid order type for crypto order")
    if request.type not in ("market", "limit", "stop_limit"):
        raise invalid(f"invalid order type: {request.type}")
    tif = request.time_in_force
    if tif in NON_CRYPTO_TIF or (tif == "fok" and not rules.allow_fok):
        raise invalid("invalid crypto time_in_force", code=42210000)
    if tif not in ("gtc", "ioc", "fok"):
        raise invalid(f"invalid time_in_force: {tif}")
    if request.order_class not in ("", "simple"):
        raise invalid("crypto orders support only the simple order class")
    return spec, Side(request.side), OrderType(request.type), TimeInForce(tif)


def client_id(client_order_id: str, taken: bool, rules: ExchangeRules) -> str:
    """A client order id the caller chose (an empty one is the engine's to make up)."""
    if len(client_order_id) > rules.max_client_order_id_length:
        raise invalid(f"client_order_id must be no more than {rules.max_client_order_id_length} characters")
    if taken:
        status = rules.duplicate_id_status
        raise OrderRejected(status, status * 100_000 + 10_000, "client_order_id must be unique")
    return client_order_id


def size(request: OrderRequest, spec: AssetSpec, min_order_size: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """(qty, notional): exactly one is set; a qty is truncated to the pair's increment as the venue does."""
    if (request.qty is None) == (request.notional is None):
        raise invalid("exactly one of qty or notional is required")
    if request.notional is not None:
        notional = request.notional
        if notional <= 0:
            raise invalid("notional must be > 0")
        if notional != notional.quantize(CENT):
            raise invalid("notional must be limited to 2 decimal places", code=42210000)
        return None, notional.quantize(CENT)
    assert request.qty is not None
    if request.qty <= 0:
        raise invalid("qty must be > 0")
    qty = round_down(request.qty, spec.min_trade_increment)  # the live venue truncates silently
    if qty < min_order_size:
        raise forbidden(f"qty must be >= {text(min_order_size)}")
    return qty, None


def prices(request: OrderRequest, spec: AssetSpec, order_type: OrderType, rules: ExchangeRules
           ) -> tuple[Decimal | None, Decimal | None]:
    """(limit_price, stop_price) on the pair's price grid."""
    if order_type is OrderType.MARKET:
        if request.limit_price is not None or request.stop_price is not None:
            raise invalid("market orders take no limit_price or stop_price")
        return None, None
    if order_type is OrderType.STOP_LIMIT and (request.limit_price is None or request.stop_price is None):
        raise invalid("stop limit orders require both stop and limit price")
    if request.limit_price is None:
        raise invalid("limit orders require a limit_price")
    if order_type is OrderType.LIMIT and request.stop_price is not None:
        raise invalid("limit orders take no stop_price")
    limit_price = _on_grid("limit_price", request.limit_price, spec, rules)
    stop_price = None
    if request.stop_price is not None:
        stop_price = _on_grid("stop_price", request.stop_price, spec, rules)
    return limit_price, stop_price


def _on_grid(field: str, price: Decimal, spec: AssetSpec, rules: ExchangeRules) -> Decimal:
    if price <= 0:
        raise invalid(f"{field} must be > 0")
    rounded = round_nearest(price, spec.price_increment)
    if rounded == price:
        return rounded
    if rules.price_increment_policy == "round" and rounded > 0:
        return rounded
    increment = text(spec.price_increment)
    raise invalid(f"invalid {field} {text(price)}: must be a multiple of price_increment {increment}", code=42210000)


def price_estimate(spec: AssetSpec, side: Side, limit_price: Decimal | None, quote: Quote | None) -> Decimal:
    """The price the order is expected to trade at: its limit, else the current quote's side it takes."""
    if limit_price is not None:
        return limit_price
    if quote is None:
        raise invalid(f"no market data for {spec.symbol} yet")
    return quote.ask if side is Side.BUY else quote.bid


def notional_limits(cost: Decimal, side: Side, rules: ExchangeRules) -> None:
    floor_applies = side is Side.BUY or rules.min_notional_on_sells
    if floor_applies and cost < rules.min_notional:
        raise forbidden(f"cost basis must be >= minimal amount of order {text(rules.min_notional)}")
    maximum = rules.max_order_notional
    if maximum is not None and cost > maximum:
        raise forbidden(f"order notional must be <= {text(maximum)}")
