"""The fast path is the reference loop with the quiet bars left out: same orders, fills, cycles,
account timeline, equity curve and final state, on synthetic markets of many shapes, on a
real-shaped bar file written by the test, and on three real days of BTC minutes committed with the
tests (tests/data/README.md; never the benchmark data in ../shared)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.sim.assets import make_asset
from adapters.sim.rules import FillModel
from app.backtest import fast
from app.backtest.compare import differences
from app.backtest.fast import LAST_QUOTE, MARGIN, PeakWatch, QuoteBounds, peak_watch, replay_fast, supports
from app.backtest.metrics import curves, summarize
from app.backtest.runner import RunOutcome, run
from app.backtest.series import EPOCH, BarSeries
from app.backtest.sweep import run_point
from app.backtest.venue import EngineVenue, engine_for
from app.bars_csv import load_series, read_bar_rows
from dca.backtest.loop import replay_bars
from dca.backtest.session import BacktestSession
from dca.cycle import AssetState, Cycle, CycleStatus, Side
from dca.market import Bar, bar_quote_path, quote_around
from dca.money import round_down, round_up
from dca.params import AssetParams, OrderTiming
from dca.strategy import Triggers, decide, triggers
from tests.backtest.helpers import T0, random_bars, series_of, setup, write_csv

PARAMETER_SETS = {
    "plain take-profit": {},
    "trailing": {"ttp_enabled": True, "ttp_deviation_percent": "0.3", "take_profit_percent": "0.8"},
    "martingale, long cooldown, price restart": {
        "max_safety_orders": 8, "safety_order_step_scale": "1.3", "safety_order_volume_scale": "1.5",
        "cooldown_period": 900, "buy_order_price_deviation_percent": "0.3", "safety_order_deviation": "0.5"},
    "no cooldown": {"cooldown_period": 0, "take_profit_percent": "0.5"},
    "short of cash": {"safety_order_amount": "400", "max_safety_orders": 6},  # rejections and retry waits
}


def assert_same_run(one, other):
    assert differences(one, other) == []
    assert np.array_equal(curves(one).equity, curves(other).equity)
    strip = {"seconds": 0.0, "bars_replayed": 0}
    assert replace(summarize(one), **strip) == replace(summarize(other), **strip)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_the_fast_path_gives_the_reference_result(seed, name):
    params = PARAMETER_SETS[name]
    cash = "1500" if name == "short of cash" else "100000"
    run_setup = setup(cash=cash, **params)
    series = series_of(random_bars(seed, 3000, volatility=0.0012 if seed % 2 else 0.003, heavy_tails=seed > 2))
    fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
    assert_same_run(fast, reference)
    assert reference.session.log.cycles, "the market should complete cycles, or the comparison proves little"
    assert fast.replayed < reference.replayed


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), bars=st.integers(200, 1500),
       volatility=st.sampled_from([0.0005, 0.0015, 0.004]),
       take_profit=st.sampled_from(["0.3", "1", "2.5"]), deviation=st.sampled_from(["0.3", "0.8", "2"]),
       trailing=st.sampled_from([None, "0.1", "0.5", "1.5"]), cooldown=st.sampled_from([0, 45, 120, 3600]),
       max_safety=st.integers(0, 6), restart=st.sampled_from(["0.2", "1"]),
       spread=st.sampled_from(["0", "5", "40"]))
def test_the_fast_path_matches_the_reference_for_any_parameters(seed, bars, volatility, take_profit, deviation,
                                                                trailing, cooldown, max_safety, restart, spread):
    params = {"take_profit_percent": take_profit, "safety_order_deviation": deviation,
              "ttp_enabled": trailing is not None, "ttp_deviation_percent": trailing or "1",
              "cooldown_period": cooldown, "max_safety_orders": max_safety,
              "buy_order_price_deviation_percent": restart}
    run_setup = setup(spread_bps=spread, **params)
    series = series_of(random_bars(seed, bars, volatility=volatility, heavy_tails=seed % 3 == 0))
    assert_same_run(run(run_setup, series, fast=True), run(run_setup, series, fast=False))


def test_a_real_shaped_bar_file_gives_the_same_result_both_ways(tmp_path):
    """BTC-like minutes (price ~60k on a cent grid, heavy tails, volatility clusters, gaps between
    bars) written as a gzipped file, read by the fast file reader, traded with the real BTC/USD rules
    of the simulator's catalog (whole-dollar price increment) and the default parameters."""
    bars = random_bars(11, 20_000, price=60_000.0, volatility=0.0009, heavy_tails=True)
    path = write_csv(tmp_path / "btc.csv.gz", bars, gzip_it=True)
    series = load_series(path, "BTC/USD")
    exact = [row.bar for row in read_bar_rows(path, "BTC/USD")]
    assert [series.prices(i) for i in range(len(series))] == [(b.open, b.high, b.low, b.close) for b in exact]
    btc = make_asset("BTC/USD")
    for params in ({}, {"ttp_enabled": False, "take_profit_percent": "0.7", "safety_order_deviation": "0.4"}):
        defaults = {"base_order_amount": "10", "safety_order_amount": "20", "max_safety_orders": 15,
                    "safety_order_deviation": "0.9", "take_profit_percent": "2", "ttp_enabled": True,
                    "cooldown_period": 120}
        run_setup = setup(spec=btc, **{**defaults, **params})
        fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
        assert_same_run(fast, reference)
        assert reference.session.log.cycles and fast.replayed < len(series) // 5


REAL_DAYS = Path(__file__).resolve().parents[1] / "data" / "btc_usdt_1m_2024-08-04_to_06.csv.gz"


@pytest.mark.parametrize("name", list(PARAMETER_SETS))
def test_real_minutes_through_the_crash_of_5_august_2024_give_the_same_result_both_ways(name):
    series = load_series(REAL_DAYS, "BTC/USD")
    assert len(series) == 3 * 1440
    params = PARAMETER_SETS[name]
    run_setup = setup(spec=make_asset("BTC/USD"), cash="1500" if name == "short of cash" else "100000", **params)
    fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
    assert_same_run(fast, reference)
    assert len(reference.session.log.fills) >= 3  # base and safety orders bought into the fall
    assert fast.replayed < reference.replayed


# --- the skip test itself ---------------------------------------------------------------------------

prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(200_000), places=4)


@settings(max_examples=400, deadline=None)
@given(o=prices, h=prices, low=prices, c=prices, spread=st.sampled_from(["0", "1", "6", "37.5", "300"]),
       increment=st.sampled_from(["1", "0.01", "0.0001", "0.000000001"]))
def test_a_bar_holding_a_quote_that_meets_a_trigger_is_never_skipped(o, h, low, c, spread, increment):
    """Even for a bar whose open/close lie outside its own high/low (bad data), and at the exact level."""
    bar = Bar("X/USD", T0, o, h, low, c)
    quotes = bar_quote_path(bar, Decimal(spread), Decimal(increment))
    bounds = QuoteBounds.of(BarSeries.from_bars("X/USD", [bar]), Decimal(spread), Decimal(increment))
    lowest_ask = min(q.ask for q in quotes)
    highest_bid, lowest_bid = max(q.bid for q in quotes), min(q.bid for q in quotes)
    assert bounds.next_candidate(0, Triggers(ask_at_or_below=lowest_ask)) == 0
    assert bounds.next_candidate(0, Triggers(bid_at_or_above=highest_bid)) == 0
    assert bounds.next_candidate(0, Triggers(bid_at_or_below=lowest_bid)) == 0


def test_bars_that_cannot_reach_any_level_or_time_are_skipped():
    bars = [Bar("X/USD", T0.replace(minute=i), Decimal(100), Decimal(101), Decimal(99), Decimal(100))
            for i in range(50)]
    bars[30] = replace(bars[30], low=Decimal(90))
    bounds = QuoteBounds.of(BarSeries.from_bars("X/USD", bars), Decimal(10), Decimal("0.01"))
    assert bounds.next_candidate(0, Triggers(ask_at_or_below=Decimal(95))) == 30
    assert bounds.next_candidate(31, Triggers(ask_at_or_below=Decimal(95))) == 50
    assert bounds.next_candidate(0, Triggers(bid_at_or_above=Decimal(110), at_time=T0.replace(minute=12))) == 12
    assert bounds.next_candidate(0, Triggers(at_time=T0.replace(minute=12, second=46))) == 13  # last quote is +45 s


# --- the waits skipped since the sweep work: resting buys, trailing peaks, quotes inside a bar ---------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), bars=st.integers(300, 1500),
       volatility=st.sampled_from([0.0008, 0.002, 0.005]),
       take_profit=st.sampled_from(["0.3", "1", "2"]), deviation=st.sampled_from(["0.2", "0.6", "1.5"]),
       trailing=st.sampled_from([None, "0.05", "0.3", "1"]), cooldown=st.sampled_from([0, 60, 900]),
       restart=st.sampled_from(["0.1", "0.5", "2"]), stale_minutes=st.sampled_from([1, 5, 60]),
       step_scale=st.sampled_from(["1", "1.4"]), spread=st.sampled_from(["0", "10", "60"]),
       cash=st.sampled_from(["150", "100000"]))
def test_resting_buys_trailing_peaks_and_restarts_skipped_give_the_reference_result(
        seed, bars, volatility, take_profit, deviation, trailing, cooldown, restart, stale_minutes, step_scale,
        spread, cash):
    """Buys rest (a rising market after the order, stale limits from 1 minute to an hour), trailing
    chases peaks with stops from 0.05 % to 1 %, cooldowns end by time or by a price restart, and with
    $150 the cash runs out (refusals, retry waits with the peak still moving)."""
    params = {"take_profit_percent": take_profit, "safety_order_deviation": deviation,
              "ttp_enabled": trailing is not None, "ttp_deviation_percent": trailing or "1",
              "cooldown_period": cooldown, "max_safety_orders": 5, "buy_order_price_deviation_percent": restart,
              "safety_order_step_scale": step_scale, "safety_order_amount": "25"}
    timing = OrderTiming(stale_buy_after=timedelta(minutes=stale_minutes))
    run_setup = setup(spread_bps=spread, cash=cash, timing=timing, **params)
    series = series_of(random_bars(seed, bars, volatility=volatility, heavy_tails=seed % 2 == 0))
    assert_same_run(run(run_setup, series, fast=True), run(run_setup, series, fast=False))


def test_a_market_that_leaves_buys_resting_and_trails_long_peaks_is_mostly_skipped():
    """The two waits that used to be replayed bar by bar: after each base or safety order the price
    moves away from the limit for a while, and each take-profit trails a long climb."""
    run_setup = setup(ttp_enabled=True, ttp_deviation_percent="0.5", take_profit_percent="0.5",
                      safety_order_deviation="0.4", cooldown_period=0,
                      timing=OrderTiming(stale_buy_after=timedelta(minutes=30)))
    series = series_of(random_bars(5, 20_000, volatility=0.002, reversion=0.0005))
    fast, reference = run(run_setup, series, fast=True), run(run_setup, series, fast=False)
    assert_same_run(fast, reference)
    resting = sum(1 for order in reference.session.log.orders
                  if order.side is Side.BUY and order.ended_at is not None
                  and order.ended_at - order.decided_at > timedelta(minutes=2))
    assert resting > 10 and len(reference.session.log.cycles) > 10
    assert fast.replayed < len(series) // 50


def partial_fill_run(run_setup, series, fast: bool) -> RunOutcome:
    """`run` with an exchange that fills limit orders in seeded parts (the simulator's fill model)."""
    engine = engine_for(run_setup.spec, run_setup.cash, run_setup.config.fees, run_setup.config.rules.min_notional)
    engine.fill_model = FillModel(partial_fill_probability=Decimal("0.6"))
    session = BacktestSession(run_setup.config, EngineVenue(engine))
    increment = run_setup.config.rules.price_increment
    if fast:
        replayed = replay_fast(session, series, run_setup.spread_bps, increment).replayed
    else:
        replayed = replay_bars(session, series.bars(), run_setup.spread_bps, increment)
    return RunOutcome(run_setup, series, session, replayed, 0.0, fast)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_partial_fills_give_the_same_result_both_ways(seed):
    run_setup = setup(ttp_enabled=True, ttp_deviation_percent="0.2", take_profit_percent="0.6",
                      safety_order_deviation="0.5", timing=OrderTiming(stale_buy_after=timedelta(minutes=20)))
    series = series_of(random_bars(seed, 4000, volatility=0.0025, heavy_tails=True))
    fast, reference = partial_fill_run(run_setup, series, True), partial_fill_run(run_setup, series, False)
    assert_same_run(fast, reference)
    partial = [order for order in reference.session.log.orders if len(
        [fill for fill in reference.session.log.fills if fill.client_order_id == order.client_order_id]) > 1]
    assert partial, "some order should fill in parts, or the test proves little"
    assert fast.replayed < reference.replayed


@settings(max_examples=300, deadline=None)
@given(data=st.data(), spread=st.sampled_from(["0", "6", "40"]), increment=st.sampled_from(["1", "0.01"]),
       deviation=st.sampled_from([None, "0.05", "0.5", "3"]), retrying=st.booleans())
def test_bars_skipped_while_trailing_only_raise_the_peak_and_the_peak_is_set_exactly(
        data, spread, increment, deviation, retrying):
    """Decide on every quote of the bars `next_after_peaks` skips: none may sell, buy or end a wait;
    the peak they reach is the one the fast path sets from the highest skipped price."""
    n = data.draw(st.integers(1, 12))
    prices = st.decimals(min_value=Decimal(90), max_value=Decimal(110), places=2)
    bars = []
    for i in range(n):
        o, h, low, c = (data.draw(prices) for _ in range(4))
        bars.append(Bar("X/USD", T0 + timedelta(minutes=i), o, max(o, h, low, c), min(o, h, low, c), c))
    series = BarSeries.from_bars("X/USD", bars)
    spread_bps, tick = Decimal(spread), Decimal(increment)
    config = setup(ttp_enabled=True, ttp_deviation_percent=deviation or "1", take_profit_percent="1").config
    if deviation is None:
        config = replace(config, params=replace(config.params, ttp_deviation_percent=None))
    average = data.draw(st.decimals(min_value=Decimal(85), max_value=Decimal(105), places=2))
    retry_at = T0 + timedelta(seconds=data.draw(st.integers(0, 60 * n))) if retrying else None
    cycle = Cycle(1, CycleStatus.TRAILING, quantity=Decimal(1), cost=average, last_fill_price=average,
                  peak_price=data.draw(st.decimals(min_value=Decimal(85), max_value=Decimal(112), places=2)),
                  retry_at=retry_at)
    state = AssetState(cycle)
    watch = peak_watch(config, state, triggers(config, state))
    assert watch is not None
    bounds = QuoteBounds.of(series, spread_bps, tick)
    stop_at = bounds.next_after_peaks(0, watch)
    for bar in bars[:stop_at]:
        for quote in bar_quote_path(bar, spread_bps, tick):
            decision = decide(config, state, quote)
            assert not decision.commands
            assert decision.state.cycle.evolve(peak_price=None) == state.cycle.evolve(peak_price=None)
            state = decision.state
    if stop_at > 0:
        top = bounds.highest_row(series, 0, stop_at)
        bid = bar_quote_path(replace(bars[0], open=top, high=top, low=top, close=top), spread_bps, tick)[0].bid
        assert state.cycle.peak_price == max(cycle.peak_price, bid)


def test_a_setting_the_fast_path_does_not_model_replays_every_bar():
    """A parameter `supports` does not list counts only at its default; set to anything else the run
    falls back to the reference loop (the same result, every bar replayed)."""
    run_setup = setup()
    assert supports(run_setup.config)
    with_new_param = replace(run_setup, config=replace(run_setup.config, params=_ParamsWithNewFeature(
        **{f.name: getattr(run_setup.config.params, f.name) for f in fields(run_setup.config.params)},
        new_feature=Decimal(3))))
    assert not supports(with_new_param.config)
    at_default = replace(with_new_param, config=replace(with_new_param.config, params=replace(
        with_new_param.config.params, new_feature=Decimal(0))))
    assert supports(at_default.config)
    series = series_of(random_bars(1, 400))
    declined = run(with_new_param, series, fast=True)
    assert not declined.fast and declined.replayed == len(series)
    assert run(at_default, series, fast=True).fast


@dataclass(frozen=True, slots=True)
class _ParamsWithNewFeature(AssetParams):
    new_feature: Decimal = Decimal(0)  # what another helper's feature would add


@pytest.mark.parametrize("point", [{"take_profit_percent": "0.5"}, {"take_profit_percent": "2", "ttp_enabled": "false"},
                                   {"safety_order_deviation": "0.3", "cooldown_period": "0"}])
def test_a_sweep_point_has_the_reference_figures(point):
    """Every figure of a sweep row (what sweep.json holds), to the last digit; only the count of bars
    replayed differs."""
    series = load_series(REAL_DAYS, "BTC/USD")
    run_setup = setup(spec=make_asset("BTC/USD"), ttp_enabled=True, ttp_deviation_percent="0.3")
    fast, reference = run_point([run_setup], [series], point), run_point([run_setup], [series], point, fast=False)
    assert fast.pop("bars_replayed") < reference.pop("bars_replayed") == len(series)
    assert fast == reference


@settings(max_examples=500, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), bars=st.integers(1, 3000), start=st.integers(0, 3000),
       limit=st.integers(0, 3100), kinds=st.sets(st.sampled_from(["ask", "above", "below"]), min_size=1),
       reach=st.sampled_from([1e-4, 0.002, 0.02, 0.3]), holes=st.booleans(), walk=st.booleans(),
       window=st.sampled_from([512, 1, 7, 100]), prescan=st.sampled_from([8, 0, 1, 5000]))
def test_the_look_ahead_finds_the_first_bar_a_plain_scan_finds(
        seed, bars, start, limit, kinds, reach, holes, walk, window, prescan):
    """`next_candidate` (bars checked one by one up to PRESCAN, then windows doubling from
    FIRST_WINDOW) returns the first bar in [start, time limit) a bar-by-bar scan finds, else the
    limit: on a random walk or scattered prices, rare and frequent hits, bounds with NaN holes, limits
    inside, at and past the end (a remembered limit asked again), first windows from one bar up (many
    rounds), and no prescan, a one-bar prescan or one past every bar."""
    rng = np.random.default_rng(seed)
    walk = 100 * (np.exp(np.cumsum(rng.normal(0, 0.002, bars))) if walk else rng.uniform(0.9, 1.1, bars))
    ask_floor, bid_ceiling, bid_floor = walk * 1.001, walk * 0.999, walk * 0.998
    times = int((T0 - EPOCH).total_seconds()) + 60 * np.arange(bars, dtype=np.int64)
    bounds = QuoteBounds(ask_floor, bid_ceiling, bid_floor, times + LAST_QUOTE, walk)

    def level(array: np.ndarray, share: float) -> Decimal:
        return Decimal(repr(float(np.quantile(array, share))))

    found = Triggers(ask_at_or_below=level(ask_floor, reach) if "ask" in kinds else None,
                     bid_at_or_above=level(bid_ceiling, 1 - reach) if "above" in kinds else None,
                     bid_at_or_below=level(bid_floor, reach) if "below" in kinds else None,
                     at_time=T0 + timedelta(minutes=limit) if limit < bars + 50 else None)
    if holes:  # after the levels are chosen
        for array in (ask_floor, bid_ceiling, bid_floor):
            array[rng.random(bars) < 0.05] = np.nan
    hits = np.zeros(bars, dtype=bool)
    if "ask" in kinds:
        hits |= ask_floor <= float(found.ask_at_or_below) * (1 + MARGIN)
    if "above" in kinds:
        hits |= bid_ceiling >= float(found.bid_at_or_above) * (1 - MARGIN)
    if "below" in kinds:
        hits |= bid_floor <= float(found.bid_at_or_below) * (1 + MARGIN)
    end = bounds.time_limit(found.at_time)
    scanned = [i for i in range(start, min(end, bars)) if hits[i]]
    with patch.object(fast, "FIRST_WINDOW", window), patch.object(fast, "PRESCAN", prescan):
        assert bounds.next_candidate(start, found) == (scanned[0] if scanned else max(start, end))
        assert bounds.next_candidate(start, found) == (scanned[0] if scanned else max(start, end))


@settings(max_examples=400, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), bars=st.integers(1, 2000), start=st.integers(0, 2000),
       limit=st.integers(0, 2100), safety=st.sampled_from([None, 1e-3, 0.05]),
       stop=st.sampled_from([None, 0.999, 0.99, 0.95]), floor=st.sampled_from([0.0, 0.5, 0.98]),
       peak=st.sampled_from([90.0, 100.0, 120.0]), holes=st.booleans(),
       window=st.sampled_from([512, 1, 7, 100]), prescan=st.sampled_from([8, 0, 1, 5000]))
def test_the_trailing_look_ahead_finds_the_first_bar_a_plain_scan_finds(
        seed, bars, start, limit, safety, stop, floor, peak, holes, window, prescan):
    """`next_after_peaks` (a prescan bar by bar in plain floats, then numpy windows carrying the
    running peak from one to the next) returns the first bar a plain scan of its rule finds: the ask
    could reach the safety order, or the lowest bid could fall to the running peak × stop while the
    highest reaches the floor; a NaN bound (bad data) makes the running peak NaN from there on, as
    np.maximum does. Stops, floors and safety levels from never to often reached."""
    rng = np.random.default_rng(seed)
    walk = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, bars)))
    ask_floor, bid_ceiling, bid_floor = walk * 1.001, walk * 0.999, walk * 0.998
    safety_level = Decimal(repr(float(np.quantile(ask_floor, safety)))) if safety is not None else None
    floor_level = Decimal(repr(float(np.quantile(bid_ceiling, floor)))) if stop is not None else None
    if holes:  # after the levels are chosen
        for array in (ask_floor, bid_ceiling, bid_floor):
            array[rng.random(bars) < 0.03] = np.nan
    times = int((T0 - EPOCH).total_seconds()) + 60 * np.arange(bars, dtype=np.int64)
    bounds = QuoteBounds(ask_floor, bid_ceiling, bid_floor, times + LAST_QUOTE, walk)
    until = T0 + timedelta(minutes=limit) if limit < bars + 50 else None
    watch = PeakWatch(Decimal(repr(peak)), safety_level, stop, floor_level, until)

    end = bounds.time_limit(until)
    running, expected = peak, max(start, end)
    for i in range(start, min(end, bars)):
        if safety_level is not None and ask_floor[i] <= float(safety_level) * (1 + MARGIN):
            expected = i
            break
        if stop is not None and floor_level is not None:
            running = float(np.maximum(running, bid_ceiling[i]))
            if (bid_floor[i] <= running * (stop * (1 + MARGIN))
                    and bid_ceiling[i] >= float(floor_level) * (1 - MARGIN)):
                expected = i
                break
    with patch.object(fast, "FIRST_WINDOW", window), patch.object(fast, "PRESCAN", prescan):
        assert bounds.next_after_peaks(start, watch) == expected


def test_quotes_kept_across_runs_give_each_run_the_reference_result():
    """The fast path keeps the quotes it builds per (series, spread, increment) for the next runs (a
    sweep): runs after the first take them from there, with other parameters, the same spread
    written another way (10 and 10.0: quotes kept apart), or another series, and each gives the
    reference result."""
    series = series_of(random_bars(7, 3000, volatility=0.003))
    other = series_of(random_bars(8, 3000, volatility=0.003))
    for bars, spread, take_profit in [(series, "10", "0.8"), (series, "10", "1.5"), (series, "10.0", "0.8"),
                                      (other, "10", "0.8"), (series, "10", "0.8")]:
        run_setup = setup(spread_bps=spread, take_profit_percent=take_profit, cooldown_period=0)
        assert_same_run(run(run_setup, bars, fast=True), run(run_setup, bars, fast=False))
    assert fast.kept_bars(series, Decimal("10"), Decimal("0.01"))
    assert fast.kept_bars(series, Decimal("10"), Decimal("0.01")) is not fast.kept_bars(
        series, Decimal("10.0"), Decimal("0.01"))


@pytest.mark.parametrize("prescan", [8, 0, 5000])
def test_a_nan_bid_ceiling_keeps_the_trailing_look_ahead_from_selling_in_prescan_and_windows_alike(prescan):
    """Bad data: after a NaN bid ceiling the windows' running peak (np.maximum) is NaN, so no later
    pull-back counts; the plain-float prescan follows the same rule, whichever finds the bar."""
    ask_floor, bid_ceiling, bid_floor = np.full(20, 200.0), np.full(20, 100.0), np.full(20, 99.95)
    bid_ceiling[2], bid_floor[10] = np.nan, 90.0
    times = int((T0 - EPOCH).total_seconds()) + 60 * np.arange(20, dtype=np.int64)
    bounds = QuoteBounds(ask_floor, bid_ceiling, bid_floor, times + LAST_QUOTE, bid_ceiling)
    with patch.object(fast, "PRESCAN", prescan):
        assert bounds.next_after_peaks(0, PeakWatch(Decimal(100), None, 0.99, Decimal(50), None)) == 20
        bid_ceiling[2] = 100.0
        assert bounds.next_after_peaks(0, PeakWatch(Decimal(100), None, 0.99, Decimal(50), None)) == 10


def test_a_bar_time_is_the_datetime_of_its_seconds_since_the_epoch():
    """`BarSeries.time` (built as EPOCH + SECOND × seconds for speed) is the same aware datetime as
    EPOCH + timedelta(seconds=...), before and after 1970 and at the ends of a year of minutes."""
    seconds = np.array([-86_400 * 365, -60, 0, 60, 1_704_067_200, 1_735_689_540], dtype=np.int64)
    series = BarSeries("X/USD", seconds, np.full((len(seconds), 4), 100.0))
    for index, second in enumerate(seconds.tolist()):
        expected = EPOCH + timedelta(seconds=second)
        assert series.time(index) == expected and series.time(index).tzinfo is expected.tzinfo
    assert series.time(-1) == EPOCH + timedelta(seconds=1_735_689_540)


@pytest.mark.parametrize("spread", ["0", "10", "10.0", "1E+1", "37.5", "300"])
@pytest.mark.parametrize("increment", ["0.01", "0.010", "0.05", "1", "2.5"])
def test_quotes_built_with_remembered_spread_factors_are_those_of_the_formula(spread, increment):
    """`quote_around` keeps 1 ± half spread per spread object; each quote keeps the formula's digits
    and exponents (10, 10.0 and 1E+1 alike, asked twice)."""
    spread_bps, tick = Decimal(spread), Decimal(increment)
    for mid in (Decimal("101.37"), Decimal("0.0123"), Decimal("64999.99")):
        half = spread_bps / Decimal(10_000) / 2
        bid, ask = round_down(mid * (1 - half), tick), round_up(mid * (1 + half), tick)
        ask = bid + tick if ask <= bid else ask
        for _ in range(2):
            quote = quote_around("X/USD", mid, T0, spread_bps, tick)
            assert (str(quote.bid), str(quote.ask)) == (str(bid), str(ask))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(*[st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**12), places=4)] * 4),
                     min_size=1, max_size=30),
       data=st.data())
def test_the_highest_skipped_price_is_the_highest_of_the_rows_prices(rows, data):
    """`highest_row` (a float row's highest price built from its float alone; rows kept as Decimals
    compared in Decimal) is the highest of `series.prices` over the bars, digits and exponent."""
    bars = [Bar("X/USD", T0 + timedelta(minutes=i), *prices) for i, prices in enumerate(rows)]
    series = BarSeries.from_bars("X/USD", bars)
    bounds = QuoteBounds.of(series, Decimal(10), Decimal("0.01"))
    lo = data.draw(st.integers(0, len(rows) - 1))
    hi = data.draw(st.integers(lo + 1, len(rows)))
    expected = max(max(series.prices(i)) for i in range(lo, hi))
    assert str(bounds.highest_row(series, lo, hi)) == str(expected)
