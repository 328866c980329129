"""The state file: account, orders, used client ids, executions, clock and market state, as JSON.

Values keep their types through tags (`{"$d": "0.1"}` for a Decimal, `{"$c": "Order", ...}` for a
dataclass), so a restarted simulator continues with exact Decimals and the same RNG streams. Writes
are atomic (temp file, then rename): a crash leaves the previous state.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.sim.accounting import Position
from adapters.sim.events import Execution
from adapters.sim.orders import Liquidity, Order, OrderStatus, OrderType, Side, TimeInForce
from dca.market import Quote

FORMAT_VERSION = 1
_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (Order, Position, Execution, Quote, Side, OrderType, TimeInForce, OrderStatus, Liquidity)
}


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return {"$e": type(value).__name__, "v": value.value}
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"$u": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$c": type(value).__name__, **fields}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$d" in value:
        return Decimal(value["$d"])
    if "$t" in value:
        return datetime.fromisoformat(value["$t"])
    if "$u" in value:
        return uuid.UUID(value["$u"])
    if "$e" in value:
        return _CLASSES[value["$e"]](value["v"])
    if "$tuple" in value:
        return tuple(_decode(item) for item in value["$tuple"])
    if "$c" in value:
        cls = _CLASSES[value["$c"]]
        return cls(**{key: _decode(item) for key, item in value.items() if key != "$c"})
    return {key: _decode(item) for key, item in value.items()}


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"version": FORMAT_VERSION, "state": _encode(state)}))
    os.replace(temporary, path)


class StateFileUnreadable(ValueError):
    """The state file is not one this simulator wrote (truncated, edited, another version); names the file."""


def load_state(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
        version = document.get("version") if isinstance(document, dict) else None
        if version != FORMAT_VERSION:
            raise StateFileUnreadable(f"{path}: unsupported state file version {version!r}")
        return _decode(document["state"])
    except StateFileUnreadable:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise StateFileUnreadable(f"{path}: cannot be read ({type(error).__name__}: {error})") from None
