"""Command-line commands, one module per group. Each module has `register(subparsers)`, keeps its
top-level imports light (so `--help` is instant) and sets `handler` on its parser."""

from cli import adopt, assets, backtest, bars, controls, db, halt, probe, reports, run, sim

COMMANDS = (run, db, assets, reports, halt, adopt, controls, bars, backtest, sim, probe)
