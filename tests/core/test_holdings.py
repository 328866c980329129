"""Reconciliation of the cycle with the exchange's position (the reconciler's repairs)."""

from dca.cycle import CycleStatus
from dca.events import HoldingsChecked
from dca.strategy import decide
from tests.core.helpers import D, at, config, in_position, with_order


def test_more_coin_on_the_exchange_than_the_bot_holds_is_left_alone():
    state = in_position("1", "100")
    assert decide(config(), state, HoldingsChecked(D(3), at(1))).state is state


def test_a_small_shortfall_is_corrected_in_place():
    state = in_position("1", "100")
    decision = decide(config(), state, HoldingsChecked(D("0.999"), at(1)))
    assert decision.state.cycle.quantity == D("0.999") and decision.completed is None
    assert decision.state.cycle.cost == D(100)  # what was paid stays paid


def test_coins_that_left_the_bot_end_the_cycle_in_error_and_start_a_new_one():  # §8.44
    state = in_position("1", "100")
    decision = decide(config(), state, HoldingsChecked(D(0), at(5)))
    ended = decision.completed
    assert ended.status is CycleStatus.ERROR and ended.completed_at == at(5)
    fresh = decision.state.cycle
    assert fresh.id is None and fresh.status is CycleStatus.WATCHING and fresh.quantity == 0


def test_no_repair_while_an_order_is_live():
    state = with_order(in_position("1", "100"))
    assert decide(config(), state, HoldingsChecked(D(0), at(1))).state is state


def test_a_flat_cycle_only_corrects_its_dust():
    state = in_position("0", "0").evolve(dust=D("0.0004"))
    decision = decide(config(), state, HoldingsChecked(D("0.0001"), at(1)))
    assert decision.state.dust == D("0.0001") and decision.completed is None


def test_a_flat_cycle_adopts_foreign_coins_at_their_entry_price():
    from dca.events import PositionAdopted
    from tests.core.helpers import watching

    decision = decide(config(), watching(), PositionAdopted(D("0.5"), D(60000), at(1)))
    cycle = decision.state.cycle
    assert (cycle.quantity, cycle.cost, cycle.last_fill_price, cycle.safety_orders) == (
        D("0.5"), D(30000), D(60000), 0)
    assert cycle.status is CycleStatus.WATCHING and decision.lines[0].startswith("adopted 0.5 at 60000")


def test_adoption_is_refused_while_the_cycle_holds_coin_or_has_an_order():
    from dca.events import PositionAdopted

    for state in (in_position("1", "100"), with_order(in_position("0", "0"))):
        decision = decide(config(), state, PositionAdopted(D("0.5"), D(100), at(1)))
        assert decision.state is state and "refused" in decision.lines[0]


def test_a_large_shortfall_keeps_what_is_left_at_its_share_of_the_cost():
    """A manual sell of part of the bot's coins: the cycle goes on with the rest and sells that."""
    decision = decide(config(), in_position("1", "100"), HoldingsChecked(D("0.6"), at(1)))
    cycle = decision.state.cycle
    assert decision.completed is None and (cycle.quantity, cycle.cost) == (D("0.6"), D(60))
    assert "0.4 left the bot" in decision.lines[0]


def test_a_shortfall_comes_out_of_the_dust_first():
    state = in_position("1", "100").evolve(dust=D("0.5"))
    decision = decide(config(), state, HoldingsChecked(D("1"), at(1)))
    assert decision.state.dust == 0 and decision.state.cycle.quantity == 1 and decision.state.cycle.cost == 100


def test_the_venues_word_on_what_may_be_sold_caps_the_next_sell_for_a_minute():
    from dca.commands import SubmitOrder
    from dca.events import SellableChecked
    from tests.core.helpers import quote

    cfg = config(take_profit_percent="1")
    capped = decide(cfg, in_position("1", "100"), SellableChecked(D("0.7"), at(0))).state
    sell = decide(cfg, capped, quote(110, "110.5", t=30)).commands[0]
    assert isinstance(sell, SubmitOrder) and sell.qty == D("0.7")
    later = decide(cfg, capped, quote(110, "110.5", t=61)).commands[0]
    assert later.qty == D(1)  # an old reading no longer counts: the venue is asked again


def test_a_sell_capped_under_the_minimum_is_not_placed():
    from dca.events import SellableChecked
    from tests.core.helpers import quote

    cfg = config(take_profit_percent="1", min_order_size="0.01")
    capped = decide(cfg, in_position("1", "100"), SellableChecked(D("0.001"), at(0))).state
    decision = decide(cfg, capped, quote(110, "110.5", t=1))
    assert decision.commands == () and "cannot be sold" in decision.lines[0]
