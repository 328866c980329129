"""The pure DCA domain core: parameters, the cycle state machine and its money maths.

No I/O, no threads, no clock reads, no pykka. The live asset actors and the backtester drive the same
functions, which is what makes a backtest mean something.
"""
