"""The asset dashboard: one pair ($symbol) — its price against the cycle's average cost, the
cycle's state over time, safety orders, fills and orders, and its quote flow."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable
from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort

from grafana.panels import (
    CYCLE_STATES,
    DATASOURCE,
    GREEN,
    MONEY,
    ORANGE,
    RED,
    chart,
    cycle_state,
    instant,
    new_dashboard,
    query,
    row,
    stat_panel,
    state_panel,
)

UID = "dca-asset"
S = 'symbol="$symbol"'  # the selector every query of this dashboard starts from
AVERAGE_COST = f"dca_position_cost{{{S}}} / (dca_position_quantity{{{S}}} > 0)"  # none while flat


def symbol_variable() -> QueryVariable:
    return (QueryVariable("symbol").label("Asset").datasource(DATASOURCE)
            .query("label_values(dca_cycle_status, symbol)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(False).include_all(False).allow_custom_value(False))


def build() -> Dashboard:
    return (
        new_dashboard(UID, "DCA asset", "One pair: price against the cycle's average cost, cycle state, "
                                        "safety orders, fills and quotes.")
        .with_variable(symbol_variable())
        .with_row(row("$symbol now"))
        .with_panel(stat_panel("Bid", instant(f"dca_quote_bid_price{{{S}}}"), unit=MONEY,
                               description="Bid of the newest quote received for the asset."))
        .with_panel(stat_panel("Average cost", instant(AVERAGE_COST),
                               unit=MONEY, description="Cost of the current cycle's coins per coin (none when flat)."))
        .with_panel(stat_panel("Position", instant(f"dca_position_quantity{{{S}}}"), decimals=8,
                               description="Coin the current cycle holds."))
        .with_panel(stat_panel("Unrealized P/L", instant(f"dca_unrealized_profit{{{S}}}"), unit=MONEY,
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("Realized P/L", instant(f"dca_realized_profit{{{S}}}"), unit=MONEY,
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("In this state for",
                               instant(f"time() - dca_cycle_status_since_timestamp_seconds{{{S}}}"), unit="s",
                               description="Since the cycle entered its current state."))
        .with_panel(chart("Price and average cost",
                          query(f"dca_quote_bid_price{{{S}}}", "bid"),
                          query(f"dca_quote_ask_price{{{S}}}", "ask"),
                          query(AVERAGE_COST, "average cost"),
                          unit=MONEY, width=16, height=9,
                          description="Take profit is armed when the bid reaches the average cost plus "
                                      "take_profit_percent."))
        .with_panel(chart("P/L",
                          query(f"dca_realized_profit{{{S}}}", "realized"),
                          query(f"dca_unrealized_profit{{{S}}}", "unrealized"),
                          unit=MONEY, width=8, height=9))
        .with_row(row("Cycle"))
        .with_panel(state_panel("Cycle state", query(cycle_state(S), "{{symbol}}"), CYCLE_STATES, height=5))
        .with_panel(chart("Safety orders used", query(f"dca_safety_orders_used{{{S}}}", "safety orders"),
                          steps_line=True, width=8))
        .with_panel(chart("Fills", query(f"sum by (side) (increase(dca_fills_total{{{S}}}[$__interval]))", "{{side}}"),
                          bars=True, min_interval="1m", width=8))
        .with_panel(chart("Orders",
                          query(f"sum by (side, kind) (increase(dca_orders_submitted_total{{{S}}}[$__interval]))",
                                "{{side}} {{kind}}"),
                          query(f"sum by (reason) (increase(dca_orders_rejected_total{{{S}}}[$__interval]))",
                                "rejected: {{reason}}"),
                          query(f"sum by (reason) (increase(dca_orders_canceled_total{{{S}}}[$__interval]))",
                                "cancelled: {{reason}}"),
                          query(f"sum by (gate) (increase(dca_orders_vetoed_total{{{S}}}[$__interval]))",
                                "vetoed: {{gate}}"),
                          bars=True, min_interval="1m", width=8))
        .with_row(row("Quotes"))
        .with_panel(chart("Quotes per second",
                          query(f"rate(dca_quotes_total{{{S}}}[$__rate_interval])", "received"),
                          query(f"rate(dca_quotes_conflated_total{{{S}}}[$__rate_interval])", "conflated"),
                          unit="reqps", width=12,
                          description="Conflated quotes were replaced by a newer one before the actor saw them."))
        .with_panel(stat_panel("Last quote", instant(f"time() - dca_last_quote_received_timestamp_seconds{{{S}}}"),
                               unit="s", width=6, height=8, description="Age of the newest quote (alert: 10 min).",
                               steps=[(None, GREEN), (60, ORANGE), (600, RED)]))
        .with_panel(stat_panel("Coin that is not the bot's", instant(f"dca_foreign_position_quantity{{{S}}}"),
                               width=6, height=8, decimals=8,
                               description="On the exchange beyond what the bot's cycles bought; never touched."))
    )
