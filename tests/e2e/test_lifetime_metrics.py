"""Lifetime figures on the dashboards come from the books: they survive disabling an asset and
restarting the process, and every counter a panel reads exists at 0 before its first event."""

from __future__ import annotations

from decimal import Decimal

from adapters.db.assets import AssetRepository
from adapters.metrics import Metrics
from app.reports import profit_report
from tests.e2e.harness import BotHarness
from tests.waiting import wait_for


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_realized_profit_and_completed_cycles_survive_disabling_an_asset_and_a_restart(
        tmp_path, database_url: str) -> None:
    with BotHarness(tmp_path, database_url) as h:
        assert h.bot is not None
        wait_for(lambda: h.completed("BTC/USD") and h.completed("ETH/USD"), 120, "a completed cycle on both assets")
        h.stop_bot()
        assert h.db is not None
        AssetRepository(h.db).set_enabled("ETH/USD", False)
        h.disabled = frozenset({"ETH/USD"})

        restarted = h.start_bot().metrics

        def metrics_agree_with_the_books() -> bool:
            # BTC/USD trades on after the restart (a cycle may complete, a fee may be confirmed): the
            # metrics are compared with the books as they are now, until both read the same moment
            books = profit_report(h.db, None)["by_asset"]
            for symbol in ("BTC/USD", "ETH/USD"):
                realized = sample(restarted, "dca_realized_profit", symbol=symbol)
                completed = sample(restarted, "dca_cycles_completed_total", symbol=symbol, outcome="complete")
                if realized is None or completed != books[symbol]["cycles"] or Decimal(str(realized)).quantize(
                        Decimal("0.000001")) != books[symbol]["realized_pnl"].quantize(Decimal("0.000001")):
                    return False
            return True

        wait_for(metrics_agree_with_the_books, 20, "the restarted bot's lifetime metrics to match the books", poll=0.2)
        assert sample(restarted, "dca_cycles_completed_total", symbol="ETH/USD", outcome="complete") > 0


def test_every_per_asset_counter_exists_at_zero_before_its_first_event(tmp_path, sqlite_url: str) -> None:
    with BotHarness(tmp_path, sqlite_url, assets={"SOL/USD": {}}) as h:
        assert h.bot is not None
        metrics = h.bot.metrics
        assert sample(metrics, "dca_orders_rejected_total", symbol="SOL/USD", side="buy",
                      reason="insufficient_balance") == 0
        assert sample(metrics, "dca_orders_vetoed_total", symbol="SOL/USD", gate="kill_switch") == 0
        assert sample(metrics, "dca_cycles_completed_total", symbol="SOL/USD", outcome="error") == 0
        assert sample(metrics, "dca_actor_restarts_total", actor="asset:SOL/USD") == 0
        assert sample(metrics, "dca_stream_reconnects_total", stream="trade_updates") == 0
