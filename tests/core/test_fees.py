"""Fees as Alpaca charges them (per execution, rounded up) and as the bot learns them from the venue."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dca.cycle import Cycle, CycleStatus, Side
from dca.fees import (
    COIN_FEE_QUANTUM,
    USD_FEE_QUANTUM,
    EstimatedBuyFee,
    Execution,
    FeeRecord,
    certainly_ours,
    corrected_cycle,
    ended_cycle_sold_cost,
    execution_fee,
    fee_from_position,
    venue_fee,
)

D = Decimal
ZERO_NOTIONAL = D(0)
quantities = st.decimals(min_value=D("0.000000001"), max_value=10**8, places=9)
prices = st.decimals(min_value=D("0.000000001"), max_value=10**6, places=9)
rates = st.decimals(min_value=0, max_value=100, places=2)


@given(qty=quantities, price=prices, bps=rates)
def test_an_estimate_is_the_exact_fee_rounded_up_to_the_venues_quantum(qty, price, bps):
    exact_coin, exact_usd = qty * bps / 10_000, qty * price * bps / 10_000
    coin, usd = execution_fee(Side.BUY, qty, qty * price, bps), execution_fee(Side.SELL, qty, qty * price, bps)
    assert exact_coin <= coin < exact_coin + COIN_FEE_QUANTUM and coin % COIN_FEE_QUANTUM == 0
    assert exact_usd <= usd < exact_usd + USD_FEE_QUANTUM and usd % USD_FEE_QUANTUM == 0


def test_a_usd_fee_is_rounded_up_to_the_cent_as_in_real_cfee_records():
    assert execution_fee(Side.SELL, D(1), D("56.72"), D(25)) == D("0.15")  # 0.1418 → 0.15


@given(qty=quantities, bps=st.decimals(min_value=D("0.01"), max_value=100, places=2), before=quantities)
def test_a_position_reading_gives_the_fee_only_when_it_can_be_one(qty, bps, before):
    fee = execution_fee(Side.BUY, qty, qty, bps)
    assert fee_from_position(qty, before, before + qty - fee, bps) in (fee, None)
    if fee <= qty * max(bps * 2, D(100)) / 10_000:
        assert fee_from_position(qty, before, before + qty - fee, bps) == fee
    assert fee_from_position(qty, before, before + qty, bps) is None  # a gross position proves nothing
    assert fee_from_position(qty, before, before, bps) is None  # the position has not shown the fill yet


def test_a_zero_fee_is_a_fact_only_when_fees_are_configured_zero():
    assert fee_from_position(D(1), D(0), D(1), D(0)) == 0
    assert fee_from_position(D(1), D(0), D(1), D(25)) is None


def _buy(price, day="2026-01-01"):
    return Execution("BTCUSD", day, D(price), Side.BUY)


def test_the_venues_fee_records_are_matched_to_an_orders_executions():
    records = [FeeRecord("BTCUSD", "2026-01-01", D(100), Side.BUY, D("0.00025")),
               FeeRecord("BTCUSD", "2026-01-01", D(101), Side.BUY, D("0.00010"))]
    mine = [_buy(100), _buy(101)]
    assert venue_fee(mine, mine, records) == D("0.00035")
    assert venue_fee(mine, mine, records[:1]) is None  # one fee not posted yet (e.g. at the end of the day)
    assert venue_fee([], mine, records) is None


def test_an_ambiguous_record_is_not_trusted():
    records = [FeeRecord("BTCUSD", "2026-01-01", D(100), Side.BUY, D("0.1")),
               FeeRecord("BTCUSD", "2026-01-01", D(100), Side.BUY, D("0.2"))]
    both = [_buy(100), _buy(100)]
    assert venue_fee(both[:1], both, records) is None
    same = [records[0], records[0]]
    assert venue_fee(both[:1], both, same) == D("0.1")  # equal amounts: whichever it is, the fee is known


@given(estimated=st.decimals(min_value=0, max_value=5, places=9), confirmed=st.decimals(min_value=0, max_value=5,
                                                                                          places=9))
def test_a_correction_moves_the_books_by_exactly_the_difference(estimated, confirmed):
    cycle = Cycle(1, CycleStatus.WATCHING, quantity=D(10), cost=D(1000), buy_fees=estimated, sell_fees=estimated,
                  realized_pnl=D(5))
    bought = corrected_cycle(cycle, Side.BUY, estimated, confirmed)
    assert bought.quantity + bought.buy_fees == cycle.quantity + cycle.buy_fees and bought.buy_fees == confirmed
    sold = corrected_cycle(cycle, Side.SELL, estimated, confirmed)
    assert sold.realized_pnl + sold.sell_fees == cycle.realized_pnl + cycle.sell_fees and sold.sell_fees == confirmed
    assert corrected_cycle(cycle, Side.SELL, estimated, estimated) == cycle


def test_a_confirmed_fee_corrects_the_current_cycle_once_and_an_ended_cycles_buy_into_the_dust():
    from dca.events import FeeConfirmed
    from dca.strategy import decide
    from tests.core.helpers import at, config, in_position, with_order

    state = in_position("1", "100")
    current = decide(config(), state, FeeConfirmed("o-1", Side.BUY, D("0.0025"), D("0.003"), True, at(1)))
    assert current.state.cycle.quantity == D("0.9995") and current.confirmed_fee is not None
    ended = decide(config(), state, FeeConfirmed("o-0", Side.BUY, D("0.0025"), D("0.002"), False, at(1)))
    assert ended.state.cycle == state.cycle and ended.state.dust == D("0.0005")
    sold = decide(config(), state, FeeConfirmed("o-0", Side.SELL, D("0.14"), D("0.2"), False, at(1)))
    assert sold.state == state and sold.confirmed_fee is not None  # the store corrects the ended cycle's P/L
    live = with_order(state)
    assert decide(config(), live, FeeConfirmed(live.cycle.order.client_order_id, Side.BUY, D(0), D(1), True,
                                               at(1))).state is live


@given(filled=quantities, configured=rates, charged=st.decimals(min_value=0, max_value=100, places=2),
       foreign=quantities)
def test_a_sell_capped_at_what_is_certainly_ours_never_takes_foreign_coins(filled, configured, charged, foreign):
    """A buy's fee is only estimated (configured rate) while the venue charges any plausible tier: the
    capped sell fits in what the bot really got, so the foreign coins on the pair stay whole."""
    estimated = execution_fee(Side.BUY, filled, ZERO_NOTIONAL, configured)
    really_charged = execution_fee(Side.BUY, filled, ZERO_NOTIONAL, charged)
    if really_charged > max(2 * configured, D(100)) * filled / 10_000:
        return  # more than a plausible fee: a position reading would not have taken it for one either
    counted = filled - estimated
    sell = certainly_ours(counted, [EstimatedBuyFee(filled, estimated)], configured)
    really_ours = filled - really_charged
    assert ZERO_NOTIONAL <= sell <= really_ours
    venue = really_ours + foreign
    assert venue - sell >= foreign
    # what was held back is settled by the venue's fee: the books' rest equals what is left for the bot
    assert counted - sell - (really_charged - estimated) == really_ours - sell


def test_nothing_is_held_back_when_every_buy_fee_is_confirmed():
    assert certainly_ours(D("1.5"), [], D(25)) == D("1.5")


@given(cost=st.decimals(min_value=1, max_value=10**6, places=2), coins=quantities,
       share=st.decimals(min_value=D("0.01"), max_value=1, places=2),
       change=st.decimals(min_value=0, max_value=D("0.01"), places=4))
def test_an_ended_cycles_sold_coins_carry_their_share_of_the_cost_of_the_coins_really_got(cost, coins, share, change):
    fee_change = coins * change
    sold_cost = cost * share
    corrected = ended_cycle_sold_cost(sold_cost, coins, fee_change)
    assert abs(corrected * (coins - fee_change) - sold_cost * coins) <= D("1e-20") * cost * coins  # cost per coin
