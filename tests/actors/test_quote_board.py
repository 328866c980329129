"""The quote board: conflation (under a burst the asset decides on the newest quote, never on a
stale backlog) and quotes outside the cycle's triggers settled on arrival without waking the actor."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from actors.messages import QuoteReady
from actors.quote_board import QuoteBoard
from dca.market import Quote
from dca.triggers import Triggers

T = datetime(2026, 1, 1, tzinfo=UTC)


class Inbox:
    def __init__(self, alive=True):
        self.messages, self.alive = [], alive

    def tell(self, message):
        if self.alive:
            self.messages.append(message)
        return self.alive


def _quote(i):
    return Quote("BTC/USD", Decimal(100 + i), Decimal(101 + i), T + timedelta(seconds=i))


def test_a_burst_leaves_one_nudge_and_the_newest_quote():
    counted = {"quotes": 0, "conflated": 0}
    board = QuoteBoard(on_quote=lambda _s: lambda: counted.__setitem__("quotes", counted["quotes"] + 1),
                       on_conflated=lambda _s: lambda: counted.__setitem__("conflated", counted["conflated"] + 1))
    inbox = Inbox()
    board.register("BTC/USD", inbox)
    for i in range(1000):
        board.publish(_quote(i))
    assert inbox.messages == [QuoteReady()]  # one message in the mailbox, however long the burst
    quote, arrived = board.take("BTC/USD")
    assert quote == _quote(999) and arrived > 0
    assert counted == {"quotes": 1000, "conflated": 999}
    board.publish(_quote(1000))  # after a take, the next quote nudges again
    assert len(inbox.messages) == 2


def test_quotes_for_unregistered_symbols_are_dropped_quietly():
    board = QuoteBoard()
    board.publish(_quote(1))
    assert board.take("BTC/USD") == (None, 0)


def test_a_restarted_actor_is_nudged_for_the_quote_it_missed_while_down():
    board = QuoteBoard()
    dead = Inbox(alive=False)
    board.register("BTC/USD", dead)
    board.publish(_quote(1))  # the actor is down: the nudge is lost, the quote is kept
    fresh = Inbox()
    board.register("BTC/USD", fresh)  # the new incarnation registers in its init
    assert fresh.messages == [QuoteReady()] and board.take("BTC/USD")[0] == _quote(1)


def test_quotes_outside_the_posted_triggers_are_settled_without_waking_the_actor():
    board, inbox = QuoteBoard(), Inbox()
    board.register("BTC/USD", inbox)
    board.release("BTC/USD", Triggers(ask_at_or_below=Decimal(90), bid_at_or_above=Decimal(120)))
    for i in range(5):  # bids 100..104, asks 101..105: inside both levels
        board.publish(_quote(i))
    assert inbox.messages == [] and board.settled("BTC/USD") == _quote(4) == board.latest("BTC/USD")
    board.publish(_quote(20))  # bid 120 reaches the take-profit level: the actor decides
    assert inbox.messages == [QuoteReady()] and board.take("BTC/USD")[0] == _quote(20)


def test_a_held_slot_sends_every_quote_to_the_actor_until_it_posts_new_triggers():
    board, inbox = QuoteBoard(), Inbox()
    board.register("BTC/USD", inbox)  # a new actor starts held: its state is not known yet
    board.publish(_quote(1))
    assert inbox.messages == [QuoteReady()]
    board.take("BTC/USD")
    board.release("BTC/USD", Triggers(bid_at_or_above=Decimal(120)))
    board.hold("BTC/USD")  # a fill is being applied: the posted triggers may be stale
    board.publish(_quote(2))
    assert len(inbox.messages) == 2
    board.take("BTC/USD")
    board.release("BTC/USD", Triggers(bid_at_or_above=Decimal(120)))
    board.publish(_quote(3))
    assert len(inbox.messages) == 2 and board.settled("BTC/USD") == _quote(3)


def test_a_timer_deadline_makes_a_quote_act():
    board, inbox = QuoteBoard(), Inbox()
    board.register("BTC/USD", inbox)
    board.release("BTC/USD", Triggers(at_time=T + timedelta(seconds=3)))
    board.publish(_quote(2))
    assert inbox.messages == []
    board.publish(_quote(3))  # at the deadline (a cooldown's end, a stale order's timeout)
    assert inbox.messages == [QuoteReady()]
