"""`dca.immutable`: built faster, but in every observable way a `@dataclass(frozen=True, slots=True)`."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import typing
from dataclasses import FrozenInstanceError, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dca.cycle import Cycle, CycleStatus, new_cycle
from dca.immutable import immutable


@immutable
class Fill:
    order: str
    qty: Decimal
    price: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    at: datetime | None = field(default=None, kw_only=True)

    @property
    def notional(self) -> Decimal:
        return self.qty * (self.price or Decimal(0))


@dataclass(frozen=True, slots=True)
class FrozenFill:  # the same class, as the standard library freezes it
    order: str
    qty: Decimal
    price: Decimal | None = None
    tags: list[str] = field(default_factory=list)
    at: datetime | None = field(default=None, kw_only=True)


values = st.tuples(st.text(max_size=5), st.decimals(allow_nan=False, allow_infinity=False),
                   st.none() | st.decimals(allow_nan=False, allow_infinity=False),
                   st.none() | st.datetimes(timezones=st.just(UTC)))


@given(values, values)
def test_equality_hash_repr_and_fields_are_a_frozen_dataclasses(one, other):
    a, b = Fill(*one[:3], at=one[3]), Fill(*other[:3], at=other[3])
    fa, fb = FrozenFill(*one[:3], at=one[3]), FrozenFill(*other[:3], at=other[3])
    assert (a == b) == (fa == fb)
    assert repr(a).removeprefix("Fill") == repr(fa).removeprefix("FrozenFill")
    assert dataclasses.astuple(a) == dataclasses.astuple(fa)
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(fa)]
    stamp = one[3]  # without the (unhashable) list, equal objects hash alike and as a frozen one does
    assert hash(new_cycle().evolve(completed_at=stamp)) == hash(new_cycle().evolve(completed_at=stamp))


def test_a_hash_covers_every_field_as_a_frozen_dataclasses_does():
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    one, same = new_cycle(), new_cycle()
    assert hash(one) == hash(same) and one == same
    assert {one: 1}[same] == 1
    assert hash(one.evolve(cooldown_until=stamp)) != hash(one)
    with pytest.raises(TypeError):  # a list field makes it unhashable, as it would a frozen dataclass
        hash(Fill("a", Decimal(1)))
    with pytest.raises(TypeError):
        hash(FrozenFill("a", Decimal(1)))


def test_assigning_or_deleting_a_field_is_refused():
    fill = Fill("a", Decimal(1))
    with pytest.raises(FrozenInstanceError):
        fill.qty = Decimal(2)  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del fill.qty
    with pytest.raises(FrozenInstanceError):
        fill.other = 1  # type: ignore[attr-defined]
    assert fill.qty == Decimal(1)


def test_defaults_factories_and_keyword_only_fields_behave_as_declared():
    one, two = Fill("a", Decimal(1)), Fill("b", Decimal(2), Decimal(3), ["x"], at=None)
    assert one.tags == [] and one.tags is not Fill("c", Decimal(1)).tags  # a fresh list each time
    assert two.tags == ["x"] and two.notional == Decimal(6)
    with pytest.raises(TypeError):
        Fill("a", Decimal(1), None, [], None)  # type: ignore[misc]  # `at` is keyword-only
    with pytest.raises(TypeError):
        Fill("a")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Fill("a", Decimal(1), nonsense=1)  # type: ignore[call-arg]


def test_pickle_copy_and_deepcopy_give_equal_frozen_objects():
    cycle = new_cycle().evolve(id=7, quantity=Decimal("0.5"))
    for clone in (pickle.loads(pickle.dumps(cycle)), copy.copy(cycle), copy.deepcopy(cycle)):
        assert clone == cycle and type(clone) is Cycle
        with pytest.raises(FrozenInstanceError):
            clone.id = 8  # type: ignore[misc]


def test_evolve_and_replace_build_the_frozen_class_with_the_changes():
    cycle = new_cycle()
    for changed in (cycle.evolve(id=3, status=CycleStatus.COOLDOWN),
                    dataclasses.replace(cycle, id=3, status=CycleStatus.COOLDOWN)):
        assert type(changed) is Cycle and changed.id == 3 and changed.status is CycleStatus.COOLDOWN
        assert changed == Cycle(3, CycleStatus.COOLDOWN) and cycle.id is None
        with pytest.raises(FrozenInstanceError):
            changed.id = 4  # type: ignore[misc]
    assert cycle.evolve() == cycle and cycle.evolve(order=None).order is None
    with pytest.raises(TypeError):
        cycle.evolve(nonsense=1)


def test_evolve_keeps_keyword_only_fields_and_gives_factories_no_second_call():
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    fill = Fill("a", Decimal(1), tags=["x"], at=stamp)
    moved = fill.evolve(qty=Decimal(2))  # type: ignore[attr-defined]
    assert moved == Fill("a", Decimal(2), None, ["x"], at=stamp) and moved.tags is fill.tags
    assert fill.evolve(at=None).at is None  # type: ignore[attr-defined]


def test_a_class_may_not_write_its_own_evolve():
    with pytest.raises(TypeError, match="generates `evolve`"):
        @immutable
        class Twice:
            value: int

            def evolve(self, **changes: object) -> Twice:
                return self


def test_signature_and_type_hints_are_the_fields():
    assert str(inspect.signature(Fill)) == str(inspect.signature(FrozenFill))
    assert typing.get_type_hints(Fill.__new__)["price"] == Decimal | None
    assert dataclasses.is_dataclass(Fill) and Fill.__match_args__ == FrozenFill.__match_args__
    match Fill("a", Decimal(1)):
        case Fill(order="a", qty=qty):
            assert qty == Decimal(1)
        case _:
            pytest.fail("a class pattern must match its fields")
