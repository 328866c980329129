"""Restart types, restart intensity and backoff: the pure rules a supervisor applies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.supervision import Backoff, ExitReason, Restart, RestartIntensity
from actors.supervision.restart_limits import RestartWindow

NORMAL = ExitReason.stopped()
CRASH = ExitReason.crashed(RuntimeError("boom"))


@pytest.mark.parametrize(
    ("restart", "after_normal_exit", "after_crash"),
    [
        (Restart.PERMANENT, True, True),
        (Restart.TRANSIENT, False, True),
        (Restart.TEMPORARY, False, False),
    ],
)
def test_each_restart_type_decides_by_exit_reason(
    restart: Restart, after_normal_exit: bool, after_crash: bool
) -> None:
    assert restart.restarts_after(NORMAL) is after_normal_exit
    assert restart.restarts_after(CRASH) is after_crash


def test_restart_window_allows_max_restarts_and_refuses_one_more() -> None:
    window = RestartWindow(RestartIntensity(max_restarts=3, within_s=10))

    assert [window.record(at_s) for at_s in (0, 1, 2, 3)] == [False, False, False, True]


def test_restart_window_forgets_restarts_older_than_its_span() -> None:
    window = RestartWindow(RestartIntensity(max_restarts=1, within_s=10))

    assert window.record(0) is False
    assert window.record(10) is False  # the first restart has left the 10 s window
    assert window.record(15) is True


def test_zero_max_restarts_gives_up_on_the_first_restart() -> None:
    assert RestartWindow(RestartIntensity(max_restarts=0)).record(0) is True


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    backoff = Backoff(initial_s=0.5, factor=2, max_s=3)

    assert [backoff.delay_s(n) for n in range(5)] == [0.5, 1, 2, 3, 3]


def test_backoff_none_restarts_at_once() -> None:
    assert Backoff.none().delay_s(0) == Backoff.none().delay_s(50) == 0


@given(st.integers(min_value=0, max_value=10**9))
def test_backoff_never_exceeds_its_cap_even_after_countless_restarts(restarts: int) -> None:
    backoff = Backoff()
    assert 0 < backoff.delay_s(restarts) <= backoff.max_s


def test_defaults_are_documented_values() -> None:
    assert RestartIntensity() == RestartIntensity(max_restarts=5, within_s=60.0)
    assert Backoff() == Backoff(initial_s=0.5, factor=2.0, max_s=30.0, reset_after_s=60.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RestartIntensity(max_restarts=-1),
        lambda: RestartIntensity(within_s=0),
        lambda: Backoff(factor=0.5),
        lambda: Backoff(initial_s=-1),
    ],
)
def test_nonsensical_limits_are_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()
