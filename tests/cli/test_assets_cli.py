"""`supervisor.py assets ...` and `db ...` as a user runs them."""

import json

from tests.cli.helpers import supervisor


def test_add_list_set_enable_disable(tmp_path):
    added = supervisor(tmp_path, "assets", "add", "BTC/USD,eth/usd", "--enabled", "--take-profit-percent", "1.5",
                       "--max-safety-orders", "3")
    assert added.returncode == 0, added.stderr
    assert "added BTC/USD (enabled)" in added.stdout and "added ETH/USD" in added.stdout
    assert (tmp_path / "data" / "dca.sqlite3").exists()  # the embedded default database
    changed = supervisor(tmp_path, "assets", "set", "BTC/USD", "take_profit_percent=1.25", "ttp_enabled=false")
    assert changed.returncode == 0 and "take_profit_percent=1.25" in changed.stdout
    assert supervisor(tmp_path, "assets", "disable", "ETH/USD").returncode == 0
    listing = json.loads(supervisor(tmp_path, "assets", "list", "--json").stdout)
    btc, eth = listing
    assert (btc["symbol"], btc["enabled"], btc["take_profit_percent"], btc["ttp_enabled"]) == (
        "BTC/USD", True, "1.25", False)
    assert btc["max_cycle_commitment"] == "70"  # 10 + 3 × 20
    assert eth["enabled"] is False
    table = supervisor(tmp_path, "assets", "list").stdout
    assert "max per cycle" in table and "BTC/USD" in table.splitlines()[2]


def test_adding_an_existing_pair_skips_it_and_exits_1(tmp_path):
    supervisor(tmp_path, "assets", "add", "BTC/USD")
    again = supervisor(tmp_path, "assets", "add", "BTC/USD,SOL/USD")
    assert again.returncode == 1 and "skipped BTC/USD" in again.stdout and "added SOL/USD" in again.stdout


def test_bad_values_are_named_and_nothing_is_written(tmp_path):
    bad = supervisor(tmp_path, "assets", "add", "XRP/USD", "--take-profit-percent", "0",
                     "--safety-order-deviation", "100", "--cooldown-period", "-5", "--base-order-amount", "abc")
    assert bad.returncode == 2
    for field in ("take_profit_percent", "safety_order_deviation", "cooldown_period", "base_order_amount"):
        assert field in bad.stderr
    assert "nothing was written" in bad.stderr
    assert supervisor(tmp_path, "assets", "list", "--json").stdout.strip() == "[]"


def test_bad_symbols_and_assignments_are_refused(tmp_path):
    assert "BASE/QUOTE" in supervisor(tmp_path, "assets", "add", "BTCUSD").stderr
    supervisor(tmp_path, "assets", "add", "BTC/USD")
    unknown = supervisor(tmp_path, "assets", "set", "BTC/USD", "take_profit=2")
    assert unknown.returncode == 2 and "unknown parameter" in unknown.stderr
    malformed = supervisor(tmp_path, "assets", "set", "BTC/USD", "take_profit_percent")
    assert malformed.returncode == 2 and "NAME=VALUE" in malformed.stderr
    missing = supervisor(tmp_path, "assets", "enable", "DOGE/USD")
    assert missing.returncode == 2 and "not configured" in missing.stderr


def test_db_upgrade_and_status(tmp_path):
    upgrade = supervisor(tmp_path, "db", "upgrade")
    assert upgrade.returncode == 0 and "(current)" in upgrade.stdout
    status = supervisor(tmp_path, "db", "status")
    assert status.returncode == 0 and "sqlite:///data/dca.sqlite3" in status.stdout


def test_database_url_points_the_cli_at_mariadb(tmp_path, mariadb_url):
    env = {"DATABASE_URL": mariadb_url}
    assert supervisor(tmp_path, "assets", "add", "LTC/USD", env=env).returncode in (0, 1)
    assert "LTC/USD" in supervisor(tmp_path, "assets", "list", env=env).stdout
    assert not (tmp_path / "data").exists()


def test_start_condition_and_price_range_through_the_cli(tmp_path):
    added = supervisor(tmp_path, "assets", "add", "BTC/USD", "--start-condition", "rsi(14, 1h) < 30",
                       "--min-price", "20000", "--max-price", "90000")
    assert added.returncode == 0, added.stderr
    bad = supervisor(tmp_path, "assets", "set", "BTC/USD", "start_condition=rsi(14) << 30")
    assert bad.returncode == 2
    assert "start_condition: unknown operator '<<' (use <, <=, > or >=) at column 9" in bad.stderr
    assert "nothing was written" in bad.stderr
    changed = supervisor(tmp_path, "assets", "set", "BTC/USD", "stop_loss_percent=5", "stop_loss_timeout=60")
    assert changed.returncode == 0, changed.stderr
    btc = json.loads(supervisor(tmp_path, "assets", "list", "--json").stdout)[0]
    assert (btc["start_condition"], btc["min_price"], btc["max_price"], btc["stop_loss_percent"],
            btc["stop_loss_timeout"]) == ("rsi(14, 1h) < 30", "20000", "90000", "5", 60)
    table = supervisor(tmp_path, "assets", "list").stdout
    assert "20000..90000" in table and "rsi(14, 1h) < 30" in table
    assert "stop loss" in table and "5% after 60 s" in table  # a stop loss the operator set is visible


def test_the_asset_table_says_when_the_stop_loss_is_off_and_when_it_acts_at_once(tmp_path):
    supervisor(tmp_path, "assets", "add", "BTC/USD,ETH/USD")
    assert supervisor(tmp_path, "assets", "set", "ETH/USD", "stop_loss_percent=3").returncode == 0
    rows = {line.split()[0]: line for line in supervisor(tmp_path, "assets", "list").stdout.splitlines()[2:]}
    assert " off " in rows["BTC/USD"] and " 3% " in rows["ETH/USD"] and "after" not in rows["ETH/USD"]


def test_the_take_profit_order_type_and_active_safety_orders_through_the_cli(tmp_path):
    added = supervisor(tmp_path, "assets", "add", "BTC/USD", "--take-profit-order-type", "limit", "--ttp-enabled",
                       "false", "--max-safety-orders", "4", "--active-safety-orders", "2")
    assert added.returncode == 0, added.stderr
    btc = json.loads(supervisor(tmp_path, "assets", "list", "--json").stdout)[0]
    assert (btc["take_profit_order_type"], btc["active_safety_orders"], btc["ttp_enabled"]) == ("limit", 2, False)
    header, _, row = supervisor(tmp_path, "assets", "list").stdout.splitlines()[:3]
    assert "active SO" in header and "TP order" in header
    cells = dict(zip(["symbol", "enabled", "base", "safety", "max SO", "active SO", "SO dev %", "TP %", "TTP %",
                      "TP order"], row.split(), strict=False))
    assert (cells["max SO"], cells["active SO"], cells["TTP %"], cells["TP order"]) == ("4", "2", "off", "limit")
    changed = supervisor(tmp_path, "assets", "set", "BTC/USD", "take_profit_order_type=MARKET", "ttp_enabled=true",
                         "active_safety_orders=4")
    assert changed.returncode == 0, changed.stderr
    assert "take_profit_order_type=market, ttp_enabled=true, active_safety_orders=4" in changed.stdout
    btc = json.loads(supervisor(tmp_path, "assets", "list", "--json").stdout)[0]
    assert (btc["take_profit_order_type"], btc["active_safety_orders"], btc["ttp_enabled"]) == ("market", 4, True)


def test_bad_take_profit_order_types_and_active_safety_orders_are_named_and_nothing_is_written(tmp_path):
    bad = supervisor(tmp_path, "assets", "add", "BTC/USD", "--take-profit-order-type", "stop",
                     "--active-safety-orders", "many")
    assert bad.returncode == 2
    assert "take_profit_order_type: expected one of limit, market, got 'stop'" in bad.stderr
    assert "active_safety_orders: expected a whole number" in bad.stderr and "nothing was written" in bad.stderr
    assert json.loads(supervisor(tmp_path, "assets", "list", "--json").stdout) == []
    assert supervisor(tmp_path, "assets", "add", "BTC/USD", "--max-safety-orders", "3",
                      "--active-safety-orders", "3").returncode == 0
    before = supervisor(tmp_path, "assets", "list", "--json").stdout
    refusals = {
        "active_safety_orders=4": "active_safety_orders: must be between 0 and max_safety_orders (3)",
        "active_safety_orders=-1": "active_safety_orders: must be between 0 and max_safety_orders (3)",
        "max_safety_orders=2": "active_safety_orders: must be between 0 and max_safety_orders (2)",  # as a whole
        "take_profit_order_type=limit": "take_profit_order_type: limit needs ttp_enabled false",  # trailing is on
    }
    for assignment, why in refusals.items():
        refused = supervisor(tmp_path, "assets", "set", "BTC/USD", assignment)
        assert refused.returncode == 2 and why in refused.stderr, (assignment, refused.stderr)
        assert "nothing was written" in refused.stderr
    assert supervisor(tmp_path, "assets", "list", "--json").stdout == before
