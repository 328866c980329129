"""Bad configuration exits with code 2, names every bad field, and never shows a secret."""

import pytest

from config.settings import ConfigError, TradingMode, load_settings
from tests.cli.helpers import supervisor

SECRET = "s3cr3t-value-that-must-not-leak"


def test_every_bad_field_is_named_with_exit_code_2(tmp_path):
    result = supervisor(tmp_path, "assets", "list", env={
        "DB_PORT": "abc", "ORDER_COOLDOWN_SECONDS": "-1", "APCA_API_BASE_URL": "ftp://x", "LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    for field in ("DB_PORT", "ORDER_COOLDOWN_SECONDS", "APCA_API_BASE_URL", "LOG_LEVEL"):
        assert field in result.stderr


def test_live_trading_needs_the_second_switch_and_secrets_never_leak(tmp_path):
    env = {"APCA_API_KEY_ID": "AKTEST", "APCA_API_SECRET_KEY": SECRET, "APCA_API_BASE_URL": "https://api.alpaca.markets",
           "DB_PASSWORD": SECRET, "DB_PORT": "x"}
    result = supervisor(tmp_path, "assets", "list", env=env)
    assert result.returncode == 2 and "DB_PORT" in result.stderr
    env["DB_PORT"] = "3306"
    env["DB_HOST"] = "127.0.0.1"
    result = supervisor(tmp_path, "assets", "list", env=env)
    assert result.returncode == 2 and "ALLOW_LIVE_TRADING" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_a_key_without_its_secret_is_refused():
    with pytest.raises(ConfigError, match="APCA_API_SECRET_KEY"):
        load_settings(env_file=None, apca_api_key_id="AK")


def test_reprs_and_urls_hide_secrets():
    settings = load_settings(env_file=None, apca_api_key_id="AK", apca_api_secret_key=SECRET,
                             db_host="db.example", db_user="bot", db_password=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in settings.redacted_database_url() and SECRET in settings.sqlalchemy_url()
    assert settings.redacted_database_url().startswith("mysql+pymysql://bot:***@db.example:3306/dca_bot_db")


def test_trading_mode_follows_keys_and_urls():
    assert load_settings(env_file=None).trading_mode is TradingMode.EMBEDDED_SIM
    keys = {"apca_api_key_id": "AK", "apca_api_secret_key": "S"}
    assert load_settings(env_file=None, **keys).trading_mode is TradingMode.PAPER
    live = load_settings(env_file=None, **keys, apca_api_base_url="https://api.alpaca.markets", allow_live_trading=True)
    assert live.trading_mode is TradingMode.LIVE
    sim = load_settings(env_file=None, alpaca_sim_url="http://127.0.0.1:8765/")
    assert sim.trading_mode is TradingMode.EXTERNAL_SIM and sim.alpaca_sim_url == "http://127.0.0.1:8765"


def test_default_database_is_sqlite_under_data_and_env_file_is_read(tmp_path):
    assert load_settings(env_file=None).sqlalchemy_url() == "sqlite:///data/dca.sqlite3"
    env_file = tmp_path / ".env"
    env_file.write_text('DB_HOST="db"\nDB_NAME="bot"\nORDER_COOLDOWN_SECONDS=7\n')
    settings = load_settings(env_file=env_file)
    assert settings.sqlalchemy_url() == "mysql+pymysql://root@db:3306/bot?charset=utf8mb4"
    assert settings.order_cooldown_seconds == 7


def test_env_example_documents_every_setting_and_loads_cleanly(tmp_path):
    from pathlib import Path

    from config.settings import Settings

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = {line.split("=", 1)[0].lstrip("# ").strip() for line in example.splitlines() if "=" in line}
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f".env.example does not document {sorted(missing)}"
    copy = tmp_path / ".env"
    copy.write_text(example)
    assert load_settings(env_file=copy).trading_mode is TradingMode.EMBEDDED_SIM
