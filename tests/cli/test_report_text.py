"""The text `status`, `report` and `cycle` print is built in app/report_text.py from plain values:
exact amounts, aligned tables, and a line for everything on the exchange that is not the bot's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

from app.report_text import amount, as_json_ready, cycle_text, profit_text, status_json, status_text, table
from app.reports import AssetStatus, ForeignHoldings, StatusReport

WHEN = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def _row(**changes) -> AssetStatus:
    values = dict(symbol="BTC/USD", enabled=True, cycle_id=7, status="watching", quantity=Decimal("0.00050000"),
                  average_price=Decimal("60000.123"), last_bid=Decimal("61000.5"), unrealized_pnl=Decimal("0.43875"),
                  committed=Decimal("30.0001"), safety_orders="1/5", live_order="", foreign_quantity=Decimal(0))
    return AssetStatus(**{**values, **changes})


def _report(**changes) -> StatusReport:
    values = dict(rows=[_row()], source="prices and positions from the simulator", funds=None,
                  foreign=ForeignHoldings([], {}), owner=None, kill_switch=None, refused_pairs={},
                  seed_takeover=None, takeover_note=None)
    return StatusReport(**{**values, **changes})


def test_amounts_show_exactly_without_trailing_zeros_or_rounded_to_the_columns_places():
    assert amount(Decimal("0.00050000")) == "0.0005" and amount(Decimal("1E+3")) == "1000"
    assert amount(Decimal("60000.125"), 2) == "60000.12" and amount(None) == "-"


def test_a_table_aligns_its_columns_and_right_aligns_the_numbers():
    assert table(["asset", "qty"], [["BTC/USD", "1.5"], ["ETH/USD", "10"]], right=(1,)).splitlines() == [
        "asset    qty", "-------  ---", "BTC/USD  1.5", "ETH/USD   10"]


def test_status_shows_each_asset_and_where_the_prices_came_from():
    text = status_text(_report())
    assert "BTC/USD  yes" in text and "0.0005" in text and "60000.12" in text and "30" in text
    assert text.endswith("prices and positions from the simulator; no supervisor running")


def test_status_names_the_owner_the_kill_switch_the_account_and_refused_pairs():
    owner = SimpleNamespace(describe=lambda: "run on host pid 42", holder="run", host="host", pid=42,
                            started_at=WHEN)
    funds = SimpleNamespace(cash=Decimal("1000.456"), buying_power=Decimal("900"))
    text = status_text(_report(owner=owner, kill_switch={"reason": "maintenance"}, funds=funds,
                               refused_pairs={"XYZ/USD": "not_tradable"}, takeover_note="taken over: cycles 3"))
    assert "owned by run on host pid 42; KILL SWITCH ENGAGED (maintenance)" in text
    assert "account: cash 1000.46, buying power for crypto 900" in text
    assert "XYZ/USD: enabled, but the venue does not trade it (not tradable): not started" in text
    assert "taken over: cycles 3" in text


def test_status_lists_every_foreign_holding_as_left_alone():
    order = SimpleNamespace(client_order_id="by-hand", side="buy", qty=None, notional=Decimal("25.00"),
                            limit_price=Decimal("50000"), symbol="BTC/USD")
    text = status_text(_report(rows=[_row(foreign_quantity=Decimal("0.1"))],
                               foreign=ForeignHoldings([order], {"DOGE/USD": Decimal("12")})))
    assert "BTC/USD: 0.1 on the exchange is not the bot's" in text
    assert "DOGE/USD: 12 on the exchange in a pair that is not configured" in text
    assert "open order by-hand (buy 25 notional BTC/USD at 50000) is not the bot's; it is left alone" in text


def test_status_without_assets_says_how_to_add_one():
    assert status_text(_report(rows=[])).startswith("no assets configured; add some with:")


def test_status_json_carries_amounts_as_exact_strings():
    shown = json.loads(status_json(_report(funds=SimpleNamespace(cash=Decimal("1000.10"), buying_power=Decimal(5)))))
    assert shown["assets"][0]["quantity"] == "0.0005" and shown["cash"] == "1000.1"
    assert shown["supervisor_running"] is False and shown["source"].startswith("prices and positions")


def test_json_ready_values_keep_decimals_exact_and_times_in_iso_8601():
    assert as_json_ready({"a": [Decimal("0.10"), WHEN], 1: None}) == {"a": ["0.1", "2026-03-01T12:30:00+00:00"],
                                                                      "1": None}


def test_the_profit_report_has_a_row_per_asset_and_a_total():
    row = {"cycles": 2, "wins": 1, "errors": 0, "realized_pnl": Decimal("1.005"), "fees": Decimal("0.2"),
           "invested": Decimal(100), "return_percent": Decimal("1.005"), "average_hours": 1.25, "safety_orders": 3}
    lines = profit_text({"by_asset": {"BTC/USD": row}, "total": row}, WHEN).splitlines()
    assert lines[0] == "completed cycles since 2026-03-01T12:30+00:00"
    assert lines[3].split() == ["BTC/USD", "2", "1", "0", "1", "0.2", "100", "1", "1.2", "3"]  # rounded, then plain
    assert lines[4].startswith("total")


def test_a_cycles_story_lists_its_orders_and_what_happened():
    cycle = {"id": 7, "symbol": "BTC/USD", "status": "complete", "created_at": WHEN, "completed_at": WHEN,
             "quantity": Decimal(0), "average_price": Decimal("100.5"), "cost": Decimal("20.1"), "safety_orders": 0,
             "last_fill_price": Decimal("100.5"), "peak_price": None, "sell_price": Decimal("101"),
             "realized_pnl": Decimal("0.0512"), "buy_fees_coin": Decimal("0.0005"), "sell_fees": Decimal("0.05")}
    order = {"client_order_id": "dca-x-1-7-1", "kind": "base", "side": "buy", "type": "limit", "qty": Decimal("0.2"),
             "limit_price": Decimal("100.5"), "status": "filled", "filled_qty": Decimal("0.2"),
             "filled_avg_price": Decimal("100.5"), "fee": Decimal("0.0005")}
    event = {"at": WHEN, "from": "watching", "to": "buying", "what": "base order placed"}
    text = cycle_text({"cycle": cycle, "orders": [order], "events": [event]})
    assert text.startswith("cycle 7 of BTC/USD: complete, started 2026-03-01 12:30:00, ended 2026-03-01 12:30:00")
    assert "sold at 101: realized P/L 0.0512 after fees" in text and "dca-x-1-7-1" in text
    assert text.endswith("2026-03-01 12:30:00  [watching → buying] base order placed")


def _gate_lines(row: AssetStatus) -> list[str]:
    return [line for line in status_text(_report(rows=[row])).splitlines() if line.startswith("BTC/USD: ")]


def test_status_says_in_one_line_what_holds_a_new_cycle_back():
    reading = "waiting for rsi(14) < 30 (rsi(14) = 41.2) at 2026-03-01 12:30 UTC"
    condition = _row(quantity=Decimal(0), waiting_for="the start condition: rsi(14) < 30", start_condition=reading)
    assert _gate_lines(condition) == [f"BTC/USD: no new cycle; start condition {reading}"]
    holds = "holds (rsi(14) = 22) at 2026-03-01 12:30 UTC"
    price = _row(quantity=Decimal(0), waiting_for="the buy price (101) to fall to max_price 100",
                 price_range_wait="the buy price (101) to fall to max_price 100", start_condition=holds)
    assert _gate_lines(price) == [f"BTC/USD: no new cycle until the buy price (101) to fall to max_price 100; "
                                  f"start condition {holds}"]
    assert _gate_lines(_row(quantity=Decimal(0), start_condition=holds)) == [f"BTC/USD: start condition {holds}"]
    assert _gate_lines(_row()) == []
