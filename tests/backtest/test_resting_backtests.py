"""Orders placed ahead in the backtester, on the real BTC minutes of 4-6 August 2024 (tests/data/README.md,
the crash of 5 August included): the limit take-profit (`take_profit_order_type=limit`) and the safety
ladder (`active_safety_orders`), filled by the simulator's matching engine as resting makers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sim.assets import make_asset
from app.backtest.runner import RunOutcome, run
from app.backtest.venue import EngineVenue, engine_for
from app.bars_csv import load_series
from dca.backtest.loop import replay_bars
from dca.backtest.records import OrderRecord
from dca.backtest.session import BacktestSession
from dca.cycle import CycleStatus, OrderKind, OrderType, Side
from dca.events import Event
from dca.money import basis_points
from dca.strategy import Decision
from tests.backtest.helpers import random_bars, setup

REAL_DAYS = Path(__file__).resolve().parents[1] / "data" / "btc_usdt_1m_2024-08-04_to_06.csv.gz"
# A stop loss ends the cycles the crash would otherwise hold to the end of the data.
PARAMS = {"base_order_amount": "50", "safety_order_amount": "50", "max_safety_orders": 4,
          "safety_order_deviation": "1", "safety_order_volume_scale": "1.5", "take_profit_percent": "0.5",
          "stop_loss_percent": "3", "cooldown_period": 600}
MAKER_BPS = Decimal(15)  # tests.backtest.helpers.setup's fee schedule


def _run(**params: object) -> RunOutcome:
    outcome = run(setup(spec=make_asset("BTC/USD"), **{**PARAMS, **params}), load_series(REAL_DAYS, "BTC/USD"))
    assert not outcome.fast or not params  # the fast path does not model orders placed ahead: every bar is replayed
    return outcome


def _ended_before(orders: list[OrderRecord], sale: OrderRecord) -> bool:
    """Had every other order of the sale's cycle ended when the sale was decided?"""
    others = [o for o in orders if o.cycle_id == sale.cycle_id and o is not sale and o.decided_at <= sale.decided_at]
    return all(o.ended_at is not None and o.ended_at <= sale.decided_at for o in others)


def test_the_limit_take_profit_never_sells_below_its_trigger_and_pays_the_maker_fee():
    outcome = _run(take_profit_order_type="limit")
    log = outcome.session.log
    liquidity = outcome.session.venue.liquidity()
    sales = [o for o in log.orders if o.kind is OrderKind.TAKE_PROFIT]
    sold = [o for o in sales if o.outcome == "filled"]
    completed = [c for c in log.cycles if c.status is CycleStatus.COMPLETE]
    assert len(completed) >= 3 and len(sold) == len(completed)
    assert all(o.order_type is OrderType.LIMIT and o.side is Side.SELL for o in sales)
    for sale in sold:
        assert sale.trigger is not None and sale.limit_price is not None and sale.average_price is not None
        assert sale.average_price >= sale.limit_price >= sale.trigger
        assert liquidity[sale.client_order_id] == ["maker"]
        notional = sale.filled_qty * sale.average_price
        assert abs(sale.fee - basis_points(notional, MAKER_BPS)) < Decimal("0.01")
    assert [c.sell_price for c in completed] == [o.average_price for o in sold]
    assert any(o.outcome == "canceled" for o in sales)  # replaced after the safety orders of the crash


def test_the_limit_take_profit_pays_the_maker_rate_where_the_market_sale_pays_the_taker_rate():
    rates = {}
    for name, outcome in (("limit", _run(take_profit_order_type="limit")), ("market", _run())):
        sold = [o for o in outcome.session.log.orders if o.kind is OrderKind.TAKE_PROFIT and o.outcome == "filled"]
        assert sold, name
        notional = sum((o.filled_qty * o.average_price for o in sold), Decimal(0))
        rates[name] = sum((o.fee for o in sold), Decimal(0)) / notional * 10_000
    # both sale fees are rounded up to the cent, which adds up to half a basis point on these small sales
    assert abs(rates["limit"] - MAKER_BPS) < 1 and rates["market"] > MAKER_BPS + 5, rates


def test_resting_safety_orders_fill_at_their_levels_and_their_cash_stays_within_the_cycle_budget():
    outcome = _run(active_safety_orders=3)
    log = outcome.session.log
    liquidity = outcome.session.venue.liquidity()
    safety = [o for o in log.orders if o.kind is OrderKind.SAFETY]
    filled = [o for o in safety if o.outcome == "filled"]
    assert len(filled) >= 4
    assert all(liquidity[o.client_order_id] == ["maker"] and o.average_price == o.limit_price for o in filled)
    budget = outcome.setup.config.params.max_cycle_commitment()
    assert max(point.committed for point in log.timeline) <= budget  # cost held + every live buy's unfilled part
    assert min(point.cash for point in log.timeline) >= 0
    by_cycle: dict[int, list[OrderRecord]] = {}
    for order in safety:
        by_cycle.setdefault(order.cycle_id, []).append(order)
    assert max(len(orders) for orders in by_cycle.values()) >= 3  # a ladder, not one order at a time


def test_the_market_take_profit_and_the_stop_loss_sell_only_after_the_ladder_is_cancelled():
    outcome = _run(active_safety_orders=2, stop_loss_percent="4")
    log = outcome.session.log
    sales = [o for o in log.orders if o.order_type is OrderType.MARKET and o.side is Side.SELL]
    assert any(o.kind is OrderKind.STOP_LOSS for o in sales) and any(o.kind is OrderKind.TAKE_PROFIT for o in sales)
    assert all(_ended_before(log.orders, sale) for sale in sales)
    cancelled = [o for o in log.orders if o.kind is OrderKind.SAFETY and o.outcome == "canceled"]
    assert cancelled  # ladder orders were resting when the sales were due


def test_both_features_together_end_every_cycle_with_no_order_left_open():
    outcome = _run(active_safety_orders=3, take_profit_order_type="limit", stop_loss_percent="5")
    log = outcome.session.log
    ended = {c.cycle_id: c for c in log.cycles}
    assert len(ended) >= 3
    for order in log.orders:
        cycle = ended.get(order.cycle_id)
        if cycle is not None:  # an ended cycle's orders all ended before (or as) it did
            assert order.ended_at is not None and order.ended_at <= cycle.completed_at
    state = outcome.session.state
    current = state.cycle.bought_qty - state.cycle.buy_fees - state.cycle.sold_qty
    books = sum((c.bought_qty - c.buy_fees - c.sold_qty for c in log.cycles), current)
    assert outcome.session.venue.holdings("BTC/USD").quantity == books == state.held_quantity  # no coin lost


class _Watched(BacktestSession):
    """A session that checks, after every event, that the engine's open orders are exactly the
    cycle's live orders, never a buy at or above a sell, and that no cycle ended with one open."""

    def apply(self, event: Event) -> Decision:
        decision = super().apply(event)
        engine = self.venue.engine  # type: ignore[attr-defined]
        open_orders = engine.open_orders()
        known = {o.client_order_id for o in self.state.cycle.live_orders}
        assert {o.client_order_id for o in open_orders} <= known
        buys = [o.limit_price for o in open_orders if o.side.value == "buy" and o.limit_price is not None]
        sells = [o.limit_price for o in open_orders if o.side.value == "sell" and o.limit_price is not None]
        assert not (buys and sells) or max(buys) < min(sells)
        if decision.completed is not None:
            ended = decision.completed.id
            assert not [o for o in open_orders if o.client_order_id.split("-")[-2] == str(ended)]
        return decision


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), active=st.integers(0, 3), limit_take_profit=st.booleans(),
       stop_loss=st.sampled_from([None, "2"]), trailing=st.booleans())
def test_on_any_market_the_engine_holds_only_orders_the_cycle_knows_and_no_coin_is_lost(
        seed, active, limit_take_profit, stop_loss, trailing):
    params = {"active_safety_orders": active, "take_profit_order_type": "limit" if limit_take_profit else "market",
              "ttp_enabled": trailing and not limit_take_profit, "ttp_deviation_percent": "0.3",
              "stop_loss_percent": stop_loss, "take_profit_percent": "1", "max_safety_orders": 4}
    run_setup = setup(**params)
    engine = engine_for(run_setup.spec, run_setup.cash, run_setup.config.fees, run_setup.config.rules.min_notional)
    session = _Watched(run_setup.config, EngineVenue(engine))
    bars = random_bars(seed, 1500, volatility=0.003, heavy_tails=seed % 2 == 0)
    replay_bars(session, bars, run_setup.spread_bps, run_setup.config.rules.price_increment)
    state, log = session.state, session.log
    assert log.orders  # the market made the bot trade
    current = state.cycle.bought_qty - state.cycle.buy_fees - state.cycle.sold_qty
    books = sum((c.bought_qty - c.buy_fees - c.sold_qty for c in log.cycles), current)
    assert engine.position_qty(run_setup.symbol) == books == state.held_quantity
    for order in log.orders:
        if order.kind is OrderKind.TAKE_PROFIT and order.order_type is OrderType.LIMIT and order.filled_qty:
            assert order.trigger is not None and order.average_price >= order.limit_price >= order.trigger
