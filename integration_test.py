#!/usr/bin/env python3
"""Opt-in integration test against a real Alpaca PAPER account (the original bot's integration_test.py).

    APCA_API_KEY_ID=... APCA_API_SECRET_KEY=... python integration_test.py     # Alpaca paper
    python integration_test.py --simulator                                     # the built-in simulator

Without keys it skips with a message and exits 0. It refuses the live endpoint. It never touches your
database: the bot runs on a temporary SQLite file. It places small orders (about $15) and cleans up
after itself: every order it placed is cancelled and every coin its cycle bought is sold. Orders and
coins that were in the account before are left alone (and one scenario checks exactly that).

Scenarios (the seed's phases, adapted): account and market data; a far-away limit buy appears, then
is cancelled; the bot's base order fills and its books match the account (fees in coin included),
with no duplicate order; the order janitor cancels an orphaned order of ours but never a foreign one;
the kill switch stops new orders; then (the bot stopped and cleaned up) `supervisor.py probe` measures the
venue's unknowns with orders of its own and prints its findings and the matching simulator quirks.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

SYMBOL = "BTC/USD"
PARAMS = {"base_order_amount": "15", "safety_order_amount": "15", "max_safety_orders": 1,
          "safety_order_deviation": "5", "take_profit_percent": "50", "ttp_enabled": False, "cooldown_period": 60}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--simulator", action="store_true", help="run against the built-in simulator instead")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    simulator = None
    if args.simulator:
        simulator = _start_simulator()
        os.environ.update({"APCA_API_KEY_ID": simulator.key_id, "APCA_API_SECRET_KEY": simulator.secret_key,
                           "ALPACA_SIM_URL": simulator.urls.trading})
    elif not (os.environ.get("APCA_API_KEY_ID") and os.environ.get("APCA_API_SECRET_KEY")):
        print("integration_test.py: SKIPPED - set APCA_API_KEY_ID and APCA_API_SECRET_KEY to an Alpaca PAPER "
              "account to run it (or pass --simulator)")
        return 0
    if urlsplit(os.environ.get("APCA_API_BASE_URL", "")).hostname == "api.alpaca.markets":  # any spelling
        print("integration_test.py: refusing the live endpoint; use a paper account")
        return 2
    try:
        return Run().all()
    finally:
        if simulator is not None:
            simulator.stop()


def _start_simulator():  # type: ignore[no-untyped-def]
    from adapters.sim.config import SimConfig
    from adapters.sim.service import SimulatorService

    service = SimulatorService(SimConfig(symbols=[SYMBOL, "ETH/USD"], speed=Decimal(1), port=0))
    service.start()
    return service


class Run:
    def __init__(self) -> None:
        from adapters.db.database import Database
        from config.settings import load_settings
        from wiring.bot import Bot, open_venue

        self.folder = Path(tempfile.mkdtemp(prefix="dca-integration-"))
        self.settings = load_settings(env_file=None, database_url=f"sqlite:///{self.folder / 'it.sqlite3'}",
                                      data_dir=self.folder / "data", log_dir=self.folder / "logs", metrics_port=0,
                                      stale_order_threshold_minutes=Decimal("0.1"), order_janitor_interval_seconds=2,
                                      bars_sync_interval_seconds=0, asset_watcher_interval_seconds=1)
        self.db = Database(self.settings.sqlalchemy_url())
        self.db.upgrade()
        self.venue = open_venue(self.settings, self.db)
        self.Bot = Bot
        from adapters.alpaca.broker import AlpacaBroker

        self.broker = AlpacaBroker(self.venue.key_id, self.venue.secret_key, self.venue.endpoints)
        self.placed: list[str] = []
        self.bot = None
        self.failures = 0

    def all(self) -> int:
        print(f"integration test against {self.venue.mode.value}; scratch folder {self.folder}")
        try:
            for scenario in (self.account_and_market_data, self.limit_order_placed_and_cancelled,
                             self.base_order_fills_and_books_match, self.janitor_cancels_orphans_not_foreign,
                             self.kill_switch_stops_new_orders):
                self._scenario(scenario)
        finally:
            self._clean_up()
        self._scenario(self.probe_measures_the_venue)  # alone on the account: the bot has stopped
        print("all scenarios passed" if not self.failures else f"{self.failures} scenario(s) FAILED")
        return 1 if self.failures else 0

    def _scenario(self, scenario: Callable[[], None]) -> None:
        name = scenario.__name__.replace("_", " ")
        try:
            scenario()
        except Exception:
            self.failures += 1
            print(f"FAIL  {name}\n{traceback.format_exc()}")
        else:
            print(f"PASS  {name}")

    # --- scenarios --------------------------------------------------------------------------------

    def account_and_market_data(self) -> None:
        account = self.broker.account()
        assert account.status == "ACTIVE", f"account status {account.status}"
        assert account.cash > 50, f"needs at least $50 of cash, has {account.cash}"
        quote = self.broker.latest_quotes([SYMBOL])[SYMBOL]
        assert 0 < quote.bid <= quote.ask, f"odd quote {quote}"

    def limit_order_placed_and_cancelled(self) -> None:
        order = self._far_limit_buy("it-limit")
        assert self.broker.order_by_client_id(order.client_order_id) is not None
        assert order.id in {o.id for o in self.broker.orders(status="open")}
        self.broker.cancel(order.id)
        _eventually(lambda: self.broker.order_by_client_id(order.client_order_id).status == "canceled",
                    "the cancel to take effect")

    def base_order_fills_and_books_match(self) -> None:
        from adapters.db.assets import AssetRepository
        from adapters.db.cycles import CycleStore
        from dca.params import AssetParams, with_overrides

        before = self.broker.position_qty(SYMBOL)
        AssetRepository(self.db).add([SYMBOL], with_overrides(AssetParams(), PARAMS), enabled=True)
        self.bot = self.Bot(self.settings, self.db, self.venue).start(serve_metrics=False)
        store = CycleStore(self.db)
        cycle = _eventually(lambda: next((c.cycle for c in store.current_cycles()
                                          if c.cycle.quantity > 0 and c.cycle.order is None), None),
                            "the base order to fill", timeout=120)
        bought = self.broker.position_qty(SYMBOL) - before
        assert cycle.quantity == bought, f"the cycle holds {cycle.quantity}, the account got {bought}"
        ours = [o for o in self.broker.orders(status="all", limit=50) if o.client_order_id.startswith("dca-")]
        buys = [o for o in ours if o.side == "buy"]
        seen = [(o.client_order_id, o.status, o.filled_qty) for o in buys]
        # Under load a base order can go stale before the market reaches it: cancelled without fills and
        # placed again. What must hold is one buy with fills, and nothing else bought.
        filled = [o for o in buys if Decimal(str(o.filled_qty or 0)) > 0]
        assert len(filled) == 1, f"expected one buy with fills, found {seen}"
        assert all(o.status == "canceled" for o in buys if o not in filled), f"a buy besides the filled one: {seen}"
        self.placed.extend(o.client_order_id for o in ours)

    def janitor_cancels_orphans_not_foreign(self) -> None:
        namespace = self.bot.runtime.rules.namespace
        orphan = self._far_limit_buy(f"{namespace}-1-999-1")  # ours, but no cycle knows it
        foreign = self._far_limit_buy("it-foreign")
        _eventually(lambda: self.broker.order_by_client_id(orphan.client_order_id).status == "canceled",
                    "the janitor to cancel the orphan", timeout=60)
        foreign_now = self.broker.order_by_client_id(foreign.client_order_id)
        assert foreign_now.status != "canceled", "a foreign order was touched"

    def kill_switch_stops_new_orders(self) -> None:
        from datetime import UTC, datetime

        from adapters.db.meta import KILL_SWITCH, MetaStore

        MetaStore(self.db).set(KILL_SWITCH, {"reason": "integration test", "since": datetime.now(UTC)})
        _eventually(lambda: self.bot.runtime.risk.kill_switch is not None, "the supervisor to see the switch")
        count = len(self.broker.orders(status="all", limit=500))
        time.sleep(5)
        assert len(self.broker.orders(status="all", limit=500)) == count, "an order was placed while halted"

    def probe_measures_the_venue(self) -> None:
        from adapters.alpaca.probe import ProbeLimits, VenueProbe
        from cli.probe import target_from_environment

        waits = {"fee_wait": 5.0, "lag_wait": 10.0} if os.environ.get("ALPACA_SIM_URL") else {}
        findings = VenueProbe(target_from_environment(), ProbeLimits(symbol=SYMBOL, **waits)).run()
        print(findings.table())
        print(f"quirks that make the simulator match: {findings.quirk_arguments()}")
        assert not findings.leftovers, "; ".join(findings.leftovers)

    # --- helpers ----------------------------------------------------------------------------------

    def _far_limit_buy(self, client_order_id: str):  # type: ignore[no-untyped-def]
        from dca.commands import SubmitOrder
        from dca.cycle import OrderKind, OrderType, Side
        from dca.money import round_down, round_up

        rules = self.broker.rules(SYMBOL, Decimal(10))
        ask = self.broker.latest_quotes([SYMBOL])[SYMBOL].ask
        price = round_down(ask / 2, rules.price_increment)
        qty = round_up(Decimal(15) / price, rules.min_trade_increment)
        client_order_id = f"{client_order_id}-{int(time.time())}" if not client_order_id.startswith("dca-") \
            else client_order_id
        order = self.broker.submit(SubmitOrder(client_order_id, SYMBOL, Side.BUY, OrderType.LIMIT, qty, price,
                                               OrderKind.BASE))
        self.placed.append(order.client_order_id)
        return order

    def _clean_up(self) -> None:
        from datetime import UTC, datetime

        if self.bot is not None:
            self.bot.stop()
        for client_order_id in self.placed:
            order = self.broker.order_by_client_id(client_order_id)
            if order is not None and order.is_open:
                self.broker.cancel(order.id)
        from adapters.db.cycles import CycleStore

        held = sum((c.cycle.quantity for c in CycleStore(self.db).current_cycles()), Decimal(0))
        rules = self.broker.rules(SYMBOL, Decimal(10))
        from dca.money import round_down

        qty = round_down(held, rules.min_trade_increment)
        if qty > 0:
            from dca.commands import SubmitOrder
            from dca.cycle import OrderKind, OrderType, Side

            sold = self.broker.submit(SubmitOrder(f"it-cleanup-{int(datetime.now(UTC).timestamp())}", SYMBOL,
                                                  Side.SELL, OrderType.MARKET, qty, None, OrderKind.TAKE_PROFIT))
            _eventually(lambda: not self.broker.order_by_client_id(sold.client_order_id).is_open,
                        "the clean-up sell to finish", timeout=120)
            print(f"cleaned up: sold the {qty} {SYMBOL.split('/')[0]} the test bought")


def _eventually(probe: Callable[[], object], what: str, timeout: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


if __name__ == "__main__":
    sys.exit(main())
