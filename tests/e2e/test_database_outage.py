"""A database outage, live: the bot trades on MariaDB through a real TCP proxy that the test cuts and
restores (tests/tcp_proxy.py). While the database is gone the market moves and every caretaker runs;
the log must say so in one line with what to do (not a traceback per failure), nothing may be traded
that the database does not know of, and the bot must carry on by itself once the database is back."""

from __future__ import annotations

import io
import sys
import time
from decimal import Decimal

import pytest
from loguru import logger
from sqlalchemy.engine import make_url

from adapters.db.orders import OrderMirror
from adapters.log_episodes import DATABASE_DOWN
from adapters.logging import configure_logging, shutdown_logging
from tests.conftest import MARIADB_SERVER, scratch_mariadb_database
from tests.e2e.harness import QUICK, BotHarness, wait_for
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.e2e, pytest.mark.mariadb, pytest.mark.timeout(180)]
FALLEN = ("99.00", "99.05")  # below the first safety order's trigger
OUTAGE_S = 8.0  # well inside the owner lease's fencing time (20 s by default): the bot keeps the book


@pytest.fixture
def proxied_database(mariadb_url):  # mariadb_url: fails (or skips when switched off) like every MariaDB test
    server = make_url(MARIADB_SERVER)
    with scratch_mariadb_database("dca_outage") as name, \
            TcpProxy(server.host or "127.0.0.1", server.port or 3306) as proxy:
        url = server.set(host="127.0.0.1", port=proxy.port, database=name, query={"charset": "utf8mb4"})
        yield proxy, url.render_as_string(hide_password=False)


class Console:
    """What the supervisor's console sink writes (it writes to sys.stderr), read in instalments."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self._read = 0

    def take(self) -> str:
        text = self.stream.getvalue()
        new, self._read = text[self._read:], len(text)
        return new


@pytest.fixture
def console(tmp_path, monkeypatch):
    """The supervisor's own log set-up (console and file); the tests' quiet sink afterwards."""
    screen = Console()
    monkeypatch.setattr(sys, "stderr", screen.stream)
    configure_logging(level="INFO", log_dir=tmp_path / "logs", console=True)
    try:
        yield screen
    finally:
        shutdown_logging()
        logger.remove()
        logger.add(lambda message: sys.stderr.write(message), level="WARNING")  # whatever stderr is then


def test_a_database_outage_is_one_line_with_the_remedy_nothing_is_traded_unknown_and_the_bot_recovers(
        tmp_path, proxied_database, console):
    proxy, url = proxied_database
    with BotHarness(tmp_path / "bot", url, assets={"BTC/USD": QUICK}, pacing="manual") as harness:
        harness.quote("BTC/USD", "100.00", "100.05")
        harness.quote("BTC/USD", "100.00", "100.05")  # the base order fills
        bought = harness.state("BTC/USD").cycle.quantity
        assert bought > 0
        orders_before = len(harness.exchange.orders())
        console.take()

        proxy.cut()
        cut_at = time.monotonic()
        while time.monotonic() - cut_at < OUTAGE_S:  # the price falls through a safety order's trigger, and
            harness.push("BTC/USD", *FALLEN, after=1)  # the caretakers run
            time.sleep(0.2)
        assert len(harness.exchange.orders()) == orders_before  # nothing is sent the database cannot record
        during = console.take()

        proxy.restore()
        wait_for(lambda: harness.pass_time(1) or _recovered(harness, bought), 60,
                 "the bot to trade again once the database is back")
        after = console.take()
        harness.settle_and_check()
        mirror = OrderMirror(harness.db, harness.namespace())
        ours = [o.client_order_id for o in harness.exchange.orders() if o.client_order_id.startswith("dca-")]
        assert set(mirror.known_client_ids(ours)) == set(ours)  # every order the venue has, the books knew first

    episode = [line for line in (during + after).splitlines() if DATABASE_DOWN.summary in line]
    assert len(episode) == 1, during + after  # one line for the whole outage, from every actor and caretaker
    assert DATABASE_DOWN.advice in episode[0]
    assert "Traceback" not in during + after
    assert len(during.splitlines()) <= 20, during  # not a flood of failure lines


def _recovered(harness: BotHarness, bought: Decimal) -> bool:
    """The BTC actor runs again and the safety order the fall called for was placed and filled."""
    try:
        state = harness.state("BTC/USD")
    except Exception:  # restarting
        return False
    if state.cycle.quantity <= bought:
        harness.push("BTC/USD", *FALLEN, after=1)  # a quote to act on (and to fill what rests)
        return False
    return True
