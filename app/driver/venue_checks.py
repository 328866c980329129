"""Readings of the venue that an asset driver keeps between messages: a buy's fee waiting for the
position to show it, and a too-small buying power reused for a few seconds. (When a shortfall of the
position is believed is `app.shortfall`'s.) Real time comes from the `Stopwatch` port."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from dca.events import Event
from ports.clock import Stopwatch

# A cash reading too small for a buy is reused this long (real seconds): a cycle waiting for cash
# then asks the account once per period, not once per quote (the rate limiter would stall the actors).
CASH_SHORTFALL_REUSE_SECONDS = 5.0


class Verdict(enum.Enum):
    GO = "go"  # the sell fits what the venue has
    AGAIN = "again"  # the core is told what the venue has (the corrections), then decides again
    WAIT = "wait"  # the venue shows less than the cycle holds; not sold until later readings agree


@dataclass(frozen=True, slots=True)
class SellCheck:
    verdict: Verdict
    corrections: tuple[Event, ...] = ()  # with AGAIN: what the venue said, decided before the retry


GO, WAIT = SellCheck(Verdict.GO), SellCheck(Verdict.WAIT)


def again(*corrections: Event) -> SellCheck:
    return SellCheck(Verdict.AGAIN, corrections)


@dataclass(frozen=True, slots=True)
class PendingFee:
    """A finished buy whose coin fee is only estimated: the position is read again to learn it."""

    client_order_id: str
    filled_qty: Decimal
    position_before: Decimal
    since: float  # stopwatch seconds


class CashReading:
    """The last buying power that was too small for a buy, reused for a few seconds."""

    def __init__(self, stopwatch: Stopwatch) -> None:
        self._stopwatch = stopwatch
        self._short: tuple[float, Decimal] | None = None  # (stopwatch seconds, buying power)

    def reusable_for(self, cost: Decimal) -> Decimal | None:
        """A recent reading too small for `cost` (the buy would be refused anyway), or None: read again."""
        if self._short is None:
            return None
        read_at, power = self._short
        if self._stopwatch.seconds() - read_at < CASH_SHORTFALL_REUSE_SECONDS and cost > power:
            return power
        return None

    def read(self, power: Decimal, cost: Decimal) -> None:
        self._short = (self._stopwatch.seconds(), power) if cost > power else None
