"""Deal start conditions and the price range in the core: the language, and the gate on new cycles."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dca.commands import SubmitOrder
from dca.conditions import (
    Close,
    Comparison,
    Condition,
    ConditionError,
    ConditionReading,
    Indicator,
    IndicatorKind,
    Number,
    Operator,
    Timeframe,
    parse_condition,
)
from dca.cycle import CycleStatus
from dca.events import ConditionChecked
from dca.params import AssetParams, InvalidParams, with_overrides
from dca.strategy import decide, start_reading_due, start_waits_for
from tests.core.helpers import T0, D, at, config, in_position, quote, watching

RSI_BELOW_30 = "rsi(14) < 30"

# --- the language --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "canonical"), [
    ("rsi(14) < 30", "rsi(14) < 30"),
    ("rsi(14,1h)<30", "rsi(14, 1h) < 30"),
    ("close < sma(50)", "close < sma(50)"),
    ("close < bb_lower(20, 2)", "close < bb_lower(20, 2)"),
    ("ema(9) > ema(21)", "ema(9) > ema(21)"),
    ("RSI(14, 4H) <= 35.5 AND close >= bb_middle(20, 2.5, 15m)",
     "rsi(14, 4h) <= 35.5 and close >= bb_middle(20, 2.5, 15m)"),
])
def test_the_examples_of_the_issue_parse_to_their_canonical_text(text, canonical):
    assert parse_condition(text).text == canonical
    assert parse_condition(canonical) == parse_condition(text)


def test_a_condition_parses_into_a_typed_tree():
    parsed = parse_condition("rsi(14, 1h) < 30 and close < bb_lower(20, 2)")
    assert parsed == Condition((
        Comparison(Indicator(IndicatorKind.RSI, 14, Timeframe.H1), Operator.LT, Number(D(30), "30")),
        Comparison(Close(), Operator.LT, Indicator(IndicatorKind.BB_LOWER, 20, Timeframe.M1, D(2), "2")),
    ))


@pytest.mark.parametrize(("text", "message"), [
    ("rsi(14) << 30", "unknown operator '<<' (use <, <=, > or >=) at column 9"),
    ("rsi(14) = 30", "unknown operator '=' (use <, <=, > or >=) at column 9"),
    ("rsi(14, 2h) < 30", "unknown timeframe '2h' (known: 1m, 5m, 15m, 1h, 4h, 1d) at column 9"),
    ("rsi(14", "expected ')' to close rsi(, found the end at column 7"),
    ("macd(12) < 0", "unknown name 'macd' (known: close, rsi, sma, ema, bb_lower, bb_middle, bb_upper) at column 1"),
    ("close < sma(50) and", "expected a number, close or an indicator, found the end at column 20"),
    ("close < sma(50) or close > 3", "unexpected 'or' (expected 'and' or the end) at column 17"),
    ("bb_lower(20) < close", "expected ',' and a width in standard deviations after bb_lower's periods, "
                             "found ')' at column 12"),
    ("sma(0) < close", "sma: periods must be between 1 and 1000 at column 5"),
    ("sma(2.5) < close", "sma: expected a whole number of periods, found '2.5' at column 5"),
    ("30 < 40", "compares two numbers at column 1"),
    ("", "a condition is needed, e.g. rsi(14) < 30 at column 1"),
])
def test_a_mistake_is_named_with_its_column(text, message):
    with pytest.raises(ConditionError) as error:
        parse_condition(text)
    assert str(error.value) == message


def test_a_lookback_beyond_what_the_driver_holds_is_refused():
    assert parse_condition("rsi(14, 1d) < 30").lookback == timedelta(days=72)  # within the 200 days
    with pytest.raises(ConditionError, match=r"ema\(100, 1d\) needs 501 days .* at column 9"):
        parse_condition("close < ema(100, 1d)")


def test_a_bad_condition_is_refused_naming_the_field_and_the_column():
    with pytest.raises(InvalidParams) as error:
        with_overrides(AssetParams(), {"start_condition": "rsi(14) << 30"})
    assert str(error.value) == "start_condition: unknown operator '<<' (use <, <=, > or >=) at column 9"


def test_a_condition_is_stored_in_its_canonical_text_and_none_switches_it_off():
    params = with_overrides(AssetParams(), {"start_condition": "rsi(14,1h)<30"})
    assert params.start_condition == "rsi(14, 1h) < 30"
    assert with_overrides(params, {"start_condition": "none"}).start_condition is None


@pytest.mark.parametrize(("overrides", "field", "why"), [
    ({"min_price": "0"}, "min_price", "must be greater than 0"),
    ({"min_price": "100", "max_price": "50"}, "max_price", "must be at least min_price (100)"),
    ({"stop_loss_percent": "100"}, "stop_loss_percent", "must be between 0 and 100 (exclusive)"),
    ({"stop_loss_percent": "0"}, "stop_loss_percent", "must be between 0 and 100 (exclusive)"),
    ({"stop_loss_timeout": "-1"}, "stop_loss_timeout", "must be between 0 and 2147483647 seconds"),
    ({"stop_loss_timeout": "1.5"}, "stop_loss_timeout", "expected a whole number, got '1.5'"),
])
def test_range_and_stop_loss_parameters_are_validated_by_name(overrides, field, why):
    with pytest.raises(InvalidParams) as error:
        with_overrides(AssetParams(), overrides)
    assert error.value.problems[field] == why


def test_range_and_stop_loss_are_off_by_default_and_accept_sane_values():
    assert (AssetParams().min_price, AssetParams().max_price, AssetParams().stop_loss_percent) == (None, None, None)
    assert AssetParams().stop_loss_timeout == 0 and AssetParams().start_condition is None
    params = with_overrides(AssetParams(), {"min_price": "20000", "max_price": "90000", "stop_loss_percent": "12.5",
                                            "stop_loss_timeout": "300"})
    assert (params.min_price, params.max_price, params.stop_loss_percent, params.stop_loss_timeout) == (
        D(20000), D(90000), D("12.5"), 300)


operands = st.one_of(
    st.just("close"),
    st.builds(lambda k, n, tf: f"{k}({n}{', ' + tf if tf != '1m' else ''})",
              st.sampled_from(["rsi", "sma", "ema"]), st.integers(1, 60), st.sampled_from(["1m", "5m", "15m", "1h"])),
    st.builds(lambda k, n, w: f"{k}({n}, {w})", st.sampled_from(["bb_lower", "bb_middle", "bb_upper"]),
              st.integers(1, 60), st.sampled_from(["1", "2", "2.5"])),
)
comparisons = st.builds(lambda a, op, b: f"{a} {op} {b}", operands, st.sampled_from(["<", "<=", ">", ">="]),
                        st.one_of(operands, st.sampled_from(["30", "0.5", "70000"])))


@settings(max_examples=300, deadline=None)
@given(st.lists(comparisons, min_size=1, max_size=4))
def test_the_canonical_text_parses_back_to_the_same_tree(parts):
    parsed = parse_condition(" and ".join(parts))
    assert parsed.text == " and ".join(parts)
    assert parse_condition(parsed.text) == parsed


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="rsiemaclobund_0123456789.,()<>=! hm", max_size=40))
def test_any_text_either_parses_or_names_a_column_inside_it(text):
    try:
        parse_condition(text)
    except ConditionError as error:
        assert 1 <= error.column <= len(text) + 1


# --- the gate on new cycles ------------------------------------------------------------------------


def reading(holds: bool, minute: int = 0, condition: str = RSI_BELOW_30) -> ConditionReading:
    return ConditionReading(condition, T0 + timedelta(minutes=minute), holds, (("rsi(14)", 25.0 if holds else 41.0),),
                            "" if holds else condition)


def with_condition(**params):
    cfg = config(**params)
    return replace(cfg, params=replace(cfg.params, start_condition=RSI_BELOW_30))


def base_order(decision) -> SubmitOrder | None:
    return next((c for c in decision.commands if isinstance(c, SubmitOrder)), None)


def test_a_flat_cycle_waits_for_a_reading_that_holds_before_its_base_order():
    cfg, state = with_condition(), watching()
    assert base_order(decide(cfg, state, quote("100", "100.05", t=5))) is None  # no reading yet
    waiting = decide(cfg, state, ConditionChecked(reading(False), at(1))).state
    assert base_order(decide(cfg, waiting, quote("100", "100.05", t=5))) is None
    holding = decide(cfg, waiting, ConditionChecked(reading(True), at(1))).state
    assert base_order(decide(cfg, holding, quote("100", "100.05", t=5))) is not None


def test_a_reading_answers_for_the_quotes_of_its_own_minute_only():
    cfg = with_condition()
    state = decide(cfg, watching(), ConditionChecked(reading(True, minute=0), at(1))).state
    assert base_order(decide(cfg, state, quote("100", "100.05", t=59))) is not None
    assert base_order(decide(cfg, state, quote("100", "100.05", t=60))) is None  # the next minute needs its own
    assert start_reading_due(cfg, state, T0) is None and start_reading_due(cfg, state, at(60)) == RSI_BELOW_30


def test_a_reading_of_an_older_condition_does_not_count_after_the_condition_changed():
    cfg = with_condition()
    state = decide(cfg, watching(), ConditionChecked(reading(True, condition="rsi(7) < 20"), at(1))).state
    assert base_order(decide(cfg, state, quote("100", "100.05", t=5))) is None
    assert "first reading" in (start_waits_for(cfg, state, quote("100", "100.05", t=5)) or "")


def test_the_reading_is_noted_when_its_truth_changes_not_every_minute():
    cfg = with_condition()
    first = decide(cfg, watching(), ConditionChecked(reading(False), at(1)))
    again = decide(cfg, first.state, ConditionChecked(reading(False, minute=1), at(61)))
    flipped = decide(cfg, again.state, ConditionChecked(reading(True, minute=2), at(121)))
    assert len(first.notes) == 1 and again.notes == () and len(flipped.notes) == 1
    assert not first.durable  # a reading is not stored: the driver reads the bars again after a restart


def test_a_cycle_in_position_ignores_the_start_condition():
    cfg = with_condition(safety_order_deviation="1")
    state = in_position("0.1", "100")
    decision = decide(cfg, state, quote("98", "98.9"))  # a safety order is due, no reading at all
    assert base_order(decision) is not None and start_reading_due(cfg, state, T0) is None


@pytest.mark.parametrize(("ask", "starts"), [("99.99", False), ("100", True), ("150", True), ("150.01", False)])
def test_the_price_range_bounds_where_a_cycle_starts(ask, starts):
    cfg = config(min_price="100", max_price="150")
    decision = decide(cfg, watching(), quote(str(D(ask) - D("0.01")), ask))
    assert (base_order(decision) is not None) is starts
    if not starts:
        assert "price" in (start_waits_for(cfg, watching(), quote(str(D(ask) - D("0.01")), ask)) or "")


def test_the_price_range_does_not_stop_safety_orders_or_the_take_profit():
    cfg = config(min_price="100", max_price="150", safety_order_deviation="1")
    assert base_order(decide(cfg, in_position("0.1", "100"), quote("90", "90.01"))) is not None  # below min


def test_a_cooldown_that_ends_waits_for_the_reading_of_its_minute():
    cfg = with_condition()
    state = watching().evolve(cycle=watching().cycle.evolve(status=CycleStatus.COOLDOWN, cooldown_until=at(30)))
    assert start_reading_due(cfg, state, T0) is None  # nothing to read while cooling down
    ended = decide(cfg, state, quote("100", "100.05", t=31))
    assert ended.state.cycle.status is CycleStatus.WATCHING and base_order(ended) is None
    assert start_reading_due(cfg, ended.state, T0) == RSI_BELOW_30


events = st.lists(st.one_of(
    st.tuples(st.just("quote"), st.integers(0, 600), st.sampled_from(["95", "100", "120", "160"])),
    st.tuples(st.just("reading"), st.integers(0, 10), st.booleans()),
), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(script=events)
def test_no_base_order_without_a_holding_reading_of_its_minute_and_a_price_in_range(script):
    cfg = with_condition(min_price="100", max_price="150")
    state = watching()
    for kind, when, value in sorted(script, key=lambda e: (e[1] * 60 if e[0] == "reading" else e[1], e[0])):
        if kind == "reading":
            event = ConditionChecked(reading(value, minute=when), at(when * 60))
        else:
            event = quote(value, value, t=when)
        decision = decide(cfg, state, event)
        order = base_order(decision)
        if order is not None:
            last = state.start_reading
            assert last is not None and last.holds and last.as_of == event.time.replace(second=0)
            assert D(100) <= order.limit_price <= D(150)
        state = decision.state
        if state.cycle.order is not None:
            break
