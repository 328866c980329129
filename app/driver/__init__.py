"""One asset's order loop as a plain application service (`AssetDriver`), and what it reports."""

from app.driver.asset_driver import AssetDriver, AssetHost, DriverPorts, TradingRules, note_kind

__all__ = ["AssetDriver", "AssetHost", "DriverPorts", "TradingRules", "note_kind"]
