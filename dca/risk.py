"""Pre-trade risk gates: a pure policy that vets what a cycle wants to do before it happens.

The asset actor asks `vet` about every decision that would send something to the exchange. A
vetoed decision is dropped whole: nothing is stored, nothing is sent, the cycle stays as it was and
asks again on a later quote. The gates:

* **kill switch** — no new orders and no cancels: existing orders are left exactly as they are;
* **circuit breaker** — after N consecutive order failures of one asset, that asset's orders stop
  for a while; when failures pile up across several assets with no success anywhere (see
  `global_breaker_trips`), every asset's orders stop;
* **daily loss limit** — once the realized loss since 00:00 UTC reaches the limit, no new buys
  (sells may still close positions);
* **capital budget / per-asset cap** — a buy may not take what all cycles (or this asset's cycle)
  have committed past the limit;

The buy gates judge a decision's buys together: a ladder of safety orders placed ahead
(`active_safety_orders`) goes, or waits, as one. What a cycle has committed and reserves counts
every live buy's unfilled part, resting ones included (`cycle_committed`, `cycle_reserved`).
* **cash** — a buy may not cost more than the account's buying power for crypto
  (`non_marginable_buying_power`; on a margin account `cash` can be negative while it is large) less
  what the bot's other open buy orders reserve: never leverage. Whether the venue already deducts open
  crypto orders from that figure is unverified, so they are deducted here too: at worst a buy waits
  until another asset's open buy fills or is cancelled;
* **max open cycles** — no new base order while that many cycles are open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from datetime import datetime, timedelta
from decimal import Decimal

from dca.commands import CancelOrder, Command, SubmitOrder
from dca.cycle import Cycle, OrderKind, Side
from dca.immutable import immutable
from dca.money import ZERO

GLOBAL = "global"
# The global breaker needs the failures of at least two assets' worth (see `global_breaker_trips`).
GLOBAL_FAILURE_FACTOR = 2


@immutable
class RiskLimits:
    capital_budget: Decimal | None = None  # most capital all cycles together may have committed
    asset_capital_cap: Decimal | None = None  # most one asset's cycle may have committed
    max_open_cycles: int | None = None  # cycles holding coin or with a live order
    daily_loss_limit: Decimal | None = None  # a realized loss (positive number) since 00:00 UTC
    failure_threshold: int = 5  # consecutive order failures that open an asset's circuit breaker (0 = off)
    breaker_cooldown: timedelta = timedelta(minutes=10)
    global_failure_threshold: int | None = None  # across assets; None = GLOBAL_FAILURE_FACTOR × failure_threshold

    @property
    def global_threshold(self) -> int:
        if self.global_failure_threshold is not None:
            return self.global_failure_threshold
        return GLOBAL_FAILURE_FACTOR * self.failure_threshold


@immutable
class RiskSnapshot:
    """The world as the gates see it at one moment (assembled by the actors' risk board)."""

    now: datetime
    kill_switch: str | None = None  # why it is engaged, or None
    buying_power: Decimal | None = None  # non_marginable_buying_power, read just before a buy (None: unknown)
    committed: Mapping[str, Decimal] = field(default_factory=dict)  # by symbol: cost held + live buy orders
    reserved: Mapping[str, Decimal] = field(default_factory=dict)  # by symbol: unfilled part of live buy orders
    open_cycles: frozenset[str] = frozenset()
    realized_today: Decimal = ZERO
    breakers: Mapping[str, datetime] = field(default_factory=dict)  # GLOBAL or a symbol → open until

    @property
    def committed_total(self) -> Decimal:
        return sum(self.committed.values(), ZERO)

    def spendable(self, symbol: str) -> Decimal | None:
        """What a new buy of `symbol` may cost: the buying power less what the bot's open buys
        reserve, this asset's resting buys included (a new buy is never one of them)."""
        if self.buying_power is None:
            return None
        return self.buying_power - sum(self.reserved.values(), ZERO)


@immutable
class Veto:
    gate: str  # a short, bounded name (a metric label)
    reason: str


def vet(limits: RiskLimits, snapshot: RiskSnapshot, symbol: str, commands: Sequence[Command]) -> Veto | None:
    """The first gate that refuses these commands, or None when they may go ahead."""
    acting = [c for c in commands if isinstance(c, SubmitOrder | CancelOrder)]
    if not acting:
        return None
    if snapshot.kill_switch is not None:
        return Veto("kill_switch", f"kill switch engaged ({snapshot.kill_switch}): no new orders, no cancels")
    if any(isinstance(c, SubmitOrder) for c in acting):
        veto = _breaker(snapshot, symbol)
        if veto is not None:
            return veto
    buys = [c for c in acting if isinstance(c, SubmitOrder) and c.side is Side.BUY]
    return _buy_gates(limits, snapshot, symbol, buys) if buys else None


def _breaker(snapshot: RiskSnapshot, symbol: str) -> Veto | None:
    for scope in (symbol, GLOBAL):
        until = snapshot.breakers.get(scope)
        if until is not None and snapshot.now < until:
            which = "for all assets" if scope == GLOBAL else f"for {symbol}"
            return Veto("circuit_breaker", f"circuit breaker open {which} until {until.isoformat()} "
                                           "after repeated order failures")
    return None


def buy_cost(commands: Sequence[Command]) -> Decimal | None:
    """What the buys among `commands` would cost at their limits, or None if there is no buy."""
    buys = [c for c in commands if isinstance(c, SubmitOrder) and c.side is Side.BUY]
    return sum((_cost(c) for c in buys), ZERO) if buys else None


def _cost(order: SubmitOrder) -> Decimal:
    return order.qty * (order.limit_price or ZERO)


def _buy_gates(limits: RiskLimits, snapshot: RiskSnapshot, symbol: str, buys: Sequence[SubmitOrder]) -> Veto | None:
    """The gates for all of a decision's buys at once: their costs added up."""
    cost = sum((_cost(order) for order in buys), ZERO)
    if limits.daily_loss_limit is not None and snapshot.realized_today <= -limits.daily_loss_limit:
        return Veto("daily_loss_limit", f"realized {snapshot.realized_today} today reaches the daily loss limit "
                                        f"{limits.daily_loss_limit}: no new buys until 00:00 UTC")
    opens_a_cycle = any(order.kind is OrderKind.BASE for order in buys)
    if (opens_a_cycle and limits.max_open_cycles is not None and symbol not in snapshot.open_cycles
            and len(snapshot.open_cycles) >= limits.max_open_cycles):
        return Veto("max_open_cycles", f"{len(snapshot.open_cycles)} cycles are open (limit {limits.max_open_cycles})")
    if limits.capital_budget is not None and snapshot.committed_total + cost > limits.capital_budget:
        return Veto("capital_budget", f"{cost:.2f} more would commit {snapshot.committed_total + cost:.2f}, "
                                      f"over the capital budget {limits.capital_budget}")
    committed = snapshot.committed.get(symbol, ZERO)
    if limits.asset_capital_cap is not None and committed + cost > limits.asset_capital_cap:
        return Veto("asset_cap", f"{cost:.2f} more would commit {committed + cost:.2f} to {symbol}, "
                                 f"over its cap {limits.asset_capital_cap}")
    spendable = snapshot.spendable(symbol)
    if spendable is not None and cost > spendable:
        return Veto("cash", f"the buys cost {cost:.2f} but only {spendable:.2f} of the account's buying power is "
                            f"not reserved by the bot's open buys (no leverage)")
    return None


def global_breaker_trips(limits: RiskLimits, streak: Mapping[str, int]) -> bool:
    """Whether failures across assets call for the global breaker. `streak` counts each asset's
    failures since the last successful order of *any* asset. Each asset counts at most
    `failure_threshold` (its own breaker stops it there), so one asset alone never opens the global
    breaker, however often it fails: that takes failures from several assets adding up to
    `global_threshold` (by default two assets' worth), i.e. a pattern that points at the venue or
    the account rather than at one pair."""
    if not limits.failure_threshold or limits.global_threshold <= 0:
        return False
    counted = sum(min(failures, limits.failure_threshold) for failures in streak.values())
    return len(streak) > 1 and counted >= limits.global_threshold


def cycle_reserved(cycle: Cycle) -> Decimal:
    """What a cycle's live buys (acting and resting) hold back from the buying power: their unfilled
    parts at their limits."""
    return sum((reserved_by_buy(o.unfilled_qty, o.limit_price) for o in cycle.live_orders if o.side is Side.BUY), ZERO)


def cycle_committed(cycle: Cycle) -> Decimal:
    """What a cycle has committed: the cost of the coin it holds plus every live buy's unfilled part."""
    return cycle.cost + cycle_reserved(cycle)


def reserved_by_buy(unfilled_qty: Decimal, limit: Decimal | None) -> Decimal:
    """What the unfilled part of a live limit buy holds back from the buying power."""
    return unfilled_qty * limit if limit is not None else ZERO
