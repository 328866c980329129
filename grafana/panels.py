"""Panel builders shared by the dashboards: one datasource, consistent units, instant queries for
single values, range queries for charts.

Panel ids and query refIds are not set here: `build.finish()` numbers them once a dashboard is
complete, so they are unique by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grafana_foundation_sdk.builders import bargauge, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, StackingConfig
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DashboardLink,
    DatasourceVariable,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    BigValueGraphMode,
    BigValueTextMode,
    GraphDrawStyle,
    LineInterpolation,
    StackingMode,
    VisibilityMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    ValueMap,
    ValueMappingResult,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from adapters.metrics import STATUSES

DATASOURCE_UID = "dca-prometheus"  # provisioned by grafana/provisioning/datasources/dca-prometheus.yml
DATASOURCE_VARIABLE = "datasource"  # every dashboard picks its Prometheus with this variable
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${" + DATASOURCE_VARIABLE + "}")
# One supervisor (one account) at a time: several scraped by one Prometheus are never summed together.
INSTANCE = 'instance="$instance"'
_SELECTOR = re.compile(r"\b(dca_\w+|process_\w+|ALERTS|up)\b(?:\{([^}]*)\})?")
MONEY = "currencyUSD"  # the demo and most pairs quote in USD
COUNT = "short"  # how many (orders, cycles, restarts): plain numbers with k/M suffixes
COIN = "none"  # a coin quantity: as many decimals as it has, no suffix
GREEN, ORANGE, RED, BLUE, GREY, PURPLE = "green", "orange", "red", "blue", "text", "purple"
STATUS_COLOURS = {"watching": BLUE, "buying": ORANGE, "selling": PURPLE, "trailing": GREEN, "cooldown": GREY}
CYCLE_STATES = {code: (status, STATUS_COLOURS[status]) for code, status in enumerate(STATUSES, start=1)}


def cycle_state(selector: str = "") -> str:
    """One series per symbol whose value codes the cycle's status (see CYCLE_STATES): a state
    timeline can then show every asset on one row each."""
    arms = "\n  or ".join(f'(dca_cycle_status{{{selector}{", " if selector else ""}status="{status}"}} == 1) * {code}'
                          for code, (status, _colour) in CYCLE_STATES.items())
    return f"max without (status) (\n  {arms}\n)"


def scoped(expr: str) -> str:
    """`expr` with every series selector narrowed to the dashboard's $instance."""
    def narrow(match: re.Match[str]) -> str:
        inner = match.group(2)
        return f"{match.group(1)}{{{INSTANCE}{', ' + inner if inner else ''}}}"

    return _SELECTOR.sub(narrow, expr)


def query(expr: str, legend: str = "__auto") -> Dataquery:
    """A range query: one value per step of the chart."""
    return Dataquery().expr(scoped(expr)).legend_format(legend).range().datasource(DATASOURCE)


def instant(expr: str, legend: str = "__auto", table_format: bool = False) -> Dataquery:
    """An instant query: the current value, for stats, gauges and tables."""
    q = Dataquery().expr(scoped(expr)).legend_format(legend).instant().datasource(DATASOURCE)
    return q.format(PromQueryFormat.TABLE) if table_format else q


def row(title: str) -> Row:
    return Row(title)


def thresholds(*steps: tuple[float | None, str]) -> ThresholdsConfig:
    """(value, colour) pairs; the first value is None (the base colour)."""
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value, color) for value, color in steps])


def value_names(names: dict[int, tuple[str, str]]) -> list[ValueMap]:
    """Show numbers as words: {1: ("watching", BLUE), ...}."""
    return [ValueMap({str(number): ValueMappingResult(text=text, color=color, index=i)
                      for i, (number, (text, color)) in enumerate(names.items())})]


def stat_panel(title: str, *queries: Dataquery, unit: str = "short", description: str = "", width: int = 4,
               height: int = 4, decimals: int | None = None, steps: Sequence[tuple[float | None, str]] = (),
               names: dict[int, tuple[str, str]] | None = None, show_name: bool = False) -> stat.Panel:
    panel = (stat.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit)
             .span(width).height(height).graph_mode(BigValueGraphMode.NONE)
             .text_mode(BigValueTextMode.NAME if show_name else BigValueTextMode.AUTO)
             .color_mode(BigValueColorMode.VALUE if steps or names else BigValueColorMode.NONE)
             .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    if decimals is not None:
        panel = panel.decimals(decimals)
    if steps:
        panel = panel.thresholds(thresholds(*steps))
    if names:
        panel = panel.mappings(value_names(names))
    for q in queries:
        panel = panel.with_target(q)
    return panel


def chart(title: str, *queries: Dataquery, unit: str = "short", description: str = "", width: int = 12,
          height: int = 8, stacked: bool = False, bars: bool = False, steps_line: bool = False,
          min_interval: str | None = None) -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit)
             .span(width).height(height).fill_opacity(60 if bars else 10)
             .draw_style(GraphDrawStyle.BARS if bars else GraphDrawStyle.LINE))
    if stacked or bars:
        panel = panel.stacking(StackingConfig().mode(StackingMode.NORMAL))
    if steps_line:
        panel = panel.line_interpolation(LineInterpolation.STEP_AFTER)
    if min_interval is not None:
        panel = panel.interval(min_interval)
    for q in queries:
        panel = panel.with_target(q)
    return panel


def state_panel(title: str, q: Dataquery, names: dict[int, tuple[str, str]], description: str = "",
                width: int = 24, height: int = 6) -> statetimeline.Panel:
    return (statetimeline.Panel().title(title).description(description).datasource(DATASOURCE)
            .span(width).height(height).mappings(value_names(names)).show_value(VisibilityMode.AUTO)
            .merge_values(True).fill_opacity(80).with_target(q))


def bar_gauge_panel(title: str, q: Dataquery, unit: str, steps: Sequence[tuple[float | None, str]],
                    description: str = "", width: int = 8, height: int = 8) -> bargauge.Panel:
    return (bargauge.Panel().title(title).description(description).datasource(DATASOURCE).unit(unit)
            .span(width).height(height).thresholds(thresholds(*steps))
            .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False)).with_target(q))


def table_panel(title: str, *queries: Dataquery, description: str = "", width: int = 24, height: int = 8,
                renames: dict[str, str] | None = None, hidden: Sequence[str] = (),
                units: dict[str, str] | None = None) -> table.Panel:
    """Instant table queries merged on their common labels, with columns renamed or hidden, and the
    unit of each number column (by its shown name)."""
    panel = (table.Panel().title(title).description(description).datasource(DATASOURCE)
             .span(width).height(height))
    for column, unit in (units or {}).items():
        panel = panel.override_by_name(column, [DynamicConfigValue(id_val="unit", value=unit)])
    for q in queries:
        panel = panel.with_target(q)
    panel = panel.with_transformation(DataTransformerConfig(id_val="merge", options={}))
    if renames is not None:
        panel = panel.with_transformation(DataTransformerConfig(
            id_val="organize", options={"excludeByName": dict.fromkeys(("Time", *hidden), True),
                                        "renameByName": renames}))
    return panel


def datasource_variable() -> DatasourceVariable:
    return (DatasourceVariable(DATASOURCE_VARIABLE).label("Data source").type("prometheus")
            .current(VariableOption(selected=True, text="DCA Prometheus", value=DATASOURCE_UID)))


def instance_variable() -> QueryVariable:
    """One supervisor (one Alpaca account) at a time."""
    return (QueryVariable("instance").label("Supervisor").datasource(DATASOURCE)
            .query("label_values(dca_start_timestamp_seconds, instance)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(False).include_all(False))


def new_dashboard(uid: str, title: str, description: str) -> Dashboard:
    """The settings every DCA dashboard shares: the data source and supervisor variables, and links
    to the other two (keeping the variables)."""
    return (Dashboard(title).uid(uid).description(description).tags(["dca"]).refresh("30s")
            .time("now-6h", "now").timezone("browser").tooltip(DashboardCursorSync.CROSSHAIR)
            .with_variable(datasource_variable()).with_variable(instance_variable())
            .link(DashboardLink("DCA dashboards").type(DashboardLinkType.DASHBOARDS).tags(["dca"])
                  .as_dropdown(False).include_vars(True).keep_time(True)))
