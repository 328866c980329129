"""`supervisor.py bars fetch` against the simulator's market-data API, through alpaca-py."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.bars.helpers import stored
from tests.cli.helpers import supervisor

DAY = 1440


def test_a_bulk_fetch_stores_every_minute_once_and_a_rerun_adds_nothing(tmp_path, sim_env):
    args = ("bars", "fetch", "--symbols", "BTC/USD,ETH/USD", "--start", "2024-01-01", "--end", "2024-01-09",
            "--mode", "bulk")
    first = supervisor(tmp_path, *args, env=sim_env)
    assert first.returncode == 0, first.stderr
    assert "the simulator at" in first.stdout
    for symbol in ("BTC/USD", "ETH/USD"):  # 9 days: two 7-day chunks, the first one paged (10,080 > 10,000)
        assert stored(tmp_path, symbol) == (9 * DAY, datetime(2024, 1, 9, 23, 59, tzinfo=UTC))
    assert "BTC/USD" in first.stdout and f"{9 * DAY}" in first.stdout
    again = supervisor(tmp_path, *args, env=sim_env)
    assert again.returncode == 0
    assert stored(tmp_path, "BTC/USD")[0] == 9 * DAY
    lines = [line.split() for line in again.stdout.splitlines() if line.startswith(("BTC/USD", "ETH/USD"))]
    assert [(cells[-3], cells[-2]) for cells in lines] == [(str(9 * DAY), "0")] * 2  # fetched, new


def test_incremental_continues_after_the_newest_stored_bar(tmp_path, sim_env):
    supervisor(tmp_path, "bars", "fetch", "--symbols", "BTC/USD", "--start", "2024-03-01", "--end", "2024-03-01",
               env=sim_env)
    more = supervisor(tmp_path, "bars", "fetch", "--symbols", "BTC/USD", "--mode", "incremental",
                      "--end", "2024-03-03", env=sim_env)
    assert more.returncode == 0, more.stderr
    assert "2024-03-02 00:00" in more.stdout
    assert stored(tmp_path, "BTC/USD") == (3 * DAY, datetime(2024, 3, 3, 23, 59, tzinfo=UTC))


def test_incremental_without_stored_bars_starts_thirty_days_back(tmp_path, sim_env):
    done = supervisor(tmp_path, "bars", "fetch", "--symbols", "ETH/USD", "--mode", "incremental",
                      "--end", "2024-05-30", env=sim_env)
    assert done.returncode == 0, done.stderr
    assert "2024-05-01 00:00" in done.stdout  # 30 days before the end (2024-05-31 00:00, exclusive)
    assert stored(tmp_path, "ETH/USD")[0] == 30 * DAY


def test_incremental_with_start_begins_there_only_for_pairs_without_stored_bars(tmp_path, sim_env):
    supervisor(tmp_path, "bars", "fetch", "--symbols", "BTC/USD", "--start", "2024-03-01", "--end", "2024-03-01",
               env=sim_env)
    done = supervisor(tmp_path, "bars", "fetch", "--symbols", "BTC/USD,ETH/USD", "--mode", "incremental",
                      "--start", "2024-01-31", "--end", "2024-03-02", env=sim_env)
    assert done.returncode == 0, done.stderr
    assert stored(tmp_path, "BTC/USD") == (2 * DAY, datetime(2024, 3, 2, 23, 59, tzinfo=UTC))  # went on from its bars
    assert stored(tmp_path, "ETH/USD") == (32 * DAY, datetime(2024, 3, 2, 23, 59, tzinfo=UTC))  # from --start


def test_all_configured_fetches_every_pair_in_dca_assets_and_new_pairs_are_added_disabled(tmp_path, sim_env):
    supervisor(tmp_path, "assets", "add", "ETH/USD", "--enabled")
    done = supervisor(tmp_path, "bars", "fetch", "--all-configured", "--start", "2024-02-01", "--end", "2024-02-01",
                      env=sim_env)
    assert done.returncode == 0, done.stderr
    assert stored(tmp_path, "ETH/USD")[0] == DAY and stored(tmp_path, "BTC/USD")[0] == 0
    supervisor(tmp_path, "bars", "fetch", "--symbols", "BTC/USD", "--start", "2024-02-01", "--end", "2024-02-01",
               env=sim_env)
    listing = {a["symbol"]: a for a in json.loads(supervisor(tmp_path, "assets", "list", "--json").stdout)}
    assert listing["ETH/USD"]["enabled"] is True and listing["BTC/USD"]["enabled"] is False


def test_one_failing_pair_does_not_stop_the_others(tmp_path, simulator, sim_env):
    # the first market-data request (ETH/USD's only chunk) gets a 500, which alpaca-py does not retry
    simulator.exchange.faults.update({"http_5xx_next": 1, "http_5xx_status": 500, "http_fault_paths": "/v1beta3"})
    try:
        done = supervisor(tmp_path, "bars", "fetch", "--symbols", "ETH/USD,BTC/USD", "--start", "2024-01-01",
                          "--end", "2024-01-01", env=sim_env)
    finally:
        simulator.exchange.faults.reset()
    assert done.returncode == 1
    assert stored(tmp_path, "BTC/USD")[0] == DAY and stored(tmp_path, "ETH/USD")[0] == 0
    assert "1 of 2 pairs failed: ETH/USD" in done.stderr
    failed = next(line for line in done.stdout.splitlines() if line.startswith("ETH/USD  "))
    assert "APIError" in failed


def test_without_keys_or_a_simulator_url_the_embedded_simulator_serves_history(tmp_path):
    done = supervisor(tmp_path, "bars", "fetch", "--symbols", "SOL/USD", "--start", "2023-06-01", "--end",
                      "2023-06-01")
    assert done.returncode == 0, done.stderr
    assert "the embedded simulator" in done.stdout
    assert stored(tmp_path, "SOL/USD")[0] == DAY


@pytest.mark.parametrize(("args", "named"), [
    (["--symbols", "BTC/USD", "--start", "2024-02-30"], "--start"),
    (["--symbols", "BTC/USD"], "--start"),
    (["--symbols", "BTC/USD", "--start", "2024-02-02", "--end", "2024-01-01"], "--start"),
    (["--symbols", "BTC/USD", "--start", "2024-01-01", "--end", "someday"], "--end"),
    (["--symbols", "BTCUSD", "--start", "2024-01-01"], "--symbols"),
    (["--symbols", "BTC/USD", "--start", "2024-01-01", "--mode", "sometimes"], "--mode"),
    (["--symbols", "BTC/USD", "--mode", "incremental", "--start", "2024-01-05", "--end", "2024-01-01"], "--start"),
    (["--symbols", "BTC/USD", "--all-configured", "--start", "2024-01-01"], "--all-configured"),
    (["--all-configured", "--start", "2024-01-01"], "--all-configured"),
])
def test_bad_options_exit_2_naming_the_option(tmp_path, sim_env, args, named):
    done = supervisor(tmp_path, "bars", "fetch", *args, env=sim_env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert named in done.stderr
