"""Bad configuration exits with code 2, names every bad field, and never shows a secret."""

import re
import socket

import pytest

from config.settings import ConfigError, TradingMode, load_alpaca_keys, load_settings
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


def test_cross_field_problems_are_named_even_when_a_field_is_bad():
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, db_port="abc", apca_api_key_id="AK", database_url="sqlite:///x.sqlite3",
                      db_host="127.0.0.1")
    message = str(caught.value)
    for field in ("DB_PORT:", "APCA_API_SECRET_KEY:", "DATABASE_URL:"):
        assert f"\n  {field}" in message, message


def test_every_problem_is_one_line_that_starts_with_its_field():
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None, apca_api_key_id="AK", apca_api_secret_key=SECRET, db_port="x",
                      apca_api_base_url="https://api.alpaca.markets", database_url="notaurl", db_host="db")
    header, *lines = str(caught.value).splitlines()
    assert header == "invalid configuration:" and len(lines) == 3  # DB_PORT, DATABASE_URL, APCA_API_BASE_URL
    assert all(re.fullmatch(r"  [A-Z_]+: \S.*", line) for line in lines), lines
    assert any(line.startswith("  APCA_API_BASE_URL: ") and "ALLOW_LIVE_TRADING=true" in line for line in lines)


@pytest.mark.parametrize("url", ["notaurl", f"postgresql://bot:{SECRET}@db/dca", f"mysql://bot:{SECRET}@db/dca",
                                 f"mysql+pymysql://bot:{SECRET}@db:port/dca", f"mysql+pymysql://bot:{SECRET}@db"])
def test_a_database_url_the_bot_cannot_use_exits_2_naming_it_without_the_password(tmp_path, url):
    result = supervisor(tmp_path, "assets", "list", env={"DATABASE_URL": url})
    assert result.returncode == 2 and "DATABASE_URL: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout


def test_mysql_and_mariadb_urls_with_pymysql_and_sqlite_urls_are_accepted(tmp_path):
    for url in ("mysql+pymysql://bot@db:3306/dca", "mariadb+pymysql://bot@db/dca", f"sqlite:///{tmp_path}/x.sqlite3"):
        assert load_settings(env_file=None, database_url=url).sqlalchemy_url() == url


def test_an_unreachable_database_is_one_line_and_exit_1_without_the_password(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = supervisor(tmp_path, "assets", "list",
                        env={"DATABASE_URL": f"mysql+pymysql://bot:{SECRET}@127.0.0.1:{port}/dca"})
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("supervisor.py assets: DATABASE_URL: cannot open the database mysql+pymysql://bot:***@")
    assert len(result.stderr.strip().splitlines()) == 1 and SECRET not in result.stderr + result.stdout


@pytest.mark.parametrize("url", ["https://api.alpaca.markets", "https://paper-api.alpaca.markets/v2",
                                 "https://API.Alpaca.Markets./"])
def test_the_simulator_url_can_never_lead_to_alpaca(tmp_path, url):
    keys = {"APCA_API_KEY_ID": "AK", "APCA_API_SECRET_KEY": SECRET}
    result = supervisor(tmp_path, "assets", "list", env={**keys, "ALPACA_SIM_URL": url, "ALLOW_LIVE_TRADING": "true"})
    assert result.returncode == 2 and "ALPACA_SIM_URL: " in result.stderr, result.stderr
    assert SECRET not in result.stderr + result.stdout


@pytest.mark.parametrize("url", ["https://api.alpaca.markets/v2", "https://api.alpaca.markets/",
                                 "HTTPS://API.ALPACA.MARKETS:443/v2/"])
def test_every_spelling_of_the_live_endpoint_is_live_and_needs_the_second_switch(url):
    keys = {"apca_api_key_id": "AK", "apca_api_secret_key": "S", "apca_api_base_url": url}
    with pytest.raises(ConfigError, match="APCA_API_BASE_URL: the live endpoint trades real money"):
        load_settings(env_file=None, **keys)
    live = load_settings(env_file=None, **keys, allow_live_trading=True)
    assert live.trading_mode is TradingMode.LIVE and live.apca_api_base_url == "https://api.alpaca.markets"


def test_the_simulator_reads_the_alpaca_keys_like_the_bot(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(f"APCA_API_KEY_ID=PKFILE\nAPCA_API_SECRET_KEY={SECRET}\nDB_PORT=not-the-sims-business\n")
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    assert load_alpaca_keys(env_file) == ("PKFILE", SECRET)
    monkeypatch.setenv("APCA_API_KEY_ID", "PKENV")  # the environment wins, as for the bot
    assert load_alpaca_keys(env_file) == ("PKENV", SECRET)
