"""`Cycle.evolve` / `AssetState.evolve`: exactly `dataclasses.replace`, only cheaper."""

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from dca.cycle import AssetState, CycleStatus, new_cycle


def test_evolve_changes_the_named_fields_and_keeps_every_other_one_as_replace_does():
    cycle = new_cycle().evolve(id=7, quantity=Decimal("0.5"), cost=Decimal("100"))
    state = AssetState(cycle, last_sell_price=Decimal("99"), dust=Decimal("0.000000001"))
    changed = {"status": CycleStatus.BUYING, "peak_price": Decimal("101.5"),
               "retry_at": datetime(2026, 1, 1, tzinfo=UTC)}
    assert cycle.evolve(**changed) == replace(cycle, **changed)
    assert cycle.evolve() == cycle and cycle.evolve() is not cycle
    assert state.evolve(dust=Decimal(0), cycle=cycle.evolve(id=8)) == replace(state, dust=Decimal(0),
                                                                              cycle=replace(cycle, id=8))
    assert state.evolve(sellable=Decimal(1)).last_sell_price == Decimal("99")


def test_evolve_refuses_a_field_the_class_does_not_have():
    with pytest.raises(TypeError, match=re.escape("Cycle.evolve() got an unexpected keyword argument 'colour'")):
        new_cycle().evolve(colour="red")
    with pytest.raises(TypeError, match=re.escape("AssetState.evolve() got an unexpected keyword argument 'cycles'")):
        AssetState(new_cycle()).evolve(cycles=())
