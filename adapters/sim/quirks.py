"""Venue quirks: switches for the places where the live Alpaca may behave otherwise than our default.

Each quirk is one plausible reading of an uncertain venue behaviour (sources in docs/venue-quirks.md),
so the bot can be proven against every variant, alone and all at once. They are set as
`--quirk NAME[=VALUE]` (repeatable) or `SimConfig(quirks={"name": "value"})` with string values
("" for a flag), validated here, and fixed for the life of the exchange.

This module is pure (no vendor imports): the command line validates with it before anything starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

ACCOUNT_STATUSES = (
    "ACCOUNT_CLOSED", "ACCOUNT_UPDATED", "ACTION_REQUIRED", "ACTIVE", "AML_REVIEW", "APPROVAL_PENDING",
    "APPROVED", "DISABLED", "DISABLE_PENDING", "EDITED", "INACTIVE", "KYC_SUBMITTED", "LIMITED",
    "ONBOARDING", "PAPER_ONLY", "REAPPROVAL_PENDING", "REJECTED", "RESUBMITTED", "SIGNED_UP",
    "SUBMISSION_FAILED", "SUBMITTED",
)  # alpaca-py's AccountStatus: any other value would not parse in the client
DUPLICATE_ID_STATUSES = (400, 403, 409, 422)
FEE_ROUNDINGS = ("up", "half_even", "exact")
USD_FEE_ACTIVITIES = ("CFEE", "FEE")
POST_STATUSES = ("pending_new", "accepted", "new")
WASH_TRADE_CHECKS = ("crossing", "any_opposite", "off")  # adapters/sim/wash_trades.py


@dataclass(frozen=True, slots=True)
class Quirks:
    """The parsed quirks; the defaults are the simulator's own reading of the venue."""

    gross_position_qty: bool = False
    position_lag: Decimal = Decimal(0)  # real seconds before a fill shows in /v2/positions
    fees_eod: bool = False
    fee_tier: tuple[Decimal, Decimal] | None = None  # (maker bps, taker bps) the venue charges
    buying_power_below_cash: Decimal | None = None  # USD non_marginable_buying_power stays below cash
    margin_account: bool = False
    pending_events: bool = False
    ratelimit_headers: bool = False
    min_notional_on_sells: bool = False
    duplicate_id_status: int = 422
    crypto_status: str = "ACTIVE"
    data_connection_limit: int = 1  # concurrent market-data WebSockets per key; 0 = no limit
    fee_rounding: str = "up"
    usd_fee_activity: str = "CFEE"
    post_status: str = "pending_new"
    no_exponent: bool = False
    legacy_symbols: bool = False
    min_order_size_usd: Decimal | None = None
    off_grid_prices: str = "reject"
    no_position_qty: bool = False
    wash_trade_check: str = "crossing"
    wash_trade_status: int = 403
    maker_fill_price: str = "limit"


def _flag(name: str, value: str) -> bool:
    if value not in ("", "1", "true", "yes", "on"):
        raise ValueError(f"quirk {name}: a switch takes no value (got {value!r})")
    return True


def _decimal(name: str, value: str, minimum: Decimal = Decimal(0)) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"quirk {name}: {value!r} is not a number") from None
    if not number.is_finite() or number < minimum:
        raise ValueError(f"quirk {name}: must be a number >= {minimum}, got {value!r}")
    return number


def _fee_tier(name: str, value: str) -> tuple[Decimal, Decimal]:
    maker, sep, taker = value.partition("/")
    if not sep:
        raise ValueError(f"quirk {name}: expected MAKER_BPS/TAKER_BPS, e.g. 25/40 (got {value!r})")
    return _decimal(name, maker.strip()), _decimal(name, taker.strip())


def _choice(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        if value not in choices:
            raise ValueError(f"quirk {name}: must be one of {', '.join(choices)} (got {value!r})")
        return value

    return parse


def _wash_status(name: str, value: str) -> int:
    if value not in ("403", "422"):
        raise ValueError(f"quirk {name}: must be 403 or 422 (got {value!r})")
    return int(value)


def _status(name: str, value: str) -> int:
    if not value.isdigit() or int(value) not in DUPLICATE_ID_STATUSES:
        raise ValueError(f"quirk {name}: must be one of {', '.join(map(str, DUPLICATE_ID_STATUSES))}")
    return int(value)


def _account_status(name: str, value: str) -> str:
    status = value.upper()
    if status not in ACCOUNT_STATUSES:
        raise ValueError(f"quirk {name}: must be an Alpaca account status, e.g. INACTIVE (got {value!r})")
    return status


def _count(name: str, value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"quirk {name}: must be a whole number >= 0 (0 = no limit), got {value!r}")
    return int(value)


def _optional_usd(name: str, value: str) -> Decimal:
    return Decimal(-1) if value == "" else _decimal(name, value)  # -1: half the starting cash


# name -> (parser, value syntax, one-line meaning); the order is the order of the docs' table
QUIRKS: dict[str, tuple[Callable[[str, str], object], str, str]] = {
    "gross_position_qty": (_flag, "", "trade updates carry position_qty before the fee is deducted"),
    "position_lag": (_decimal, "=SECONDS", "positions show a fill only SECONDS (real time) later"),
    "fees_eod": (_flag, "", "CFEE/FEE activities are posted only at the end of the simulated UTC day"),
    "fee_tier": (_fee_tier, "=MAKER_BPS/TAKER_BPS", "the venue charges these rates, not the configured ones"),
    "buying_power_below_cash": (_optional_usd, "[=USD]",
                                "non_marginable_buying_power stays USD (default half the starting cash) below cash"),
    "margin_account": (_flag, "", "a margin paper account: cash reported negative, buying_power 2x, "
                                  "only non_marginable_buying_power is true"),
    "pending_events": (_flag, "", "accepted + pending_new before new; cancels go pending_cancel and end on "
                                  "the next quote (a fill can still come first)"),
    "ratelimit_headers": (_flag, "", "X-RateLimit-Limit/Remaining/Reset on every trading response"),
    "min_notional_on_sells": (_flag, "", "the $10 cost-basis minimum applies to sells too"),
    "duplicate_id_status": (_status, "=400|403|409|422", "HTTP status of 'client_order_id must be unique'"),
    "crypto_status": (_account_status, "=STATUS", "the account's crypto_status; not ACTIVE refuses crypto orders"),
    "data_connection_limit": (_count, "=N", "concurrent market-data WebSockets per key (default 1; 0 = no limit)"),
    "fee_rounding": (_choice(FEE_ROUNDINGS), "=up|half_even|exact",
                     "per-execution fee rounding (default up: coin 1e-9, USD cent)"),
    "usd_fee_activity": (_choice(USD_FEE_ACTIVITIES), "=CFEE|FEE", "activity type of USD fees on sells"),
    "post_status": (_choice(POST_STATUSES), "=pending_new|accepted|new", "the status in the answer to POST /v2/orders"),
    "no_exponent": (_flag, "", "qty/notional/prices in exponent notation (9.1e-05) are refused with 422"),
    "legacy_symbols": (_flag, "", "orders and trade updates name the pair BTCUSD, not BTC/USD"),
    "no_position_qty": (_flag, "", "fill updates carry no position_qty"),
    "min_order_size_usd": (_decimal, "=USD", "an asset's min_order_size is USD of the coin at the current price"),
    "off_grid_prices": (_choice(("reject", "round")), "=reject|round",
                        "a price off price_increment is refused 422 (default) or rounded to it"),
    "wash_trade_check": (_choice(WASH_TRADE_CHECKS), "=crossing|any_opposite|off",
                         "refuse an order that could trade against the account's own open opposite order "
                         "(default crossing: a market order opposite any open order, a limit crossing one; "
                         "any_opposite: any order while an opposite one is open)"),
    "wash_trade_status": (_wash_status, "=403|422", "HTTP status of 'potential wash trade detected'"),
    "maker_fill_price": (_choice(("limit", "quote")), "=limit|quote",
                         "a resting limit crossed by a later quote fills at its limit (default) or at the quote"),
}


def parse_quirks(values: Mapping[str, str]) -> Quirks:
    """`{"name": "value"}` (values as strings, "" for a switch) as `Quirks`; ValueError names the quirk."""
    parsed: dict[str, object] = {}
    for raw_name, value in values.items():
        name = raw_name.strip().replace("-", "_")
        if name not in QUIRKS:
            raise ValueError(f"unknown quirk {raw_name!r}; known: {', '.join(QUIRKS)}")
        if not isinstance(value, str):
            raise ValueError(f"quirk {name}: the value must be a string (got {value!r})")
        parse = QUIRKS[name][0]
        parsed[name] = parse(name, value.strip())
    return Quirks(**parsed)  # type: ignore[arg-type]


def parse_quirk_arg(text: str) -> tuple[str, str]:
    """`NAME` or `NAME=VALUE` from `--quirk`, checked; returns (name, value as a string)."""
    name, _, value = text.partition("=")
    name = name.strip().replace("-", "_")
    parse_quirks({name: value.strip()})
    return name, value.strip()


def parse_quirk_list(text: str) -> dict[str, str]:
    """`name=value,name2` (e.g. the bot's SIM_QUIRKS) as a checked dict."""
    pairs = dict(parse_quirk_arg(part) for part in text.split(",") if part.strip())
    parse_quirks(pairs)
    return pairs


def describe() -> str:
    """The quirk list for `--help`."""
    width = max(len(name + syntax) for name, (_, syntax, _) in QUIRKS.items()) + 2
    return "\n".join(f"  {(name + syntax).ljust(width)}{meaning}" for name, (_, syntax, meaning) in QUIRKS.items())
