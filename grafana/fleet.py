"""The fleet dashboard: money, cycles and orders across every asset, and the alerts that fire."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from grafana.panels import (
    COIN,
    COUNT,
    CYCLE_STATES,
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
    table_panel,
)

UID = "dca-fleet"


def build() -> Dashboard:
    return (
        new_dashboard(UID, "DCA fleet", "Profit, capital, cycles and orders of every asset the supervisor trades.")
        .with_row(row("Money"))
        .with_panel(stat_panel("Realized P/L", instant("sum(dca_realized_profit)"), unit=MONEY,
                               description="Realized profit of the completed cycles of every asset.",
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("Unrealized P/L", instant("sum(dca_unrealized_profit)"), unit=MONEY,
                               description="What the open cycles would gain or lose if sold at the bid now.",
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("Realized today (UTC)", instant("sum(dca_daily_realized_profit)"), unit=MONEY,
                               description="Realized profit since 00:00 UTC, as the daily loss limit sees it.",
                               steps=[(None, RED), (0, GREEN)]))
        .with_panel(stat_panel("Capital deployed", instant("sum(dca_position_cost)"), unit=MONEY,
                               description="What the open cycles paid for the coins they hold."))
        .with_panel(stat_panel("Cash", instant("sum(dca_account_cash)"), unit=MONEY,
                               description="Cash in the exchange account(s)."))
        .with_panel(stat_panel("Open cycles", instant("count(dca_position_quantity > 0) or vector(0)"),
                               description="Assets whose current cycle holds coin."))
        .with_panel(chart("P/L over time",
                          query("sum(dca_realized_profit)", "realized"),
                          query("sum(dca_unrealized_profit)", "unrealized"),
                          query("sum(dca_realized_profit) + sum(dca_unrealized_profit)", "total"),
                          unit=MONEY))
        .with_panel(chart("Capital deployed by asset", query("sum by (symbol) (dca_position_cost)", "{{symbol}}"),
                          unit=MONEY, stacked=True))
        .with_row(row("Cycles"))
        .with_panel(state_panel("Cycle state by asset", query(cycle_state(), "{{symbol}}"), CYCLE_STATES,
                                description="watching: waiting to buy or to take profit; buying/selling: an "
                                            "order is live; trailing: following the peak before selling; "
                                            "cooldown: after a completed cycle.", height=8))
        .with_panel(table_panel(
            "Assets now",
            instant("max by (symbol, status) (dca_cycle_status == 1)", table_format=True),
            instant("sum by (symbol) (dca_position_quantity)", table_format=True),
            instant("sum by (symbol) (dca_position_cost)", table_format=True),
            instant("sum by (symbol) (dca_unrealized_profit)", table_format=True),
            instant("sum by (symbol) (dca_realized_profit)", table_format=True),
            instant("sum by (symbol) (dca_safety_orders_used)", table_format=True),
            hidden=["Value #A"],
            renames={"symbol": "Asset", "status": "Status", "Value #B": "Quantity",
                     "Value #C": "Cost", "Value #D": "Unrealized P/L", "Value #E": "Realized P/L",
                     "Value #F": "Safety orders"},
            units={"Quantity": COIN, "Cost": MONEY, "Unrealized P/L": MONEY, "Realized P/L": MONEY,
                   "Safety orders": COUNT}, height=9))
        .with_row(row("Orders"))
        .with_panel(chart("Orders submitted",
                          query("sum by (side, kind) (increase(dca_orders_submitted_total[$__interval]))",
                                "{{side}} {{kind}}"),
                          bars=True, min_interval="1m", width=8))
        .with_panel(chart("Fills", query("sum by (side) (increase(dca_fills_total[$__interval]))", "{{side}}"),
                          bars=True, min_interval="1m", width=8))
        .with_panel(chart("Rejected, cancelled and vetoed orders",
                          query("sum by (reason) (increase(dca_orders_rejected_total[$__interval]))",
                                "rejected: {{reason}}"),
                          query("sum by (reason) (increase(dca_orders_canceled_total[$__interval]))",
                                "cancelled: {{reason}}"),
                          query("sum by (gate) (increase(dca_orders_vetoed_total[$__interval]))",
                                "vetoed: {{gate}}"),
                          bars=True, min_interval="1m", width=8))
        .with_panel(stat_panel("Cycles completed",
                               instant('sum(increase(dca_cycles_completed_total{outcome="complete"}[$__range])) '
                                       "or vector(0)"),
                               description="Cycles that took profit in the dashboard's time range.", decimals=0))
        .with_panel(stat_panel("Cycles ended in error",
                               instant('sum(increase(dca_cycles_completed_total{outcome="error"}[$__range])) '
                                       "or vector(0)"),
                               description="Cycles ended because the exchange no longer held their coins.",
                               decimals=0, steps=[(None, GREEN), (1, RED)]))
        .with_row(row("Alerts"))
        .with_panel(stat_panel("Critical alerts",
                               instant('count(ALERTS{alertstate="firing", severity="critical"}) or vector(0)'),
                               steps=[(None, GREEN), (1, RED)]))
        .with_panel(stat_panel("Warnings",
                               instant('count(ALERTS{alertstate="firing", severity="warning"}) or vector(0)'),
                               steps=[(None, GREEN), (1, ORANGE)]))
        .with_panel(table_panel("Firing alerts", instant('ALERTS{alertstate="firing"}', table_format=True),
                                description="From Prometheus's ALERTS series: see docs/operations.md for what "
                                            "each alert means.", width=16, height=6,
                                renames={"alertname": "Alert", "severity": "Severity", "instance": "Instance"},
                                hidden=["Value", "__name__", "alertstate", "job"]))
    )
