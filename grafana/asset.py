"""The asset dashboard: one pair ($symbol) — its price against the cycle's average cost, the
cycle's state over time, safety orders, fills and orders, and its quote flow."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import AnnotationQuery, Dashboard, QueryVariable
from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort

from grafana.panels import (
    COIN,
    COUNT,
    CYCLE_STATES,
    DATASOURCE,
    GREEN,
    INSTANCE,
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
S = 'symbol=~"$symbol"'  # the selector every query of this dashboard starts from (one, several or all)
AVERAGE_COST = f"dca_position_cost{{{S}}} / (dca_position_quantity{{{S}}} > 0)"  # none while flat


def symbol_variable() -> QueryVariable:
    return (QueryVariable("symbol").label("Asset").datasource(DATASOURCE)
            .query(f"label_values(dca_cycle_status{{{INSTANCE}}}, symbol)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True).allow_custom_value(False))


def per_step(metric: str, labels: str) -> str:
    """How much a counter grew per chart step, by symbol and `labels`."""
    return f"sum by (symbol, {labels}) (increase({metric}{{{S}}}[$__interval]))"


def annotations() -> list[AnnotationQuery]:
    """Fills and completed cycles marked on every chart (the price chart above all)."""
    fills = f"sum by (symbol, side) (increase(dca_fills_total{{{INSTANCE}, {S}}}[$__interval])) > 0"
    cycles = (f"sum by (symbol) (increase(dca_cycles_completed_total{{{INSTANCE}, {S}, outcome=\"complete\"}}"
              "[$__interval])) > 0")
    return [AnnotationQuery().name("Fills").datasource(DATASOURCE).enable(True).icon_color("blue").expr(fills),
            AnnotationQuery().name("Completed cycles").datasource(DATASOURCE).enable(True).icon_color("green")
            .expr(cycles)]


def build() -> Dashboard:
    return (
        new_dashboard(UID, "DCA asset", "One pair or several: price against the cycle's average cost, cycle state, "
                                        "safety orders, fills and quotes.")
        .with_variable(symbol_variable())
        .annotations(annotations())
        .with_row(row("$symbol now"))
        .with_panel(stat_panel("Bid", instant(f"dca_quote_bid_price{{{S}}}"), unit=MONEY,
                               description="Bid of the newest quote received for the asset."))
        .with_panel(stat_panel("Average cost", instant(AVERAGE_COST),
                               unit=MONEY, description="Cost of the current cycle's coins per coin (none when flat)."))
        .with_panel(stat_panel("Position", instant(f"dca_position_quantity{{{S}}}"), unit=COIN, decimals=8,
                               description="Coin the current cycle holds."))
        .with_panel(stat_panel("Unrealized P/L", instant(f"dca_unrealized_profit{{{S}}}"), unit=MONEY,
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("Realized P/L", instant(f"dca_realized_profit{{{S}}}"), unit=MONEY,
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("In this state for",
                               instant(f"time() - dca_cycle_status_since_timestamp_seconds{{{S}}}"), unit="s",
                               description="Since the cycle entered its current state."))
        .with_panel(chart("Price and average cost",
                          query(f"dca_quote_bid_price{{{S}}}", "{{symbol}} bid"),
                          query(f"dca_quote_ask_price{{{S}}}", "{{symbol}} ask"),
                          query(AVERAGE_COST, "{{symbol}} average cost"),
                          unit=MONEY, width=16, height=9,
                          description="Take profit is armed when the bid reaches the average cost plus "
                                      "take_profit_percent."))
        .with_panel(chart("P/L",
                          query(f"dca_realized_profit{{{S}}}", "{{symbol}} realized"),
                          query(f"dca_unrealized_profit{{{S}}}", "{{symbol}} unrealized"),
                          unit=MONEY, width=8, height=9))
        .with_row(row("Cycle"))
        .with_panel(state_panel("Cycle state", query(cycle_state(S), "{{symbol}}"), CYCLE_STATES, height=5))
        .with_panel(chart("Safety orders used", query(f"dca_safety_orders_used{{{S}}}", "{{symbol}}"),
                          unit=COUNT, steps_line=True, width=8))
        .with_panel(chart("Fills", query(per_step("dca_fills_total", "side"), "{{symbol}} {{side}}"),
                          unit=COUNT, bars=True, min_interval="1m", width=8))
        .with_panel(chart("Orders",
                          query(per_step("dca_orders_submitted_total", "side, kind"),
                                "{{symbol}} {{side}} {{kind}}"),
                          query(per_step("dca_orders_rejected_total", "reason"),
                                "{{symbol}} rejected: {{reason}}"),
                          query(per_step("dca_orders_canceled_total", "reason"),
                                "{{symbol}} cancelled: {{reason}}"),
                          query(per_step("dca_orders_vetoed_total", "gate"),
                                "{{symbol}} vetoed: {{gate}}"),
                          unit=COUNT, bars=True, min_interval="1m", width=8))
        .with_row(row("Quotes"))
        .with_panel(chart("Quotes per second",
                          query(f"rate(dca_quotes_total{{{S}}}[$__rate_interval])", "{{symbol}} received"),
                          query(f"rate(dca_quotes_conflated_total{{{S}}}[$__rate_interval])", "{{symbol}} conflated"),
                          unit="reqps", width=12,
                          description="Conflated quotes were replaced by a newer one before the actor saw them."))
        .with_panel(stat_panel("Last quote", instant(f"time() - dca_last_quote_received_timestamp_seconds{{{S}}}"),
                               unit="s", width=6, height=8, description="Age of the newest quote (alert: 10 min).",
                               steps=[(None, GREEN), (60, ORANGE), (600, RED)]))
        .with_panel(stat_panel("Coin that is not the bot's", instant(f"dca_foreign_position_quantity{{{S}}}"),
                               unit=COIN, width=6, height=8, decimals=8,
                               description="On the exchange beyond what the bot's cycles bought; never touched."))
    )
