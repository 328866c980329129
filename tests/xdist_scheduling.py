"""How `pytest -n` (pytest-xdist, `--dist loadgroup` in pyproject.toml) shares the suite between workers.

Two things the stock scheduling does not give us:

* Tests that share one expensive module-scoped setup (a live supervisor with a real Prometheus, a
  dask cluster) must run on one worker, or every worker that gets one of them builds the setup again.
  The `xdist_group` marks meant for that do nothing under pytest 9.2: xdist tags the group onto the
  test's id through a field pytest no longer reads (pytest-dev/pytest-xdist#1386), so the tests were
  dealt out one by one. Here the files listed in SHARED_SETUP are one unit of work each.
* The slowest tests should start first, so that at the end both workers finish the small fast tests
  together instead of one worker running a minute-long test alone. Workers deal the tests out in
  collection order, which `slowest_first` reorders by directory (SLOWEST_FIRST).
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

# Files whose tests share a module-scoped fixture that takes tens of seconds to build.
SHARED_SETUP = frozenset({
    "tests/observability/test_live_stack.py",  # a supervisor and Prometheus, until enough data is scraped
    "tests/observability/test_live_faults.py",  # the actor tree on the simulator, scraped by Prometheus
    "tests/observability/test_status_page_browser.py",  # a supervisor with fills on its status page
    "tests/backtest/test_cluster.py",  # a dask scheduler and two worker processes
})
# Directories whose tests run real processes, actor trees or Prometheus (seconds to a minute each), in
# the order they are dealt out; every other directory follows, in collection order.
SLOWEST_FIRST = ("tests/observability/", "tests/e2e/", "tests/takeover/", "tests/backtest/", "tests/cli/")


class SharedSetupScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with a unit of work per test, except one per file in SHARED_SETUP.
    Units of several tests are dealt out first (LoadScopeScheduling orders them by size), then the
    rest in collection order."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path in SHARED_SETUP else nodeid


def slowest_first(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: SLOWEST_FIRST's directories first, each file's tests kept together and
    in order (a stable sort), so a module-scoped fixture is still built once per worker."""
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return next((i for i, prefix in enumerate(SLOWEST_FIRST) if path.startswith(prefix)), len(SLOWEST_FIRST))

    items.sort(key=rank)
