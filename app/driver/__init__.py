"""One asset's order loop as a plain application service (`AssetDriver`), and what it is given."""

from app.driver.asset_driver import AssetDriver, note_kind
from app.driver.services import AssetHost, DriverPorts, TradingRules

__all__ = ["AssetDriver", "AssetHost", "DriverPorts", "TradingRules", "note_kind"]
