"""`python supervisor.py [run]`: start the supervisor and wait.

Exits 0 after SIGINT/SIGTERM or `--duration` (within 10 s, whatever signals follow), 70 when the root
supervisor gives up and 75 when this process lost the book's lease (so systemd restarts the process), 1
when the database cannot be opened (restarted too: the server may be starting), 2 for bad configuration,
someone else's books, or a book another live supervisor owns. Open exchange orders are left as they are on exit:
the next start reads each one back before doing anything else.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from cli.common import open_database, settings_from
from cli.errors import Unavailable, UsageError
from cli.inputs import arg_type, positive, positive_seconds, quirk


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run", help="run the supervisor (the default command)",
        description="Run the DCA supervisor: one actor per enabled asset, stream routers, caretakers, "
                    "Prometheus metrics. Without Alpaca keys it trades against the built-in simulator.",
    )
    parser.add_argument("--speed", type=arg_type(positive), metavar="N",
                        help="simulator only: simulated seconds per real second (default SIM_SPEED, 60)")
    parser.add_argument("--sim-quirk", type=arg_type(quirk), action="append", default=[], metavar="NAME[=VALUE]",
                        help="simulator only: make the embedded venue behave another plausible way (repeatable; "
                             "the list is in `supervisor.py sim --help` and docs/venue-quirks.md)")
    parser.add_argument("--duration", type=arg_type(positive_seconds), metavar="SECONDS",
                        help="stop cleanly after this many real seconds (default: run until Ctrl-C)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    from config.settings import TradingMode

    if args.speed is not None and settings.trading_mode is not TradingMode.EMBEDDED_SIM:
        raise UsageError("--speed: only the embedded simulator's speed can be set (no Alpaca keys are set)")
    if args.sim_quirk and settings.trading_mode is not TradingMode.EMBEDDED_SIM:
        raise UsageError("--sim-quirk: only the embedded simulator has quirks (no Alpaca keys may be set)")
    channels = _notify_channels(settings)  # a bad NOTIFY_URLS entry stops the start before anything is written
    from adapters.logging import LogFileInUse, configure_logging, shutdown_logging

    try:
        configure_logging(level=settings.log_level, log_dir=settings.log_dir, process="supervisor",
                          json_lines=settings.log_json, secrets=settings.secret_values())
    except LogFileInUse as error:
        raise UsageError(f"LOG_DIR: {error}") from None
    try:
        return _run(settings, args, channels)
    finally:
        shutdown_logging()


def _run(settings: Any, args: argparse.Namespace, channels: list[Any]) -> int:
    from actors.supervision.process_exit import ProcessExit

    exit = ProcessExit()
    exit.catch_signals()  # from here on no signal raises in this thread; the process ends within the grace
    db = open_database(settings)
    lease = _claim_book(settings, db, exit)
    if lease is None:  # a signal while waiting for the book
        return exit.code or 0
    try:
        bot = _start(settings, args, db, exit, lease, channels)
    except BaseException:
        lease.stop(release=True)
        raise
    from loguru import logger

    log = logger.bind(actor="supervisor")
    code = exit.wait_for_exit()
    log.info("stopping ({}): no new orders; streams first, then caretakers, then the asset actors",
             exit.reason or "signal")
    bot.stop(timeout=max(1.0, exit.grace_s - 3))
    log.info("stopped with exit code {}; open exchange orders were left as they are", code)
    return code


def _claim_book(settings: Any, db: Any, exit: Any) -> Any:
    """The book's lease (see app/ownership.py), or None if a signal came while waiting for it."""
    from adapters.db.lease import LeaseStore, LeaseUnavailable
    from app.ownership import BookOwned, claim_book, claimant, hold_lease

    try:
        lease = claim_book(LeaseStore(db.url), claimant("run"), settings.owner_lease_seconds,
                           give_up=lambda: exit.requested)
    except BookOwned as owned:
        raise UsageError(str(owned)) from None
    except LeaseUnavailable as error:
        raise Unavailable(f"cannot claim the book in {settings.redacted_database_url()}: {error}") from None
    if lease is not None:
        hold_lease(lease, exit)
        exit.on_hard_exit(lambda: lease.store.release(lease.who.token))  # the gate closed with the exit request
    return lease


def _notify_channels(settings: Any) -> list[Any]:
    from adapters.notify import BadNotifyUrl
    from wiring.bot import open_notify_channels

    try:
        return open_notify_channels(settings)
    except BadNotifyUrl as error:
        raise UsageError(str(error)) from None


def _start(settings: Any, args: argparse.Namespace, db: Any, exit: Any, lease: Any, channels: list[Any]) -> Any:
    from loguru import logger

    from adapters.db.meta import MetaStore
    from app.books import SIM_STATE_FILE, claim_books
    from config.settings import ConfigError, TradingMode
    from wiring.bot import (
        Bot,
        VenueError,
        VenueUnreachable,
        account_refusal,
        books_owner,
        open_venue,
        seed_demo_assets,
    )

    sim_state = settings.data_dir / SIM_STATE_FILE
    new_sim_state = settings.trading_mode is TradingMode.EMBEDDED_SIM and not sim_state.exists()
    try:
        venue = open_venue(settings, db, args.speed, sim_quirks=dict(args.sim_quirk))
    except VenueUnreachable as error:
        raise Unavailable(str(error)) from None
    except VenueError as error:
        raise UsageError(str(error)) from None
    refusal = account_refusal(venue)
    if refusal is not None:
        venue.close()
        if new_sim_state:
            sim_state.unlink(missing_ok=True)
        raise UsageError(refusal)
    try:
        claim_books(MetaStore(db), books_owner(settings, venue), settings)
    except ConfigError:
        venue.close()
        if new_sim_state:  # a refused start leaves nothing behind: no new simulator account to trip over
            sim_state.unlink(missing_ok=True)
        raise
    seeded = seed_demo_assets(db, settings)
    bot = Bot(settings, db, venue, exit=exit, lease=lease, notify_channels=channels)
    try:
        bot.start()
    except ConfigError:  # e.g. the seed bot still running (app/takeover.py): nothing has traded
        bot.stop()
        raise
    except OSError as error:  # the metrics port is taken
        bot.stop()
        raise UsageError(f"METRICS_PORT: cannot listen on {settings.metrics_host}:{settings.metrics_port} "
                         f"({error})") from None
    _banner(logger.bind(actor="supervisor"), settings, bot, seeded)
    if args.duration:
        timer = threading.Timer(args.duration, exit.request, args=(0, f"--duration {args.duration:g}s elapsed"))
        timer.daemon = True
        timer.start()
    return bot


def _banner(log: Any, settings: Any, bot: Any, seeded: list[str]) -> None:
    from config.settings import TradingMode

    venue, runtime = bot.venue, bot.runtime
    enabled = [a.symbol for a in runtime.assets.enabled()]
    if venue.mode is TradingMode.EMBEDDED_SIM:
        log.warning("=" * 78)
        log.warning("SIMULATOR MODE: no Alpaca keys are set, so this trades against the built-in simulator.")
        log.warning("No real money is involved. Speed {:g}× (a simulated hour every {:g} real seconds); state in {}/",
                    venue.clock.speed, 3600 / venue.clock.speed, settings.data_dir)
        log.warning("Set APCA_API_KEY_ID/APCA_API_SECRET_KEY to trade on Alpaca paper instead.")
        log.warning("=" * 78)
        if seeded:
            log.info("fresh database: added demo assets {} (see README, 'What you see')", ", ".join(seeded))
    elif venue.mode is TradingMode.LIVE and not settings.dry_run:
        log.warning("LIVE TRADING with real money on Alpaca (ALLOW_LIVE_TRADING=true)")
    else:
        log.info("trading mode: {}", venue.mode.value)
    if settings.dry_run:
        log.warning("DRY RUN: quotes come from {}; orders are decided, logged and recorded, then go to a local "
                    "shadow exchange (cash {}, state in {}/dry-run-exchange.json); nothing is sent to the venue",
                    venue.mode.value, settings.dry_run_wallet, settings.data_dir)
    log.info("database {}; order namespace {}", settings.redacted_database_url(), runtime.rules.namespace)
    log.info("metrics on http://{}:{}/metrics", settings.metrics_host, bot.metrics_port)
    log.info("{} enabled assets: {}", len(enabled), ", ".join(enabled) or "none (add some with `assets add`)")
