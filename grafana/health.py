"""The system-health dashboard: the process, its streams and quote latency, actor restarts,
caretakers, the exchange's REST API, the database and the risk gates."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from grafana.panels import (
    GREEN,
    ORANGE,
    RED,
    bar_gauge_panel,
    chart,
    instant,
    new_dashboard,
    query,
    row,
    stat_panel,
    state_panel,
)

UID = "dca-system-health"
JOB = 'job="dca-supervisor"'
UP_DOWN = {0: ("down", RED), 1: ("up", GREEN)}
OFF_ON = {0: ("off", GREEN), 1: ("ENGAGED", RED)}


def quantiles(metric: str, by: str = "") -> list:
    """p50, p90 and p99 of a histogram, optionally per label."""
    labels = f"{by}, le" if by else "le"
    legend = f"{{{{{by}}}}} " if by else ""
    return [query(f"histogram_quantile({q}, sum by ({labels}) (rate({metric}_bucket[$__rate_interval])))",
                  f"{legend}p{round(q * 100)}") for q in (0.5, 0.9, 0.99)]


def build() -> Dashboard:
    return (
        new_dashboard(UID, "DCA system health", "The supervisor process, its streams, actors, caretakers, "
                                                "exchange calls, database and risk gates.")
        .with_row(row("Process"))
        .with_panel(stat_panel("Supervisor", instant(f"up{{{JOB}}}", "{{instance}}"), names=UP_DOWN))
        .with_panel(stat_panel("Uptime", instant("time() - dca_start_timestamp_seconds"), unit="s"))
        .with_panel(stat_panel("Trading mode", instant("dca_trading_mode == 1", "{{mode}}"), show_name=True))
        .with_panel(chart("CPU", query(f"rate(process_cpu_seconds_total{{{JOB}}}[$__rate_interval])", "{{instance}}"),
                          unit="percentunit", width=6, height=4))
        .with_panel(chart("Memory", query(f"process_resident_memory_bytes{{{JOB}}}", "{{instance}}"),
                          unit="bytes", width=6, height=4))
        .with_row(row("Streams and quotes"))
        .with_panel(state_panel("Streams", query("dca_stream_connected", "{{stream}}"),
                                {0: ("disconnected", RED), 1: ("connected", GREEN)}, width=12, height=5))
        .with_panel(chart("Reconnects and unreadable messages",
                          query("sum by (stream) (increase(dca_stream_reconnects_total[$__interval]))",
                                "reconnects: {{stream}}"),
                          query("sum by (stream) (increase(dca_malformed_messages_total[$__interval]))",
                                "malformed: {{stream}}"),
                          bars=True, min_interval="1m", height=5))
        .with_panel(chart("Quotes per second",
                          query("sum(rate(dca_quotes_total[$__rate_interval]))", "received"),
                          query("sum(rate(dca_quotes_conflated_total[$__rate_interval]))", "conflated"),
                          unit="reqps"))
        .with_panel(chart("Quote decision latency", *quantiles("dca_quote_decision_latency_seconds"), unit="s",
                          description="From a quote's arrival to its asset's decision (alert: p99 over 0.5 s)."))
        .with_row(row("Actors and caretakers"))
        .with_panel(stat_panel("Actor restarts", instant("sum(increase(dca_actor_restarts_total[$__range])) "
                                                         "or vector(0)"),
                               decimals=0, width=4, height=8, steps=[(None, GREEN), (1, ORANGE), (10, RED)],
                               description="Restarts in the dashboard's time range."))
        .with_panel(chart("Restarts by actor",
                          query("sum by (actor) (increase(dca_actor_restarts_total[$__interval]))", "{{actor}}"),
                          bars=True, min_interval="1m", width=8))
        .with_panel(bar_gauge_panel(
            "Caretakers: intervals since last success",
            instant("(time() - dca_caretaker_last_success_timestamp_seconds) / dca_caretaker_interval_seconds",
                    "{{caretaker}}"),
            unit="short", steps=[(None, GREEN), (1.5, ORANGE), (3, RED)], width=12,
            description="1 = on schedule; the stale alert fires past 3 intervals."))
        .with_panel(chart("Caretaker runs and failures",
                          query("sum by (caretaker) (increase(dca_caretaker_runs_total[$__interval]))",
                                "runs: {{caretaker}}"),
                          query("sum by (caretaker) (increase(dca_caretaker_failures_total[$__interval]))",
                                "failures: {{caretaker}}"),
                          bars=True, min_interval="1m"))
        .with_panel(chart("Caretaker run time (average over 1h)",
                          query("sum by (caretaker) (rate(dca_caretaker_duration_seconds_sum[1h])) "
                                "/ sum by (caretaker) (rate(dca_caretaker_duration_seconds_count[1h]))",
                                "{{caretaker}}"),
                          unit="s"))
        .with_row(row("Exchange and database"))
        .with_panel(chart("Exchange call latency (p99)",
                          query("histogram_quantile(0.99, sum by (endpoint, le) "
                                "(rate(dca_broker_request_duration_seconds_bucket[$__rate_interval])))",
                                "{{endpoint}}"),
                          unit="s", width=8))
        .with_panel(chart("Exchange calls",
                          query("sum by (endpoint) (rate(dca_broker_request_duration_seconds_count[$__rate_interval]))",
                                "{{endpoint}}"),
                          unit="reqps", width=8))
        .with_panel(chart("Exchange errors",
                          query("sum by (endpoint, kind) (rate(dca_broker_errors_total[$__rate_interval]))",
                                "{{endpoint}} {{kind}}"),
                          unit="reqps", width=8,
                          description="NotFound (a position or order that is not there) is often an answer, not a "
                                      "fault; BrokerUnavailable counts towards the DcaBrokerUnavailable alert."))
        .with_panel(chart("Database errors",
                          query("sum by (error) (increase(dca_database_errors_total[$__interval]))", "{{error}}"),
                          bars=True, min_interval="1m"))
        .with_panel(chart("Reconciliation differences",
                          query("sum by (kind) (increase(dca_reconciliation_discrepancies_total[$__interval]))",
                                "{{kind}}"),
                          bars=True, min_interval="1m"))
        .with_row(row("Risk gates"))
        .with_panel(stat_panel("Kill switch", instant("max(dca_kill_switch_engaged)"), names=OFF_ON, width=6))
        .with_panel(stat_panel("Daily loss limit", instant("max(dca_daily_loss_limit_hit)"),
                               names={0: ("not hit", GREEN), 1: ("HIT", RED)}, width=6))
        .with_panel(stat_panel("Circuit breakers open", instant("sum(dca_circuit_breaker_open) or vector(0)"),
                               steps=[(None, GREEN), (1, RED)], width=6))
        .with_panel(stat_panel("Dry run", instant("max(dca_dry_run)"), width=6,
                               names={0: ("off: real orders", GREEN), 1: ("DRY RUN: shadow orders", ORANGE)}))
    )
