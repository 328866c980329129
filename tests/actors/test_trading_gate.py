"""The trading gate: once closed, no order request reaches the broker; requests on the wire are waited for."""

from __future__ import annotations

import threading

import pytest

from actors.supervision.process_exit import ProcessExit
from actors.trading_gate import GatedBroker, TradingGate, TradingStopped


class RecordingBroker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self.hold = False

    def submit(self, command: object) -> str:
        self.calls.append(("submit", command))
        if self.hold:
            self.entered.set()
            self.release.wait(10)
        return "accepted"

    def cancel(self, exchange_id: str) -> None:
        self.calls.append(("cancel", exchange_id))

    def account(self) -> str:
        return "the account"


def test_a_closed_gate_lets_no_submit_or_cancel_through_but_reads_still_work() -> None:
    broker, gate = RecordingBroker(), TradingGate()
    gated = GatedBroker(broker, gate)
    assert gated.submit("order-1") == "accepted"

    gate.close("stopped by SIGINT")

    with pytest.raises(TradingStopped, match="stopped by SIGINT"):
        gated.submit("order-2")
    with pytest.raises(TradingStopped):
        gated.cancel("x-1")
    assert broker.calls == [("submit", "order-1")]
    assert gated.account() == "the account"


def test_drain_waits_for_a_request_already_on_the_wire() -> None:
    broker, gate = RecordingBroker(), TradingGate()
    broker.hold = True
    gated = GatedBroker(broker, gate)
    worker = threading.Thread(target=gated.submit, args=("order-1",))
    worker.start()
    assert broker.entered.wait(10)

    gate.close("stopping")
    assert gate.drain(0.05) is False  # still on the wire
    broker.release.set()
    assert gate.drain(10) is True
    worker.join(10)


def test_the_first_exit_request_closes_the_gate_with_its_reason() -> None:
    gate, process_exit = TradingGate(), ProcessExit()
    process_exit.on_request(lambda _code, reason: gate.close(reason))

    process_exit.give_up("root gave up")

    assert gate.closed and gate.reason == "root gave up"
