"""Reports: the data behind every chart of /reports, computed in SQL.

Analysts see the charts of the teams they serve, leads and admins those of every team
(``parse_filters`` narrows the charts; views/reports.py refuses requesters).

Each chart is a ``ChartSpec`` in ``CHARTS``: its key, its title and a line on how to read it
(what its card shows before its figures arrive, and without JavaScript), and the function
computing its figures, ``CHARTS[key](filters, now) -> Chart``, as series (for the chart) and
as a table (for the table and the CSV). The page, its JSON endpoints and its CSV exports all go
through the registry, so a chart is defined once. Figures are computed by the database (grouped
counts, window functions over the event history), never by looping over requests in Python, so
a chart costs a constant number of SQL statements whatever the number of requests; no chart
ever loads Request objects.

The modules:
- ``charts``: Chart and Series (a chart's figures), ChartSpec and the ``chart`` decorator;
- ``filters``: Filters, read from a URL and written back to one, and their SQL conditions;
- ``periods``: a range as local days and ISO weeks of the settings' timezone, in SQL;
- ``series``: grouped rows turned into series (running totals, weekly counts, team names);
- ``stats``: the one percentile (interpolated as ``percentile_cont``), in SQL or in Python;
- ``snapshot``: the event history summed per local day (``flow_days``), kept by a flush hook
  and rebuilt by ``flask reports rebuild-snapshot``, which cumulative flow and backlog by team
  read instead of every event;
- one module per family of charts: ``flow`` (cumulative flow), ``backlog`` (backlog and demand
  by team), ``ageing`` (ageing work in progress), ``delivery`` (throughput, lead and cycle
  time), ``sla_attainment``, ``ad_hoc`` (ad-hoc and planned work against the budget) and
  ``closures`` (how requests closed).

The impact ledger (``impact``: what became of deliveries, DESIGN.md Outcomes) has a page of its
own, /reports/impact, for leads.

To add a chart: write ``@chart(key, title, how_to_read) def compute(spec, filters, now)`` in its
family's module, returning ``spec.chart(...)``, and list it in ``CHARTS`` below.
"""
from . import ad_hoc, ageing, backlog, closures, delivery, flow, sla_attainment
from .charts import Chart, ChartSpec, Series, chart, computed
from .filters import MAX_DAYS, Filters, filters_query, parse_filters
from .flow import FLOW_STATES

# key -> ChartSpec, in page order.
CHARTS = {spec.key: spec for spec in (
    flow.cumulative_flow, backlog.backlog_by_team, backlog.demand_by_team, ageing.ageing_wip,
    delivery.throughput, delivery.lead_time, sla_attainment.sla_attainment,
    ad_hoc.ad_hoc_vs_planned, closures.closures)}

__all__ = ["CHARTS", "FLOW_STATES", "MAX_DAYS", "Chart", "ChartSpec", "Filters", "Series",
           "chart", "computed", "filters_query", "parse_filters"]
