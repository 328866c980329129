"""A columnar copy of a bar file, so that the next backtest of the same file skips the parsing.

Next to `bars.csv.gz` goes `bars.csv.gz.cache.npz` (numpy's own format: loading it needs nothing
numpy does not already have), holding the times, the float prices and the exact decimals of any
price a float does not give back (`BarSeries.exact`). It is keyed by the file's size and
modification time: a file that changed in any way is read again and the copy replaced. A folder
that cannot be written (shared, read-only data) gets its copies in `$XDG_CACHE_HOME/dca-bot/bars`
(default `~/.cache/dca-bot/bars`); when neither can be written, nothing is cached.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np

from app.backtest.series import BarSeries

VERSION = 1  # bump when the layout or the reader's checks change: older copies are then ignored
SUFFIX = ".cache.npz"


def load(path: Path, symbol: str) -> BarSeries | None:
    """The cached series of `path`, or None (no copy, or one of another version of the file)."""
    key = _key(path)
    for candidate in _places(path):
        try:
            with np.load(candidate, allow_pickle=False) as data:
                if not np.array_equal(data["key"], key):
                    continue
                texts = data["exact_text"]
                exact = {int(i): tuple(Decimal(str(t)) for t in texts[n]) for n, i in enumerate(data["exact_index"])}
                return BarSeries(symbol, data["times"], data["ohlc"], exact)  # type: ignore[arg-type]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # unreadable: read the file
            continue
    return None


def store(path: Path, series: BarSeries) -> Path | None:
    """Write the copy (atomically: a reader never sees half a file); where it went, or None."""
    key = _key(path)
    index = np.array(sorted(series.exact), dtype=np.int64)
    texts = np.array([[str(p) for p in series.exact[i]] for i in index.tolist()], dtype=str).reshape(len(index), 4)
    for place in _places(path):
        try:
            place.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=place.parent, prefix=".bars-", suffix=".npz")
            with os.fdopen(handle, "wb") as out:
                np.savez(out, key=key, times=series.times, ohlc=series.ohlc, exact_index=index, exact_text=texts)
            os.chmod(temporary, 0o644)  # mkstemp makes it private; the bar file it copies is not
            os.replace(temporary, place)
            return place
        except OSError:
            continue
    return None


def _key(path: Path) -> np.ndarray:
    stat = path.stat()
    return np.array([VERSION, stat.st_size, stat.st_mtime_ns], dtype=np.int64)


def _places(path: Path) -> list[Path]:
    """Beside the file first, then the user's cache folder (named after the file's full path)."""
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return [path.with_name(path.name + SUFFIX), home / "dca-bot" / "bars" / f"{digest}-{path.name}{SUFFIX}"]
