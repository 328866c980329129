"""`dca.memo.per_object`: results remembered per object by identity, per other arguments by key."""

from decimal import Decimal

from dca.memo import per_object


def test_a_result_is_worked_out_once_per_object_not_per_equal_value():
    calls = []

    @per_object(kept=4)
    def exponent(value: Decimal) -> int:
        calls.append(value)
        return value.as_tuple().exponent  # type: ignore[return-value]

    cent, cent_again, cent_longer = Decimal("0.01"), Decimal("0.01"), Decimal("0.010")
    assert [exponent(cent), exponent(cent), exponent(cent_longer)] == [-2, -2, -3]
    assert exponent(cent_again) == -2 and len(calls) == 3  # equal but another object: worked out anew


def test_the_other_arguments_are_part_of_the_key_and_the_oldest_result_is_forgotten_first():
    calls = []

    @per_object(kept=2, key=lambda more: tuple(str(m) for m in more))
    def scaled(values: list[int], factor: Decimal) -> list[Decimal]:
        calls.append(factor)
        return [v * factor for v in values]

    values = [1, 2]
    first = scaled(values, Decimal("10"))
    assert scaled(values, Decimal("10")) is first and scaled(values, Decimal("10.0")) is not first
    scaled(values, Decimal(3))  # a third result: the first one goes
    assert scaled(values, Decimal("10")) is not first and len(calls) == 4
