"""A trading run tells the trader about its deals: the real actor tree on the simulator, apprise's
`json://` scheme and a real local HTTP server standing in for Telegram, Discord, ntfy and the rest."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.harness import QUICK, BotHarness
from tests.notify.receiver import Receiver
from tests.waiting import wait_for


def test_a_completed_cycle_is_announced_from_its_start_to_its_profit(tmp_path, sqlite_url: str) -> None:
    with Receiver() as receiver:
        overrides = {"notify_urls": receiver.url, "notify_rate_per_minute": 1000}
        with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, settings_overrides=overrides) as h:
            wait_for(lambda: h.completed("BTC/USD"), 120, "a completed cycle")
            first = h.completed("BTC/USD")[0]
            completed = f"BTC/USD: cycle {first['id']} completed, P/L "
            wait_for(lambda: any(t.startswith(completed) for t in receiver.titles()), 30, "the completion notice")
            assert h.simulator is not None
            secrets = (h.simulator.key_id, h.simulator.secret_key)
        titles = receiver.titles()
        assert f"BTC/USD: cycle {first['id']} started" in titles
        assert "BTC/USD: take-profit sale filled" in titles
        pnl = next(t for t in titles if t.startswith(completed)).removeprefix(completed)
        assert pnl == f"{first['realized_pnl'].quantize(Decimal('0.01')):+f} USD"
        assert titles.index(f"BTC/USD: cycle {first['id']} started") < titles.index(completed + pnl)
        text = str(receiver.messages)
        assert not any(secret in text for secret in secrets)


def test_a_kill_switch_engaged_at_start_is_announced_as_a_warning(tmp_path, sqlite_url: str) -> None:
    with Receiver() as receiver:
        overrides = {"notify_urls": receiver.url, "kill_switch": True}
        with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, settings_overrides=overrides):
            wait_for(lambda: receiver.messages, 30, "the kill-switch notice")
        assert [(m["title"], m["type"]) for m in receiver.messages] == [("Kill switch engaged", "warning")]


def test_an_asset_whose_orders_keep_being_refused_announces_its_open_circuit_breaker(tmp_path, sqlite_url: str) -> None:
    with Receiver() as receiver:
        overrides = {"notify_urls": receiver.url, "circuit_breaker_failures": 2,
                     "circuit_breaker_cooldown_seconds": 10**7}
        with BotHarness(tmp_path, sqlite_url, assets={"BTC/USD": QUICK}, settings_overrides=overrides,
                        faults={"reject_rate": 1.0, "reject_mode": "http403"}):
            wait_for(lambda: "Circuit breaker open for BTC/USD" in receiver.titles(), 60, "the breaker notice")
        opened = [m for m in receiver.messages if m["title"] == "Circuit breaker open for BTC/USD"]
        assert len(opened) == 1 and opened[0]["type"] == "warning"
