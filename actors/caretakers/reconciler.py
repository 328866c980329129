"""`Reconciler`: compares each cycle with the exchange and has its asset actor repair it.

* Every cycle's live orders (acting and resting) are read back (a fill or cancel the streams missed is applied, exactly
  once), including `selling` cycles whose fill was lost (the original left them stuck for ever, B4).
* The exchange's position in each traded symbol goes to the asset actor, whose core corrects a
  small fee difference or ends the cycle in `error` if the coins left the bot. More coin on the
  exchange than the bot holds is somebody else's: reported (log, metric), never touched (B8).
* Positions in symbols the bot does not trade at all are reported as foreign.

It never writes a cycle itself.
"""

from __future__ import annotations

import time
from decimal import Decimal

from actors.asset_actor import RECONCILING
from actors.caretakers.base import Caretaker
from actors.messages import CheckHoldings, CheckOrder
from actors.runtime import Runtime
from dca.cycle import Cycle, Side
from dca.money import ZERO, plain, round_nearest
from ports.broker import BrokerError
from ports.stores import StoredCycleRow


class Reconciler(Caretaker):
    name = "reconciler"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime, runtime.intervals.reconciler)
        self._reported: dict[str, Decimal] = {}

    def run_once(self) -> None:
        rt = self._rt
        # the books first, then the exchange: a fill in between then shows as extra coin on the
        # exchange (harmless), never as coin the bot lost
        current = rt.cycles.current_cycles()
        dust = {asset.id: asset.dust for asset in rt.assets.all()}
        requested_at = time.monotonic()  # how old the reading is decides what it proves (app.shortfall)
        positions = rt.broker.positions()
        rt.metrics.account_cash.set(float(rt.broker.account().cash))
        traded = set()
        for stored in current:  # every cycle's coins are the bot's, whether or not its actor runs
            traded.add(stored.symbol)
            position = positions.get(stored.symbol)
            held = position.qty if position is not None else ZERO
            expected = stored.cycle.quantity + dust.get(stored.asset_id, ZERO)
            self._check(stored, held, expected, requested_at)
            self._report_foreign(stored.symbol, held - expected - _unfilled_buys(stored.cycle))
        for symbol, position in positions.items():
            if symbol not in traded:
                self._report_foreign(symbol, position.qty)
        rt.health.reconciled()

    def _check(self, stored: StoredCycleRow, held: Decimal, expected: Decimal, requested_at: float) -> None:
        """Have the cycle's actor repair it; a cycle whose actor is not running (a disabled asset)
        is repaired by its next actor, which reads its live orders back when it starts."""
        handle = self._rt.asset_handle(stored.symbol)
        if not handle.is_alive():
            return
        cycle = stored.cycle
        if cycle.live_orders:  # a fill the streams missed is applied first
            handle.tell(CheckOrder(RECONCILING))
        if cycle.order is None and not any(order.side is Side.SELL for order in cycle.resting):
            # Only resting buys live: they can only add coin, so a shortfall is still one. With the acting
            # order or a resting sell live the holding is in flux: it waits for the next run.
            handle.tell(CheckHoldings(held, expected, requested_at))

    def _report_foreign(self, symbol: str, extra: Decimal) -> None:
        extra = max(extra, ZERO)
        self._rt.metrics.foreign_positions.labels(symbol).set(float(extra))
        if extra > 0 and self._reported.get(symbol) != extra:
            self._rt.metrics.discrepancies.labels("foreign_position").inc()
            self._log.warning("{}: {} on the exchange is not the bot's; left alone (adopt it with "
                              "`supervisor.py adopt {}`)", symbol, self._coins(symbol, extra), symbol)
        self._reported[symbol] = extra

    def _coins(self, symbol: str, quantity: Decimal) -> str:
        """A quantity of the pair's coin for the log: to its trade increment, labelled ("0.35 BTC")."""
        coin = symbol.partition("/")[0]
        try:
            increment = self._rt.exchange_rules(symbol).min_trade_increment
        except (BrokerError, LookupError):  # a pair the venue says nothing about: as it reported the position
            return f"{plain(quantity)} {coin}"
        return f"{plain(round_nearest(quantity, increment))} {coin}"


def _unfilled_buys(cycle: Cycle) -> Decimal:
    """Coin the cycle's live buys (acting or resting) may have brought in that it has not applied yet:
    not foreign."""
    return sum((max(order.unfilled_qty, ZERO) for order in cycle.live_orders if order.side is Side.BUY), ZERO)
