"""`ConfigError` on its own, so that the command line can name it without importing pydantic."""


class ConfigError(Exception):
    """Bad configuration: the message names every bad field and never contains a secret."""
