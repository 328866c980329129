"""Deterministic client_order_ids: `<namespace>-<asset id>-<cycle id>-<sequence>`.

The namespace is `<ORDER_PREFIX>-<installation tag>` (for example `dca-k3f9q`). The tag is drawn once
when a database is created, so a second installation on the same Alpaca account, or a fresh database
after a reset, can never collide with this one's ids: to us its orders are foreign, and foreign orders
are never touched. The id is written to the database before the order is submitted, and Alpaca
refuses a second order with the same client_order_id, which is what makes a retried or repeated
submission harmless.
"""

from __future__ import annotations

import re

from dca.immutable import immutable

_ID = re.compile(r"^(?P<namespace>[a-z][a-z0-9]{0,7}-[a-z0-9]{5})-(?P<asset>\d+)-(?P<cycle>\d+)-(?P<seq>\d+)$")
_NAMESPACE = re.compile(r"^[a-z][a-z0-9]{0,7}-[a-z0-9]{5}$")


@immutable
class OrderRef:
    namespace: str
    asset_id: int
    cycle_id: int
    sequence: int


def make_namespace(prefix: str, installation_tag: str) -> str:
    namespace = f"{prefix}-{installation_tag}"
    if not _NAMESPACE.match(namespace):
        raise ValueError(f"bad order namespace {namespace!r}: prefix 1-8 [a-z0-9], tag 5 [a-z0-9]")
    return namespace


def client_order_id(namespace: str, asset_id: int, cycle_id: int, sequence: int) -> str:
    return f"{namespace}-{asset_id}-{cycle_id}-{sequence}"


def parse_client_order_id(value: str | None) -> OrderRef | None:
    """The parts of one of our ids, or None for anything else (including other installations' ids)."""
    match = _ID.match(value or "")
    if match is None:
        return None
    return OrderRef(match["namespace"], int(match["asset"]), int(match["cycle"]), int(match["seq"]))


def is_ours(value: str | None, namespace: str) -> bool:
    ref = parse_client_order_id(value)
    return ref is not None and ref.namespace == namespace
