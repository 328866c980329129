"""Logs: secrets never reach a sink; files rotate, compress and expire; JSON lines on request."""

import json

from loguru import logger

from adapters.logging import Redactor, configure_logging, shutdown_logging

SECRET = "hunter2-very-secret"


def test_known_secrets_and_credential_shapes_are_blanked():
    redact = Redactor([SECRET])
    assert SECRET not in redact(f"connecting with {SECRET}")
    assert redact("mysql+pymysql://bot:p4ss@db:3306/x") == "mysql+pymysql://bot:***@db:3306/x"
    assert redact('{"secret_key": "abc123"}') == '{"secret_key": "***"}'
    assert redact("APCA-API-SECRET-KEY: zzzz") == "APCA-API-SECRET-KEY: ***"


def test_file_sink_redacts_messages_and_tracebacks(tmp_path):
    path = configure_logging(log_dir=tmp_path, process="unit", secrets=[SECRET], console=False)
    logger.info("key is {}", SECRET)
    try:
        raise RuntimeError(f"boom with {SECRET}")
    except RuntimeError:
        logger.exception("failed")
    shutdown_logging()
    text = path.read_text()
    assert "key is ***" in text and "RuntimeError: boom with ***" in text and SECRET not in text


def test_json_lines_on_request(tmp_path):
    path = configure_logging(log_dir=tmp_path, process="unit", json_lines=True, console=False)
    logger.bind(actor="asset:BTC/USD").warning("hello")
    shutdown_logging()
    record = json.loads(path.read_text().splitlines()[-1])["record"]
    assert record["message"] == "hello" and record["extra"]["actor"] == "asset:BTC/USD"


def test_standard_library_logging_is_routed_and_redacted(tmp_path):
    import logging

    path = configure_logging(log_dir=tmp_path, process="unit", secrets=[SECRET], console=False)
    logging.getLogger("alpaca").warning("auth with %s", SECRET)
    shutdown_logging()
    assert "auth with ***" in path.read_text()
