"""Parameter sweeps on an existing Dask distributed cluster (`backtest --sweep ... --cluster tcp://HOST:PORT`).

The only module that imports dask. The bars and the base setups go to every worker once
(`Client.scatter(..., broadcast=True)`); each task then carries a small dict of overrides and
returns a small dict of figures, so a worker holds one copy of the bars plus the run in hand, and
the scheduler never holds more than `IN_FLIGHT_PER_THREAD` tasks per worker thread (the grid is fed
in as results come back). The task is `app.backtest.sweep.run_point`, the function a local sweep
runs: the workers must run this project's code (same version, same dependencies), e.g. `dask
worker` started from the repository with its virtualenv (docs/backtesting.md). The scheduler need
not: it unpickles every task it is given, so the task travels as bytes only a worker opens
(`_opened_on_the_worker`).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from typing import Any

IN_FLIGHT_PER_THREAD = 4
CONNECT_TIMEOUT = "20s"


class ClusterUnavailable(RuntimeError):
    """The scheduler could not be reached or has no workers; the message says which."""


def run_on_cluster(address: str, task: Callable[..., dict[str, Any]], shared: tuple[Any, ...],
                   points: Sequence[dict[str, str]], on_done: Callable[[], None] | None = None,
                   ) -> list[dict[str, Any]]:
    """`task(*shared, point)` for every point on the cluster at `address`; results in grid order."""
    from distributed import Client, as_completed

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address}: {error}") from None
    with client:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise ClusterUnavailable(f"the Dask scheduler at {address} has no workers")
        # once per worker, not per point; each part whole (a list given to scatter would go element by element)
        remote = [client.scatter([part], broadcast=True)[0] for part in shared]
        call, packed = _opened_on_the_worker(), pickle.dumps(task)
        pending = iter(enumerate(points))
        index_of: dict[str, int] = {}
        results: dict[int, dict[str, Any]] = {}

        def submit_next(queue: Any) -> None:
            for index, point in pending:
                future = client.submit(call, packed, *remote, point, pure=False)
                index_of[future.key] = index
                queue.add(future)
                return

        queue = as_completed()
        for _ in range(threads * IN_FLIGHT_PER_THREAD):
            submit_next(queue)
        for future in queue:
            results[index_of.pop(future.key)] = future.result()
            future.release()
            if on_done is not None:
                on_done()
            submit_next(queue)
    return [results[index] for index in range(len(points))]


def _opened_on_the_worker() -> Callable[..., dict[str, Any]]:
    """`call(packed, *args)`: unpickle the task and run it. The scheduler unpickles each task's
    function and arguments; a function it cannot import (ours, without this project on its path)
    fails the whole graph. `call` is made here, inside a function, so that cloudpickle ships it by
    value (its code and the stdlib `pickle` it uses), and the task itself stays bytes until a
    worker, which has the project, runs `call`."""

    def call(packed: bytes, *args: Any) -> dict[str, Any]:
        task = pickle.loads(packed)  # our own task function, pickled by this process
        return task(*args)  # type: ignore[no-any-return]

    return call
