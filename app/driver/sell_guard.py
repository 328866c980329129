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
from app.driver.venue_checks import GO, WAIT, SellCheck, again
from app.shortfall import PositionReading, ShortfallWatch
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
        self._p, self._note, self._stopwatch = ports, note, stopwatch
        self._symbol = ""
        self._log: Logger = logger
        self._shortfall = ShortfallWatch()  # when a position reading showing fewer coins may be believed

    def started(self, symbol: str, log: Logger) -> None:
        self._symbol, self._log = symbol, log
        self.books_moved()  # a fill may just have happened

    def books_moved(self) -> None:
        """The books' holdings changed: position readings requested before now prove nothing."""
        self._shortfall = self._shortfall.books_moved(self._stopwatch.seconds())

    def check(self, config: AssetConfig, before: AssetState, decision: Decision, fee_pending: bool) -> SellCheck:
        """Before a sell goes out, ask the venue what the bot really has. Fewer coins than the cycle
        holds (a manual sell, a fee taken differently) correct the cycle once readings some seconds apart
        agree and the other position endpoint confirms it (`app.shortfall`; positions can lag fills);
        until then nothing is sold. Coins held back by other
        orders cap the sell at the venue's qty_available less foreign coins. Either way the sell the
        venue gets is one it can fill: never a loop of identical refused sells."""
        sell = next((c for c in decision.commands if isinstance(c, SubmitOrder) and c.side is Side.SELL), None)
        if sell is None or before.cycle.order is not None:  # a resubmission keeps its stored size
            return GO
        if fee_pending:
            self._note(("a buy's fee is not known yet: selling once the position shows it",))
            return WAIT
        requested_at = self._stopwatch.seconds()
        try:
            position = self._p.broker.position(self._symbol)
        except BrokerUnavailable as error:  # the venue's answer to the sell itself settles it
            self._log.warning("could not read the position before selling ({}); selling {}", error,
                              coin_text(config, sell.qty))
            return GO
        held, total = before.held_quantity, position.qty if position is not None else ZERO
        if total < held:
            if not self.shortfall_confirmed(total, held, requested_at, from_list=False):
                self._note((_shortfall_suspected(config, total, held),))
                return WAIT
            self._p.metrics.sell_shortfalls.labels(self._symbol).inc()
            self._log.warning("{}", _shortfall_confirmed_text(config, total, held))
            return again(HoldingsChecked(total, self._p.clock.now()))
        sellable = sellable_for_bot(position, held) + held_by_own_sells(before)
        if sellable >= sell.qty:
            return self._hold_back_unconfirmed_fees(config, before, sell, total)
        return again(self.sellable_short(config, before, sellable, "coins held back by other orders"))

    def shortfall_confirmed(self, venue_qty: Decimal, expected: Decimal, requested_at: float,
                            from_list: bool) -> bool:
        """Whether this reading (requested at `requested_at`, stopwatch seconds), with earlier ones, proves
        the venue holds fewer coins (app.shortfall), and the venue's other kind of position read agrees: a
        404 or a missing list entry may be transient on one endpoint, so a shortfall is never concluded
        from one kind of read alone."""
        self._shortfall, confirmed = self._shortfall.observe(PositionReading(venue_qty, expected, requested_at))
        if not confirmed:
            return False
        asked_at = self._stopwatch.seconds()
        try:  # the list (GET /v2/positions) if the single read said so, else the single read
            other = (self._p.broker.positions().get(self._symbol) if not from_list
                     else self._p.broker.position(self._symbol))
        except BrokerUnavailable:
            return False  # unproven: the next readings decide
        other_qty = other.qty if other is not None else ZERO
        if other_qty == venue_qty:
            return True
        self._shortfall, _ = self._shortfall.observe(PositionReading(other_qty, expected, asked_at))
        return False

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


def _shortfall_suspected(config: AssetConfig, venue_qty: Decimal, held: Decimal) -> str:
    if venue_qty <= 0:
        return (f"the venue shows none of the {coin_text(config, held)} the cycle holds (its position may "
                "lag a fill): nothing is sold; if a reading some seconds later agrees, the coins left the "
                "bot and the cycle ends in error")
    return (f"the venue shows {coin_text(config, venue_qty)} of the {coin_text(config, held)} the cycle "
            "holds (its position may lag a fill): nothing is sold until a reading some seconds later agrees")


def _shortfall_confirmed_text(config: AssetConfig, venue_qty: Decimal, held: Decimal) -> str:
    if venue_qty <= 0:
        return (f"the venue holds none of the {coin_text(config, held)} the cycle holds (sold or moved "
                "outside the bot): the cycle ends in error and a new one starts; check the account's "
                "activities")
    return (f"the venue holds {coin_text(config, venue_qty)} of the {coin_text(config, held)} the cycle "
            "holds (a manual sell or a fee taken differently): the cycle is corrected and sells what is left")


def held_by_own_sells(state: AssetState) -> Decimal:
    """Coins the cycle's own live sells still hold on the venue (a resting limit take-profit): the venue's
    `qty_available` leaves them out, but they are the bot's to sell, not coins held back by others."""
    return sum((order.unfilled_qty for order in state.cycle.live_orders if order.side is Side.SELL), ZERO)
