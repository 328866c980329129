"""The operators' requests to the running supervisor: the answer keeps whether it was refused as a
field, so a command's exit code never depends on how the answer is worded."""

from __future__ import annotations

from sqlalchemy import update

from adapters.db.models import DcaRequest
from adapters.db.requests import RequestStore
from ports.stores import Answer


def test_a_refused_answer_comes_back_refused_whatever_its_words(database):
    requests = RequestStore(database)
    refused = requests.submit("close", "BTC/USD", {})
    done = requests.submit("adopt", "ETH/USD", {"quantity": "1"})
    requests.finish(refused, Answer("close refused: the cycle holds nothing", refused=True))
    requests.finish(done, Answer("adopted 1 ETH at 2000 USD (refused nothing)"))
    assert requests.wait(refused, timeout=1) == Answer("close refused: the cycle holds nothing", refused=True)
    assert requests.wait(done, timeout=1) == Answer("adopted 1 ETH at 2000 USD (refused nothing)", refused=False)
    assert requests.pending() == []


def test_an_answer_stored_as_plain_text_by_an_earlier_version_is_still_read(database):
    requests = RequestStore(database)
    old = requests.submit("adopt", "BTC/USD", {})
    with database.transaction() as session:
        session.execute(update(DcaRequest).where(DcaRequest.id == old)
                        .values(handled_at=database.now(), result="refused: BTC/USD is not enabled"))
    assert requests.wait(old, timeout=1) == Answer("refused: BTC/USD is not enabled", refused=True)
