"""The backtester's pure half: a session that drives `decide` quote by quote against an injected
exchange, and the plain reference loops over quotes and bars.

Nothing here reads a clock, touches a file or imports numpy: time is the quotes' time, the exchange
comes in through the small `BacktestVenue` protocol (the simulator's matching engine in practice,
wired up in `app/backtest`), and the fast path that skips quiet bars lives outside the core and is
proven equal to `replay_bars` by tests.
"""
