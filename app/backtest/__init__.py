"""The backtester's wiring: data loading, the exchange behind the session, the fast path, reports.

The strategy loop itself is pure and lives in `dca.backtest`; this package gives it the
simulator's matching engine as its exchange (`venue.py`), bar data as numpy arrays (`series.py`),
a fast path that skips bars where nothing can happen (`fast.py`), and turns the session's records
into metrics, files and a chart (`report.py`, `chart.py`), one run or a sweep (`runner.py`,
`sweep.py`). See docs/backtesting.md for the assumptions.
"""
