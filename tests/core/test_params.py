"""Parameter validation: one judge for the CLI, the database loader and backtest overrides."""

from decimal import Decimal

import pytest

from dca.params import AssetParams, InvalidParams, check_params, with_overrides

D = Decimal


def test_defaults_match_the_original_schema_and_are_valid():
    params = AssetParams()
    assert (params.base_order_amount, params.safety_order_amount, params.max_safety_orders) == (10, 20, 15)
    assert (params.safety_order_deviation, params.take_profit_percent, params.cooldown_period) == (D("0.9"), 2, 120)
    assert check_params(params) == {}


@pytest.mark.parametrize(("field", "value"), [
    ("base_order_amount", "0"), ("safety_order_amount", "-5"), ("take_profit_percent", "0"),
    ("safety_order_deviation", "0"), ("safety_order_deviation", "100"), ("ttp_deviation_percent", "150"),
    ("buy_order_price_deviation_percent", "-1"), ("max_safety_orders", "-1"), ("cooldown_period", "-10"),
    ("safety_order_volume_scale", "20"), ("max_safety_orders", "99999999999"), ("cooldown_period", "99999999999"),
])
def test_out_of_range_values_are_refused_by_name(field, value):
    with pytest.raises(InvalidParams) as error:
        with_overrides(AssetParams(), {field: value})
    assert field in error.value.problems


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InvalidParams) as error:
        with_overrides(AssetParams(), {"base_order_amount": "0", "take_profit_percent": "-1",
                                       "max_safety_orders": "x"})
    assert set(error.value.problems) == {"base_order_amount", "take_profit_percent", "max_safety_orders"}


def test_trailing_needs_a_deviation():
    with pytest.raises(InvalidParams, match="ttp_deviation_percent"):
        with_overrides(AssetParams(), {"ttp_enabled": "true", "ttp_deviation_percent": "none"})
    plain = with_overrides(AssetParams(), {"ttp_enabled": "false", "ttp_deviation_percent": "none"})
    assert plain.ttp_deviation_percent is None


def test_unknown_parameters_and_non_numbers_are_refused():
    with pytest.raises(InvalidParams, match="unknown parameter"):
        with_overrides(AssetParams(), {"take_profit": "1"})
    with pytest.raises(InvalidParams, match="whole number"):
        with_overrides(AssetParams(), {"max_safety_orders": "2.5"})


def test_max_cycle_commitment_adds_the_base_and_every_safety_order():
    plain = AssetParams(base_order_amount=D(10), safety_order_amount=D(20), max_safety_orders=3)
    assert plain.max_cycle_commitment() == 70
    scaled = AssetParams(base_order_amount=D(10), safety_order_amount=D(10), max_safety_orders=3,
                         safety_order_volume_scale=D(2))
    assert scaled.max_cycle_commitment() == 10 + 10 + 20 + 40
