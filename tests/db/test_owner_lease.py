"""The owner lease on both engines: compare-and-set claims, expiry on the database's clock, fencing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from adapters.db.lease import BOOK, Claimant, LeaseStore
from adapters.db.models import DcaOwnerLease
from app.ownership import BookOwned, OwnerLease, book_held_briefly, claim_book
from tests.waiting import wait_for


def _claimant(name: str, pid: int) -> Claimant:
    return Claimant("run", f"host-{name}", pid, f"token-{name}")


@pytest.fixture
def store(database):
    lease_store = LeaseStore(database.url)
    yield lease_store
    lease_store.dispose()


def test_of_two_claimants_racing_for_a_free_book_exactly_one_wins(database):
    stores = [LeaseStore(database.url) for _ in range(6)]
    results: list[bool] = []
    start = threading.Barrier(len(stores))

    def claim(index: int) -> None:
        start.wait()
        results.append(stores[index].try_acquire(_claimant(str(index), 100 + index), 30))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * (len(stores) - 1) + [True]
    for each in stores:
        each.dispose()


def test_the_holder_is_named_with_host_pid_and_start(store):
    assert store.holder() is None
    assert store.try_acquire(_claimant("a", 4242), 30)

    holder = store.holder()
    assert (holder.host, holder.pid, holder.holder) == ("host-a", 4242, "run")
    assert "host host-a, pid 4242, since" in holder.describe()
    assert not store.try_acquire(_claimant("b", 4343), 30)


def test_an_expired_lease_passes_on_and_the_old_owner_can_no_longer_renew(store):
    assert store.try_acquire(_claimant("a", 1), 1)
    assert store.renew("token-a", 1)

    wait_for(lambda: store.try_acquire(_claimant("b", 2), 30), 10, "the lease to expire on the database's clock")

    assert not store.renew("token-a", 30)  # the old owner learns it lost the book
    assert not store.release("token-a")  # and cannot hand back what it no longer holds
    assert store.holder().pid == 2


def test_a_released_book_is_free_at_once(store):
    assert store.try_acquire(_claimant("a", 1), 30)
    assert store.release("token-a")

    assert store.holder() is None
    assert store.try_acquire(_claimant("b", 2), 30)


def test_a_live_owner_is_refused_and_a_brief_command_holds_the_book_meanwhile(store, database):
    with book_held_briefly(store, "adopt"):
        assert store.holder().holder == "adopt"
        with pytest.raises(BookOwned, match=r"supervisor\.py adopt"):
            claim_book(LeaseStore(database.url), _claimant("b", 2), wait=False)
    assert store.holder() is None


def test_an_owner_whose_token_was_taken_fences_itself(store, database):
    lease = claim_book(store, _claimant("a", 1), 6)
    lost = threading.Event()
    lease.start(on_lost=lambda reason: lost.set())
    with database.engine.begin() as connection:  # what a takeover after an expiry looks like to the owner
        connection.execute(update(DcaOwnerLease).where(DcaOwnerLease.name == BOOK).values(token="someone-else"))

    assert lost.wait(10)
    assert lease.lost
    lease.stop(release=True)
    assert store.holder().token == "someone-else"  # never released on the new owner's behalf


def test_an_owner_that_cannot_renew_fences_itself_before_the_lease_expires(tmp_path):
    """A renewal that hangs (the SQLite file locked by another writer) does not delay the fence."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    from adapters.db.database import Database

    Database(url).upgrade()
    store = LeaseStore(url)
    lease: OwnerLease = claim_book(store, _claimant("a", 1), 6)
    lost: list[str] = []
    lease.start(on_lost=lost.append)
    blocker = sqlite3.connect(tmp_path / "book.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # every renewal now waits for the lock
    try:
        wait_for(lambda: lost, 15, "the fence")
        holder_seen = LeaseStore(url)
        blocker.execute("ROLLBACK")
        current = holder_seen.holder()
        assert current is None or current.token == "token-a"  # fenced while the lease was still its own
        holder_seen.dispose()
    finally:
        blocker.close()
    assert "could not be renewed" in lost[0]
    lease.stop(release=False)
