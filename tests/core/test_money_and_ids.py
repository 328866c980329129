"""Decimal money helpers and client_order_ids."""

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dca.money import cents, percent_above, percent_below, round_down, round_nearest, round_up, to_decimal
from dca.order_ids import client_order_id, is_ours, make_namespace, parse_client_order_id

D = Decimal


def test_floats_are_refused_as_money():
    with pytest.raises(TypeError):
        to_decimal(0.1)  # type: ignore[arg-type]
    assert to_decimal("0.1") + to_decimal("0.2") == D("0.3")
    with pytest.raises(ValueError):
        to_decimal("NaN")


@pytest.mark.parametrize(("value", "inc", "down", "up"), [
    ("0.00021739130434782607", "0.000000001", "0.000217391", "0.000217392"),
    ("123.456", "0.5", "123.0", "123.5"),
    ("95010.7", "1", "95010", "95011"),
    ("5", "0.01", "5.00", "5.00"),
])
def test_rounding_to_an_increment(value, inc, down, up):
    assert round_down(D(value), D(inc)) == D(down)
    assert round_up(D(value), D(inc)) == D(up)


@given(st.decimals(min_value=0, max_value=10**7, places=12), st.sampled_from(["0.000000001", "0.01", "0.5", "1"]))
def test_rounded_values_bracket_the_value_within_one_increment(value, inc):
    inc = D(inc)
    low, high = round_down(value, inc), round_up(value, inc)
    assert low <= value <= high and high - low in (0, inc)
    assert (low / inc) == (low / inc).to_integral_value()
    assert low <= round_nearest(value, inc) <= high


def test_percent_helpers_and_cents():
    assert percent_below(D(50000), D(2)) == D(49000)
    assert percent_above(D(50000), D(1)) == D(50500)
    assert cents(D("10.005")) == D("10.00") and cents(D("10.015")) == D("10.02")


def test_client_order_ids_are_deterministic_and_recognised():
    namespace = make_namespace("dca", "k3f9q")
    order_id = client_order_id(namespace, 2, 17, 3)
    assert order_id == "dca-k3f9q-2-17-3" and len(order_id) <= 36
    ref = parse_client_order_id(order_id)
    assert (ref.namespace, ref.asset_id, ref.cycle_id, ref.sequence) == ("dca-k3f9q", 2, 17, 3)
    assert is_ours(order_id, namespace)


@pytest.mark.parametrize("foreign", [None, "", "manual-order", "dca-zzzzz-2-17-3", "61e69015-8549-4bfd-b9c3-01e75843"])
def test_other_installations_and_manual_orders_are_foreign(foreign):
    assert not is_ours(foreign, "dca-k3f9q")


def test_bad_namespaces_are_refused():
    with pytest.raises(ValueError):
        make_namespace("DCA", "k3f9q")


@pytest.mark.parametrize(("inc", "shown"), [("0.01", "5.00"), ("0.010", "5.000"), ("1", "5"), ("1E+1", "0E+1")])
def test_rounding_keeps_the_spelling_of_each_increment_even_when_equal_increments_alternate(inc, shown):
    # 0.01 == 0.010, yet each rounds to its own exponent; asked twice, and between the others
    for spelling in (inc, "0.010", inc):
        assert str(round_down(D("5"), D(spelling))) == str(round_down(D("5"), D(spelling)))
    assert str(round_down(D("5"), D(inc))) == shown
    assert str(round_up(D("5"), D(inc))) == ("1E+1" if inc == "1E+1" else shown)


def _to_multiple_by_division(value: Decimal, increment: Decimal, rounding: str) -> Decimal:
    """The general way `dca.money` rounds to a multiple (any increment): divide, round, multiply."""
    steps = (value / increment).to_integral_value(rounding=rounding)
    return (steps * increment).quantize(increment) if increment.as_tuple().exponent < 0 else steps * increment


@given(st.integers(0, 14).flatmap(lambda places: st.decimals(
           allow_nan=False, allow_infinity=False, min_value=-10**12, max_value=10**12, places=places)),
       st.sampled_from(["0.01", "1E-2", "0.000000001", "1E-9", "1", "0.1", "0.010", "0.5", "0.0025", "10", "1E+1"]),
       st.sampled_from([ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_EVEN]))
def test_rounding_to_a_power_of_ten_by_quantize_gives_the_very_decimal_of_the_general_way(value, step, rounding):
    """Digits and exponent alike (str), or the same refusal: the fast way for 0.01-like increments
    must be invisible."""
    increment = Decimal(step)
    try:
        expected: Decimal | type[Exception] = _to_multiple_by_division(value, increment, rounding)
    except InvalidOperation:
        expected = InvalidOperation
    rounded = {ROUND_FLOOR: round_down, ROUND_CEILING: round_up, ROUND_HALF_EVEN: round_nearest}[rounding]
    if expected is InvalidOperation:
        with pytest.raises(InvalidOperation):
            rounded(value, increment)
    else:
        assert str(rounded(value, increment)) == str(expected)
