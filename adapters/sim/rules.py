"""The exchange's crypto rules and fill-model knobs (alpaca-wire.md §7); defaults follow the live venue.

Both dataclasses are mutable on purpose: fault injection and tests flip them on a running engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal


@dataclass
class ExchangeRules:
    maker_fee_bps: Decimal = Decimal(15)  # tier 1 (0-100k 30-day volume)
    taker_fee_bps: Decimal = Decimal(25)
    min_notional: Decimal = Decimal(10)  # the "cost basis must be >= minimal amount of order 10" floor
    allow_fok: bool = False  # fok is ambiguous for crypto; rejected like day unless enabled
    price_increment_policy: str = "reject"  # "reject" (422) or "round" (to the nearest increment)
    market_buy_buffer_bps: Decimal = Decimal(50)  # cash held back for a market buy above the last ask
    slippage_bps: Decimal = Decimal(0)  # market orders fill this much worse than the touch
    max_order_notional: Decimal | None = None  # [unverified] $200k on the live venue; off by default
    gtc_expiry: timedelta | None = None  # crypto gtc orders do not expire unless set
    # Alpaca rounds each execution's fee UP: coin fees to 1e-9, USD fees to the cent (docs/venue-quirks.md)
    coin_fee_quantum: Decimal = Decimal("1e-9")
    usd_fee_quantum: Decimal = Decimal("0.01")
    fee_rounding: str = "up"  # "up", "half_even" (to the same quanta) or "exact" (no rounding)
    min_notional_on_sells: bool = False  # the floor is for buys; sells need only min_order_size
    duplicate_id_status: int = 422  # HTTP status of "client_order_id must be unique"
    buying_power_holdback: Decimal = Decimal(0)  # non_marginable_buying_power this far below free cash
    min_order_usd: Decimal | None = None  # min_order_size follows the price: this many USD of the coin
    accepted_status: str = "pending_new"  # status in the POST response: "pending_new" or "accepted"
    max_client_order_id_length: int = 128
    # an order that could trade against the account's own open opposite order is refused (wash_trades.py):
    # "crossing" (Alpaca's documented rule), "any_opposite" (any order while an opposite one is open) or
    # "off"; and the refusal's HTTP status (403 or 422)
    wash_trade_check: str = "crossing"
    wash_trade_status: int = 403
    # the price a resting limit fills at when a later quote crosses it: "limit" (its own limit) or
    # "quote" (the crossing quote's price: a buy below its limit, a sell above it)
    maker_fill_price: str = "limit"

    @property
    def maker_fee_rate(self) -> Decimal:
        return self.maker_fee_bps / Decimal(10_000)

    @property
    def taker_fee_rate(self) -> Decimal:
        return self.taker_fee_bps / Decimal(10_000)


@dataclass
class FillModel:
    """Partial fills. On each fill opportunity, with `partial_fill_probability`, only a seeded fraction
    (in [min, max], in steps of 0.1 %) of the remaining quantity fills; with `bound_by_quote_size` a fill
    never exceeds the size shown on the opposite side of the quote (when the quote shows one)."""

    partial_fill_probability: Decimal = Decimal(0)
    partial_fill_min_fraction: Decimal = Decimal("0.2")
    partial_fill_max_fraction: Decimal = Decimal("0.8")
    bound_by_quote_size: bool = False
