"""What the strategy is told: per-asset parameters, the exchange's rules for the pair, fees, timing.

`AssetParams` mirrors a `dca_assets` row. `check_params` is the single place where parameter values
are judged; the CLI, the database loader and the backtester's `--params` overrides all use it, so a
value that is refused in one place is refused everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from dca.conditions import ConditionError, parse_condition
from dca.cycle import OrderType
from dca.money import HUNDRED, ZERO, percent_above, to_decimal


@dataclass(frozen=True, slots=True)
class AssetParams:
    """The DCA strategy of one asset (the columns of `dca_assets`; amounts in the quote currency)."""

    base_order_amount: Decimal = Decimal(10)
    safety_order_amount: Decimal = Decimal(20)
    max_safety_orders: int = 15
    safety_order_deviation: Decimal = Decimal("0.9")  # % below the last fill that triggers the next SO
    take_profit_percent: Decimal = Decimal(2)  # % above the average cost that triggers the TP
    ttp_enabled: bool = True
    ttp_deviation_percent: Decimal | None = Decimal(1)  # % pull-back from the peak that sells
    buy_order_price_deviation_percent: Decimal = Decimal(1)  # % below the last sell that ends cooldown
    cooldown_period: int = 120  # seconds between a completed cycle and the next base order
    # 3Commas-style martingale coefficients; 1 = off (the original bot's fixed steps and sizes).
    safety_order_step_scale: Decimal = Decimal(1)
    safety_order_volume_scale: Decimal = Decimal(1)
    # 3Commas' deal start condition (`dca.conditions`, canonical text) and price range: a new cycle
    # starts only while the condition holds and the ask is inside [min_price, max_price]. None = off.
    start_condition: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    # Stop loss (3Commas' "stop loss" and "stop loss timeout"): sell the cycle at market once the bid
    # has stayed this % below the average cost for `stop_loss_timeout` seconds. None = off.
    stop_loss_percent: Decimal | None = None
    stop_loss_timeout: int = 0
    # How the take-profit sells (3Commas' "take profit order type"): `market` (the seed's market sale
    # at the trigger) or `limit` (a limit sell resting at the trigger price, replaced whenever the
    # position changes: never fills below the trigger, pays the maker fee). Trailing sells at market.
    take_profit_order_type: OrderType = OrderType.MARKET
    # 3Commas' "max active safety orders": the next N safety orders rest on the book at their levels;
    # 0 = reactive (a safety order is placed when a quote crosses its trigger).
    active_safety_orders: int = 0

    def safety_deviation(self, index: int) -> Decimal:
        """Deviation (%) from the last fill for safety order number `index` (0 = the first)."""
        return self.safety_order_deviation * self.safety_order_step_scale**index

    def safety_amount(self, index: int) -> Decimal:
        """Quote amount of safety order number `index` (0 = the first)."""
        return self.safety_order_amount * self.safety_order_volume_scale**index

    def max_cycle_commitment(self) -> Decimal:
        """The most capital one cycle can commit: the base order plus every safety order."""
        return self.base_order_amount + sum(
            (self.safety_amount(i) for i in range(min(self.max_safety_orders, MAX_SAFETY_ORDERS))), ZERO
        )


@dataclass(frozen=True, slots=True)
class ExchangeRules:
    """What the exchange accepts for one pair: Alpaca's asset fields plus the venue's cost floor, which
    applies to buys only (a paper-account probe found sells below it accepted), and the margin the bot
    keeps above that floor so a price move between decision and valuation does not reject a buy."""

    min_order_size: Decimal = Decimal("0.000000001")
    min_trade_increment: Decimal = Decimal("0.000000001")
    price_increment: Decimal = Decimal("0.000000001")
    min_notional: Decimal = Decimal(10)  # Alpaca paper: "cost basis must be >= minimal amount of order 10"
    buy_margin_percent: Decimal = Decimal(2)  # a buy near the floor is sized this much above it

    @property
    def buy_floor(self) -> Decimal:
        """The least a buy is sized at: the cost floor plus the margin."""
        return percent_above(self.min_notional, self.buy_margin_percent)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Maker/taker fees in basis points, charged in the asset received (Alpaca tier 1 by default)."""

    maker_bps: Decimal = Decimal(15)
    taker_bps: Decimal = Decimal(25)


@dataclass(frozen=True, slots=True)
class OrderTiming:
    """How long orders may live, and how long to wait after one failed."""

    retry_after_failure: timedelta = timedelta(seconds=5)  # ORDER_COOLDOWN_SECONDS
    stale_buy_after: timedelta = timedelta(minutes=5)  # an unfilled BUY limit is cancelled
    stuck_sell_after: timedelta = timedelta(seconds=75)  # an unfilled market SELL is cancelled


@dataclass(frozen=True, slots=True)
class AssetConfig:
    """Everything `decide` needs to know about one asset besides its state."""

    asset_id: int
    symbol: str
    order_namespace: str  # prefix of every client_order_id this installation issues, e.g. "dca-k3f9q"
    params: AssetParams = field(default_factory=AssetParams)
    rules: ExchangeRules = field(default_factory=ExchangeRules)
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    timing: OrderTiming = field(default_factory=OrderTiming)


# --- validation ----------------------------------------------------------------------------------

PARAM_NAMES = tuple(f.name for f in fields(AssetParams))
MAX_SAFETY_ORDERS = 1000  # far beyond any useful ladder; keeps the commitment sums and the INT column sane
MAX_COOLDOWN_SECONDS = 2**31 - 1  # the INT column (68 years)
MAX_STOP_LOSS_TIMEOUT = 2**31 - 1  # the INT column
MAX_CONDITION_LENGTH = 500  # the VARCHAR column
_INT_PARAMS = {"max_safety_orders", "cooldown_period", "stop_loss_timeout", "active_safety_orders"}
_BOOL_PARAMS = {"ttp_enabled"}
_CHOICE_PARAMS: dict[str, type[OrderType]] = {"take_profit_order_type": OrderType}
_TEXT_PARAMS = {"start_condition"}
_OPTIONAL_PARAMS = {"ttp_deviation_percent", "start_condition", "min_price", "max_price", "stop_loss_percent"}
_PERCENT_PARAMS = (
    "safety_order_deviation", "ttp_deviation_percent", "buy_order_price_deviation_percent", "stop_loss_percent",
)


class InvalidParams(ValueError):
    """One or more parameters are out of range; `problems` maps each field name to why."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))


def check_params(params: AssetParams) -> dict[str, str]:
    """Every problem with `params`, by field name (empty when the parameters are usable)."""
    problems: dict[str, str] = {}
    for name in ("base_order_amount", "safety_order_amount", "take_profit_percent"):
        if getattr(params, name) <= 0:
            problems[name] = "must be greater than 0"
    for name in _PERCENT_PARAMS:
        value = getattr(params, name)
        if value is not None and not ZERO < value < HUNDRED:
            problems[name] = "must be between 0 and 100 (exclusive)"
    if params.ttp_enabled and params.ttp_deviation_percent is None:
        problems["ttp_deviation_percent"] = "is required when ttp_enabled is true"
    if not 0 <= params.max_safety_orders <= MAX_SAFETY_ORDERS:
        problems["max_safety_orders"] = f"must be between 0 and {MAX_SAFETY_ORDERS}"
    if not 0 <= params.cooldown_period <= MAX_COOLDOWN_SECONDS:
        problems["cooldown_period"] = f"must be between 0 and {MAX_COOLDOWN_SECONDS} seconds"
    if not 0 <= params.stop_loss_timeout <= MAX_COOLDOWN_SECONDS:
        problems["stop_loss_timeout"] = f"must be between 0 and {MAX_COOLDOWN_SECONDS} seconds"
    for name in ("safety_order_step_scale", "safety_order_volume_scale"):
        if not Decimal("0.1") <= getattr(params, name) <= Decimal(10):
            problems[name] = "must be between 0.1 and 10"
    problems.update(_range_problems(params))
    problems.update(_order_type_problems(params))
    if not 0 <= params.stop_loss_timeout <= MAX_STOP_LOSS_TIMEOUT:
        problems["stop_loss_timeout"] = f"must be between 0 and {MAX_STOP_LOSS_TIMEOUT} seconds"
    if params.start_condition is not None:
        if len(params.start_condition) > MAX_CONDITION_LENGTH:
            problems["start_condition"] = f"at most {MAX_CONDITION_LENGTH} characters"
        else:
            try:
                parse_condition(params.start_condition)
            except ConditionError as error:
                problems["start_condition"] = str(error)
    return problems


def _range_problems(params: AssetParams) -> dict[str, str]:
    problems = {name: "must be greater than 0" for name in ("min_price", "max_price")
                if getattr(params, name) is not None and getattr(params, name) <= 0}
    low, high = params.min_price, params.max_price
    if not problems and low is not None and high is not None and low > high:
        problems["max_price"] = f"must be at least min_price ({low.normalize():f})"
    return problems


def _order_type_problems(params: AssetParams) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not isinstance(params.take_profit_order_type, OrderType):
        problems["take_profit_order_type"] = "must be market or limit"
    elif params.take_profit_order_type is OrderType.LIMIT and params.ttp_enabled:
        problems["take_profit_order_type"] = ("limit needs ttp_enabled false: a trailing take-profit sells at "
                                              "market on the pull-back")
    if not 0 <= params.active_safety_orders <= params.max_safety_orders:
        problems["active_safety_orders"] = f"must be between 0 and max_safety_orders ({params.max_safety_orders})"
    return problems


def validated(params: AssetParams) -> AssetParams:
    """`params` if usable, else `InvalidParams` naming every bad field."""
    problems = check_params(params)
    if problems:
        raise InvalidParams(problems)
    return params


def parse_param_value(name: str, raw: Any) -> Any:
    """A typed value for parameter `name` from text (`"1.5"`, `"true"`, `"none"`) or a typed value."""
    if name not in PARAM_NAMES:
        raise InvalidParams({name: f"unknown parameter (known: {', '.join(PARAM_NAMES)})"})
    try:
        if name in _BOOL_PARAMS:
            return _parse_bool(raw)
        if name in _INT_PARAMS:
            return _parse_int(raw)
        if name in _CHOICE_PARAMS:
            return _parse_choice(_CHOICE_PARAMS[name], raw)
        if name in _OPTIONAL_PARAMS and (raw is None or str(raw).strip().lower() in ("", "none", "null", "off")):
            return None
        if name in _TEXT_PARAMS:
            return parse_condition(str(raw)).text  # stored canonical: the readings carry the same text
        return to_decimal(raw if isinstance(raw, Decimal | int) else str(raw))
    except (TypeError, ValueError) as error:
        raise InvalidParams({name: str(error)}) from None


def with_overrides(params: AssetParams, overrides: Mapping[str, Any]) -> AssetParams:
    """`params` with `overrides` (text or typed) applied and the result validated as a whole."""
    problems: dict[str, str] = {}
    typed: dict[str, Any] = {}
    for name, raw in overrides.items():
        try:
            typed[name] = parse_param_value(name, raw)
        except InvalidParams as error:
            problems.update(error.problems)
    candidate = replace(params, **typed)
    problems = {**check_params(candidate), **problems}  # range problems of the parsable values too
    if problems:
        raise InvalidParams(problems)
    return candidate


def _parse_choice(choices: type[OrderType], raw: Any) -> OrderType:
    text = str(raw).strip().lower()
    try:
        return choices(text)
    except ValueError:
        raise ValueError(f"expected one of {', '.join(c.value for c in choices)}, got {raw!r}") from None


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"expected a whole number, got {raw!r}")
    if isinstance(raw, int):
        return raw
    try:
        value = to_decimal(str(raw))
    except ValueError:
        raise ValueError(f"expected a whole number, got {raw!r}") from None
    if value != value.to_integral_value():
        raise ValueError(f"expected a whole number, got {raw!r}")
    return int(value)
