"""Parity: the live actor tree trading against the simulator and the backtester replaying the SAME
quotes make the same decisions, get the same fills and book the same profit.

The market is synthetic and seeded: 1-minute bars turned into quotes by `dca.market.bar_quote_path`
with each pair's spread and price grid from the simulator's catalog, exactly as a backtest turns
bars into quotes. The live side is `wiring.bot.Bot` (asset actors, stream routers, caretakers, SQLite)
behind the real alpaca-py clients, fed quote by quote in manual pacing; the backtest side is
`dca.backtest` with the simulator's `MatchingEngine`, configured with the very `AssetConfig` the
live asset actor uses. Compared, per pair and in order: every order (kind, side, type, quantity,
limit, decision time, outcome, filled quantity, average price, fee), every execution on the
exchange (price, quantity, fee, maker/taker, time, position after), and every completed cycle
(safety orders, realized P/L to the cent, times).

One difference is known and bounded: Alpaca reports no fees, so the live bot charges a market sell
the taker rate exactly, while the exchange rounds that fee to 1e-10 USD and the backtest books the
exchange's figure. Sell fees and P/L are therefore compared to 1e-10 (and P/L also to the cent).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

import tests.e2e.harness as harness_module
from actors.runtime import Intervals
from adapters.db.models import DcaCycle, DcaOrder
from adapters.sim.assets import make_asset
from app.backtest.inputs import setup_for
from app.backtest.runner import BacktestSetup, new_session
from config.settings import load_settings
from dca.backtest.loop import replay_quotes
from dca.cycle import CycleStatus, OrderKind
from dca.market import Quote, bar_quote_path
from dca.money import cents
from tests.backtest.helpers import random_bars
from tests.e2e.harness import _NO_QUOTE, QUICK, QUICK_TRAILING, SCRIPT_START, BotHarness
from wiring.settings_maps import backtest_terms

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BARS = 300
ASSETS = {"BTC/USD": QUICK, "ETH/USD": QUICK_TRAILING}
MARKETS = {"BTC/USD": (60_000.0, 0), "ETH/USD": (3_000.0, 7)}  # price level, seconds after the minute
TINY = Decimal("1e-10")  # the exchange rounds a USD fee to 1e-10: the live estimate differs by at most half that


def quote_paths(seed: int) -> dict[str, list[Quote]]:
    """Each pair's quotes: seeded bars, four quotes per bar, the simulator's spread and price grid."""
    paths = {}
    for index, (symbol, (price, offset)) in enumerate(MARKETS.items()):
        spec = make_asset(symbol)
        start = SCRIPT_START + timedelta(minutes=1, seconds=offset)
        bars = random_bars(seed * 10 + index, BARS, price=price, volatility=0.002, symbol=symbol, start=start,
                           reversion=0.05)
        paths[symbol] = [q for bar in bars for q in bar_quote_path(bar, spec.spread_bps, spec.price_increment)]
    return paths


def wait(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def drive(harness: BotHarness, quote: Quote) -> None:
    """`harness.quote`, polling fast, and then also waiting until anything the decision started
    (a cancel, a rejection) has come back: the next quote meets a settled cycle, as in a backtest."""
    exchange, symbol = harness.exchange, quote.symbol
    if exchange.push_quote(quote):
        wait(lambda: harness._order_settled(symbol), f"{symbol}'s fills to be applied")
    assert harness.bot is not None and harness.bot.runtime is not None
    harness.bot.runtime.scheduler.wake()
    exchange.publish(symbol)
    wait(lambda: (harness.last_quote(symbol) or _NO_QUOTE).time >= quote.time, f"{symbol} to decide on {quote}")
    wait(lambda: harness._order_settled(symbol), f"{symbol}'s order to settle")


def live_orders(harness: BotHarness, symbol: str) -> list[tuple]:
    """The core's view of each order the live bot placed (written before submission), in order."""
    assert harness.db is not None
    engine_orders = {o.client_order_id: o for o in harness.exchange.orders()}
    with harness.db.transaction() as session:
        rows = session.execute(select(DcaOrder).where(DcaOrder.symbol == symbol, DcaOrder.cycle_id.is_not(None))
                               .order_by(DcaOrder.pk)).scalars().all()
        found = []
        for row in rows:
            on_exchange = engine_orders.get(row.client_order_id)
            average = row.applied_notional / row.applied_filled_qty if row.applied_filled_qty else None
            outcome = "rejected" if on_exchange is None else "open" if on_exchange.is_open else on_exchange.status.value
            found.append((row.order_kind, row.side, row.type, row.qty, row.limit_price, row.decided_at, outcome,
                          row.applied_filled_qty, average, row.applied_fee))
    return found


def backtest_orders(session: Any) -> list[tuple]:
    return [(o.kind.value, o.side.value, o.order_type.value, o.qty, o.limit_price, o.decided_at, o.outcome,
             o.filled_qty, o.average_price, o.fee) for o in session.log.orders]


def executions(engine: Any, symbol: str) -> list[tuple]:
    return [(e.side.value, e.qty, e.price, e.fee, e.fee_currency, e.liquidity.value, e.time, e.position_qty)
            for e in engine.executions if e.symbol == symbol]


def assert_same_orders(live: list[tuple], backtest: list[tuple]) -> None:
    assert len(live) == len(backtest), f"{len(live)} live orders, {len(backtest)} in the backtest"
    for number, (one, other) in enumerate(zip(live, backtest, strict=True), start=1):
        *same, live_fee = one
        *same_too, backtest_fee = other
        assert same == same_too, f"order {number}: live {one} != backtest {other}"
        assert abs(live_fee - backtest_fee) <= TINY, f"order {number}: fee {live_fee} vs {backtest_fee}"


def merged(paths: dict[str, list[Quote]]) -> list[Quote]:
    return list(heapq.merge(*paths.values(), key=lambda q: q.time))


@pytest.fixture
def idle_caretakers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caretakers exist but stay idle during the script. They are backstops for missed updates; in
    manual pacing the scheduler counts simulated time, so even their production periods would run
    them every few quotes, and their REST calls would exhaust the broker's client-side limiter
    (200 requests per real minute): the script would crawl and the tree would not stop in time."""
    idle = 10**7
    monkeypatch.setattr(harness_module, "FAST_INTERVALS", Intervals(
        order_janitor=idle, cooldown_keeper=idle, reconciler=idle, asset_watcher=idle, order_history_sync=idle,
        bars_sync=idle, housekeeping=1, stream_check=2))


def trade_both_ways(tmp_path: Any, seed: int, assets: dict[str, dict[str, Any]]) -> dict[str, tuple]:
    """Trade the seed's quotes live (the actor tree on the simulator) and in the backtester, assert
    that both placed the same orders, got the same executions and booked the same cycles, and
    return, per pair, the live orders, the completed cycles and the backtest session."""
    paths = quote_paths(seed)
    with BotHarness(tmp_path, f"sqlite:///{tmp_path / 'bot.sqlite3'}", assets=assets, pacing="manual") as harness:
        configs = {symbol: harness.snapshot(symbol)[0] for symbol in assets}
        for quote in merged(paths):
            drive(harness, quote)
        harness.settle_and_check()  # books and exchange agree on the live side, no duplicate order
        live = {symbol: (live_orders(harness, symbol), harness.completed(symbol)) for symbol in assets}
        live_executions = {symbol: executions(harness.exchange.engine, symbol) for symbol in assets}
    settings = load_settings(env_file=None)
    traded = {}
    for symbol, config in configs.items():
        # the backtester's own configuration of the pair matches what the live actor read from the exchange
        own = setup_for(symbol, config.params, {}, backtest_terms(settings), Decimal(100_000), None).config
        assert (own.rules, own.fees) == (config.rules, config.fees)
        session = new_session(BacktestSetup(config, make_asset(symbol), Decimal(100_000), Decimal(0)))
        replay_quotes(session, paths[symbol])
        orders, completed = live[symbol]
        assert_same_orders(orders, backtest_orders(session))
        assert executions(session.venue.engine, symbol) == live_executions[symbol]
        cycles = session.log.cycles
        assert [c["safety_orders"] for c in completed] == [c.safety_orders for c in cycles]
        assert [cents(c["realized_pnl"]) for c in completed] == [cents(c.realized_pnl) for c in cycles]
        assert all(abs(c["realized_pnl"] - b.realized_pnl) <= TINY for c, b in zip(completed, cycles, strict=True))
        traded[symbol] = (orders, completed, session)
    return traded


@pytest.mark.parametrize("seed", [1, 3])  # markets with several cycles, safety orders and a stale buy each
def test_the_live_actor_tree_and_the_backtest_trade_the_same_quotes_identically(tmp_path, seed,
                                                                                idle_caretakers):
    traded = trade_both_ways(tmp_path, seed, ASSETS)
    # completed cycles and safety orders per pair: the market must make the comparison mean something
    activity = {symbol: (len(session.log.cycles), sum(1 for o in orders if o[0] == "safety"),
                         sum(1 for o in orders if o[6] == "canceled"))
                for symbol, (orders, _, session) in traded.items()}
    assert all(completed >= 2 and safety >= 2 for completed, safety, _ in activity.values()), activity
    assert any(canceled for _, _, canceled in activity.values()), f"no stale buy was cancelled: {activity}"


# Orders placed ahead: the limit take-profit on one pair, the safety-order ladder on the other.
RESTING_ASSETS = {"BTC/USD": {**QUICK, "take_profit_order_type": "limit"},
                  "ETH/USD": {**QUICK, "active_safety_orders": 3}}


def test_the_limit_take_profit_and_the_ladder_trade_the_same_live_and_in_the_backtest(tmp_path, idle_caretakers):
    traded = trade_both_ways(tmp_path, 1, RESTING_ASSETS)
    _, tp_cycles, tp_session = traded["BTC/USD"]
    sales = [o for o in tp_session.log.orders if o.kind.value == "take_profit"]
    assert sales and all(o.order_type.value == "limit" for o in sales)
    sold = [o for o in sales if o.outcome == "filled"]
    assert len(sold) == len(tp_cycles) >= 2
    assert all(o.average_price >= o.limit_price >= o.trigger for o in sold)  # never below the trigger
    assert any(o.outcome == "canceled" for o in sales), "no take-profit was replaced after a safety order"
    ladder_orders, ladder_cycles, ladder_session = traded["ETH/USD"]
    safety = [o for o in ladder_session.log.orders if o.kind.value == "safety"]
    filled = [o for o in safety if o.outcome == "filled"]
    assert len(ladder_cycles) >= 2 and filled, (len(ladder_cycles), len(filled))
    liquidity = ladder_session.venue.liquidity()
    resting_fills = [o for o in filled if liquidity[o.client_order_id] == ["maker"]]
    assert resting_fills and all(o.average_price == o.limit_price for o in resting_fills)  # at their levels
    assert any(o.outcome == "canceled" for o in safety)  # the ladder is cancelled before the market take-profit
    assert len(ladder_orders) == len(ladder_session.log.orders)


def test_a_start_condition_holds_back_the_same_cycles_live_and_in_the_backtest(tmp_path, idle_caretakers):
    """The live actor reads its start condition from `historical_1min_bars` (here stored ahead, as a
    perfectly punctual BarsSync would: a reading at minute M only reads bars before M), the backtest
    from the run's own bar arrays: the same readings, so the same orders at the same times."""
    from adapters.db.assets import AssetRepository
    from adapters.db.bars import BarStore
    from tests.backtest.helpers import series_of

    symbol, condition = "BTC/USD", "rsi(14) < 45"
    price, offset = MARKETS[symbol]
    spec = make_asset(symbol)
    bars = random_bars(10, BARS, price=price, volatility=0.002, symbol=symbol,
                       start=SCRIPT_START + timedelta(minutes=1, seconds=offset), reversion=0.05)
    quotes = [q for bar in bars for q in bar_quote_path(bar, spec.spread_bps, spec.price_increment)]
    assets = {symbol: {**QUICK, "start_condition": condition}}
    with BotHarness(tmp_path, f"sqlite:///{tmp_path / 'bot.sqlite3'}", assets=assets, pacing="manual") as harness:
        assert harness.db is not None
        asset = AssetRepository(harness.db).get(symbol)
        assert asset is not None
        BarStore(harness.db).upsert(asset.id, bars)
        config = harness.snapshot(symbol)[0]
        for quote in quotes:
            drive(harness, quote)
        harness.settle_and_check()
        orders, completed = live_orders(harness, symbol), harness.completed(symbol)
        live_executions = executions(harness.exchange.engine, symbol)
    session = new_session(BacktestSetup(config, spec, Decimal(100_000), Decimal(0)), series_of(bars))
    replay_quotes(session, quotes)
    assert_same_orders(orders, backtest_orders(session))
    assert executions(session.venue.engine, symbol) == live_executions
    assert [cents(c["realized_pnl"]) for c in completed] == [cents(c.realized_pnl) for c in session.log.cycles]
    bases = [o for o in orders if o[0] == "base"]
    assert len(bases) >= 2 and len(completed) >= 1, (len(bases), len(completed))
    free = new_session(BacktestSetup(replace(config, params=replace(config.params, start_condition=None)), spec,
                                     Decimal(100_000), Decimal(0)))
    replay_quotes(free, quotes)
    assert [o.decided_at for o in free.log.orders if o.kind.value == "base"] != [o[5] for o in bases]  # held back


# --- one pair with a feature switched on: the stop loss, the price range ---------------------------------


@dataclass(frozen=True)
class OnePairRun:
    """What one pair's live run and its backtest produced, once checked to agree."""

    orders: list[tuple]  # the live bot's orders (as `live_orders`)
    session: Any  # the backtest replaying the same quotes
    setup: BacktestSetup  # the live actor's configuration, for a backtest with a parameter changed
    quotes: list[Quote]

    def backtest_with(self, **params: Any) -> Any:
        """The same quotes backtested with some parameters changed: what the feature changed."""
        session = new_session(self.setup.with_params(params))
        replay_quotes(session, self.quotes)
        return session


def ended_cycles(harness: BotHarness) -> list[tuple]:
    """Every cycle the live bot ended (sold at the take-profit or by the stop loss), in order."""
    ended = (CycleStatus.COMPLETE.value, CycleStatus.STOPPED.value)
    assert harness.db is not None
    with harness.db.transaction() as session:
        rows = session.execute(select(DcaCycle).where(DcaCycle.status.in_(ended)).order_by(DcaCycle.id)).scalars()
        return [(row.status, row.safety_orders, row.realized_pnl) for row in rows]


def backtest_cycles(session: Any) -> list[tuple]:
    return [(c.status.value, c.safety_orders, c.realized_pnl) for c in session.log.cycles]


def one_pair_live_and_backtest(tmp_path: Any, params: dict[str, Any], seed: int) -> OnePairRun:
    """BTC/USD alone with `params` on seeded quotes, live and backtested: the same orders, executions
    and ended cycles (with their status: a stop loss ends a cycle `stopped`)."""
    symbol = "BTC/USD"
    price, offset = MARKETS[symbol]
    spec = make_asset(symbol)
    bars = random_bars(seed, BARS, price=price, volatility=0.002, symbol=symbol,
                       start=SCRIPT_START + timedelta(minutes=1, seconds=offset), reversion=0.05)
    quotes = [q for bar in bars for q in bar_quote_path(bar, spec.spread_bps, spec.price_increment)]
    with BotHarness(tmp_path, f"sqlite:///{tmp_path / 'bot.sqlite3'}", assets={symbol: params},
                    pacing="manual") as harness:
        config = harness.snapshot(symbol)[0]
        for quote in quotes:
            drive(harness, quote)
        harness.settle_and_check()
        orders, ended = live_orders(harness, symbol), ended_cycles(harness)
        live_executions = executions(harness.exchange.engine, symbol)
    setup = BacktestSetup(config, spec, Decimal(100_000), Decimal(0))
    session = new_session(setup)
    replay_quotes(session, quotes)
    assert_same_orders(orders, backtest_orders(session))
    assert executions(session.venue.engine, symbol) == live_executions
    backtest_ended = backtest_cycles(session)
    assert [(status, safety, cents(pnl)) for status, safety, pnl in ended] == [
        (status, safety, cents(pnl)) for status, safety, pnl in backtest_ended]
    assert all(abs(one[2] - other[2]) <= TINY for one, other in zip(ended, backtest_ended, strict=True))
    return OnePairRun(orders, session, setup, quotes)


@pytest.mark.parametrize("timeout", [0, 120])
def test_the_stop_loss_sells_the_same_cycles_at_the_same_moments_live_and_in_the_backtest(tmp_path, timeout,
                                                                                          idle_caretakers):
    """With a timeout, the pending breach (`stop_loss_since`) is counted by the live actor on its stored
    cycle and by the backtest on its own: the same sales on the same quotes."""
    outcome = one_pair_live_and_backtest(tmp_path, {**QUICK, "stop_loss_percent": "1", "stop_loss_timeout": timeout},
                                         seed=2)
    statuses = [c.status for c in outcome.session.log.cycles]
    assert statuses.count(CycleStatus.STOPPED) >= 2 and CycleStatus.COMPLETE in statuses, statuses
    sales = [o[5] for o in outcome.orders if o[0] == OrderKind.STOP_LOSS.value]
    assert len(sales) >= 2
    at_once = [o.decided_at for o in outcome.backtest_with(stop_loss_timeout=0).log.orders
               if o.kind is OrderKind.STOP_LOSS]
    assert (sales[0] > at_once[0]) if timeout else (sales == at_once)  # the timeout held the first sale back


def test_the_price_range_holds_back_the_same_cycles_live_and_in_the_backtest(tmp_path, idle_caretakers):
    """min_price/max_price around the middle of the market: base orders wait for an ask inside it."""
    outcome = one_pair_live_and_backtest(tmp_path, {**QUICK, "min_price": "59650", "max_price": "59880"}, seed=1)
    bases = [o[5] for o in outcome.orders if o[0] == OrderKind.BASE.value]
    assert len(bases) >= 3 and any(c.status is CycleStatus.COMPLETE for c in outcome.session.log.cycles)
    anywhere = outcome.backtest_with(min_price=None, max_price=None)
    assert bases[0] > next(o.decided_at for o in anywhere.log.orders if o.kind is OrderKind.BASE)  # held back
