"""Every command-line value is parsed here: numbers, ports, NAME=VALUE assignments, venue quirks and
faults, symbol lists and UTC dates. A bad value exits 2 with a message naming the field, either way:

* as an argparse `type=`: `arg_type(positive)`; argparse prints `argument --speed: must be > 0, got 0`;
* after parsing: `option("--cash", positive, args.cash)` raises `UsageError("--cash: must be > 0, got -5")`.

The parsers themselves raise `BadValue` (a `ValueError`) saying what is wrong, without the field's name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from cli.errors import UsageError

T = TypeVar("T")


class BadValue(ValueError):
    """A value that does not parse; the message says why and the caller names the field."""


def number(text: str) -> Decimal:
    """A finite decimal number, exactly as written (never through float)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise BadValue(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise BadValue(f"{text!r} is not a number")
    return value


def positive(text: str) -> Decimal:
    value = number(text)
    if value <= 0:
        raise BadValue(f"must be > 0, got {text}")
    return value


def non_negative(text: str) -> Decimal:
    value = number(text)
    if value < 0:
        raise BadValue(f"must be ≥ 0, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """A duration in seconds > 0, for timers (a float only after the check on the exact number)."""
    return float(positive(text))


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadValue(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise BadValue(f"must be 0-65535 (0 = any free port), got {value}")
    return value


def assignment(text: str) -> tuple[str, str]:
    """`NAME=VALUE` → (NAME, VALUE), both stripped; the value may be empty, the name may not."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise BadValue(f"{text!r}: expected NAME=VALUE, e.g. take_profit_percent=1.5")
    return name.strip(), value.strip()


def assignments(items: list[str], option_name: str) -> dict[str, str]:
    """Several NAME=VALUE items (a later one wins); a malformed one is a UsageError naming the option."""
    return dict(option(option_name, assignment, item) for item in items)


def quirk(text: str) -> tuple[str, str]:
    """A simulator quirk, `NAME` or `NAME=VALUE` (docs/venue-quirks.md)."""
    from adapters.sim.quirks import parse_quirk_arg  # pure Python: --help stays instant

    return parse_quirk_arg(text)


def fault(text: str) -> tuple[str, Any]:
    """A simulator fault knob, `NAME=VALUE`."""
    from adapters.sim.faults import parse_fault_arg  # pure Python: --help stays instant

    return parse_fault_arg(text)


def option(name: str, parse: Callable[[str], T], text: str) -> T:
    """`parse(text)`, a bad value becoming a `UsageError` that names the option (exit 2)."""
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(f"{name}: {error}") from None


def arg_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """`parse` as an argparse `type=`: argparse names the option in its error and exits 2."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = parse.__name__
    return convert


def symbols(raw: str, option: str = "--symbols") -> list[str]:
    """`btc/usd,ETH/USD` → ["BTC/USD", "ETH/USD"] (deduplicated, in order)."""
    from dca.assets import normalize_symbol

    found, problems = [], []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            found.append(normalize_symbol(part))
        except ValueError as error:
            problems.append(str(error))
    if problems or not found:
        raise UsageError(f"{option}: " + ("; ".join(problems) or "give at least one pair, e.g. BTC/USD"))
    return list(dict.fromkeys(found))


def moment(text: str, option: str, end_of_day: bool = False) -> datetime:
    """A UTC moment from `YYYY-MM-DD` (the day's start, or with `end_of_day` the next day's start, so
    an end date includes its whole day) or an ISO-8601 time (naive = UTC), used as given."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) == 10:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a date (YYYY-MM-DD) or an ISO-8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def time_range(start: str | None, end: str | None, required: bool = True) -> tuple[datetime | None, datetime | None]:
    """(--start, --end) as UTC moments, end exclusive; the end must come after the start."""
    if required and start is None:
        raise UsageError("--start: required (YYYY-MM-DD)")
    if required and end is None:
        raise UsageError("--end: required (YYYY-MM-DD, included)")
    first = moment(start, "--start") if start is not None else None
    last = moment(end, "--end", end_of_day=True) if end is not None else None
    if first is not None and last is not None and last <= first:
        raise UsageError(f"--end: {end} is not after --start {start}")
    return first, last
