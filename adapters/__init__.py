"""The edges of the system: the only modules that import vendors (alpaca-py, SQLAlchemy,
prometheus-client, aiohttp)."""
