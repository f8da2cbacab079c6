"""Delivery: throughput per week, and lead and cycle time of the requests delivered."""
from bisect import bisect_left

from sqlalchemy import and_, case, func, null, select

from .. import settings
from ..extensions import db
from ..models import Request
from .charts import Series, chart
from .filters import conditions
from .periods import days_between, period_of
from .series import weekly_counts
from .stats import PERCENTILES, percentile, rounded

# Lead and cycle time buckets in days: [low, high), the last one open-ended.
TIME_BUCKETS = ((0, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, 40), (40, None))


def deliveries(filters, period):
    """A CTE of the requests delivered in the period (their last delivery):
    ``lead_days`` from submission and ``cycle_days`` from the first start of work (its first
    claim or assignment; None if it has none)."""
    # The first start is stored on the request (``started_at``, kept by sla_clocks), so the
    # deliveries of a range are read from ix_requests_delivered alone. A range ending before
    # the first start sees none (as the events up to its end would show).
    started_at = case((Request.started_at < period.end_at, Request.started_at), else_=null())
    return (select(Request.id, days_between(Request.delivered_at, Request.created_at)
                   .label("lead_days"),
                   days_between(Request.delivered_at, started_at).label("cycle_days"))
            .where(period.contains(Request.delivered_at), *conditions(filters))
            # Materialized, so each delivery's numbers are computed once: SQLite would
            # otherwise copy their expressions into every branch of the buckets' CASE.
            .cte("deliveries").prefix_with("MATERIALIZED", dialect="postgresql"))


@chart("throughput", "Throughput",
       "Each bar is the requests delivered in a week (a redelivery after a reopen counts in "
       "the week of the last delivery).")
def throughput(spec, filters, now):
    """Requests delivered per ISO week (by ``delivered_at``: the last delivery of each)."""
    period = period_of(filters, now, settings.current())
    delivered = (select(period.week_index(Request.delivered_at).label("week"))
                 .where(period.contains(Request.delivered_at), *conditions(filters))
                 .subquery("delivered"))
    rows = [("all", week, count) for week, count in db.session.execute(
        select(delivered.c.week, func.count()).group_by(delivered.c.week))] if period.days else []
    counts = weekly_counts(period, rows, ["all"])["all"]
    labels = period.week_labels()
    return spec.chart(
        type="bar", labels=labels, series=[Series("Delivered", counts)],
        columns=["Week of", "Requests delivered"],
        rows=[[week, counts[i]] for i, week in enumerate(labels)],
        x_label="Week of", y_label="Requests delivered",
        notes={"total": sum(counts)})


def _bucket(column):
    """SQL: the index in TIME_BUCKETS of a number of days (None stays None)."""
    return case(*((column < high, index) for index, (_, high) in enumerate(TIME_BUCKETS)
                  if high is not None), else_=len(TIME_BUCKETS) - 1)


def _bucket_counts(ordered):
    """[count per TIME_BUCKETS bucket] of sorted numbers of days, bucketed as ``_bucket``
    does in SQL (a number goes in the first bucket whose high it is below)."""
    edges = [bisect_left(ordered, high) for _, high in TIME_BUCKETS[:-1]] + [len(ordered)]
    return [edge - previous for previous, edge in zip([0, *edges], edges)]


def _bucket_label(low, high):
    return f"{low}+ days" if high is None else f"{low}\u2013{high} days"


def _measured(delivered):
    """({"lead": [count per bucket], "cycle": [...]}, {"lead_days": percentiles, "cycle_days":
    ...}) of the deliveries CTE, in one statement: PostgreSQL counts the buckets and computes
    ``percentile_cont`` in it; elsewhere the numbers are fetched once and counted in Python."""
    buckets = {"lead": [0] * len(TIME_BUCKETS), "cycle": [0] * len(TIME_BUCKETS)}
    names = {"lead": "lead_days", "cycle": "cycle_days"}
    if db.session.get_bind().dialect.name == "postgresql":
        columns = [func.count().filter(and_(delivered.c[name].is_not(None),
                                            _bucket(delivered.c[name]) == index))
                   for name in names.values() for index in range(len(TIME_BUCKETS))]
        shares = [func.percentile_cont(share).within_group(delivered.c[name])
                  for name in names.values() for share in PERCENTILES.values()]
        values = iter(db.session.execute(select(*columns, *shares)).one())
        for measure in names:
            buckets[measure] = [next(values) for _ in TIME_BUCKETS]
        found = {name: {key: rounded(next(values)) for key in PERCENTILES}
                 for name in names.values()}
        return buckets, found
    rows = db.session.execute(select(delivered.c.lead_days, delivered.c.cycle_days)).all()
    found = {}
    for index, (measure, name) in enumerate(names.items()):
        ordered = sorted(row[index] for row in rows if row[index] is not None)
        buckets[measure] = _bucket_counts(ordered)
        found[name] = {key: rounded(percentile(ordered, share))
                       for key, share in PERCENTILES.items()}
    return buckets, found


@chart("lead_time", "Lead and cycle time",
       "Bars count the requests delivered in the range by how many days they took: lead time "
       "from submission, cycle time from the start of work; the 85th percentile is a fair "
       "promise to make.")
def lead_time(spec, filters, now):
    """How long the requests delivered in the range took, in buckets of days: lead time
    (submission to delivery) and cycle time (first claim or assignment to delivery), with the
    p50/p85/p95 of each in the notes (lead_time_p50, ..., cycle_time_p95)."""
    period = period_of(filters, now, settings.current())
    buckets = {"lead": [0] * len(TIME_BUCKETS), "cycle": [0] * len(TIME_BUCKETS)}
    notes = {f"{name}_{key}": None for name in ("lead_time", "cycle_time") for key in PERCENTILES}
    if period.days:
        # The deliveries are built once; one statement counts and measures them.
        buckets, found = _measured(deliveries(filters, period))
        for name, column in (("lead_time", "lead_days"), ("cycle_time", "cycle_days")):
            notes.update({f"{name}_{key}": value for key, value in found[column].items()})
    notes["delivered"] = sum(buckets["lead"])
    labels = [_bucket_label(low, high) for low, high in TIME_BUCKETS]
    return spec.chart(
        type="bar", labels=labels,
        series=[Series("Lead time", buckets["lead"], {"measure": "lead_time"}),
                Series("Cycle time", buckets["cycle"], {"measure": "cycle_time"})],
        columns=["Days", "Lead time (requests)", "Cycle time (requests)"],
        rows=[[label, buckets["lead"][i], buckets["cycle"][i]]
              for i, label in enumerate(labels)],
        x_label="Days", y_label="Requests delivered", notes=notes)
