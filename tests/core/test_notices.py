"""What the trader is told about each deal (dca/notices.py): the figures of the books, no secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dca.cycle import Cycle, CycleStatus, LiveOrder, OrderKind, OrderType, Side
from dca.notices import NoticeKind, breaker_opened, cycle_ended, order_filled

AT = datetime(2026, 12, 1, tzinfo=UTC)


def filled(kind: OrderKind, side: Side, qty: str, notional: str) -> LiveOrder:
    return LiveOrder(f"dca-abcde-1-7-{kind}", kind, side, OrderType.LIMIT, Decimal(qty), None, AT,
                     filled_qty=Decimal(qty), filled_notional=Decimal(notional))


def test_each_filled_order_kind_gets_its_own_notice_with_quantity_and_price() -> None:
    holding = Cycle(7, CycleStatus.WATCHING, quantity=Decimal("0.002"), cost=Decimal("200"), safety_orders=1)
    base = order_filled("BTC/USD", holding, filled(OrderKind.BASE, Side.BUY, "0.001", "100"))
    safety = order_filled("BTC/USD", holding, filled(OrderKind.SAFETY, Side.BUY, "0.001", "99"))
    sale = order_filled("BTC/USD", holding, filled(OrderKind.TAKE_PROFIT, Side.SELL, "0.002", "201"))
    assert [n.kind for n in (base, safety, sale)] == [NoticeKind.CYCLE_STARTED, NoticeKind.SAFETY_FILLED,
                                                     NoticeKind.TAKE_PROFIT]
    assert base.title == "BTC/USD: cycle 7 started" and "0.001 BTC at 100000 USD" in base.body
    assert safety.title == "BTC/USD: safety order 1 filled" and "average cost of 100000 USD" in safety.body
    assert "sold 0.002 BTC at 100500 USD" in sale.body and "dca-abcde" not in base.body + safety.body + sale.body


def test_a_completed_cycle_reports_its_pl_and_one_ended_in_error_is_a_warning() -> None:
    done = Cycle(7, CycleStatus.COMPLETE, cost=Decimal("200"), realized_pnl=Decimal("1.234"), safety_orders=1)
    lost = Cycle(8, CycleStatus.ERROR)
    assert cycle_ended("ETH/USD", done).title == "ETH/USD: cycle 7 completed, P/L +1.23 USD"
    assert (cycle_ended("ETH/USD", lost).kind, cycle_ended("ETH/USD", lost).warning) == (NoticeKind.ASSET_STOPPED,
                                                                                         True)


def test_an_open_breaker_names_its_scope_and_cooldown() -> None:
    notice = breaker_opened("global", timedelta(minutes=10))
    assert notice.title == "Circuit breaker open for every asset" and "600 s" in notice.body and notice.warning


def test_every_amount_names_its_coin_or_currency_and_money_shows_cents() -> None:
    holding = Cycle(7, CycleStatus.WATCHING, quantity=Decimal("0.002"), cost=Decimal("200"), safety_orders=1)
    base = order_filled("BTC/USD", holding, filled(OrderKind.BASE, Side.BUY, "0.001", "100"))
    safety = order_filled("BTC/USD", holding, filled(OrderKind.SAFETY, Side.BUY, "0.001", "99"))
    sale = order_filled("BTC/USD", holding, filled(OrderKind.TAKE_PROFIT, Side.SELL, "0.002", "201"))
    done = cycle_ended("ETH/USD", Cycle(7, CycleStatus.COMPLETE, cost=Decimal("200"), realized_pnl=Decimal("1.2"),
                                        safety_orders=1))
    assert base.body == "Bought 0.001 BTC at 100000 USD (100.00 USD)."
    assert safety.body == ("Cycle 7 bought 0.001 BTC at 99000 USD; it now holds 0.002 BTC at an average cost "
                           "of 100000 USD.")
    assert sale.body == "Cycle 7 sold 0.002 BTC at 100500 USD (201.00 USD)."
    assert done.title == "ETH/USD: cycle 7 completed, P/L +1.20 USD"
    assert done.body == "Realized +1.20 USD on a cost of 200.00 USD with 1 safety order(s)."


def test_prices_are_rounded_like_a_trader_reads_them() -> None:
    holding = Cycle(10, CycleStatus.WATCHING, quantity=Decimal("0.00088049"), cost=Decimal("99.986"),
                    safety_orders=1)
    safety = order_filled("BTC/USD", holding, filled(OrderKind.SAFETY, Side.BUY, "0.0004425", "49.985"))
    assert "average cost of 113557.22 USD" in safety.body and "at 112960.45 USD" in safety.body
    cheap = Cycle(2, CycleStatus.WATCHING, quantity=Decimal("1000"), cost=Decimal("123.4567891"), safety_orders=1)
    assert "average cost of 0.123457 USD" in order_filled("DOGE/USD", cheap, filled(
        OrderKind.SAFETY, Side.BUY, "1", "0.1")).body
