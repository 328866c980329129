"""What the bot may sell of a pair, from the venue's position: never foreign coins, never more than free."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from dca.exchange import Position, sellable_for_bot

amounts = st.decimals(min_value=0, max_value=10**8, places=9, allow_nan=False, allow_infinity=False)


@given(qty=amounts, reserved=amounts, held=amounts, answered=st.none() | amounts)
def test_the_bot_never_sells_foreign_coins_nor_more_than_the_venue_has_free(qty, reserved, held, answered):
    free = max(qty - reserved, Decimal(0))
    position = Position("BTC/USD", qty, Decimal(100), free)
    sellable = sellable_for_bot(position, held, answered)
    foreign = max(qty - held, Decimal(0))
    assert 0 <= sellable <= free and sellable <= qty - foreign
    if answered is not None:
        assert sellable <= answered
    if reserved == 0 and answered is None:  # nothing held back: everything of the bot's that is there
        assert sellable == min(held, qty)


def test_no_position_means_nothing_to_sell():
    assert sellable_for_bot(None, Decimal(1), Decimal(5)) == 0


def test_a_position_without_qty_available_counts_its_quantity():
    assert sellable_for_bot(Position("BTC/USD", Decimal(3), Decimal(1)), Decimal(2)) == Decimal(2)
