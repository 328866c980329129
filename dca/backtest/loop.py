"""The reference loops: every quote of every bar goes through the session, nothing is skipped.

They are the oracle the fast path (`app/backtest/fast.py`) is proven equal to, and the quote loop
is what the parity test runs on the same quotes as the live actor tree.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from dca.backtest.session import BacktestSession
from dca.market import Bar, Quote, bar_quote_path


def replay_quotes(session: BacktestSession, quotes: Iterable[Quote]) -> int:
    """Feed every quote in order; returns how many."""
    count = 0
    for quote in quotes:
        session.on_quote(quote)
        count += 1
    return count


def replay_bars(session: BacktestSession, bars: Iterable[Bar], spread_bps: Decimal,
                price_increment: Decimal) -> int:
    """Feed every bar as its quote path (`dca.market.bar_quote_path`) and record the account at the
    end of each bar; returns how many bars."""
    count = 0
    for index, bar in enumerate(bars):
        for quote in bar_quote_path(bar, spread_bps, price_increment):
            session.on_quote(quote)
        session.end_bar(index, bar.time)
        count += 1
    return count
