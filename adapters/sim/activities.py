"""Account activities (`GET /v2/account/activities[/{type}]`), derived from the executions.

Shapes follow Alpaca's documentation (docs.alpaca.markets/docs/crypto-fees, /docs/account-activities):
a coin fee is a non-trade `CFEE` activity `{"id": "20220812000000000::<uuid>", "activity_type": "CFEE",
"date": "2022-08-12", "net_amount": "0", "description": "Coin Pair Transaction Fee (Non USD)",
"symbol": "ETHUSD", "qty": "-0.000195", "price": "1884.5", "status": "executed"}`; a USD fee (a sell)
has `net_amount` negative and "Coin Pair Transaction Fee (USD)" (third-party records), posted as CFEE
or, under the `usd_fee_activity=FEE` quirk, as FEE ("fee denominated in USD"). Fees are posted with
the execution by default, or at the end of its UTC day under `fees_eod` (what older docs say). Fills
are `FILL` trade activities. No activity names its order: only symbol, day and amount tie a fee to a fill.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from adapters.sim.events import Execution
from adapters.sim.quirks import Quirks
from adapters.sim.wire import dec, rfc3339

ACTIVITY_NAMESPACE = uuid.UUID("6b0f2d8e-3c1a-4f7e-9a55-2f4e8c1d7b30")
ACTIVITY_TYPES = ("FILL", "CFEE", "FEE")  # the types this simulator posts; others are valid but empty
KNOWN_TYPES = frozenset({
    "FILL", "TRANS", "MISC", "ACATC", "ACATS", "CFEE", "CSD", "CSW", "DIV", "DIVCGL", "DIVCGS", "DIVFEE",
    "DIVFT", "DIVNRA", "DIVROC", "DIVTW", "DIVTXEX", "FEE", "INT", "INTNRA", "INTTW", "JNL", "JNLC", "JNLS",
    "MA", "NC", "OPASN", "OPEXP", "OPXRC", "PTC", "PTR", "REORG", "SC", "SSO", "SSP",
})  # Alpaca's documented activity types


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    activity_type: str
    posted_at: datetime
    body: dict[str, Any]


def _activity_id(moment: datetime, key: str) -> str:
    stamp = moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}000"
    return f"{stamp}::{uuid.uuid5(ACTIVITY_NAMESPACE, key)}"


def _end_of_day(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + timedelta(days=1), time(0), moment.tzinfo)


def _fill(execution: Execution) -> Activity:
    activity_id = _activity_id(execution.time, f"fill:{execution.id}")
    return Activity(activity_id, "FILL", execution.time, {
        "id": activity_id, "activity_type": "FILL", "transaction_time": rfc3339(execution.time), "type": "fill",
        "price": dec(execution.price), "qty": dec(execution.qty), "side": execution.side.value,
        "symbol": execution.symbol, "order_id": str(execution.order_id),
    })


def _fee(execution: Execution, quirks: Quirks) -> Activity:
    posted = _end_of_day(execution.time) if quirks.fees_eod else execution.time
    compact = execution.symbol.replace("/", "")
    in_usd = execution.fee_currency == "USD"
    kind = quirks.usd_fee_activity if in_usd else "CFEE"
    activity_id = _activity_id(posted, f"fee:{execution.id}")
    body: dict[str, Any] = {
        "id": activity_id, "activity_type": kind, "date": execution.time.date().isoformat(),
        "net_amount": dec(-execution.fee) if in_usd else "0",
        "description": "Coin Pair Transaction Fee (USD)" if in_usd else "Coin Pair Transaction Fee (Non USD)",
        "symbol": compact, "price": dec(execution.price), "status": "executed",
    }
    if not in_usd:
        body["qty"] = dec(-execution.fee)
    return Activity(activity_id, kind, posted, body)


def activities_of(executions: Iterable[Execution], quirks: Quirks) -> list[Activity]:
    """Every activity the executions imply, posted or not yet, in posting order."""
    found: list[Activity] = []
    for execution in executions:
        found.append(_fill(execution))
        if execution.fee != 0:
            found.append(_fee(execution, quirks))
    return sorted(found, key=lambda activity: activity.posted_at)  # stable: a fill before its fee
