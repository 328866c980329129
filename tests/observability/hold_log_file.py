"""Child process for test_log_files.py: owns LOG_DIR/<process>.log until its stdin closes (or it is
killed). Prints "owner <pid>" once it holds the file, or "refused <message>" if another process does.

    PYTHONPATH=<repo> python hold_log_file.py LOG_DIR PROCESS
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from adapters.logging import LogFileInUse, configure_logging, shutdown_logging


def main(log_dir: Path, process: str) -> int:
    try:
        configure_logging(log_dir=log_dir, process=process, console=False)
    except LogFileInUse as error:
        print(f"refused {error}", flush=True)
        return 1
    print(f"owner {os.getpid()}", flush=True)
    sys.stdin.read()
    shutdown_logging()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
