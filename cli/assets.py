"""`supervisor.py assets add|list|set|enable|disable`: which pairs to trade, and how (replaces add_asset.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import Any

from app.report_text import table
from cli import inputs
from cli.common import open_database, settings_from
from cli.errors import EXIT_FAILURE, UsageError
from dca.params import AssetParams, InvalidParams, with_overrides

PARAMETER_HELP = {
    "base_order_amount": "quote currency spent on the base order (default 10)",
    "safety_order_amount": "quote currency spent on each safety order (default 20)",
    "max_safety_orders": "safety orders per cycle at most (default 15)",
    "safety_order_deviation": "%% below the last fill that triggers the next safety order (default 0.9)",
    "take_profit_percent": "%% above the average cost that triggers the take-profit (default 2)",
    "ttp_enabled": "trail the take-profit: true or false (default true)",
    "ttp_deviation_percent": "%% pull-back from the peak that sells when trailing (default 1)",
    "buy_order_price_deviation_percent": "%% below the last sell that ends a cooldown early (default 1)",
    "cooldown_period": "seconds to wait after a completed cycle (default 120)",
    "safety_order_step_scale": "multiplies each next safety order's deviation (default 1 = off)",
    "safety_order_volume_scale": "multiplies each next safety order's amount (default 1 = off)",
    "start_condition": "deal start condition on recent bars, e.g. 'rsi(14, 1h) < 30 and close < sma(50)' "
                       "(default none = start at once)",
    "min_price": "no new cycle starts while the ask is below this price (default none)",
    "max_price": "no new cycle starts while the ask is above this price (default none)",
    "stop_loss_percent": "%% below the average cost that sells the cycle at a loss (default none = off)",
    "stop_loss_timeout": "seconds the price must stay below the stop loss before it acts (default 0)",
    "take_profit_order_type": "market (sell at market at the trigger) or limit (a limit sell rests at the "
                              "trigger price; needs ttp_enabled false) (default market)",
    "active_safety_orders": "safety orders kept resting on the book ahead of the price (default 0 = placed "
                            "when the price gets there)",
}


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "assets", help="configure traded pairs: add, list, set, enable, disable",
        description="Configure which crypto pairs the bot trades and each pair's DCA parameters.",
    )
    actions = parser.add_subparsers(dest="assets_action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add pairs (e.g. BTC/USD,ETH/USD) with default or given parameters",
                             description="Add pairs. Pairs already configured are left as they are (exit code 1).")
    add.add_argument("symbols", help="comma-separated BASE/QUOTE pairs, e.g. BTC/USD,ETH/USD")
    state = add.add_mutually_exclusive_group()
    state.add_argument("--enabled", dest="enabled", action="store_true", default=False,
                       help="trade them as soon as the supervisor runs")
    state.add_argument("--disabled", dest="enabled", action="store_false", help="add them switched off (default)")
    for field in fields(AssetParams):
        add.add_argument("--" + field.name.replace("_", "-"), dest=field.name, metavar="VALUE",
                         help=PARAMETER_HELP[field.name])
    add.set_defaults(handler=_add)

    listing = actions.add_parser("list", help="show every configured pair and its parameters")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)

    change = actions.add_parser(
        "set", help="change parameters: assets set BTC/USD take_profit_percent=1.5 ...",
        description="Change parameters of one pair. The running supervisor picks them up without a restart. "
                    "Parameters: " + ", ".join(PARAMETER_HELP),
    )
    change.add_argument("symbol")
    change.add_argument("assignments", nargs="+", metavar="NAME=VALUE")
    change.set_defaults(handler=_set)

    for action, enabled in (("enable", True), ("disable", False)):
        toggle = actions.add_parser(action, help=f"{action} trading of a pair")
        toggle.add_argument("symbol")
        toggle.set_defaults(handler=_toggle, enable=enabled)


def _symbols(raw: str) -> list[str]:
    return inputs.symbols(raw, "symbols")


def _params_from(args: argparse.Namespace) -> AssetParams:
    given = {f.name: getattr(args, f.name) for f in fields(AssetParams) if getattr(args, f.name) is not None}
    return _validated(AssetParams(), given)


def _validated(base: AssetParams, overrides: dict[str, str]) -> AssetParams:
    try:
        return with_overrides(base, overrides)
    except InvalidParams as error:
        raise UsageError(_describe(error)) from None


def _describe(error: InvalidParams) -> str:
    return "; ".join(f"{name}: {why}" for name, why in error.problems.items()) + " (nothing was written)"


def _add(args: argparse.Namespace) -> int:
    symbols = _symbols(args.symbols)
    params = _params_from(args)
    from adapters.db.assets import AssetRepository

    settings = settings_from(args)
    _refuse_untradable(settings, symbols)
    repo = AssetRepository(open_database(settings))
    try:
        added, existing = repo.add(symbols, params, args.enabled)
    except InvalidParams as error:
        raise UsageError(_describe(error)) from None
    state = "enabled" if args.enabled else "disabled"
    for asset in added:
        print(f"added {asset.symbol} ({state}); one cycle commits at most {asset.params.max_cycle_commitment()}")
    for symbol in existing:
        print(f"skipped {symbol}: already configured (change it with `assets set {symbol} NAME=VALUE`)")
    return EXIT_FAILURE if existing else 0


def _refuse_untradable(settings: Any, symbols: list[str]) -> None:
    """A pair the venue does not trade is refused before anything is written (it would only produce
    rejected orders); when the venue cannot be asked, the supervisor checks again when it starts."""
    from wiring.market_view import venue_pair_problems

    problems = venue_pair_problems(settings, symbols)
    if problems is None:
        print("warning: the venue could not be asked whether it trades these pairs; the supervisor checks "
              "when it starts", file=sys.stderr)
        return
    if problems:
        raise UsageError("; ".join(f"{symbol}: the venue does not trade it ({why.replace('_', ' ')})"
                                   for symbol, why in problems.items()))


def _list(args: argparse.Namespace) -> int:
    from adapters.db.assets import AssetRepository

    assets = AssetRepository(open_database(settings_from(args))).all()
    if args.json:
        print(json.dumps([{"id": a.id, "symbol": a.symbol, "enabled": a.enabled,
                           "max_cycle_commitment": _json(a.params.max_cycle_commitment()),
                           **{f.name: _json(getattr(a.params, f.name)) for f in fields(AssetParams)}}
                          for a in assets], indent=2))
        return 0
    if not assets:
        print("no assets configured; add some with: supervisor.py assets add BTC/USD,ETH/USD --enabled")
        return 0
    rows = [[a.symbol, "yes" if a.enabled else "no", _n(p.base_order_amount), _n(p.safety_order_amount),
             p.max_safety_orders, p.active_safety_orders, _n(p.safety_order_deviation), _n(p.take_profit_percent),
             _n(p.ttp_deviation_percent) if p.ttp_enabled else "off", p.take_profit_order_type.value,
             p.cooldown_period, _n(p.buy_order_price_deviation_percent), _n(p.max_cycle_commitment()),
             _stop_loss(p), _price_range(p), p.start_condition or "-"]
            for a in assets for p in [a.params]]
    headers = ["symbol", "enabled", "base", "safety", "max SO", "active SO", "SO dev %", "TP %", "TTP %",
               "TP order", "cooldown s", "restart %", "max per cycle", "stop loss", "price range", "start condition"]
    print(table(headers, rows, right=(*range(2, 9), 10, 11, 12)))
    return 0


def _set(args: argparse.Namespace) -> int:
    symbol = _symbols(args.symbol)[0]
    overrides = inputs.assignments(args.assignments, "assignments")
    from adapters.db.assets import AssetRepository, UnknownAsset

    repo = AssetRepository(open_database(settings_from(args)))
    try:
        asset = repo.update_params(symbol, overrides)
    except InvalidParams as error:
        raise UsageError(_describe(error)) from None
    except UnknownAsset as error:
        raise UsageError(str(error)) from None
    changed = ", ".join(f"{name}={_n(getattr(asset.params, name))}" for name in overrides)
    print(f"{symbol}: {changed}; one cycle commits at most {_n(asset.params.max_cycle_commitment())}")
    return 0


def _toggle(args: argparse.Namespace) -> int:
    symbol = _symbols(args.symbol)[0]
    from adapters.db.assets import AssetRepository, UnknownAsset

    try:
        AssetRepository(open_database(settings_from(args))).set_enabled(symbol, args.enable)
    except UnknownAsset as error:
        raise UsageError(str(error)) from None
    print(f"{symbol} {'enabled' if args.enable else 'disabled'}")
    return 0


def _stop_loss(params: AssetParams) -> str:
    if params.stop_loss_percent is None:
        return "off"
    after = f" after {params.stop_loss_timeout} s" if params.stop_loss_timeout else ""
    return f"{_n(params.stop_loss_percent)}%{after}"


def _price_range(params: AssetParams) -> str:
    if params.min_price is None and params.max_price is None:
        return "any"
    low, high = (_n(v) if v is not None else "" for v in (params.min_price, params.max_price))
    return f"{low}..{high}"


def _n(value: object) -> str:
    """A parameter for display: no trailing zeros, choices and switches as they are typed."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return "-" if value is None else str(value)


def _json(value: object) -> object:
    return _n(value) if isinstance(value, Decimal) else value
