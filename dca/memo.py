"""`per_object`: a function's results remembered per object it is given, by identity.

A backtest sweep asks the same questions of the same few objects millions of times: the shape of
the pair's price increment, the factors of its spread, a series' bounds, closes and day ends. They
are remembered by the object itself, not by its value: `Decimal("0.01") == Decimal("0.010")` but
their exponents differ, and numpy arrays do not hash. The entry holds the object, so its id cannot
be reused by another while the entry lives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])


def _as_given(more: tuple[Any, ...]) -> Hashable:
    return more


def per_object(kept: int, key: Callable[[tuple[Any, ...]], Hashable] = _as_given) -> Callable[[_F], _F]:
    """Remember `function(obj, *more)` per `obj` (by identity) and `key(more)` (the other arguments;
    by value unless `key` says how), at most `kept` results: past that the oldest is forgotten."""

    def decorate(function: _F) -> _F:
        results: dict[Hashable, tuple[object, Any]] = {}

        @functools.wraps(function)
        def remembered(obj: object, *more: Any) -> Any:
            found_by = (id(obj), key(more)) if more else id(obj)
            found = results.get(found_by)
            if found is not None and found[0] is obj:
                return found[1]
            if len(results) >= kept:
                del results[next(iter(results))]
            result = function(obj, *more)
            results[found_by] = (obj, result)
            return result

        return remembered  # type: ignore[return-value]

    return decorate
