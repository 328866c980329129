"""Command-line values: every number, port and NAME=VALUE goes through cli/inputs.py, and a bad one
names its field and exits 2 (argparse's usage error or the commands' UsageError)."""

from __future__ import annotations

import argparse
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli import inputs
from cli.errors import UsageError


@pytest.mark.parametrize(("text", "value"), [("1.5", Decimal("1.5")), (" 10 ", Decimal(10)),
                                             ("0.000000001", Decimal("1E-9")), ("1e3", Decimal(1000))])
def test_a_number_is_read_exactly_as_written(text, value):
    assert inputs.number(text) == value


@pytest.mark.parametrize("text", ["fast", "", "NaN", "inf", "-Infinity", "1,5"])
def test_what_is_not_a_finite_number_is_refused_saying_so(text):
    with pytest.raises(inputs.BadValue, match="is not a number"):
        inputs.number(text)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=12))
def test_a_number_round_trips_through_its_text_without_float(value):
    assert inputs.number(str(value)) == value


@pytest.mark.parametrize(("parse", "text", "why"), [
    (inputs.positive, "0", "must be > 0, got 0"),
    (inputs.positive, "-5", "must be > 0, got -5"),
    (inputs.non_negative, "-0.01", "must be ≥ 0, got -0.01"),
    (inputs.positive_seconds, "0", "must be > 0, got 0"),
    (inputs.port, "70000", "must be 0-65535"),
    (inputs.port, "eighty", "not a port number"),
])
def test_a_number_out_of_its_range_is_refused_with_the_reason(parse, text, why):
    with pytest.raises(inputs.BadValue, match=why):
        parse(text)


def test_the_range_edges_are_accepted():
    assert inputs.non_negative("0") == 0 and inputs.positive("0.01") == Decimal("0.01")
    assert inputs.port("0") == 0 and inputs.port("65535") == 65535
    assert inputs.positive_seconds("2.5") == 2.5


@pytest.mark.parametrize(("text", "pair"), [("take_profit_percent=1.5", ("take_profit_percent", "1.5")),
                                            (" a = b ", ("a", "b")), ("ttp_enabled=", ("ttp_enabled", "")),
                                            ("url=http://x/?a=b", ("url", "http://x/?a=b"))])
def test_an_assignment_splits_at_the_first_equals_sign(text, pair):
    assert inputs.assignment(text) == pair


@pytest.mark.parametrize("text", ["take_profit_percent", "=1.5", " =1"])
def test_an_assignment_without_a_name_or_equals_sign_is_refused(text):
    with pytest.raises(inputs.BadValue, match="expected NAME=VALUE"):
        inputs.assignment(text)


def test_several_assignments_become_a_dict_and_a_bad_one_names_the_option():
    assert inputs.assignments(["a=1", "b=2", "a=3"], "--params") == {"a": "3", "b": "2"}
    with pytest.raises(UsageError, match=r"^--params: 'oops': expected NAME=VALUE"):
        inputs.assignments(["a=1", "oops"], "--params")


def test_an_option_checked_after_parsing_names_itself_in_the_usage_error():
    assert inputs.option("--cash", inputs.positive, "100") == 100
    with pytest.raises(UsageError, match=r"^--cash: must be > 0, got -5$"):
        inputs.option("--cash", inputs.positive, "-5")


def test_quirks_and_faults_are_parsed_by_the_simulators_own_rules():
    assert inputs.quirk("fees_eod") == ("fees_eod", "")
    with pytest.raises(ValueError):
        inputs.quirk("no_such_quirk")
    with pytest.raises(ValueError):
        inputs.fault("no_such_fault=1")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supervisor.py sim")
    parser.add_argument("--speed", type=inputs.arg_type(inputs.positive))
    parser.add_argument("--port", type=inputs.arg_type(inputs.port))
    parser.add_argument("--quirk", type=inputs.arg_type(inputs.quirk), action="append", default=[])
    return parser


def test_an_argparse_option_parses_to_the_exact_value():
    args = _parser().parse_args(["--speed", "0.5", "--port", "0", "--quirk", "fees_eod"])
    assert (args.speed, args.port, args.quirk) == (Decimal("0.5"), 0, [("fees_eod", "")])


@pytest.mark.parametrize(("argv", "shown"), [
    (["--speed", "0"], "argument --speed: must be > 0, got 0"),
    (["--speed", "fast"], "argument --speed: 'fast' is not a number"),
    (["--port", "70000"], "argument --port: must be 0-65535"),
    (["--quirk", "no_such_quirk"], "argument --quirk:"),
])
def test_a_bad_argparse_value_exits_2_naming_the_option(argv, shown, capsys):
    with pytest.raises(SystemExit) as exit:
        _parser().parse_args(argv)
    assert exit.value.code == 2 and shown in capsys.readouterr().err
