"""The status page's figures as a user reads them: money to the cent with its currency, times in UTC."""

from __future__ import annotations

import re

from wiring.status_page import render


def page_data() -> dict:
    asset = {"symbol": "BTC/USD", "enabled": True, "cycle_id": 1, "status": "watching", "quantity": "0.000448495",
             "average_price": "111479.9353838950267004091461", "last_bid": "111316",
             "unrealized_pnl": "-0.0735242", "committed": "49.99819362", "safety_orders": "0/5", "live_order": "",
             "foreign_quantity": None}
    total = {"cycles": 2, "errors": 0, "realized_pnl": "1.7712345", "fees": "0.4", "return_percent": "0.450898"}
    fill = {"symbol": "BTC/USD", "cycle_id": 1, "kind": "base", "side": "buy", "qty": "0.00044962",
            "price": "111201", "filled_at": "2026-12-06T01:39:57+00:00"}
    return {"generated_at": "2026-12-06T01:48:21.779306+00:00", "mode": "embedded-simulator", "assets": [asset],
            "profit": {"by_asset": {"BTC/USD": total}, "total": total}, "recent_fills": [fill], "gates": [],
            "alerts": []}


def cells(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>.*?</td>", page)]


def test_money_shows_cents_and_its_currency_and_prices_their_currency() -> None:
    shown = cells(render(page_data()))
    assert "-0.07 USD" in shown and "1.77 USD" in shown and "0.40 USD" in shown
    assert "111479.94 USD" in shown and "111316 USD" in shown and "111201 USD" in shown
    assert "0.000448" in shown  # quantities keep their small digits


def test_times_say_they_are_utc() -> None:
    page = render(page_data())
    assert "2026-12-06 01:48:21 UTC" in page and "filled at (UTC)" in page


def test_returns_show_two_decimals() -> None:
    assert "0.45" in cells(render(page_data())) and "0.450898" not in render(page_data())
