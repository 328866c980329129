"""ProcessExit: the latch that carries the exit code from the root supervisor to the main thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from actors.supervision.process_exit import EXIT_GAVE_UP, ProcessExit

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def test_the_first_exit_request_wins() -> None:
    process_exit = ProcessExit()

    assert process_exit.request(0, "SIGTERM") is True
    assert process_exit.request(EXIT_GAVE_UP, "root gave up") is False

    assert (process_exit.code, process_exit.reason) == (0, "SIGTERM")


def test_give_up_requests_a_non_zero_exit() -> None:
    process_exit = ProcessExit()

    process_exit.give_up("restart intensity exceeded")

    assert process_exit.requested
    assert process_exit.code == EXIT_GAVE_UP != 0


def test_wait_returns_false_on_timeout_and_true_once_requested() -> None:
    process_exit = ProcessExit()
    assert process_exit.wait(0.01) is False

    threading.Timer(0.01, process_exit.give_up, args=("boom",)).start()

    assert process_exit.wait(5) is True


def run_main_program(body: str) -> subprocess.CompletedProcess[str]:
    # Signals are process-wide, so the main-thread behaviour is checked in a child interpreter.
    script = "import os, signal, sys, threading\nfrom actors.supervision.process_exit import ProcessExit\n"
    script += textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=20
    )


def test_wait_for_exit_returns_the_code_a_supervisor_thread_requested() -> None:
    result = run_main_program(
        """
        process_exit = ProcessExit()
        threading.Timer(0.05, process_exit.give_up, args=("root gave up",)).start()
        sys.exit(process_exit.wait_for_exit())
        """
    )
    assert result.returncode == 70, result.stderr


def test_sigterm_ends_wait_for_exit_with_code_zero_and_later_signals_are_absorbed() -> None:
    result = run_main_program(
        """
        process_exit = ProcessExit()
        threading.Timer(0.05, os.kill, args=(os.getpid(), signal.SIGTERM)).start()
        code = process_exit.wait_for_exit()
        process_exit.give_up("the root reports its end during the orderly shutdown")
        os.kill(os.getpid(), signal.SIGTERM)  # during the shutdown: neither a KeyboardInterrupt nor death
        os.kill(os.getpid(), signal.SIGINT)
        threading.Event().wait(0.2)
        print(process_exit.reason)
        sys.exit(process_exit.code + code)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stopped by SIGTERM"


def test_two_sigints_half_a_millisecond_apart_end_the_wait_without_an_exception() -> None:
    result = run_main_program(
        """
        import time
        process_exit = ProcessExit()
        def twice():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.0005)
            os.kill(os.getpid(), signal.SIGINT)
        threading.Timer(0.05, twice).start()
        code = process_exit.wait_for_exit()
        threading.Event().wait(0.2)  # the second signal is logged, not raised
        print(process_exit.reason)
        sys.exit(code)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stopped by SIGINT"
    assert "Traceback" not in result.stderr


def test_a_shutdown_that_hangs_ends_hard_after_the_grace_period_with_the_requested_code() -> None:
    result = run_main_program(
        """
        process_exit = ProcessExit()
        process_exit.catch_signals(grace_s=0.3)
        process_exit.on_hard_exit(lambda: print("hook ran", flush=True))
        process_exit.on_hard_exit(lambda: threading.Event().wait())  # a hook that hangs is abandoned
        stuck = threading.Thread(target=threading.Event().wait)  # a non-daemon thread that never ends
        stuck.start()
        process_exit.give_up("the root gave up")
        """
    )
    assert result.returncode == EXIT_GAVE_UP, result.stderr
    assert "hook ran" in result.stdout
    assert "exiting hard with code 70" in result.stderr


def test_exit_listeners_hear_the_first_request_once() -> None:
    process_exit, heard = ProcessExit(), []
    process_exit.on_request(lambda code, reason: heard.append((code, reason)))

    process_exit.request(0, "SIGINT")
    process_exit.give_up("later")
    process_exit.on_request(lambda code, reason: heard.append(("late", reason)))

    assert heard == [(0, "SIGINT"), ("late", "SIGINT")]
