"""A task for the cluster tests: which worker ran it, and which copy of the shared data it got."""

from __future__ import annotations

from typing import Any


def where(shared: Any, point: dict[str, str]) -> dict[str, Any]:
    import time

    from distributed import get_worker

    time.sleep(0.05)  # long enough that both workers get a share of the sets
    return {"point": point, "worker": get_worker().address, "copy": id(shared), "size": len(shared)}
