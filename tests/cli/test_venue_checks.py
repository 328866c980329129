"""Start-up checks against the venue, as a user meets them (issue 10, item 8)."""

from adapters.sim.config import SimConfig
from adapters.sim.service import SimulatorService
from tests.cli.helpers import supervisor


def test_a_pair_the_venue_does_not_trade_is_refused_by_assets_add_and_nothing_is_written(tmp_path):
    refused = supervisor(tmp_path, "assets", "add", "XRP/USDD", "--enabled")
    assert refused.returncode == 2 and "XRP/USDD" in refused.stderr and "does not trade it" in refused.stderr
    assert supervisor(tmp_path, "assets", "list", "--json").stdout.strip() == "[]"


def test_an_account_whose_crypto_status_is_not_active_refuses_to_start(tmp_path):
    config = SimConfig(symbols=["BTC/USD"], port=0, rate_limit_per_minute=0, quirks={"crypto_status": "INACTIVE"})
    with SimulatorService(config) as service:
        env = {"ALPACA_SIM_URL": service.urls.trading, "APCA_API_KEY_ID": service.key_id,
               "APCA_API_SECRET_KEY": service.secret_key, "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
               "METRICS_PORT": "0"}
        result = supervisor(tmp_path, "run", "--duration", "5", env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "crypto_status is INACTIVE" in result.stderr and "refuses crypto orders" in result.stderr
