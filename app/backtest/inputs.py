"""What a backtest run is made of, from the user's options: bars, parameters and exchange rules.

* Bars: `db` reads `historical_1min_bars` (filled by `supervisor.py bars fetch|import`);
  `csv:PATH` reads a bar file (PATH may hold `{symbol}` → BTC-USD, `{base}` → BTC, `{quote}` → USD,
  which is how several symbols each get their own file).
* Parameters: the asset's `dca_assets` row when it is configured, else the defaults, then the
  `--params` overrides, validated by the same `dca.params.with_overrides` as `assets set`.
* Exchange rules: increments and minimum order size from the simulator's asset catalog (the values
  the live bot reads from the simulator), the $10 minimum notional, fees and order timeouts from the
  settings, exactly as the live bot gets them: `Terms`, built by `wiring.settings_maps.backtest_terms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.sim.assets import listed_usd_pairs, make_asset
from app.backtest.runner import BacktestSetup
from app.backtest.series import BarSeries
from app.backtest.venue import rules_of
from dca.params import AssetConfig, AssetParams, FeeSchedule, OrderTiming, with_overrides

NAMESPACE = "backtest-00000"  # client_order_ids of a backtest (they only need to be unique in it)


class InputError(ValueError):
    """Bad input for a backtest; the message names the option."""


@dataclass(frozen=True)
class Terms:
    """What the exchange charges and allows, from the settings as the live bot reads them."""

    min_notional: Decimal
    fees: FeeSchedule
    timing: OrderTiming


@dataclass(frozen=True)
class DataSource:
    kind: str  # "db" or "csv"
    path: str | None = None

    @classmethod
    def parse(cls, text: str, symbols: list[str]) -> DataSource:
        if text == "db":
            return cls("db")
        if text.startswith("csv:") and text[4:].strip():
            path = text[4:].strip()
            if len(symbols) > 1 and not any(key in path for key in ("{symbol}", "{base}")):
                raise InputError(f"--data: {path} is one file but {len(symbols)} symbols were given; "
                                 f"put {{symbol}} or {{base}} in the path (e.g. csv:bars/{{symbol}}.csv.gz)")
            return cls("csv", path)
        raise InputError(f"--data: expected db or csv:PATH, got {text!r}")

    def path_for(self, symbol: str) -> Path:
        assert self.path is not None
        base, _, quote = symbol.partition("/")
        return Path(self.path.replace("{symbol}", f"{base}-{quote}").replace("{base}", base)
                    .replace("{quote}", quote))

    def describe(self) -> str:
        return "db (historical_1min_bars)" if self.kind == "db" else f"csv:{self.path}"


def untradable(symbol: str) -> str | None:
    """Why the venue cannot trade `symbol` for a US-dollar account, with what to do instead; None if it can.

    A backtest account holds US dollars, as an Alpaca crypto account does, so a pair quoted in
    anything else (ETH/USDT, the name of Binance's data) cannot be paid for: every buy would be
    refused. A pair outside the catalog would trade with made-up increments, minimums and spread."""
    if symbol in listed_usd_pairs():
        return None
    base, _, quote = symbol.partition("/")
    if quote != "USD" and f"{base}/USD" in listed_usd_pairs():
        return (f"{symbol} cannot be traded: the account holds US dollars (as on Alpaca), not {quote}. "
                f"To trade the file's prices as {base}/USD, use --symbols {base}/USD (for a file per symbol "
                f"name it with {{base}}, e.g. --data 'csv:bars/binance_{{base}}_{quote}-1m.csv.gz')")
    return (f"{symbol} is not a pair the exchange lists (its increments, minimums and spread would be made up); "
            f"listed: {', '.join(listed_usd_pairs())}")


def load_series(source: DataSource, symbol: str, start: datetime | None, end: datetime | None,
                db: Any = None) -> BarSeries:
    """The symbol's bars with start ≤ time < end. Raises InputError (bad file) or LookupError (no data)."""
    if source.kind == "csv":
        from app.bars_csv import BarFileError
        from app.bars_csv import load_series as load_file

        path = source.path_for(symbol)
        if not path.exists():
            raise InputError(f"--data: {path} does not exist")
        try:
            series = load_file(path, symbol).between(start, end)
        except BarFileError as error:
            raise InputError(f"--data: {error}") from None
    else:
        series = _from_database(db, symbol, start, end)
    if len(series) == 0:
        where = source.describe()
        raise LookupError(f"{symbol}: no bars in {where} between {_day(start)} and {_day(end)}"
                          + ("; fetch them with `supervisor.py bars fetch`" if source.kind == "db" else ""))
    return series


def _from_database(db: Any, symbol: str, start: datetime | None, end: datetime | None) -> BarSeries:
    from adapters.db.assets import AssetRepository
    from adapters.db.bars import BarStore

    asset = AssetRepository(db).get(symbol)
    if asset is None or start is None or end is None:
        return BarSeries.from_bars(symbol, [])
    return BarSeries.from_prices(symbol, BarStore(db).iter_prices(asset.id, start, end))


def configured_params(db: Any, symbol: str) -> tuple[AssetParams, bool]:
    """The asset's parameters from dca_assets, or the defaults when it is not configured."""
    if db is None:  # no database: nothing is configured
        return AssetParams(), False
    from adapters.db.assets import AssetRepository

    asset = AssetRepository(db).get(symbol)
    return (asset.params, True) if asset is not None else (AssetParams(), False)


def setup_for(symbol: str, params: AssetParams, overrides: dict[str, Any], terms: Terms, cash: Decimal,
              spread_bps: Decimal | None) -> BacktestSetup:
    """The run of one symbol. `InvalidParams` (naming each bad field) if the overrides are bad."""
    spec = make_asset(symbol)
    config = AssetConfig(1, symbol, NAMESPACE, with_overrides(params, overrides),
                         rules_of(spec, terms.min_notional), terms.fees, terms.timing)
    return BacktestSetup(config, spec, cash, spec.spread_bps if spread_bps is None else spread_bps)


def _day(moment: datetime | None) -> str:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else "(open)"
