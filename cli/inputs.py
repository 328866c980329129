"""Option values shared by several commands: symbol lists and UTC dates, with errors naming the option."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from cli.errors import UsageError


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
