"""Decimal arithmetic for prices, quantities and cash.

Everything that is money or a quantity of a coin is a `Decimal`. Floats are refused at the door
(`to_decimal`), because a float cannot say 0.1 and a trading bot that is off by one satoshi
eventually tries to sell a coin it does not hold.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

from dca.memo import per_object

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

Number = Decimal | int | str


def to_decimal(value: Number) -> Decimal:
    """A Decimal from a Decimal, an int or a decimal string; floats are a programming error."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"money must be Decimal, int or str, not {type(value).__name__}")
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def round_down(value: Decimal, increment: Decimal) -> Decimal:
    """The largest multiple of `increment` that is ≤ value (quantities we may sell or buy)."""
    return _to_multiple(value, increment, ROUND_FLOOR)


def round_up(value: Decimal, increment: Decimal) -> Decimal:
    """The smallest multiple of `increment` that is ≥ value (a buy limit that stays marketable)."""
    return _to_multiple(value, increment, ROUND_CEILING)


def round_nearest(value: Decimal, increment: Decimal) -> Decimal:
    """The nearest multiple of `increment`, ties to even (fees the exchange rounds)."""
    return _to_multiple(value, increment, ROUND_HALF_EVEN)


def _to_multiple(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    if increment <= 0:
        raise ValueError(f"increment must be positive, got {increment}")
    power_of_ten, fractional = _shape(increment)
    if power_of_ten:  # 0.01, 1E-9, 1: the same digits and exponent as below, in one step
        return value.quantize(increment, rounding=rounding)
    steps = (value / increment).to_integral_value(rounding=rounding)
    return (steps * increment).quantize(increment) if fractional else steps * increment


@per_object(kept=256)  # a few live increments are used millions of times in a backtest sweep
def _shape(increment: Decimal) -> tuple[bool, bool]:
    """What `_to_multiple` needs to know of an increment: is it 10^-k for some k ≥ 0, and has it a
    negative exponent? A power of ten written with a single digit (0.01, not 0.010, whose multiples
    are those of 0.01 with three decimals) rounds by `quantize` alone: the quotient by it is exact,
    so both ways round the same number."""
    digits, exponent = increment.as_tuple()[1:]
    fractional = exponent < 0  # type: ignore[operator]  # an int for finite values
    return digits == (1,) and exponent <= 0, fractional  # type: ignore[operator]


def percent_below(value: Decimal, percent: Decimal) -> Decimal:
    """value × (1 − percent/100): a safety-order trigger, a trailing stop."""
    return value * (ONE - percent / HUNDRED)


def percent_above(value: Decimal, percent: Decimal) -> Decimal:
    """value × (1 + percent/100): a take-profit trigger."""
    return value * (ONE + percent / HUNDRED)


def basis_points(value: Decimal, bps: Decimal) -> Decimal:
    """value × bps / 10 000 (fee schedules are quoted in basis points)."""
    return value * bps / Decimal(10_000)


def cents(value: Decimal) -> Decimal:
    """Cash rounded to the cent, for display and for notional orders (Alpaca allows 2 decimals)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def plain(value: Decimal | None) -> str:
    """A decimal for people: no exponent, no trailing zeros ("-" for none)."""
    return "-" if value is None else f"{value.normalize():f}"


def readable(value: Decimal) -> str:
    """A price or quantity for people: cents from 100 up, six decimals below (a coin at 0.1234 needs them)."""
    places = 2 if abs(value) >= 100 else 6
    return plain(value.quantize(Decimal(1).scaleb(-places)))
