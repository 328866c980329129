"""When to believe that the venue holds fewer of a pair's coins than the books do.

A position read can be stale: positions lag fills on the venue by seconds (Alpaca-API issue #276, the
simulator's `position_lag` quirk), and a read answered quickly can be handled late by a busy actor or
come from a caretaker that asked a while ago. Stale readings of a just-filled buy show the coins as
missing, and believing them ends a healthy cycle in error (it did, under load, with every quirk on).
So a shortfall is believed only when

* every reading that counts was *requested* at least CONFIRM_SECONDS after the books last moved (a
  fill the bot applied): a reading requested earlier may predate what the venue shows of that fill;
* two such readings, requested at least CONFIRM_SECONDS apart, agree on the same shortfall;
* no reading requested between them disagreed (one that shows the coins, or another quantity).

A venue lagging by less than 2 x CONFIRM_SECONDS is therefore never taken for a shortfall: the
second reading is requested after the lag has passed, shows the coins, and clears the suspicion.
Times are monotonic seconds supplied by the caller (this module reads no clock).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

CONFIRM_SECONDS = 2.0
_NEVER = float("-inf")


@dataclass(frozen=True, slots=True)
class PositionReading:
    """The venue showed `venue_qty` when the books held `expected`; asked at `requested_at`."""

    venue_qty: Decimal
    expected: Decimal
    requested_at: float


@dataclass(frozen=True, slots=True)
class ShortfallWatch:
    books_moved_at: float = _NEVER  # when the bot last applied a change of its holdings
    newest: float = _NEVER  # request time of the newest reading taken into account
    suspected: PositionReading | None = None  # the first reading of an unconfirmed shortfall

    def books_moved(self, at: float) -> ShortfallWatch:
        """The books' holdings changed (a fill, a correction): earlier readings say nothing any more."""
        return ShortfallWatch(books_moved_at=at)

    def observe(self, reading: PositionReading) -> tuple[ShortfallWatch, bool]:
        """The watch after `reading`, and whether a shortfall is now confirmed (the watch is then reset)."""
        if reading.requested_at < self.books_moved_at + CONFIRM_SECONDS or reading.requested_at < self.newest:
            return self, False  # possibly older than what the venue shows of the last fill, or overtaken
        watch = replace(self, newest=reading.requested_at)
        if reading.venue_qty >= reading.expected:
            return replace(watch, suspected=None), False
        first = self.suspected
        if first is None or (first.venue_qty, first.expected) != (reading.venue_qty, reading.expected):
            return replace(watch, suspected=reading), False
        if reading.requested_at - first.requested_at < CONFIRM_SECONDS:
            return watch, False
        return ShortfallWatch(books_moved_at=self.books_moved_at, newest=reading.requested_at), True

