"""The venue's word before a sell: what the bot really holds, what it may sell, and whether a buy's
fee is still an estimate. The sell the venue gets is one it can fill: never a loop of identical
refused sells. The guard only reads the venue and says what the core must be told (a `SellCheck`);
the driver's loop decides and stores."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from loguru import logger

from app.driver.services import DriverPorts
from app.driver.venue_checks import GO, WAIT, SellCheck, ShortfallWatch, again
from dca.commands import SubmitOrder
from dca.cycle import AssetState, Side
from dca.events import HoldingsChecked, SellableChecked
from dca.exchange import sellable_for_bot
from dca.fees import EstimatedBuyFee, certainly_ours
from dca.money import ZERO
from dca.params import AssetConfig
from dca.strategy import Decision, coin_text
from ports.broker import BrokerUnavailable
from ports.clock import Stopwatch

if TYPE_CHECKING:
    from loguru import Logger


class SellGuard:
    def __init__(self, ports: DriverPorts, stopwatch: Stopwatch, note: Callable[[tuple[str, ...]], None]) -> None:
        self._p, self._note = ports, note
        self._symbol = ""
        self._log: Logger = logger
        self.shortfalls = ShortfallWatch(stopwatch)

    def started(self, symbol: str, log: Logger) -> None:
        self._symbol, self._log = symbol, log

    def check(self, config: AssetConfig, before: AssetState, decision: Decision, fee_pending: bool) -> SellCheck:
        """Before a sell goes out, ask the venue what the bot really has. Fewer coins than the cycle
        holds (a manual sell, a fee taken differently) correct the cycle once two readings some seconds
        apart agree (positions can lag fills); until then nothing is sold. Coins held back by other
        orders cap the sell at the venue's qty_available less foreign coins. Either way the sell the
        venue gets is one it can fill: never a loop of identical refused sells."""
        sell = next((c for c in decision.commands if isinstance(c, SubmitOrder) and c.side is Side.SELL), None)
        if sell is None or before.cycle.order is not None:  # a resubmission keeps its stored size
            return GO
        if fee_pending:
            self._note(("a buy's fee is not known yet: selling once the position shows it",))
            return WAIT
        try:
            position = self._p.broker.position(self._symbol)
        except BrokerUnavailable as error:  # the venue's answer to the sell itself settles it
            self._log.warning("could not read the position before selling ({}); selling {}", error,
                              coin_text(config, sell.qty))
            return GO
        held, total = before.held_quantity, position.qty if position is not None else ZERO
        if total < held:
            if not self.shortfalls.confirmed(total, held):
                self._note((f"the venue shows {total} of the {held} the cycle holds: selling once a second "
                            "reading confirms it",))
                return WAIT
            self._p.metrics.sell_shortfalls.labels(self._symbol).inc()
            self._log.warning("the venue holds {} of the {} the cycle holds (a manual sell or a fee taken "
                              "differently): the cycle is corrected and sells what is left",
                              coin_text(config, total), coin_text(config, held))
            return again(HoldingsChecked(total, self._p.clock.now()))
        sellable = sellable_for_bot(position, held)
        if sellable >= sell.qty:
            return self._hold_back_unconfirmed_fees(config, before, sell, total)
        return again(self.sellable_short(config, before, sellable, "coins held back by other orders"))

    def _hold_back_unconfirmed_fees(self, config: AssetConfig, before: AssetState, sell: SubmitOrder,
                                    venue_qty: Decimal) -> SellCheck:
        """With foreign coins on the pair, a buy fee still estimated may hide that some of what the
        bot counts is theirs: the sell is capped at what is certainly the bot's; the rest waits for
        the venue's fee (which settles it as dust). Buys of ended cycles count too: their dust is in
        what the bot counts."""
        if venue_qty <= before.held_quantity:
            return GO
        unconfirmed = [EstimatedBuyFee(order.filled_qty, order.fee) for order in self._p.cycles.estimated_fees()
                       if order.symbol == self._symbol and order.side is Side.BUY and order.filled_qty > 0]
        fees = config.fees
        certain = certainly_ours(before.held_quantity, unconfirmed, max(fees.taker_bps, fees.maker_bps))
        if certain >= sell.qty:
            return GO
        self._log.info("a buy fee is still an estimate and the pair holds foreign coins: selling only the {} "
                       "certainly the bot's of the {} it counts, the rest once the venue posts the fee",
                       coin_text(config, certain), coin_text(config, before.held_quantity))
        return again(SellableChecked(certain, self._p.clock.now()))

    def sellable_short(self, config: AssetConfig, state: AssetState, sellable: Decimal, source: str
                       ) -> SellableChecked:
        """The venue lets the bot sell less than it holds: logged, counted, and the core to be told."""
        self._p.metrics.sell_shortfalls.labels(self._symbol).inc()
        self._log.warning("the venue lets the bot sell only {} of the {} it holds ({}): the sell is capped; "
                          "the reconciler corrects the cycle if coins are gone", coin_text(config, sellable),
                          coin_text(config, state.held_quantity), source)
        return SellableChecked(sellable, self._p.clock.now())
