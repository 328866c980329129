"""`close` and `cancel-orders` from the command line when there is nothing to hand them to: bad input
exits 2 naming the field, and without a running supervisor they are refused (exit 1) with nothing
written or traded."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adapters.db.database import Database
from adapters.db.models import DcaRequest
from tests.cli.helpers import supervisor


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    added = supervisor(tmp_path, "assets", "add", "BTC/USD", "--enabled", env=env)
    assert added.returncode == 0, added.stderr
    return env


@pytest.mark.parametrize("command", ["close", "cancel-orders"])
def test_a_bad_or_unconfigured_symbol_exits_2_naming_it(tmp_path, env, command):
    for symbol, said in (("BTC", "symbol: "), ("ETH/USD", "symbol: ETH/USD is not configured")):
        result = supervisor(tmp_path, command, symbol, env=env)
        assert result.returncode == 2 and said in result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("command", ["close", "cancel-orders"])
def test_without_a_running_supervisor_the_command_is_refused_and_nothing_is_asked(tmp_path, env, command):
    result = supervisor(tmp_path, command, "BTC/USD", env=env)
    assert result.returncode == 1 and "refused: no supervisor is running" in result.stdout, result.stdout
    database = Database(env["DATABASE_URL"])
    try:
        with database.transaction() as session:
            assert session.execute(select(func.count()).select_from(DcaRequest)).scalar_one() == 0
    finally:
        database.dispose()


def test_close_and_cancel_orders_each_describe_only_what_they_do_in_their_help(tmp_path):
    close = supervisor(tmp_path, "close", "--help").stdout
    cancel = supervisor(tmp_path, "cancel-orders", "--help").stdout
    assert "Sell the asset's current cycle at market" in close and "pause" not in close
    assert "Cancel the cycle's open orders" in cancel and "pause the" in cancel and "closed" not in cancel
    assert all("Without a running supervisor" in text and "refused (exit 1)" in text for text in (close, cancel))
