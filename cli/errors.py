"""Exit codes and the error a command raises for bad input."""

EXIT_OK = 0
EXIT_FAILURE = 1  # the command ran and something it did failed
EXIT_CONFIG = 2  # bad configuration or bad arguments: nothing was done
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input to a command. The message names the offending field; nothing has been written."""


class Unavailable(Exception):
    """Something the command needs cannot be reached now (exit 1, so a service manager retries: the
    database server may still be starting). The message names the setting; no traceback is shown."""
