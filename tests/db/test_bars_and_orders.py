"""Bars upsert without duplicates; the order mirror links our orders to their cycles."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from adapters.db.assets import AssetRepository
from adapters.db.bars import BarStore
from adapters.db.cycles import CycleStore
from adapters.db.models import DcaOrder
from adapters.db.orders import OrderMirror
from dca.exchange import ExchangeOrder
from dca.market import Bar
from dca.params import AssetParams

T = datetime(2024, 1, 1, tzinfo=UTC)


def _bars(n, start=T, price="100"):
    return [Bar("BTC/USD", start + timedelta(minutes=i), Decimal(price), Decimal(price) + 1, Decimal(price) - 1,
                Decimal(price), Decimal("1.5")) for i in range(n)]


def test_rerunning_an_upsert_adds_no_duplicates_and_updates_values(database):
    (asset,), _ = AssetRepository(database).add(["BTC/USD"], AssetParams(), True)
    store = BarStore(database)
    assert store.upsert(asset.id, _bars(1500)) == 1500
    assert store.upsert(asset.id, _bars(1500, price="101")) == 0
    assert store.count(asset.id) == 1500
    assert store.upsert(asset.id, _bars(10, start=T + timedelta(minutes=1495))) == 5
    bars = list(store.iter_bars(asset.id, "BTC/USD", T, T + timedelta(days=2)))
    assert len(bars) == 1505 and bars[0].close == Decimal(101) and bars[-1].close == Decimal(100)
    assert [b.time for b in bars] == sorted(b.time for b in bars)
    assert store.latest_time(asset.id) == T + timedelta(minutes=1504)


def test_reading_bars_pages_through_large_ranges(database, monkeypatch):
    import adapters.db.bars as bars_module

    monkeypatch.setattr(bars_module, "PAGE", 100)
    (asset,), _ = AssetRepository(database).add(["BTC/USD"], AssetParams(), True)
    store = BarStore(database)
    store.upsert(asset.id, _bars(250))
    got = list(store.iter_bars(asset.id, "BTC/USD", T + timedelta(minutes=10), T + timedelta(minutes=240)))
    assert len(got) == 230 and got[0].time == T + timedelta(minutes=10)


def _order(client_id, status="filled"):
    return ExchangeOrder(id=f"00000000-0000-4000-8000-{abs(hash(client_id)) % 10**12:012d}",
                         client_order_id=client_id, symbol="BTC/USD", side="buy", type="limit", time_in_force="gtc",
                         status=status, created_at=T, qty=Decimal("0.002"), filled_qty=Decimal("0.002"),
                         filled_avg_price=Decimal(50000), updated_at=T + timedelta(seconds=1))


def test_our_orders_are_linked_to_their_cycle_and_foreign_ones_are_not(database):
    (asset,), _ = AssetRepository(database).add(["BTC/USD"], AssetParams(), True)
    cycle_id = CycleStore(database).load(asset).cycle.id
    mirror = OrderMirror(database, "dca-test1")
    ours, other_install, manual = f"dca-test1-{asset.id}-{cycle_id}-1", f"dca-zzzzz-{asset.id}-{cycle_id}-1", "manual-1"
    assert mirror.record_many([_order(ours), _order(other_install), _order(manual)]) == 3
    mirror.record(_order(ours, status="filled"))  # again: an update, not a second row
    assert mirror.known_client_ids([ours, manual, "nope"]) == {ours, manual}
    linked = mirror.for_cycle(cycle_id)
    assert [o["client_order_id"] for o in linked] == [ours] and linked[0]["exchange_id"] is not None
    assert mirror.latest_exchange_update() == T + timedelta(seconds=1)


def test_an_exchange_id_already_held_by_another_order_is_counted_instead_of_raising(database):
    clashes: list[int] = []
    mirror = OrderMirror(database, "dca-test1", on_id_taken=lambda: clashes.append(1))
    earlier = _order("from-an-earlier-exchange")
    mirror.record(earlier)
    repeated = replace(_order("manual-2", status="new"), id=earlier.id)  # a new exchange repeating an id
    assert mirror.record_many([repeated]) == 1
    mirror.record(replace(repeated, status="filled"))  # every later report of it too
    assert len(clashes) == 2
    with database.transaction() as session:
        rows = {row.client_order_id: row for row in session.execute(select(DcaOrder)).scalars()}
    assert rows["from-an-earlier-exchange"].id == earlier.id  # the first holder keeps it
    assert rows["manual-2"].id is None and rows["manual-2"].status == "filled"


def test_a_reordered_update_never_takes_a_row_back_to_an_earlier_state(database):
    mirror = OrderMirror(database, "dca-test1")
    filled = _order("manual-3", status="filled")
    mirror.record(filled)
    mirror.record(replace(filled, status="new", filled_qty=Decimal(0), updated_at=T))  # arrives late
    mirror.record(replace(filled, status="partially_filled", updated_at=T + timedelta(seconds=5)))  # never reopens
    with database.transaction() as session:
        row = session.execute(select(DcaOrder).where(DcaOrder.client_order_id == "manual-3")).scalar_one()
    assert (row.status, row.filled_qty) == ("filled", Decimal("0.002"))


def test_unsettled_rows_are_ours_and_open_and_a_submitting_row_can_be_marked_never_sent(database):
    (asset,), _ = AssetRepository(database).add(["BTC/USD"], AssetParams(), True)
    store, mirror = CycleStore(database), OrderMirror(database, "dca-test1")
    state = store.load(asset)
    ours = f"dca-test1-{asset.id}-{state.cycle.id}-1"
    mirror.record_many([_order(f"dca-test1-{asset.id}-{state.cycle.id}-2", status="new"), _order("manual-4", "new"),
                        _order(f"dca-test1-{asset.id}-{state.cycle.id}-3", status="canceled")])
    with database.transaction() as session:  # what CycleStore.save writes before a submission
        session.add(DcaOrder(client_order_id=ours, status="submitting", time_in_force="gtc", created_at=T,
                             fetched_at=T, updated_by_fetch_at=T, cycle_id=state.cycle.id))

    assert mirror.unsettled(T + timedelta(minutes=1)) == [f"dca-test1-{asset.id}-{state.cycle.id}-2", ours]
    assert mirror.unsettled(T) == []  # none older than that
    assert mirror.mark_never_sent(ours)
    assert not mirror.mark_never_sent(f"dca-test1-{asset.id}-{state.cycle.id}-2")  # the exchange has it
    assert mirror.unsettled(T + timedelta(minutes=1)) == [f"dca-test1-{asset.id}-{state.cycle.id}-2"]
