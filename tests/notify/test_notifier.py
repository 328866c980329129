"""Trade notifications: apprise's `json://` scheme against a real local HTTP server, through the
notifier actor (bounded queue, rate limit, brief retries, secrets blanked, kinds switched off)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from actors.notifier import NotifierHandle, start_notifier
from adapters.metrics import Metrics
from adapters.notify import BadNotifyUrl, open_channels
from config.settings import load_settings
from dca.notices import Notice, NoticeKind, kill_switch_engaged
from tests.notify.receiver import Receiver
from tests.waiting import wait_for

NO_WAIT = {"retry_delays_s": (0.0, 0.0)}
STARTED = Notice(NoticeKind.CYCLE_STARTED, "BTC/USD: cycle 1 started", "Bought 0.001 BTC/USD at 50000 (50).")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def notifier(metrics: Metrics, *urls: str, off: tuple[NoticeKind, ...] = (), per_minute: float = 100,
             secrets: tuple[str, ...] = (), capacity: int = 100) -> NotifierHandle:
    return start_notifier(open_channels(",".join(urls)), metrics, off, per_minute, secrets, capacity=capacity,
                          now=lambda: 0.0, **NO_WAIT)


def test_a_notice_reaches_every_configured_service_with_its_title_and_text(receiver: Receiver) -> None:
    metrics = Metrics()
    with Receiver() as second:
        handle = notifier(metrics, receiver.url, second.url)
        handle.post(STARTED)
        handle.stop()
        assert [m["title"] for m in receiver.messages] == [STARTED.title] == second.titles()
    assert receiver.messages[0]["message"] == STARTED.body
    assert value(metrics, "dca_notifications_sent_total", kind="cycle_started") == 1


def test_a_warning_is_sent_as_an_apprise_warning(receiver: Receiver) -> None:
    handle = notifier(Metrics(), receiver.url)
    handle.post(kill_switch_engaged("KILL_SWITCH is set"))
    handle.stop()
    assert receiver.messages[0]["type"] == "warning"


@pytest.mark.parametrize(("refusals", "delivered"), [(2, True), (10, False)],
                         ids=["fails-twice-then-gets-it", "keeps-failing-and-is-given-up-on"])
def test_a_failing_service_is_tried_three_times_in_all(receiver: Receiver, refusals: int, delivered: bool) -> None:
    metrics = Metrics()
    receiver.refuse_next = refusals
    handle = notifier(metrics, receiver.url)
    handle.post(STARTED)
    handle.stop()
    assert receiver.attempts == 3
    assert receiver.titles() == ([STARTED.title] if delivered else [])
    assert value(metrics, "dca_notifications_failed_total") == (0 if delivered else 1)
    assert value(metrics, "dca_notifications_sent_total", kind="cycle_started") == (1 if delivered else 0)


def test_a_kind_switched_off_is_not_sent(receiver: Receiver) -> None:
    handle = notifier(Metrics(), receiver.url, off=(NoticeKind.CYCLE_STARTED,))
    handle.post(STARTED)
    handle.post(kill_switch_engaged("KILL_SWITCH is set"))
    handle.stop()
    assert receiver.titles() == ["Kill switch engaged"]


def test_notices_over_the_rate_limit_are_dropped_and_counted(receiver: Receiver) -> None:
    metrics = Metrics()
    handle = notifier(metrics, receiver.url, per_minute=2)  # the clock stands still: no refill
    for _ in range(5):
        handle.post(STARTED)
    handle.stop()
    assert len(receiver.messages) == 2
    assert value(metrics, "dca_notifications_dropped_total", reason="rate_limited") == 3


def test_posting_never_waits_for_a_stuck_service_a_full_queue_drops_and_counts(receiver: Receiver) -> None:
    metrics = Metrics()
    receiver.release.clear()  # the service holds every request
    handle = notifier(metrics, receiver.url, capacity=2)
    handle.post(STARTED)
    wait_for(receiver.arrived.is_set, 30, "the first notice to reach the service")
    for _ in range(5):  # the actor is stuck in the first send: two fit in the queue
        handle.post(STARTED)
    assert value(metrics, "dca_notifications_dropped_total", reason="queue_full") == 3
    receiver.release.set()
    handle.stop()
    assert len(receiver.messages) == 3


def test_configured_secrets_never_reach_the_service(receiver: Receiver) -> None:
    handle = notifier(Metrics(), receiver.url, secrets=("PKSECRET123",))
    handle.post(Notice(NoticeKind.ASSET_STOPPED, "assets stopped", "gave up: HTTP 403 for key PKSECRET123"))
    handle.stop()
    assert receiver.messages[0]["message"] == "gave up: HTTP 403 for key ****"


def test_a_url_apprise_does_not_understand_is_named_by_position_without_quoting_it() -> None:
    with pytest.raises(BadNotifyUrl) as refused:
        open_channels("json://127.0.0.1:9/ok, nosuchscheme://token-abc")
    assert "NOTIFY_URLS: entry 2" in str(refused.value)
    assert "token-abc" not in str(refused.value)


def test_an_unknown_kind_in_notify_off_is_refused_naming_the_field(tmp_path) -> None:
    with pytest.raises(Exception) as refused:
        load_settings(env_file=None, data_dir=tmp_path, notify_off="cycle_started,fills")
    assert "notify_off" in str(refused.value).lower() and "fills" in str(refused.value)


def test_notify_urls_are_secrets_the_log_redactor_blanks(tmp_path) -> None:
    settings = load_settings(env_file=None, data_dir=tmp_path, notify_urls="tgram://123:abc/456 json://h/x")
    assert {"tgram://123:abc/456", "json://h/x"} <= set(settings.secret_values())
    assert "abc" not in repr(settings)
    assert settings.notify_switched_off() == []
