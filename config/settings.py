"""The one settings model: environment variables and `.env`, validated once at start-up.

Variable names follow the original bot (APCA_*, DB_*, ORDER_COOLDOWN_SECONDS) so an existing `.env`
keeps working. Secrets are `SecretStr`: they print as `**********` in reprs and logs, and error
messages name the field without echoing its value.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.errors import ConfigError

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_URL = "https://api.alpaca.markets"
ALPACA_DOMAIN = "alpaca.markets"
# SQLAlchemy URL schemes with a driver this project installs and tests (sqlite is the stdlib's)
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "mysql+pymysql", "mariadb+pymysql")
DATABASE_URL_EXAMPLE = "mysql+pymysql://user:password@host:3306/dca_bot_db or sqlite:///data/dca.sqlite3"


class TradingMode(enum.StrEnum):
    EMBEDDED_SIM = "embedded-simulator"
    EXTERNAL_SIM = "external-simulator"
    PAPER = "paper"
    LIVE = "live"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False,
        validate_default=True,
    )

    # --- Alpaca -------------------------------------------------------------------------------
    apca_api_key_id: SecretStr | None = None
    apca_api_secret_key: SecretStr | None = None
    apca_api_base_url: str = PAPER_URL
    apca_data_url: str | None = Field(None, description="market-data REST base (default: Alpaca's)")
    allow_live_trading: bool = False
    alpaca_sim_url: str | None = Field(None, description="a separately running `supervisor.py sim`")

    # --- Database -------------------------------------------------------------------------------
    database_url: SecretStr | None = None
    db_host: str | None = None
    db_user: str = "root"
    db_password: SecretStr | None = None
    db_name: str = "dca_bot_db"
    db_port: int = Field(3306, ge=1, le=65535)
    data_dir: Path = Path("data")
    owner_lease_seconds: int = Field(30, ge=6, le=600, description="a dead owner's book passes on after this")
    seed_bot_dir: Path | None = Field(None, description="the seed bot's project folder: before taking over its "
                                                        "cycles, its main_app.pid must not name a running process")

    # --- Orders and exchange rules ----------------------------------------------------------------
    order_cooldown_seconds: int = Field(5, ge=0, description="wait after a failed or rejected order")
    order_prefix: str = "dca"
    stale_order_threshold_minutes: Decimal = Field(Decimal(5), gt=0)
    stuck_market_sell_timeout_seconds: int = Field(75, gt=0)
    min_order_notional: Decimal = Field(Decimal(10), ge=0)
    buy_margin_percent: Decimal = Field(Decimal(2), ge=0, le=100,
                                        description="a buy near MIN_ORDER_NOTIONAL is sized this much above it")
    rules_refresh_seconds: float = Field(900, gt=0, description="how often each pair's minimums are read again")
    fee_maker_bps: Decimal = Field(Decimal(15), ge=0, lt=10_000)
    fee_taker_bps: Decimal = Field(Decimal(25), ge=0, lt=10_000)

    # --- Risk gates --------------------------------------------------------------------------------
    kill_switch: bool = Field(False, description="engaged for as long as this is set")
    kill_switch_file: Path | None = Field(None, description="engaged while it exists (default DATA_DIR/KILL_SWITCH)")
    circuit_breaker_failures: int = Field(5, ge=0, description="consecutive order failures that stop orders")
    circuit_breaker_cooldown_seconds: int = Field(600, gt=0)
    daily_loss_limit: Decimal | None = Field(None, gt=0, description="realized loss since 00:00 UTC")
    capital_budget: Decimal | None = Field(None, gt=0)
    asset_capital_cap: Decimal | None = Field(None, gt=0)
    max_open_cycles: int | None = Field(None, ge=0)
    dry_run: bool = Field(False, description="decide and record, but send orders to a local shadow exchange")
    dry_run_wallet: Decimal = Field(Decimal(10_000), gt=0, description="the shadow exchange's starting cash")
    risk_check_interval_seconds: Decimal = Field(Decimal(2), gt=0)

    # --- Caretakers (seconds; defaults follow the original cron table) ----------------------------
    order_janitor_interval_seconds: int = Field(60, gt=0)
    cooldown_keeper_interval_seconds: int = Field(60, gt=0)
    reconciler_interval_seconds: int = Field(300, gt=0)
    asset_watcher_interval_seconds: int = Field(30, gt=0)
    order_history_sync_interval_seconds: int = Field(900, gt=0)
    bars_sync_interval_seconds: int = Field(3600, ge=0, description="0 switches bar syncing off")

    # --- Simulator (embedded default) ------------------------------------------------------------
    sim_speed: Decimal = Field(Decimal(60), gt=0, description="simulated seconds per real second")
    sim_seed: int = 1

    # --- Observability ---------------------------------------------------------------------------
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(10588, ge=0, le=65535)
    log_dir: Path = Path("logs")
    log_level: str = "INFO"
    log_json: bool = False

    # --- Trade notifications (apprise URLs; see docs/operations.md#trade-notifications) -------------
    notify_urls: SecretStr | None = Field(None, description="apprise URLs, separated by commas or spaces")
    notify_off: str = Field("", description="notice kinds not to send, separated by commas")
    notify_rate_per_minute: int = Field(20, gt=0)

    @field_validator("apca_api_key_id", "apca_api_secret_key", "db_password", "database_url", "daily_loss_limit",
                     "capital_budget", "asset_capital_cap", "max_open_cycles", "seed_bot_dir", "notify_urls",
                     mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("apca_api_base_url", "apca_data_url", "alpaca_sim_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")  # alpaca-py appends "/v2": a trailing slash would give "//v2"
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://paper-api.alpaca.markets")
        return value

    @field_validator("apca_api_base_url")
    @classmethod
    def _alpaca_endpoint(cls, value: str | None) -> str:
        """Alpaca's own hosts become their canonical URL whatever the spelling ("/v2", a port, capitals),
        so the live endpoint is always recognised as live and needs ALLOW_LIVE_TRADING."""
        host = _host(value) if value is not None else ""
        if host == urlsplit(LIVE_URL).hostname:
            return LIVE_URL
        if host == urlsplit(PAPER_URL).hostname or value is None:
            return PAPER_URL
        return value

    @field_validator("alpaca_sim_url")
    @classmethod
    def _not_alpaca(cls, value: str | None) -> str | None:
        # the simulator URL skips the live-trading checks, so it must never lead to Alpaca itself
        if value is not None and _is_alpaca_host(_host(value)):
            raise ValueError(f"{_host(value)} is Alpaca, not a simulator; ALPACA_SIM_URL is for "
                             "`supervisor.py sim` (set APCA_API_BASE_URL for Alpaca paper or live)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        """A URL SQLAlchemy can open with an installed driver. The messages never quote the value: it
        holds the password."""
        if value is None:
            return None
        url = value.get_secret_value().strip()
        scheme, separator, _ = url.partition("://")
        if not separator or not re.fullmatch(r"[a-z][a-z0-9+]*", scheme, flags=re.IGNORECASE):
            raise ValueError(f"not a database URL; use {DATABASE_URL_EXAMPLE}")
        if scheme.lower() not in DATABASE_SCHEMES:
            raise ValueError(f"unsupported database {scheme}://; use {DATABASE_URL_EXAMPLE} "
                             f"(supported: {', '.join(s + '://' for s in DATABASE_SCHEMES)})")
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018 - raises for a port that is not a number
        except ValueError:
            raise ValueError(f"cannot be read as a database URL; use {DATABASE_URL_EXAMPLE}") from None
        if not parts.path.lstrip("/"):
            raise ValueError(f"names no database; use {DATABASE_URL_EXAMPLE}")
        return SecretStr(url)

    @field_validator("notify_off")
    @classmethod
    def _notice_kinds(cls, value: str) -> str:
        from dca.notices import NoticeKind

        kinds = {kind.value for kind in NoticeKind}
        unknown = [part for part in re.split(r"[\s,]+", value.strip()) if part and part not in kinds]
        if unknown:
            raise ValueError(f"unknown notice kind(s) {', '.join(unknown)}; known: {', '.join(sorted(kinds))}")
        return value

    def notify_switched_off(self) -> list[str]:
        return [part for part in re.split(r"[\s,]+", self.notify_off.strip()) if part]

    @field_validator("order_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9]{0,7}", value):
            raise ValueError("must be 1-8 lowercase letters or digits, starting with a letter")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        problems: list[str] = []
        has_key, has_secret = self.apca_api_key_id is not None, self.apca_api_secret_key is not None
        if has_key != has_secret:
            missing = "APCA_API_SECRET_KEY" if has_key else "APCA_API_KEY_ID"
            problems.append(f"{missing}: required together with the other Alpaca key")
        if has_key and self.alpaca_sim_url is None:
            if self.apca_api_base_url not in (PAPER_URL, LIVE_URL) and not self.allow_live_trading:
                problems.append(
                    f"APCA_API_BASE_URL: unknown Alpaca endpoint; use {PAPER_URL} (paper) or {LIVE_URL} (live)"
                )
            if self.apca_api_base_url == LIVE_URL and not self.allow_live_trading:
                problems.append(
                    "APCA_API_BASE_URL: the live endpoint trades real money; "
                    "set ALLOW_LIVE_TRADING=true as well to confirm"
                )
        if self.database_url is not None and self.db_host is not None:
            problems.append("DATABASE_URL: set either DATABASE_URL or DB_HOST/DB_*, not both")
        if problems:  # one "FIELD: why" per line (see validation_problems)
            raise ValueError("\n".join(problems))
        return self

    # --- derived values ------------------------------------------------------------------------

    @property
    def trading_mode(self) -> TradingMode:
        if self.alpaca_sim_url is not None:
            return TradingMode.EXTERNAL_SIM
        if self.apca_api_key_id is None:
            return TradingMode.EMBEDDED_SIM
        return TradingMode.LIVE if self.apca_api_base_url == LIVE_URL else TradingMode.PAPER

    def sqlalchemy_url(self) -> str:
        """The database URL with its password; hand it to the engine only, never to a log."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        if self.db_host is not None:
            password = self.db_password.get_secret_value() if self.db_password else ""
            auth = quote_plus(self.db_user) + (":" + quote_plus(password) if password else "")
            return f"mysql+pymysql://{auth}@{self.db_host}:{self.db_port}/{self.db_name}?charset=utf8mb4"
        name = "dca-dry-run.sqlite3" if self.dry_run else "dca.sqlite3"  # a dry run never mixes with real books
        return f"sqlite:///{self.data_dir / name}"

    @property
    def kill_switch_path(self) -> Path:
        return self.kill_switch_file or self.data_dir / "KILL_SWITCH"

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor."""
        found = [s.get_secret_value() for s in (self.apca_api_secret_key, self.db_password, self.database_url,
                                                  self.apca_api_key_id, self.notify_urls) if s is not None]
        if self.notify_urls is not None:  # each URL holds a token: blank any one quoted alone
            found += [url for url in re.split(r"[\s,]+", self.notify_urls.get_secret_value()) if url]
        return found

    def redacted_database_url(self) -> str:
        return redact_url(self.sqlalchemy_url())


class AlpacaKeys(BaseSettings):
    """The Alpaca key pair alone, read exactly as `Settings` reads it (the environment, then `.env`):
    what `supervisor.py sim` needs, without failing on settings only the bot uses."""

    model_config = Settings.model_config
    apca_api_key_id: SecretStr | None = None
    apca_api_secret_key: SecretStr | None = None

    @field_validator("apca_api_key_id", "apca_api_secret_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return _blank_to_none(value)


def load_alpaca_keys(env_file: str | Path | None = ".env") -> tuple[str | None, str | None]:
    """(key id, secret key), None where unset; the same sources and precedence as `load_settings`."""
    keys = AlpacaKeys(_env_file=env_file)  # type: ignore[call-arg]
    return tuple(k.get_secret_value() if k else None  # type: ignore[return-value]
                 for k in (keys.apca_api_key_id, keys.apca_api_secret_key))


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def _is_alpaca_host(host: str) -> bool:
    return host == ALPACA_DOMAIN or host.endswith("." + ALPACA_DOMAIN)


def redact_url(url: str) -> str:
    """`scheme://user:***@host/db`: safe for logs and banners."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Settings from the environment and `env_file`; `ConfigError` names every bad field."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        problems = validation_problems(error)
        problems += [p for p in _cross_field_problems(error, env_file, overrides) if p not in problems]
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems)) from None


def _cross_field_problems(error: ValidationError, env_file: str | Path | None, overrides: dict[str, Any]) -> list[str]:
    """pydantic skips the cross-field checks (`_consistent`) once any field is bad. Validating again with
    the bad fields at their defaults runs them on the good ones, so one start names every problem."""
    bad = {str(item["loc"][0]) for item in error.errors() if item["loc"]} & set(Settings.model_fields)
    if not bad:
        return []
    defaults = {name: Settings.model_fields[name].get_default(call_default_factory=True) for name in bad}
    try:
        Settings(_env_file=env_file, **{**overrides, **defaults})  # type: ignore[call-arg]
    except ValidationError as again:
        return validation_problems(again)  # the caller drops what the first pass said already
    return []


def validation_problems(error: ValidationError) -> list[str]:
    """One "FIELD: why" line per problem, the field named as its environment variable. Input values are
    left out on purpose: pydantic would echo them, and they may be secrets."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        if field:
            problems.append(f"{field}: {' '.join(message.split())}")  # one line, whatever pydantic wrote
        else:  # the cross-field problems arrive as one message, one "FIELD: why" per line
            problems.extend(part for part in message.splitlines() if part.strip())
    return problems
