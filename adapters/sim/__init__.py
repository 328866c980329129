"""An Alpaca-compatible crypto exchange simulator (issue #3); see README.md beside this file.

Import the parts you need from their modules: `adapters.sim.matching` (the pure matching engine, also
the backtester's fill model) has no vendor imports, while `adapters.sim.service` brings in aiohttp.
"""
