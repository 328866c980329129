"""Market data as the domain sees it: quotes, 1-minute bars, and the quote path inside a bar.

The backtester and the simulator's bar replay both turn bars into quotes with `bar_quote_path`, so a
replayed market and a backtest see exactly the same prices at exactly the same times.

Assumptions of the quote path (documented in the README's backtest section):

* Four quotes per bar, at +0 s, +15 s, +30 s and +45 s after the bar opens.
* A bar that closes at or above its open is taken to go open → low → high → close; a bar that
  closes below its open goes open → high → low → close. This is the usual "the wick nearest the
  open came first" convention; it is pessimistic for a dip-buyer in an up bar (it buys the low
  before seeing the high) and for a seller in a down bar.
* Each path price is the mid; the quote is mid × (1 ∓ spread/2), bid rounded down and ask rounded
  up to the price increment, so the bid is never above the bar's range plus half a spread.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from dca.immutable import immutable
from dca.memo import per_object
from dca.money import ONE, round_down, round_up

QUOTE_OFFSETS = (timedelta(0), timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=45))
TEN_THOUSAND = Decimal(10_000)


@immutable
class Quote:
    """The best bid and ask of one symbol at one moment (UTC)."""

    symbol: str
    bid: Decimal
    ask: Decimal
    time: datetime
    bid_size: Decimal = Decimal(0)
    ask_size: Decimal = Decimal(0)


@immutable
class Bar:
    """One 1-minute OHLCV bar; `time` is the minute it opens (UTC)."""

    symbol: str
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)


def bar_path(bar: Bar) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The four mid prices a bar is taken to trade through, in order."""
    if bar.close >= bar.open:
        return bar.open, bar.low, bar.high, bar.close
    return bar.open, bar.high, bar.low, bar.close


def quote_around(
    symbol: str, mid: Decimal, time: datetime, spread_bps: Decimal, price_increment: Decimal
) -> Quote:
    """A quote whose bid and ask sit half a spread either side of `mid`, on the price grid."""
    below, above = _spread_factors(spread_bps)
    bid = round_down(mid * below, price_increment)
    ask = round_up(mid * above, price_increment)
    if ask <= bid:  # a spread narrower than one tick still leaves bid < ask
        ask = bid + price_increment
    return Quote(symbol, bid, ask, time)


@per_object(kept=64)  # a backtest builds every quote with the same spread object
def _spread_factors(spread_bps: Decimal) -> tuple[Decimal, Decimal]:
    """1 − half spread and 1 + half spread (the two divisions cost more than the rest of a quote)."""
    half = spread_bps / TEN_THOUSAND / 2
    return ONE - half, ONE + half


def bar_quote_path(bar: Bar, spread_bps: Decimal, price_increment: Decimal) -> list[Quote]:
    """The quotes a bar is replayed as (see the module docstring for the assumptions)."""
    return [
        quote_around(bar.symbol, mid, bar.time + offset, spread_bps, price_increment)
        for mid, offset in zip(bar_path(bar), QUOTE_OFFSETS, strict=True)
    ]
