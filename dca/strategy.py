"""The DCA state machine: `decide(config, state, event) -> Decision`.

Pure: no I/O, no clock reads (time comes in on the events), no randomness. The live asset actor and
the backtester both call it and carry out the commands it returns.

The cycle, per asset:

    cooldown ──(cooldown over, or ask ≤ last sell × (1 − restart %))──▶ watching (flat)
    watching (flat) ──quote──▶ buying (base order, LIMIT BUY at the ask)
    buying ──fill / cancel with fills──▶ watching (in position)
    watching (in position) ──ask ≤ last fill × (1 − SO %)──▶ buying (safety order)
    watching (in position) ──bid ≥ avg × (1 + TP %)──▶ selling (MARKET SELL)   [trailing off]
                                                   └──▶ trailing              [trailing on]
    trailing ──bid > peak──▶ trailing (new peak)
    trailing ──bid < peak × (1 − TTP %) and bid ≥ TP trigger──▶ selling
    trailing ──ask ≤ safety trigger──▶ buying (safety order; trailing is disarmed)
    selling ──fill──▶ complete, and a new cycle in cooldown
    selling ──cancel with a sellable remainder──▶ watching
    watching / trailing (in position) ──bid ≤ avg × (1 − SL %), held for the SL timeout──▶ selling (MARKET
                                         SELL, stop loss) ──fill──▶ stopped, and a new cycle in cooldown
    any cycle holding coin ──operator close──▶ (its buy cancelled first) selling (MARKET SELL) ──fill──▶ closed

Orders placed ahead (dca/resting.py says what should rest; `Cycle.order` stays the one *acting* order
that BUYING/SELLING speak of, `Cycle.resting` holds LIMIT gtc orders that rest while the cycle watches
or trails; they never change the status, never time out as stale, and are placed, replaced and
cancelled on quotes only, never on an order report, so a report's decision never carries an order a
risk gate could veto together with the fill it applies):

* **The ladder** (`active_safety_orders = N > 0`): while the cycle holds coin, no order acts, no close
  is asked, no stop loss is pending, no failure is waited out and nothing is being cancelled, the next
  N safety levels rest as LIMIT BUYs (levels and sizes: dca/resting.py). A reactive safety order is
  placed only while no ladder buy rests. A filled ladder buy counts as the next safety order, its
  average price becomes the last fill, and the next quote tops the ladder up below the deepest one.
* **The limit take-profit** (`take_profit_order_type = limit`, trailing off): under the same
  conditions, and before the ladder (a quote that places or cancels it does nothing else, so a risk
  gate refusing the ladder's buys never holds it back), one LIMIT SELL of what the cycle holds
  (capped like a market sale by the venue's sellable reading) rests at the take-profit trigger
  rounded up. A bid above the trigger sells
  nothing at market. Once out of date (a buy or a corrected fee moved the average cost) it is
  cancelled and placed anew at the first quote after the cancel is confirmed; its own partial fills
  leave it as it is. A reactive safety order cancels it first (the buy is placed at the first quote
  after that cancel, if the ask is still at its trigger; if not, the take-profit is placed again).
* **Cancel first**: Alpaca refuses an order that could trade against the account's own opposite order
  (a wash trade). So a market sale (take-profit, trailing, stop loss, close) first cancels every
  resting order and is decided again, conditions and all, at the first quote after every cancel is
  confirmed; coins a buy gets before its cancel lands are applied and sold with the rest. A ladder
  level at or above the resting sell's limit, or a take-profit at or below a resting buy's, is not
  placed. A cancel not confirmed within the stale-buy (stuck-sell) limit is asked again.
* **One side at a time** (dca/resting.py): should the venue refuse a resting order as a wash trade
  while an order of the cycle's other side is live (it refuses any order opposite an open one), the
  asset learns it (not stored) and no failure is waited out. From then on the ladder rests only while
  the bid is below the take-profit trigger; at the trigger it is cancelled first and the take-profit
  placed (at the trigger rounded up); a resting take-profit gives way, cancelled first, to the safety
  order once the ask reaches the first level. Next to a resting take-profit with no buy resting the
  ladder's first level goes alone, so the lesson costs one refusal (the breakers count each).
* **The cycle's end**: a cycle never ends with a live order. When the limit take-profit has sold what
  the cycle held while ladder buys rest, the next quote cancels them; once none is left the cycle
  ends `complete` at the take-profit's price. Coins a ladder buy gets before its cancel is confirmed
  keep the cycle going: it places a take-profit for them and sells them (nothing is lost, nothing
  left unmanaged). The operator's close and cancel-orders cancel every live order.
* Readings: the exchange's holding is not compared while an acting order or a resting sell is live
  (resting buys only ever add); the venue's sellable reading is ignored while a resting sell holds
  coin back. A resting order's fill is estimated at the maker rate until the venue confirms its fee.

Differences from the original bot (its bugs are in the reference's section 7): fees taken in coin
reduce the quantity and raise the average cost, and the sell is sized from what the cycle holds
(B8); trailing never sells below the take-profit trigger and resumes safety orders instead of
freezing (B7); quantities and prices are rounded to the pair's increments and nothing below the
exchange's minimums is emitted (B12); the price-triggered restart exists (§2.7); a partial fill is
applied at once; stale buys and stuck sells are cancelled by the cycle itself (B3, B4, B6).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dca.commands import CancelOrder, Command, ScheduleTimer, SubmitOrder
from dca.cycle import (
    AssetState,
    Cycle,
    CycleStatus,
    FeeSource,
    LiveOrder,
    OrderKind,
    OrderType,
    Side,
    new_cycle,
)
from dca.events import (
    CancelRequested,
    CloseReason,
    CloseRequested,
    ConditionChecked,
    Event,
    FeeConfirmed,
    HoldingsChecked,
    OrderAccepted,
    OrderClosed,
    OrderFilled,
    OrderNotFound,
    PositionAdopted,
    PositionBeforeOrder,
    RejectionKind,
    SellableChecked,
    Tick,
)
from dca.fees import corrected_cycle, execution_fee, fee_from_position
from dca.immutable import immutable
from dca.levels import restart_trigger, safety_trigger, stop_loss_level, take_profit_trigger, trailing_stop
from dca.market import Quote
from dca.money import ZERO, round_down, round_nearest, round_up
from dca.order_ids import client_order_id
from dca.params import AssetConfig
from dca.resting import (
    buy_quantity,
    ladder_gate_open,
    next_levels,
    one_side_only,
    resting_buys,
    resting_sell,
    sellable_quantity,
    sold_out,
    take_profit_limit,
    take_profit_out_of_date,
    uses_limit_take_profit,
)
from dca.triggers import ALWAYS, Triggers, triggers  # re-exported for drivers

__all__ = ["ALWAYS", "Decision", "Triggers", "coin_text", "decide", "money_text", "start_reading_due",
           "start_waits_for", "stop_loss_level", "take_profit_trigger", "triggers"]

# A shortfall of the exchange's holding below this fraction of what the cycle holds is corrected in
# place (a fee the exchange rounded differently); a larger one means the coins left the bot.
HOLDING_CORRECTION_LIMIT = Decimal("0.01")
# A start-condition reading taken at a whole minute answers for the quotes of that minute.
READING_LASTS = timedelta(minutes=1)
# How long the venue's word on what the bot may sell caps its sells (then it is read again).
SELLABLE_READING_LASTS = timedelta(minutes=1)


# A log line, or how to write it: the hot paths of `decide` (every order placed, filled or ended) leave
# their notes unwritten, as a function, since formatting prices is a tenth of a backtest's time and
# a backtest reads no notes. A note's function reads only values it was given (nothing changes them).
Note = str | Callable[[], str]


def written(note: Note) -> str:
    """A note as text."""
    return note if isinstance(note, str) else note()


@immutable
class Decision:
    """The new state, the commands to carry out, and why (one line per thing that happened)."""

    state: AssetState
    commands: tuple[Command, ...] = ()
    completed: Cycle | None = None  # a cycle this event ended (complete or error), to be stored
    notes: tuple[Note, ...] = ()  # why: written out when read (`lines`); a backtest reads none
    durable: bool = True  # False when only the trailing peak moved: worth storing, not at every tick
    finished_order: LiveOrder | None = None  # the order this event ended, with its final figures
    confirmed_fee: FeeConfirmed | None = None  # a finished order's fee the venue confirmed, to be stored

    if TYPE_CHECKING:  # generated by `immutable`
        def evolve(self, **changes: Any) -> Decision: ...

    @property
    def lines(self) -> tuple[str, ...]:
        """The notes as text, one line per thing that happened."""
        return tuple(written(note) for note in self.notes)

    def last_line(self, otherwise: str) -> str:
        """The last note as text (what an operator's command is answered with), else `otherwise`."""
        return written(self.notes[-1]) if self.notes else otherwise

    def then(self, other: Decision) -> Decision:
        """This decision followed by `other` (made from this decision's state)."""
        return Decision(
            other.state,
            self.commands + other.commands,
            other.completed or self.completed,
            self.notes + other.notes,
            self.durable or other.durable,
            other.finished_order or self.finished_order,
            other.confirmed_fee or self.confirmed_fee,
        )


def decide(config: AssetConfig, state: AssetState, event: Event) -> Decision:
    """The one decision path of the bot: the new state and commands after `event`."""
    return _HANDLERS[type(event)](config, state, event)


# --- quotes --------------------------------------------------------------------------------------


def _on_quote(config: AssetConfig, state: AssetState, quote: Quote) -> Decision:
    if not ZERO < quote.bid <= quote.ask:
        return Decision(state, notes=(f"ignored a bad quote: bid {quote.bid}, ask {quote.ask}",))
    cycle = state.cycle
    if cycle.order is not None:
        return _check_order_age(config, state, quote.time)
    reasked = _reask_cancels(config, state, quote.time)
    if reasked is not None:
        return reasked
    if cycle.status is CycleStatus.COOLDOWN:
        ended = _end_cooldown(config, state, quote)
        if ended is None:
            return Decision(state)
        return ended.then(_act_on_quote(config, ended.state, quote))
    return _act_on_quote(config, state, quote)


def _act_on_quote(config: AssetConfig, state: AssetState, quote: Quote) -> Decision:
    cycle = state.cycle
    if cycle.resting and sold_out(config, state):  # a cycle never ends with live orders: its ladder goes first
        return _cancel_resting(state, quote.time, "cycle end", "the cycle has sold what it held")
    if cycle.retry_at is not None:
        if quote.time < cycle.retry_at:  # waiting out a failed order: no new orders, the peak still moves
            trailing = cycle.status is CycleStatus.TRAILING
            return _follow_peak(config, state, quote, may_sell=False) if trailing else Decision(state)
        cleared = Decision(state.evolve(cycle=cycle.evolve(retry_at=None)))
        return cleared.then(_act_on_quote(config, cleared.state, quote))
    if cycle.close_requested_at is not None:
        return _close_now(config, state, quote.time)
    if cycle.is_flat and cycle.status is CycleStatus.WATCHING:
        if start_waits_for(config, state, quote) is not None:  # said by the reading's note and `status`
            return Decision(state)
        amount = config.params.base_order_amount
        why = f"base order at ask {quote.ask}"
        if config.params.start_condition is not None and state.start_reading is not None:
            why += f"; start condition {state.start_reading.condition} {state.start_reading.describe()}"
        return _buy(config, state, quote, OrderKind.BASE, amount, why)
    stop_loss = _watch_stop_loss(config, state, quote)
    if stop_loss is not None:  # at or below the stop-loss level the cycle buys nothing more
        return stop_loss
    safety = safety_trigger(config, cycle)
    if safety is not None and quote.ask <= safety and not resting_buys(cycle):  # a resting buy covers the level
        amount = config.params.safety_amount(cycle.safety_orders)
        why = _safety_why(cycle.safety_orders + 1, quote.ask, safety)
        if cycle.resting:  # the resting take-profit goes first (and is replaced for the new position anyway)
            return _cancel_resting(state, quote.time, "safety order first", why, Side.SELL)
        return _buy(config, state, quote, OrderKind.SAFETY, amount, why)
    if cycle.status is CycleStatus.TRAILING and config.params.ttp_enabled:
        return _with_upkeep(config, _follow_peak(config, state, quote), quote.time)
    take_profit = take_profit_trigger(config, cycle)
    if uses_limit_take_profit(config) or quote.bid < take_profit:  # a limit take-profit rests instead
        return _keep_resting(config, state, quote.time, quote.bid)
    why = _take_profit_why(quote.bid, take_profit)
    if config.params.ttp_enabled:
        armed = cycle.evolve(status=CycleStatus.TRAILING, peak_price=quote.bid)
        armed_note = _then_note(why, f"; trailing armed at peak {quote.bid}")
        decision = Decision(state.evolve(cycle=armed), notes=(armed_note,))
        return _with_upkeep(config, decision, quote.time)
    return _sell_after_cancels(config, state, quote.time, OrderKind.TAKE_PROFIT, why)


def _watch_stop_loss(config: AssetConfig, state: AssetState, quote: Quote) -> Decision | None:
    """The stop loss: None while the bid is above its level (and nothing was pending). At or below it,
    the first such quote starts the timeout (market time); once the bid has stayed there that long,
    the cycle sells at market. A bid back above the level resets the timeout."""
    cycle = state.cycle
    level = stop_loss_level(config, cycle)
    if level is None or quote.bid > level:
        if cycle.stop_loss_since is None:
            return None
        why = (f"stop loss reset: bid {quote.bid} back above {_show(level)}" if level is not None
               else "stop loss reset: it is switched off")
        cleared = Decision(state.evolve(cycle=cycle.evolve(stop_loss_since=None)), notes=(why,))
        return cleared.then(_act_on_quote(config, cleared.state, quote))
    since = cycle.stop_loss_since or quote.time
    timeout = timedelta(seconds=config.params.stop_loss_timeout)
    pending = state if cycle.stop_loss_since is not None else state.evolve(cycle=cycle.evolve(stop_loss_since=since))
    if quote.time - since >= timeout:
        held = f", held since {since.isoformat()}" if timeout else ""
        why = (f"stop loss: bid {quote.bid} ≤ {_show(level)} ({_show(config.params.stop_loss_percent)} % below "
               f"the average cost {money_text(config, cycle.average_price)}{held})")
        return _sell_after_cancels(config, pending, quote.time, OrderKind.STOP_LOSS, why)
    if pending is state:
        return Decision(state)
    return Decision(pending, notes=(f"stop loss pending: bid {quote.bid} ≤ {_show(level)}; selling at market if "
                                    f"no bid above it comes before {(since + timeout).isoformat()}",))


def _close_now(config: AssetConfig, state: AssetState, now: datetime) -> Decision:
    """The operator's close, once no order is live: sell what the cycle holds at market; a cycle with
    nothing (its buy was cancelled without fills) or too little to sell ends at once. Resting orders
    are cancelled first, and the sale waits for their cancels."""
    if state.cycle.resting:
        return _cancel_resting(state, now, "operator close", "closed by the operator")
    if _sellable(config, state) and not state.cycle.is_flat:
        return _sell(config, state, now, OrderKind.CLOSE, "closed by the operator")
    cycle = state.cycle
    held = "nothing" if cycle.is_flat else f"{coin_text(config, cycle.quantity)} (below the exchange minimum)"
    return _end_cycle(config, state, CycleStatus.CLOSED, now, None, f"closed by the operator holding {held}")


def _follow_peak(config: AssetConfig, state: AssetState, quote: Quote, may_sell: bool = True) -> Decision:
    """Trailing: raise the peak, or sell on a pull-back, but never below the take-profit trigger."""
    cycle = state.cycle
    peak = cycle.peak_price or ZERO
    if quote.bid > peak:
        return Decision(state.evolve(cycle=cycle.evolve(peak_price=quote.bid)), durable=False)
    stop = trailing_stop(config, cycle)
    if stop is None or quote.bid >= stop:
        return Decision(state)
    floor = take_profit_trigger(config, cycle)
    if quote.bid < floor:
        return Decision(state, notes=(f"trailing stop hit at bid {quote.bid} below the take-profit "
                                      f"floor {_show(floor)}: holding",))
    if not may_sell:
        return Decision(state)
    why = _trailing_why(quote.bid, stop, peak)
    return _sell_after_cancels(config, state, quote.time, OrderKind.TAKE_PROFIT, why)


def _end_cooldown(config: AssetConfig, state: AssetState, quote: Quote) -> Decision | None:
    cycle = state.cycle
    if cycle.cooldown_until is None or quote.time >= cycle.cooldown_until:
        why = "cooldown over"
    else:
        restart = restart_trigger(config, state)
        if restart is None or quote.ask > restart:
            return None
        why = f"price-triggered restart: ask {quote.ask} ≤ {_show(restart)}"
    watching = cycle.evolve(status=CycleStatus.WATCHING, cooldown_until=None)
    return Decision(state.evolve(cycle=watching), notes=(why,))


# --- deal start: condition and price range -------------------------------------------------------


def start_waits_for(config: AssetConfig, state: AssetState, quote: Quote) -> str | None:
    """What keeps a flat cycle from placing its base order on `quote` (None: nothing): the base
    order's limit (the ask on the price grid) outside [min_price, max_price], or a start condition
    without a reading of the quote's minute that holds. A reading counts for the quotes of its own
    minute only."""
    params = config.params
    limit = round_up(quote.ask, config.rules.price_increment)  # what the base order would pay at most
    if params.min_price is not None and limit < params.min_price:
        return f"the buy price ({_show(limit)}) to reach min_price {_show(params.min_price)}"
    if params.max_price is not None and limit > params.max_price:
        return f"the buy price ({_show(limit)}) to fall to max_price {_show(params.max_price)}"
    if params.start_condition is None:
        return None
    reading = state.start_reading
    if reading is None or reading.condition != params.start_condition:
        return f"a first reading of the start condition {params.start_condition}"
    if not reading.as_of <= quote.time < reading.as_of + READING_LASTS:
        return f"a reading of the start condition for {quote.time:%H:%M} (last: {reading.as_of:%H:%M})"
    if not reading.holds:
        return f"the start condition: {reading.waiting_for}"
    return None


def start_reading_due(config: AssetConfig, state: AssetState, minute: datetime) -> str | None:
    """The start condition a driver should read at `minute` (a whole minute) before the next quote:
    only for a flat watching cycle without an order, once a minute. None: no reading is needed."""
    condition, cycle, last = config.params.start_condition, state.cycle, state.start_reading
    if (condition is None or not cycle.is_flat or cycle.live_orders
            or cycle.status is not CycleStatus.WATCHING):
        return None
    if last is not None and last.condition == condition and last.as_of == minute:
        return None
    return condition


def _on_condition_checked(_config: AssetConfig, state: AssetState, event: ConditionChecked) -> Decision:
    """Keep the reading; say so when the condition's truth changes (not at every minute)."""
    previous, reading = state.start_reading, event.reading
    changed = previous is None or previous.condition != reading.condition or previous.holds != reading.holds
    notes = (f"start condition {reading.condition}: {reading.describe()}",) if changed else ()
    return Decision(state.evolve(start_reading=reading), notes=notes, durable=False)


# --- order sizing --------------------------------------------------------------------------------


def _buy(
    config: AssetConfig, state: AssetState, quote: Quote, kind: OrderKind, amount: Decimal, why: Note
) -> Decision:
    rules = config.rules
    limit = round_up(quote.ask, rules.price_increment)  # on the price grid and still marketable
    qty = buy_quantity(rules, amount, limit)
    if qty is None:
        return Decision(state, notes=(f"{written(why)}, but {kind} amount {amount} is below the exchange minimum "
                                      f"(min qty {rules.min_order_size}, min notional {rules.min_notional})",))
    return _submit(config, state, quote.time, kind, Side.BUY, OrderType.LIMIT, qty, limit, why)


def _sell(config: AssetConfig, state: AssetState, now: datetime, kind: OrderKind, why: Note) -> Decision:
    """Sell what the cycle holds at market (take-profit, stop loss or the operator's close), capped by
    what the venue lately said the bot may sell. The cost floor is for buys only: a sell needs just
    `min_order_size`, so a small cycle can always exit."""
    rules = config.rules
    wanted = min(state.held_quantity, _sellable_now(state, now))
    qty = round_down(wanted, rules.min_trade_increment)
    if qty < rules.min_order_size or qty <= 0:
        capped = "" if wanted == state.held_quantity else f" (the venue lets the bot sell {_show(wanted)})"
        return Decision(state, notes=(f"{written(why)}, but the position {_show(state.held_quantity)}{capped} is "
                                      f"below the exchange minimum and cannot be sold",))
    return _submit(config, state, now, kind, Side.SELL, OrderType.MARKET, qty, None, why)


def _sellable_now(state: AssetState, now: datetime) -> Decimal:
    """The venue's last word on what the bot may sell, while it is fresh; else what the cycle holds."""
    if state.sellable is None or state.sellable_at is None or now - state.sellable_at >= SELLABLE_READING_LASTS:
        return state.held_quantity
    return state.sellable


def _submit(
    config: AssetConfig, state: AssetState, now: datetime, kind: OrderKind, side: Side,
    order_type: OrderType, qty: Decimal, limit: Decimal | None, why: Note,
) -> Decision:
    cycle = state.cycle
    if cycle.id is None:
        raise ValueError("a cycle must be stored (have an id) before it places an order")
    sequence = cycle.order_seq + 1
    order_id = client_order_id(config.order_namespace, config.asset_id, cycle.id, sequence)
    order = LiveOrder(order_id, kind, side, order_type, qty, limit, created_at=now)
    status = CycleStatus.BUYING if side is Side.BUY else CycleStatus.SELLING
    peak = cycle.peak_price if side is Side.SELL else None  # a safety order disarms trailing
    placed = cycle.evolve(status=status, order=order, order_seq=sequence, peak_price=peak, retry_at=None)
    if side is Side.SELL:  # the reading is used up: the next sell is sized from a new one
        state = state.evolve(sellable=None, sellable_at=None)
    timeout = config.timing.stale_buy_after if side is Side.BUY else config.timing.stuck_sell_after
    commands = (
        SubmitOrder(order_id, config.symbol, side, order_type, qty, limit, kind),
        ScheduleTimer(now + timeout, f"{order_id} timeout"),
    )
    return Decision(state.evolve(cycle=placed), commands, notes=(_placed_note(why, side, qty, limit, order_id),))


# --- resting orders: the ladder and the limit take-profit (see dca/resting.py) -------------------


def _keep_resting(config: AssetConfig, state: AssetState, now: datetime, bid: Decimal | None = None) -> Decision:
    """Bring the resting orders to what the cycle wants, only while `ladder_gate_open`: first the
    limit take-profit (placed, or cancelled for replacing when out of date), and only when it needs
    nothing, the ladder's top-up. Apart, so that a risk gate refusing the ladder's buys (the
    decision is dropped whole) never holds back the take-profit. One side at a time once the asset
    learned it must (`_keep_one_side`)."""
    if not ladder_gate_open(state.cycle):
        return Decision(state)
    if one_side_only(config, state):
        return _keep_one_side(config, state, now, bid)
    if uses_limit_take_profit(config):
        take_profit = _keep_take_profit(config, state, now)
        if take_profit.commands:
            return take_profit
    return _keep_ladder(config, state, now)


def _with_upkeep(config: AssetConfig, decision: Decision, now: datetime) -> Decision:
    """`decision`, followed by the resting orders' upkeep if that has anything to do."""
    return _joined(decision, _keep_resting(config, decision.state, now))


def _joined(first: Decision, second: Decision) -> Decision:
    """`first.then(second)`, or `first` alone when `second` changed nothing (so a peak move made
    by `first` stays non-durable)."""
    if second.state is first.state and not second.commands and not second.notes:
        return first
    return first.then(second)


def _keep_one_side(config: AssetConfig, state: AssetState, now: datetime, bid: Decimal | None) -> Decision:
    """The venue refuses any order while an opposite one is open (dca/resting.py, "One side at a
    time"): the ladder rests while the bid is below the take-profit trigger; at the trigger it is
    cancelled first and the take-profit placed once the cancels are confirmed (at the trigger rounded
    up, so it sells at once and never below it). A resting take-profit stays until the ask reaches the
    first ladder level (the safety order cancels it first, `_act_on_quote`)."""
    cycle = state.cycle
    if resting_sell(cycle) is not None:
        return _keep_take_profit(config, state, now)
    trigger = take_profit_trigger(config, cycle)
    if bid is None or bid < trigger:
        return _keep_ladder(config, state, now)
    if resting_buys(cycle):
        why = _then_note(_take_profit_why(bid, trigger), "; one side at a time, the ladder goes first")
        return _cancel_resting(state, now, "take-profit first", why, Side.BUY)
    return _keep_take_profit(config, state, now)


def _keep_ladder(config: AssetConfig, state: AssetState, now: datetime) -> Decision:
    decision = Decision(state)
    for level in next_levels(config, state.cycle):
        decision = decision.then(_submit_resting(config, decision.state, now, OrderKind.SAFETY, Side.BUY,
                                                 level.qty, level.limit, _ahead_why(level.index + 1, level.limit)))
    return decision


def _keep_take_profit(config: AssetConfig, state: AssetState, now: datetime) -> Decision:
    """One resting LIMIT SELL of what the cycle holds at the take-profit price (the trigger rounded up:
    a sale never fills below it), replaced once out of date: cancelled first, placed anew at the
    next quote after the cancel is confirmed."""
    cycle = state.cycle
    limit = take_profit_limit(config, cycle)
    order = resting_sell(cycle)
    if order is not None:
        if not take_profit_out_of_date(config, state, order):
            return Decision(state)
        why = _replaced_why(config, state.held_quantity, limit, order.client_order_id)
        return _cancel_resting(state, now, "take-profit replaced", why, Side.SELL)
    cap = _sellable_now(state, now)
    qty = sellable_quantity(config, state, cap)
    if qty == 0:
        return Decision(state)
    highest_buy = max((o.limit_price or ZERO for o in resting_buys(cycle)), default=ZERO)
    if limit <= highest_buy:  # never meet the bot's own buy (Alpaca refuses it as a wash trade)
        return Decision(state)
    why = _take_profit_ahead_why(limit, take_profit_trigger(config, cycle))
    placed = _submit_resting(config, state, now, OrderKind.TAKE_PROFIT, Side.SELL, qty, limit, why)
    if cap < state.held_quantity:  # the cap it is sized under stays while it rests (`take_profit_out_of_date`)
        return placed
    return placed.evolve(state=placed.state.evolve(sellable=None, sellable_at=None))  # the reading is used up


def _submit_resting(
    config: AssetConfig, state: AssetState, now: datetime, kind: OrderKind, side: Side, qty: Decimal,
    limit: Decimal, why: Note,
) -> Decision:
    """Place a LIMIT order that rests (gtc) next to whatever else rests; the status stays as it is and
    no timeout is set: a resting order is never stale."""
    cycle = state.cycle
    if cycle.id is None:
        raise ValueError("a cycle must be stored (have an id) before it places an order")
    sequence = cycle.order_seq + 1
    order_id = client_order_id(config.order_namespace, config.asset_id, cycle.id, sequence)
    order = LiveOrder(order_id, kind, side, OrderType.LIMIT, qty, limit, created_at=now)
    placed = cycle.evolve(resting=(*cycle.resting, order), order_seq=sequence)
    return Decision(state.evolve(cycle=placed),
                    (SubmitOrder(order_id, config.symbol, side, OrderType.LIMIT, qty, limit, kind),),
                    notes=(_placed_note(why, side, qty, limit, order_id, resting=True),))


def _sell_after_cancels(config: AssetConfig, state: AssetState, now: datetime, kind: OrderKind, why: Note) -> Decision:
    """A market sale, once nothing rests: Alpaca refuses a market order opposite any open order of the
    account (a wash trade), so every resting order is cancelled first and the sale is decided again
    at the first quote after all the cancels are confirmed."""
    if state.cycle.resting:
        return _cancel_resting(state, now, f"{kind} sale first", _then_note(why, "; the sale waits"))
    return _sell(config, state, now, kind, why)


def _cancel_resting(state: AssetState, now: datetime, reason: str, why: Note, side: Side | None = None) -> Decision:
    """Cancel every resting order (of `side`, if given) not already being cancelled (none: nothing to
    do, no note)."""
    cycle = state.cycle
    asked = [o for o in cycle.resting if o.cancel_requested_at is None and side in (None, o.side)]
    if not asked:
        return Decision(state)
    resting = tuple(o.evolve(cancel_requested_at=now) if o in asked else o for o in cycle.resting)
    commands = tuple(CancelOrder(o.client_order_id, o.exchange_id, reason) for o in asked)
    ids = ", ".join(f"{o.kind} {o.side} {o.client_order_id}" for o in asked)
    return Decision(state.evolve(cycle=cycle.evolve(resting=resting)), commands,
                    notes=(_then_note(why, f": cancelling the resting {ids}"),))


def _reask_cancels(config: AssetConfig, state: AssetState, now: datetime) -> Decision | None:
    """Ask again to cancel a resting order whose cancel has not been confirmed for a full period
    (the stale-buy or stuck-sell limit); None when there is none."""
    cycle = state.cycle
    overdue = [o for o in cycle.resting if o.cancel_requested_at is not None
               and now - o.cancel_requested_at >= (config.timing.stale_buy_after if o.side is Side.BUY
                                                   else config.timing.stuck_sell_after)]
    if not overdue:
        return None
    resting = tuple(o.evolve(cancel_requested_at=now) if o in overdue else o for o in cycle.resting)
    return Decision(state.evolve(cycle=cycle.evolve(resting=resting)),
                    tuple(CancelOrder(o.client_order_id, o.exchange_id, "cancel not confirmed") for o in overdue),
                    notes=tuple(f"{o.client_order_id}: its cancel is not confirmed yet; asking again" for o in overdue))


# --- order reports -------------------------------------------------------------------------------


def _on_position_before(_config: AssetConfig, state: AssetState, event: PositionBeforeOrder) -> Decision:
    order = _live_order(state, event.client_order_id)
    if order is None or order.position_before is not None:  # only the first reading is "before"
        return Decision(state)
    updated = order.evolve(position_before=event.quantity)
    return Decision(state.evolve(cycle=_with_order(state.cycle, updated)))


def _on_accepted(_config: AssetConfig, state: AssetState, event: OrderAccepted) -> Decision:
    order = _live_order(state, event.client_order_id)
    if order is None:
        return _not_ours(state, event.client_order_id, "accepted")
    if order.exchange_id == event.exchange_id:
        return Decision(state)
    updated = order.evolve(exchange_id=event.exchange_id)
    return Decision(state.evolve(cycle=_with_order(state.cycle, updated)),
                    notes=(f"{order.client_order_id} accepted as {event.exchange_id}",))


def _on_filled(config: AssetConfig, state: AssetState, event: OrderFilled) -> Decision:
    report = _Report(event.filled_qty, event.filled_avg_price, event.fee, event.position_qty, event.exchange_id)
    return _apply_report(config, state, event.client_order_id, report, event.time,
                         "fill" if event.final else None)


def _on_closed(config: AssetConfig, state: AssetState, event: OrderClosed) -> Decision:
    report = _Report(event.filled_qty, event.filled_avg_price, event.fee, event.position_qty, None)
    rejection = event.rejection if event.reason is CloseReason.REJECTED else None
    decision = _apply_report(config, state, event.client_order_id, report, event.time, event.reason, rejection)
    if event.message and decision.notes:
        return decision.evolve(notes=(*decision.notes[:-1], _then_note(decision.notes[-1], f": {event.message}")))
    return decision


def _on_not_found(config: AssetConfig, state: AssetState, event: OrderNotFound) -> Decision:
    order = _live_order(state, event.client_order_id)
    if order is None:
        return Decision(state)
    timeout = config.timing.stale_buy_after if order.side is Side.BUY else config.timing.stuck_sell_after
    if order.exchange_id is None and order.filled_qty == 0 and event.time - order.created_at < timeout:
        # The submission never reached the exchange (a crash in between). Submitting it again under
        # the same client_order_id is safe: the exchange refuses a second order with that id.
        command = SubmitOrder(order.client_order_id, config.symbol, order.side, order.order_type,
                              order.qty, order.limit_price, order.kind)
        return Decision(state, (command,), notes=(f"{order.client_order_id} never reached the exchange; "
                                                  f"submitting it again under the same id",))
    report = _Report(order.filled_qty, order.average_price, order.fee, None, None)
    return _apply_report(config, state, order.client_order_id, report, event.time, CloseReason.EXPIRED)


@immutable
class _Report:
    filled_qty: Decimal
    avg_price: Decimal | None
    fee: Decimal | None
    position_qty: Decimal | None
    exchange_id: str | None


def _apply_report(
    config: AssetConfig, state: AssetState, order_id: str, report: _Report, now: datetime,
    ending: CloseReason | str | None, rejection: RejectionKind | None = None,
) -> Decision:
    """Apply the not-yet-seen part of an order report; end the order if `ending` says so (`rejection`:
    why the venue refused it, when it did)."""
    order = _live_order(state, order_id)
    if order is None:
        return _not_ours(state, order_id, str(ending or "partial fill"))
    notes: list[Note] = []
    before = order
    acting = state.cycle.order
    resting = acting is None or acting.client_order_id != order_id
    if report.filled_qty > order.filled_qty and report.avg_price is not None:
        state, order = _apply_fill(config, state, order, report, ending is not None, resting)
        notes.append(_filled_note(config, order))
    elif ending is not None and (report.fee is not None or report.position_qty is not None):
        state, order = _true_up_fee(config, state, order, report, resting)
    if report.exchange_id and order.exchange_id is None:
        order = order.evolve(exchange_id=report.exchange_id)
    if order is not before:
        state = state.evolve(cycle=_with_order(state.cycle, order))
    if ending is None:
        return Decision(state, notes=tuple(notes))
    if resting:
        ended = _end_resting(config, state, order, ending, now, rejection)
    else:
        ended = _end_order(config, state, order, ending, now)
    return ended.evolve(notes=(*notes, *ended.notes), finished_order=order)


def _apply_fill(
    config: AssetConfig, state: AssetState, order: LiveOrder, report: _Report, final: bool, resting: bool
) -> tuple[AssetState, LiveOrder]:
    assert report.avg_price is not None
    notional = report.filled_qty * report.avg_price
    fee, source = _fee(config, order, report, notional, final, resting)
    d_qty, d_notional, d_fee = report.filled_qty - order.filled_qty, notional - order.filled_notional, fee - order.fee
    order = order.evolve(filled_qty=report.filled_qty, filled_notional=notional, fee=fee, fee_source=source)
    cycle = state.cycle
    if order.side is Side.BUY:
        cycle = cycle.evolve(quantity=cycle.quantity + d_qty - d_fee, cost=cycle.cost + d_notional,
                             bought_qty=cycle.bought_qty + d_qty, buy_fees=cycle.buy_fees + d_fee)
        # what the venue lets the bot sell grows by what the buy brought
        sellable = None if state.sellable is None else state.sellable + d_qty - d_fee
        return state.evolve(cycle=cycle, sellable=sellable), order
    from_cycle = min(d_qty, cycle.quantity)  # whatever exceeds the cycle's coin was leftover dust
    cost_sold = cycle.cost * from_cycle / cycle.quantity if cycle.quantity > 0 else ZERO
    cycle = cycle.evolve(
        quantity=cycle.quantity - from_cycle, cost=cycle.cost - cost_sold, sold_qty=cycle.sold_qty + d_qty,
        sell_notional=cycle.sell_notional + d_notional, sell_fees=cycle.sell_fees + d_fee,
        realized_pnl=cycle.realized_pnl + d_notional - d_fee - cost_sold,
    )
    return state.evolve(cycle=cycle, dust=state.dust - (d_qty - from_cycle)), order


def _true_up_fee(
    config: AssetConfig, state: AssetState, order: LiveOrder, report: _Report, resting: bool
) -> tuple[AssetState, LiveOrder]:
    """A final report that adds no fill can still tell the exact fee of the fills already applied
    (reported outright, or for a buy through the position); replace the estimate with it."""
    if order.filled_qty == 0 or order.fee_source is FeeSource.VENUE:
        return state, order
    fee, source = _fee(config, order, report.evolve(filled_qty=order.filled_qty), order.filled_notional, True,
                       resting)
    if source is not FeeSource.VENUE:
        return state, order
    cycle = corrected_cycle(state.cycle, order.side, order.fee, fee)
    return state.evolve(cycle=cycle), order.evolve(fee=fee, fee_source=source)


def _fee(
    config: AssetConfig, order: LiveOrder, report: _Report, notional: Decimal, final: bool, resting: bool
) -> tuple[Decimal, FeeSource]:
    """The order's cumulative fee and where it came from: reported, else (a buy's coin fee) inferred
    from the venue's position before and after the order, else estimated for the new part at the
    taker rate (the maker rate for a resting order, which a later quote fills at its limit), rounded
    up per execution as Alpaca does. The estimate stands until the venue's fee activities confirm or
    correct it (see `FeeConfirmed`). A resting order's fee is never inferred from the position: the
    cycle's other resting orders may have moved it in between."""
    if report.fee is not None:
        return report.fee, FeeSource.VENUE
    fees = config.fees
    if (order.side is Side.BUY and final and not resting and report.position_qty is not None
            and order.position_before is not None):
        inferred = fee_from_position(report.filled_qty, order.position_before, report.position_qty,
                                     max(fees.taker_bps, fees.maker_bps))
        if inferred is not None:
            return inferred, FeeSource.VENUE
    new_qty, new_notional = report.filled_qty - order.filled_qty, notional - order.filled_notional
    rate = fees.maker_bps if resting else fees.taker_bps
    return order.fee + execution_fee(order.side, new_qty, new_notional, rate), FeeSource.ESTIMATE


def _end_order(
    config: AssetConfig, state: AssetState, order: LiveOrder, ending: CloseReason | str, now: datetime
) -> Decision:
    cycle = state.cycle
    how = "filled" if ending == "fill" else str(ending)
    retry_at = now + config.timing.retry_after_failure if ending is CloseReason.REJECTED else None
    if order.side is Side.SELL:
        if (ending == "fill" or not _sellable(config, state)) and not cycle.resting:
            return _complete(config, state, order, now)
        watching = cycle.evolve(status=CycleStatus.WATCHING, order=None, peak_price=None, retry_at=retry_at)
        return Decision(state.evolve(cycle=watching), notes=(_still_held_note(config, order, how, cycle.quantity),))
    changes: dict[str, Any] = {"status": CycleStatus.WATCHING, "order": None, "retry_at": retry_at}
    if order.filled_qty > 0:
        changes["last_fill_price"] = order.average_price
        if order.kind is OrderKind.SAFETY:
            changes["safety_orders"] = cycle.safety_orders + 1
    watching = cycle.evolve(**changes)
    summary = (_then_note(f"{order.kind} order {how}", _holding_note(config, watching)) if order.filled_qty > 0
               else f"{order.kind} order {how} without fills")
    return Decision(state.evolve(cycle=watching), notes=(summary,))


def _end_resting(
    config: AssetConfig, state: AssetState, order: LiveOrder, ending: CloseReason | str, now: datetime,
    rejection: RejectionKind | None = None,
) -> Decision:
    """A resting order ended (its fills are already applied). A buy that filled counts as the next
    safety order and its average price becomes the last fill (a safety fill disarms trailing, as a
    reactive one does); a sale that filled sets the cycle's sell price. The cycle ends once nothing
    is live and nothing is left to sell (see `_settle`); else the next quote tops the orders up.
    A refusal as a wash trade while the cycle has an order of the other side live teaches the asset
    to rest one side at a time (dca/resting.py), with no failure to wait out: the next quote places
    what that rule allows. Without one, an order that is not the bot's stands opposite: a failure like
    any other."""
    cycle = state.cycle
    how = "filled" if ending == "fill" else str(ending)
    changes: dict[str, Any] = {"resting": tuple(o for o in cycle.resting if o.client_order_id != order.client_order_id)}
    own_opposite = any(o.side is not order.side for o in cycle.live_orders)
    learned = rejection is RejectionKind.WASH_TRADE and own_opposite
    if learned:
        state = state.evolve(one_side_at_a_time=True)
    elif ending is CloseReason.REJECTED:
        changes["retry_at"] = now + config.timing.retry_after_failure
    if order.filled_qty > 0 and order.side is Side.BUY:
        changes["last_fill_price"] = order.average_price
        if order.kind is OrderKind.SAFETY:
            changes["safety_orders"] = cycle.safety_orders + 1
        if cycle.status is CycleStatus.TRAILING:
            changes.update(status=CycleStatus.WATCHING, peak_price=None)
    elif order.filled_qty > 0:
        changes["sell_price"] = order.average_price
    state = state.evolve(cycle=cycle.evolve(**changes))
    what = (f"resting {order.kind} {order.side} {order.client_order_id} {how}" if order.filled_qty > 0
            else f"resting {order.kind} {order.side} {order.client_order_id} {how} without fills")
    note = _then_note(what, _holding_note(config, state.cycle))
    if learned:
        note = _then_note(note, "; the venue refuses any order while an opposite one is open: one side rests at a time")
    return _joined(Decision(state, notes=(note,)), _settle(config, state, now))


def _settle(config: AssetConfig, state: AssetState, now: datetime) -> Decision:
    """End a cycle left with no live order and nothing to sell: after its sales as `complete` (or
    `closed`, if the operator asked) at its last sale price; a cycle whose coins left the bot (see
    `_on_holdings`) in `error`. Anything else carries on."""
    cycle = state.cycle
    if cycle.live_orders:
        return Decision(state)
    if cycle.sold_qty > 0 and not _sellable(config, state):
        status = CycleStatus.CLOSED if cycle.close_requested_at is not None else CycleStatus.COMPLETE
        what = "cycle closed by the operator" if status is CycleStatus.CLOSED else "cycle complete"
        sold = _sold_note(what, cycle.sold_qty, cycle.sell_price)
        return _end_cycle(config, state, status, now, cycle.sell_price, sold)
    if cycle.is_flat and cycle.bought_qty > 0 and cycle.sold_qty == 0:
        return _left_the_bot(state, now, "the coins left the bot and its resting orders are gone")
    return Decision(state)


def _sellable(config: AssetConfig, state: AssetState) -> bool:
    return sellable_quantity(config, state) > 0


# How a cycle ends, by the kind of the sale that ended it.
_ENDED_BY = {OrderKind.TAKE_PROFIT: CycleStatus.COMPLETE, OrderKind.STOP_LOSS: CycleStatus.STOPPED,
             OrderKind.CLOSE: CycleStatus.CLOSED}


def _complete(config: AssetConfig, state: AssetState, order: LiveOrder, now: datetime) -> Decision:
    status = _ENDED_BY.get(order.kind, CycleStatus.COMPLETE)
    what = {CycleStatus.STOPPED: "cycle stopped by the stop loss", CycleStatus.CLOSED: "cycle closed by the operator"}
    sold = _sold_note(what.get(status, "cycle complete"), state.cycle.sold_qty, order.average_price)
    return _end_cycle(config, state, status, now, order.average_price, sold)


def _end_cycle(
    config: AssetConfig, state: AssetState, status: CycleStatus, now: datetime, sell_price: Decimal | None, what: Note
) -> Decision:
    """End the cycle as `status` and start the next one (in cooldown, if there is one). What a
    rounded-down sell left behind becomes dust. Only a take-profit arms the price-triggered restart:
    after a stop loss or a close the cooldown runs in full (a falling price must not buy straight back)."""
    cycle = state.cycle
    sold_cost = cycle.sell_notional - cycle.sell_fees - cycle.realized_pnl
    ended = cycle.evolve(status=status, order=None, completed_at=now, sell_price=sell_price,
                         quantity=cycle.sold_qty, cost=sold_cost, retry_at=None)
    cooldown = config.params.cooldown_period
    until = now + timedelta(seconds=cooldown)
    following = new_cycle(CycleStatus.COOLDOWN, until) if cooldown > 0 else new_cycle()
    dust = state.dust + cycle.quantity  # what a rounded-down sell left behind joins the next sell
    commands: tuple[Command, ...] = (ScheduleTimer(until, "cooldown over"),) if cooldown > 0 else ()
    note = _cycle_ended_note(what, cycle.realized_pnl, until if cooldown > 0 else None)
    last_sell = sell_price if status is CycleStatus.COMPLETE else None
    return Decision(_next_cycle_state(state, following, last_sell, dust), commands, completed=ended, notes=(note,))


def _next_cycle_state(state: AssetState, cycle: Cycle, last_sell_price: Decimal | None, dust: Decimal) -> AssetState:
    """The asset's state as `cycle` starts: the ended cycle's readings of the venue go with it; what
    the asset learned of the venue (one side at a time) outlives it."""
    return AssetState(cycle, last_sell_price=last_sell_price, dust=dust, one_side_at_a_time=state.one_side_at_a_time)


# --- time and reconciliation ---------------------------------------------------------------------


def _on_tick(config: AssetConfig, state: AssetState, event: Tick) -> Decision:
    cycle = state.cycle
    if cycle.order is not None:
        return _check_order_age(config, state, event.time)
    if cycle.status is CycleStatus.COOLDOWN and cycle.cooldown_until is not None and event.time >= cycle.cooldown_until:
        watching = cycle.evolve(status=CycleStatus.WATCHING, cooldown_until=None)
        return Decision(state.evolve(cycle=watching), notes=("cooldown over",))
    return Decision(state)


def _check_order_age(config: AssetConfig, state: AssetState, now: datetime) -> Decision:
    """Cancel a BUY that has not filled within the stale limit, or a SELL stuck past its limit.
    Asked again after another full period if the first cancel was never confirmed."""
    order = state.cycle.order
    assert order is not None
    limit = config.timing.stale_buy_after if order.side is Side.BUY else config.timing.stuck_sell_after
    started = order.cancel_requested_at or order.created_at
    if now - started < limit:
        return Decision(state)
    updated = order.evolve(cancel_requested_at=now)
    reason = "stale buy" if order.side is Side.BUY else "stuck sell"
    return Decision(state.evolve(cycle=state.cycle.evolve(order=updated)),
                    (CancelOrder(order.client_order_id, order.exchange_id, reason),),
                    notes=(_overdue_note(order, reason, now - order.created_at),))


def _on_holdings(_config: AssetConfig, state: AssetState, event: HoldingsChecked) -> Decision:
    """Compare the exchange's position with what the bot holds. More on the exchange is somebody
    else's coin (never touched). Less comes out of the dust first, then the cycle: a small shortfall
    is a fee rounded differently (the quantity is corrected, what was paid stays paid); a larger one
    means coins left the bot (a manual sell): the cycle keeps what is left, at its share of the cost,
    and sells that. A cycle left with nothing ends in `error` and a fresh one starts (one with resting
    buys keeps nothing and ends once they are cancelled). The reading is ignored while an acting order
    or a resting sell is live (either may be moving the position); resting buys only ever add."""
    cycle = state.cycle
    held = state.held_quantity
    if cycle.order is not None or resting_sell(cycle) is not None or event.quantity >= held:
        return Decision(state)
    shortfall = held - event.quantity
    from_dust = min(shortfall, state.dust)
    from_cycle = shortfall - from_dust
    reading = {"dust": state.dust - from_dust, "sellable": None, "sellable_at": None}
    if from_cycle <= cycle.quantity * HOLDING_CORRECTION_LIMIT:
        corrected = cycle.evolve(quantity=cycle.quantity - from_cycle)
        return Decision(state.evolve(cycle=corrected, **reading),
                        notes=(f"exchange holds {event.quantity}, bot counted {held}: corrected by -{shortfall}",))
    left = cycle.quantity - from_cycle
    if left > 0:
        corrected = cycle.evolve(quantity=left, cost=cycle.cost * left / cycle.quantity)
        return Decision(state.evolve(cycle=corrected, **reading),
                        notes=(f"exchange holds {event.quantity} but the cycle holds {held}: {_show(from_cycle)} left "
                               f"the bot; the cycle keeps {_show(left)} at its share of the cost",))
    why = f"exchange holds {event.quantity} but the cycle holds {held}: the coins left the bot"
    if cycle.resting:  # the next quote cancels them (a cycle never ends with live orders)
        emptied = cycle.evolve(quantity=ZERO, cost=ZERO)
        return Decision(state.evolve(cycle=emptied, **reading),
                        notes=(f"{why}; the cycle ends once its resting orders are cancelled",))
    return _left_the_bot(state.evolve(dust=ZERO), event.time, why)


def _left_the_bot(state: AssetState, now: datetime, why: str) -> Decision:
    """End the cycle in `error` (what it held is gone) and start a fresh one."""
    ended = state.cycle.evolve(status=CycleStatus.ERROR, completed_at=now, order=None)
    return Decision(_next_cycle_state(state, new_cycle(), state.last_sell_price, ZERO), completed=ended,
                    notes=(f"{why}; cycle ends in error, a new one starts",))


def _on_sellable(_config: AssetConfig, state: AssetState, event: SellableChecked) -> Decision:
    """Remember what the venue lets the bot sell; the next sell (within a while) is capped by it. Not
    while an order that moves the position or a resting sell (whose quantity the venue holds back)
    is live."""
    if state.cycle.order is not None or resting_sell(state.cycle) is not None:
        return Decision(state)
    updated = state.evolve(sellable=event.quantity, sellable_at=event.time)
    if event.quantity >= state.held_quantity:
        return Decision(updated, durable=False)
    return Decision(updated, durable=False,
                    notes=(f"the venue lets the bot sell {_show(event.quantity)} of the {_show(state.held_quantity)} "
                           f"it holds: the sell is capped",))


def _on_fee_confirmed(_config: AssetConfig, state: AssetState, event: FeeConfirmed) -> Decision:
    """A finished order's fee as the venue charged it replaces the estimate, once. In the current cycle
    it corrects the quantity (a buy's coin fee) or the P/L (a sell's USD fee); for an order of an
    ended cycle, a buy's coins join the dust (the store corrects an ended cycle's P/L)."""
    if _live_order(state, event.client_order_id) is not None:
        return Decision(state)  # still live: its own reports carry its fee
    change = event.confirmed - event.estimated
    if event.in_current_cycle:
        state = state.evolve(cycle=corrected_cycle(state.cycle, event.side, event.estimated, event.confirmed))
    elif event.side is Side.BUY:
        state = state.evolve(dust=max(state.dust - change, ZERO))
    note = (f"{event.client_order_id}: the venue charged a fee of {_show(event.confirmed)} "
            f"({'coin' if event.side is Side.BUY else 'quote'}), estimated {_show(event.estimated)}")
    return Decision(state, notes=(note,), confirmed_fee=event)


def _on_adopted(_config: AssetConfig, state: AssetState, event: PositionAdopted) -> Decision:
    """Adoption turns foreign coins into this cycle's position. Assumptions (documented in the
    README): the coins cost quantity × price (their fees are unknown and left out); safety orders are
    measured from that price as if it were the last fill; no safety order has been used yet. Only a
    flat cycle without a live order can adopt; anything else is refused with a note."""
    cycle = state.cycle
    if event.quantity <= 0 or event.price <= 0:
        return Decision(state, notes=("adoption refused: the quantity and the price must be positive",))
    if not cycle.is_flat or cycle.live_orders or cycle.status not in (CycleStatus.WATCHING, CycleStatus.COOLDOWN):
        return Decision(state, notes=(f"adoption refused: cycle {cycle.id} is {cycle.status} and holds "
                                      f"{_show(cycle.quantity)}; only a flat cycle without a live order can adopt",))
    adopted = cycle.evolve(status=CycleStatus.WATCHING, quantity=event.quantity, cost=event.quantity * event.price,
                           bought_qty=event.quantity, last_fill_price=event.price, cooldown_until=None)
    return Decision(state.evolve(cycle=adopted),
                    notes=(f"adopted {_show(event.quantity)} at {_show(event.price)} into cycle {cycle.id}",))


# --- the operator's controls ---------------------------------------------------------------------


def _on_close_requested(config: AssetConfig, state: AssetState, event: CloseRequested) -> Decision:
    """Mark the cycle to be sold at market (at the next quote) and ended as `closed`. A live buy and
    every resting order are cancelled first (what they filled is sold with the rest); a live market
    sell is left to finish. Refused (state unchanged, a note saying why) for a cycle holding nothing
    with nothing live, or one already closing."""
    cycle, order = state.cycle, state.cycle.order
    if cycle.close_requested_at is not None:
        return Decision(state, notes=(f"close refused: cycle {cycle.id} is already closing "
                                      f"(asked at {cycle.close_requested_at.isoformat()})",))
    if not cycle.live_orders and cycle.is_flat:
        return Decision(state, notes=(f"close refused: cycle {cycle.id} is {cycle.status} and holds nothing",))
    closing = state.evolve(cycle=cycle.evolve(close_requested_at=event.time))
    if order is not None and order.side is Side.SELL:
        return Decision(closing, notes=(f"close requested by the operator: the sell {order.client_order_id} is live; "
                                        "the cycle ends when it fills (what a cancel leaves is sold at market)",))
    cancelled = _cancel_all(closing, event.time, "operator close")
    if not cancelled.commands:  # stored first; the next quote sells through the ordinary sell path and its checks
        return Decision(closing, notes=(f"close requested by the operator: cycle {cycle.id} sells "
                                        f"{coin_text(config, cycle.quantity)} at market at the next quote",))
    return cancelled.evolve(notes=(f"close requested by the operator: cancelling {_listed(cancelled)} first, "
                                     "then selling at market",))


def _on_cancel_requested(_config: AssetConfig, state: AssetState, event: CancelRequested) -> Decision:
    """Cancel every live order of the cycle, acting and resting (the driver pauses the asset). A
    pending close is dropped too: the operator wants nothing more to happen."""
    cycle = state.cycle
    if cycle.close_requested_at is not None:
        cycle = cycle.evolve(close_requested_at=None)
    if not cycle.live_orders:
        return Decision(state.evolve(cycle=cycle) if cycle is not state.cycle else state,
                        notes=(f"cancel-orders: cycle {cycle.id} has no open order",))
    cancelled = _cancel_all(state.evolve(cycle=cycle), event.time, "operator cancel", again=True)
    return cancelled.evolve(notes=(f"cancel-orders by the operator: cancelling {_listed(cancelled)}",))


def _cancel_all(state: AssetState, now: datetime, reason: str, again: bool = False) -> Decision:
    """Cancel the acting buy (an acting sell too when `again`: the operator's cancel-orders) and every
    resting order (those whose cancel is already asked only when `again`)."""
    cycle = state.cycle
    acting = [cycle.order] if cycle.order is not None and (again or cycle.order.side is Side.BUY) else []
    wanted = acting + [o for o in cycle.resting if again or o.cancel_requested_at is None]
    for order in wanted:
        cycle = _with_order(cycle, order.evolve(cancel_requested_at=now))
    return Decision(state.evolve(cycle=cycle),
                    tuple(CancelOrder(o.client_order_id, o.exchange_id, reason) for o in wanted))


def _listed(decision: Decision) -> str:
    cancels = [c for c in decision.commands if isinstance(c, CancelOrder)]
    orders = [decision.state.cycle.live_order(c.client_order_id) for c in cancels]
    return ", ".join(f"the {o.kind} {o.side} {o.client_order_id}" for o in orders if o is not None)


# --- helpers -------------------------------------------------------------------------------------


def _live_order(state: AssetState, order_id: str) -> LiveOrder | None:
    """The cycle's live order with this id: the acting one or a resting one."""
    order = state.cycle.order
    if order is not None and order.client_order_id == order_id:
        return order
    return state.cycle.live_order(order_id) if state.cycle.resting else None


def _with_order(cycle: Cycle, order: LiveOrder) -> Cycle:
    """`cycle` with its live order of `order`'s id (acting or resting) replaced by `order`."""
    if cycle.order is not None and cycle.order.client_order_id == order.client_order_id:
        return cycle.evolve(order=order)
    return cycle.evolve(resting=tuple(order if o.client_order_id == order.client_order_id else o
                                      for o in cycle.resting))


def _not_ours(state: AssetState, order_id: str, what: str) -> Decision:
    return Decision(state, notes=(f"ignored {what} for {order_id}: not one of the cycle's live orders",))


# --- notes written when read (see `Note`): each reads only its arguments ----------------------------


def _then_note(note: Note, more: Note) -> Note:
    return lambda: written(note) + written(more)


def _safety_why(number: int, ask: Decimal, trigger: Decimal) -> Note:
    return lambda: f"safety order {number}: ask {ask} ≤ trigger {_show(trigger)}"


def _ahead_why(number: int, limit: Decimal) -> Note:
    return lambda: f"safety order {number} placed ahead at its level {_show(limit)}"


def _take_profit_why(bid: Decimal, trigger: Decimal) -> Note:
    return lambda: f"take-profit: bid {bid} ≥ trigger {_show(trigger)}"


def _take_profit_ahead_why(limit: Decimal, trigger: Decimal) -> Note:
    return lambda: f"take-profit placed ahead at {_show(limit)} (trigger {_show(trigger)})"


def _trailing_why(bid: Decimal, stop: Decimal, peak: Decimal | None) -> Note:
    return lambda: f"trailing take-profit: bid {bid} < stop {_show(stop)} (peak {peak})"


def _replaced_why(config: AssetConfig, held: Decimal, limit: Decimal, order_id: str) -> Note:
    return lambda: (f"the position changed (now {coin_text(config, held)}, take-profit price {_show(limit)}): "
                    f"replacing the take-profit {order_id}")


def _placed_note(why: Note, side: Side, qty: Decimal, limit: Decimal | None, order_id: str,
                 resting: bool = False) -> Note:
    def note() -> str:
        price = f" @ {_show(limit)}" if limit is not None else " at market"
        return f"{written(why)} → {'resting ' if resting else ''}{side} {_show(qty)}{price} ({order_id})"
    return note


def _filled_note(config: AssetConfig, order: LiveOrder) -> Note:
    def note() -> str:
        fee = coin_text(config, order.fee) if order.side is Side.BUY else money_text(config, order.fee)
        return (f"{order.client_order_id} filled {coin_text(config, order.filled_qty)} @ avg "
                f"{money_text(config, order.average_price)} (fee {fee})")
    return note


def _holding_note(config: AssetConfig, cycle: Cycle) -> Note:
    return lambda: f": holding {coin_text(config, cycle.quantity)} at avg {money_text(config, cycle.average_price)}"


def _still_held_note(config: AssetConfig, order: LiveOrder, how: str, quantity: Decimal) -> Note:
    return lambda: f"{order.client_order_id} {how}; {coin_text(config, quantity)} still held, watching again"


def _sold_note(what: str, qty: Decimal, price: Decimal | None) -> Note:
    return lambda: f"{what}: sold {_show(qty)} @ {_show(price)}"


def _cycle_ended_note(what: Note, pnl: Decimal, cooldown_until: datetime | None) -> Note:
    def note() -> str:
        then = (f"cooldown until {cooldown_until.isoformat()}" if cooldown_until is not None
                else "watching for the next base order")
        return f"{written(what)}, realized P/L {_show(pnl)}; {then}"
    return note


def _overdue_note(order: LiveOrder, reason: str, age: timedelta) -> Note:
    return lambda: f"{order.client_order_id} is a {reason} after {age}: cancelling"


def coin_text(config: AssetConfig, value: Decimal | None) -> str:
    """A quantity of the pair's coin for a log line: to its trade increment, labelled ("0.0012 BTC")."""
    return _labelled(value, config.rules.min_trade_increment, config.symbol.partition("/")[0])


def money_text(config: AssetConfig, value: Decimal | None) -> str:
    """A price or amount in the pair's quote currency: to its price increment, labelled ("101.5 USD")."""
    return _labelled(value, config.rules.price_increment, config.symbol.partition("/")[2] or "quote")


def _labelled(value: Decimal | None, increment: Decimal, currency: str) -> str:
    if value is None:
        return "-"
    if increment > 0:
        value = round_nearest(value, increment)
    return f"{_show(value)} {currency}"


def _show(value: Decimal | None) -> str:
    """A price or amount for a log line: at most 10 decimals, no trailing zeros."""
    if value is None:
        return "-"
    if value.as_tuple().exponent < -10:  # type: ignore[operator]
        value = round(value, 10)
    return f"{value.normalize():f}"


_HANDLERS: dict[type, Callable[[AssetConfig, AssetState, Any], Decision]] = {
    Quote: _on_quote,
    PositionBeforeOrder: _on_position_before,
    OrderAccepted: _on_accepted,
    OrderFilled: _on_filled,
    OrderClosed: _on_closed,
    OrderNotFound: _on_not_found,
    Tick: _on_tick,
    HoldingsChecked: _on_holdings,
    SellableChecked: _on_sellable,
    FeeConfirmed: _on_fee_confirmed,
    PositionAdopted: _on_adopted,
    ConditionChecked: _on_condition_checked,
    CloseRequested: _on_close_requested,
    CancelRequested: _on_cancel_requested,
}
