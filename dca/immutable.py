"""`immutable`: a frozen, slotted dataclass built at close to the cost of a mutable one.

The core's values (a cycle, its orders, every event and decision) are frozen dataclasses, and a
backtest sweep builds millions of them. A frozen dataclass's generated `__init__` stores each field
with `object.__setattr__(self, name, value)`, a generic call per field, because its own `__setattr__`
refuses; a mutable slotted dataclass stores each field with a plain slot write, several times faster
(a 25-field class: ~4.7 µs against ~0.5 µs).

So `immutable` makes two classes of the one written:

* the *builder*, the written class as a mutable slotted dataclass (its fields, methods, `__eq__`,
  `__hash__` over every field as a frozen dataclass has, `__repr__`, `__match_args__`);
* the class the name is bound to, a subclass of the builder with no slots of its own (so an object
  can move between the two: one memory layout) whose `__setattr__` and `__delattr__` refuse with
  `dataclasses.FrozenInstanceError`, as a frozen dataclass's do.

Its `__new__` (generated with the builder's own parameters, so a call is not repacked) builds the
object as a builder, with the builder's fast `__init__`, and then makes it the frozen class by
assigning its `__class__` (CPython allows that between classes of one layout). Every object anyone
sees is of the frozen class: it compares, hashes, prints, pickles, copies and refuses assignment as
`@dataclass(frozen=True, slots=True)` would (tests/core/test_immutable.py). `evolved` builds its
copies the same way, without the call to `__new__` (about a sixth of a frozen class's cost).

Only leaf classes: a class decorated here cannot be subclassed into another dataclass (the core has
none).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")

# frozen class → its builder (`evolved` builds through it)
BUILDERS: dict[type, type] = {}


@dataclass_transform(frozen_default=True)
def immutable(cls: type[_T]) -> type[_T]:
    """`@dataclass(frozen=True, slots=True)`, built several times faster (see the module's text)."""
    builder: Any = dataclass(slots=True, unsafe_hash=True)(cls)  # eq + a hash of every field, as frozen
    namespace = {
        "__slots__": (), "__new__": _new_of(builder), "__init__": object.__init__,  # __new__ did it all
        "__setattr__": _refuse_assignment, "__delattr__": _refuse_deletion, "__reduce__": _reduce,
        "__module__": builder.__module__, "__qualname__": builder.__qualname__, "__doc__": builder.__doc__,
    }
    frozen: Any = type(builder.__name__, (builder,), namespace)
    builder.__qualname__ = f"{frozen.__qualname__}.builder"  # only ever seen while an object is built
    BUILDERS[frozen] = builder
    return frozen  # type: ignore[no-any-return]


def _new_of(builder: type) -> Callable[..., Any]:
    """`def __new__(cls, <the builder's parameters>)`: build a builder, make it `cls`."""
    parameters = list(inspect.signature(builder.__init__).parameters.values())[1:]  # without self
    # The names the builder's `__init__` sees (its module's) too, so `typing.get_type_hints` resolves
    # the annotations as it does for a dataclass's own `__init__`.
    scope: dict[str, Any] = {**builder.__init__.__globals__, "_build": builder}
    declared, passed = [], []
    for index, parameter in enumerate(parameters):
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in declared:
            declared.append("*")
        if parameter.default is inspect.Parameter.empty:
            declared.append(parameter.name)
        else:  # the very default object, a default factory's marker included: the builder resolves it
            scope[f"_default_{index}"] = parameter.default
            declared.append(f"{parameter.name}=_default_{index}")
        passed.append(f"{parameter.name}={parameter.name}")
    exec(f"def __new__(cls, {', '.join(declared)}):\n"
         f"    built = _build({', '.join(passed)})\n"
         f"    built.__class__ = cls\n"
         f"    return built\n", scope)
    new = scope["__new__"]
    new.__signature__ = inspect.signature(builder.__init__)  # annotated, for `inspect` and hypothesis
    new.__annotations__ = dict(builder.__init__.__annotations__)
    return staticmethod(new)  # type: ignore[return-value]


def _refuse_assignment(_self: object, name: str, _value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_deletion(_self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _reduce(self: object) -> tuple[type, tuple[object, ...]]:
    """Pickle and copy rebuild the object from its fields, through the class (and so its `__new__`)."""
    return type(self), tuple(getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]


_FIELDS: dict[type, tuple[Callable[[object], tuple[object, ...]], dict[str, int], type]] = {}
_Evolving = TypeVar("_Evolving")


def evolved(obj: _Evolving, changes: dict[str, object]) -> _Evolving:
    """`dataclasses.replace(obj, **changes)` at a fraction of its cost (it runs on every decision, and
    a backtest sweep makes millions): every field read at once by an `attrgetter` built once per
    class, the changed ones put in by position, and an `immutable` class built through its builder
    (a plain slot write per field instead of a generic call)."""
    kind = type(obj)
    known = _FIELDS.get(kind)
    if known is None:
        names = tuple(f.name for f in fields(kind))  # type: ignore[arg-type]
        known = _FIELDS.setdefault(kind, (attrgetter(*names), {name: i for i, name in enumerate(names)},
                                          BUILDERS.get(kind, kind)))
    read, position, build = known
    values = list(read(obj))
    for name, value in changes.items():
        index = position.get(name)
        if index is None:
            raise TypeError(f"{kind.__name__} has no field {name}")
        values[index] = value
    built = build(*values)
    if build is not kind:
        built.__class__ = kind  # the builder's object becomes the frozen class's (one layout)
    return built  # type: ignore[no-any-return]
