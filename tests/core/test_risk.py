"""The pre-trade risk gates (pure policy)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from actors.risk_board import RiskBoard
from dca.commands import CancelOrder, ScheduleTimer, SubmitOrder
from dca.cycle import Cycle, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.risk import GLOBAL, RiskLimits, RiskSnapshot, cycle_committed, cycle_reserved, vet

T = datetime(2026, 3, 1, 12, tzinfo=UTC)
D = Decimal


def _buy(kind=OrderKind.BASE, qty="0.5", limit="100"):
    return SubmitOrder("id-1", "BTC/USD", Side.BUY, OrderType.LIMIT, D(qty), D(limit), kind)


SELL = SubmitOrder("id-2", "BTC/USD", Side.SELL, OrderType.MARKET, D("0.5"), None, OrderKind.TAKE_PROFIT)
CANCEL = CancelOrder("id-3", "ex", "stale buy")


NO_LIMITS = RiskLimits()


def _gate(limits=NO_LIMITS, commands=(None,), **snapshot):
    commands = tuple(_buy() if c is None else c for c in commands)
    veto = vet(limits, RiskSnapshot(T, **snapshot), "BTC/USD", commands)
    return veto.gate if veto else None


def test_nothing_to_send_is_never_vetoed():
    assert _gate(commands=(ScheduleTimer(T, "x"),), kill_switch="halted") is None


def test_the_kill_switch_stops_orders_and_cancels_alike():
    for command in (_buy(), SELL, CANCEL):
        assert _gate(commands=(command,), kill_switch="halted") == "kill_switch"


def test_an_open_circuit_breaker_stops_orders_of_its_scope_until_it_closes():
    assert _gate(breakers={"BTC/USD": T + timedelta(minutes=1)}) == "circuit_breaker"
    assert _gate(commands=(SELL,), breakers={GLOBAL: T + timedelta(seconds=1)}) == "circuit_breaker"
    assert _gate(breakers={"ETH/USD": T + timedelta(minutes=1)}) is None
    assert _gate(breakers={"BTC/USD": T}) is None  # closed at its deadline


def test_the_daily_loss_limit_stops_buys_but_not_sells():
    limits = RiskLimits(daily_loss_limit=D(100))
    assert _gate(limits, realized_today=D("-100")) == "daily_loss_limit"
    assert _gate(limits, commands=(SELL,), realized_today=D("-500")) is None
    assert _gate(limits, realized_today=D("-99.99")) is None


def test_capital_budget_and_asset_cap_count_what_is_committed():
    assert _gate(RiskLimits(capital_budget=D(110)), committed={"ETH/USD": D(60)}) is None  # 60 + 50: at the budget
    assert _gate(RiskLimits(capital_budget=D(109)), committed={"ETH/USD": D(60)}) == "capital_budget"
    assert _gate(RiskLimits(asset_capital_cap=D(70)), committed={"BTC/USD": D(30), "ETH/USD": D(900)}) == "asset_cap"
    assert _gate(RiskLimits(asset_capital_cap=D(80)), committed={"BTC/USD": D(30)}) is None


def test_a_buy_never_costs_more_than_the_buying_power():
    assert _gate(buying_power=D("49.99")) == "cash"
    assert _gate(buying_power=D(50)) is None
    assert _gate(commands=(SELL,), buying_power=D(0)) is None


def test_every_open_buy_of_the_bot_is_held_back_from_the_buying_power_the_buyers_resting_ones_too():
    assert _gate(buying_power=D(80), reserved={"ETH/USD": D("30.01")}) == "cash"
    assert _gate(buying_power=D(80), reserved={"ETH/USD": D(30)}) is None
    assert _gate(buying_power=D(90), reserved={"BTC/USD": D(40)}) is None
    assert _gate(buying_power=D(50), reserved={"BTC/USD": D(40)}) == "cash"  # its resting ladder reserves 40


def test_a_ladder_placed_in_one_decision_is_vetted_as_one_cost():
    ladder = (_buy(OrderKind.SAFETY, qty="0.5", limit="100"), _buy(OrderKind.SAFETY, qty="1", limit="90"))
    assert _gate(commands=ladder, buying_power=D(140)) is None  # 50 + 90
    assert _gate(commands=ladder, buying_power=D("139.99")) == "cash"
    budget, cap = RiskLimits(capital_budget=D(200)), RiskLimits(asset_capital_cap=D(200))
    assert _gate(budget, commands=ladder, committed={"BTC/USD": D("60.01")}) == "capital_budget"
    assert _gate(cap, commands=ladder, committed={"BTC/USD": D(60)}) is None
    take_profit = SubmitOrder("id-9", "BTC/USD", Side.SELL, OrderType.LIMIT, D(1), D(120), OrderKind.TAKE_PROFIT)
    with_sell = (*ladder, take_profit)
    assert _gate(commands=with_sell, buying_power=D(140)) is None  # a sell costs nothing


def test_a_cycles_commitment_counts_every_live_buy_resting_ones_included():
    cycle = Cycle(id=1, status=CycleStatus.WATCHING, quantity=D(1), cost=D(100), resting=(
        LiveOrder("a", OrderKind.SAFETY, Side.BUY, OrderType.LIMIT, D(1), D(90), T, filled_qty=D("0.25")),
        LiveOrder("b", OrderKind.SAFETY, Side.BUY, OrderType.LIMIT, D(2), D(80), T),
        LiveOrder("c", OrderKind.TAKE_PROFIT, Side.SELL, OrderType.LIMIT, D(1), D(120), T),
    ))
    assert cycle_reserved(cycle) == D("67.5") + D(160)
    assert cycle_committed(cycle) == D(100) + D("227.5")


def test_max_open_cycles_stops_new_cycles_only():
    limits = RiskLimits(max_open_cycles=2)
    assert _gate(limits, open_cycles=frozenset({"ETH/USD", "SOL/USD"})) == "max_open_cycles"
    assert _gate(limits, commands=(_buy(OrderKind.SAFETY),), open_cycles=frozenset({"ETH/USD", "SOL/USD"})) is None
    assert _gate(limits, open_cycles=frozenset({"BTC/USD", "SOL/USD"})) is None  # its own cycle is open


def test_consecutive_failures_of_one_asset_open_only_its_own_breaker():
    board = RiskBoard(RiskLimits(failure_threshold=3, breaker_cooldown=timedelta(minutes=10)))
    assert board.record_order_result("BTC/USD", False, T) == []
    assert board.record_order_result("BTC/USD", False, T) == []
    assert board.record_order_result("BTC/USD", False, T) == ["BTC/USD"]
    for _ in range(10):  # after its cooldown it fails on and on: still only its own breaker
        board.record_order_result("BTC/USD", False, T)
    assert board.open_breakers(T) == ["BTC/USD"]
    assert board.record_order_result("ETH/USD", False, T) == []  # one failure elsewhere is not a pattern
    assert board.open_breakers(T + timedelta(minutes=11)) == []


def test_failures_adding_up_across_assets_open_the_global_breaker():
    board = RiskBoard(RiskLimits(failure_threshold=3, breaker_cooldown=timedelta(minutes=10)))
    for symbol in ("BTC/USD", "ETH/USD", "SOL/USD", "AVAX/USD", "LINK/USD"):
        assert board.record_order_result(symbol, False, T) == []
    assert board.record_order_result("DOGE/USD", False, T) == [GLOBAL]  # six assets, one failure each
    assert board.open_breakers(T) == [GLOBAL]


def test_an_asset_reaching_its_threshold_can_open_both_breakers_at_once():
    board = RiskBoard(RiskLimits(failure_threshold=3))
    for _ in range(3):
        board.record_order_result("BTC/USD", False, T)
    board.record_order_result("ETH/USD", False, T)
    board.record_order_result("ETH/USD", False, T)
    assert board.record_order_result("ETH/USD", False, T) == ["ETH/USD", GLOBAL]
    assert board.open_breakers(T) == ["BTC/USD", "ETH/USD", GLOBAL]


def test_a_success_anywhere_starts_the_count_across_assets_over():
    board = RiskBoard(RiskLimits(failure_threshold=3))
    for _ in range(3):
        board.record_order_result("BTC/USD", False, T)
    board.record_order_result("SOL/USD", True, T)  # the venue and the account work
    board.record_order_result("ETH/USD", False, T)
    board.record_order_result("ETH/USD", False, T)
    assert board.record_order_result("ETH/USD", False, T) == ["ETH/USD"]
    assert board.open_breakers(T) == ["BTC/USD", "ETH/USD"]


def test_a_zero_threshold_switches_both_breakers_off():
    board = RiskBoard(RiskLimits(failure_threshold=0))
    for symbol in ("BTC/USD", "ETH/USD") * 10:
        assert board.record_order_result(symbol, False, T) == []


def test_todays_realized_profit_resets_at_midnight():
    board = RiskBoard(RiskLimits())
    board.add_realized(T, D("-30"))
    board.add_realized(T, D("-20"))
    assert board.snapshot(T).realized_today == D("-50")
    assert board.snapshot(T + timedelta(days=1)).realized_today == 0
