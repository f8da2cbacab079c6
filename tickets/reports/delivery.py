"""Delivery: throughput per week, and lead and cycle time of the requests delivered."""
from sqlalchemy import case, func, select

from .. import settings
from ..extensions import db
from ..models import Event, Request
from .charts import Series, chart
from .filters import conditions
from .periods import days_between, period_of
from .series import weekly_counts
from .stats import PERCENTILES, percentiles

# Lead and cycle time buckets in days: [low, high), the last one open-ended.
TIME_BUCKETS = ((0, 1), (1, 2), (2, 5), (5, 10), (10, 20), (20, 40), (40, None))
START_ACTIONS = ("claim", "assign")  # the transitions that start work on a request


def deliveries(filters, period):
    """A CTE of the requests delivered in the period (their last delivery):
    ``lead_days`` from submission and ``cycle_days`` from the first start of work (its first
    claim or assignment; None if it has none)."""
    # All first starts in one grouped pass over the start events: with tens of thousands of
    # deliveries, cheaper than a correlated lookup per delivery (bench/bench_reports.py).
    starts = (select(Event.request_id, func.min(Event.created_at).label("started_at"))
              .where(Event.action.in_(START_ACTIONS), Event.created_at < period.end_at)
              .group_by(Event.request_id).subquery("starts"))
    return (select(Request.id, days_between(Request.delivered_at, Request.created_at)
                   .label("lead_days"),
                   days_between(Request.delivered_at, starts.c.started_at).label("cycle_days"))
            .outerjoin(starts, starts.c.request_id == Request.id)
            .where(period.contains(Request.delivered_at), *conditions(filters))
            # Materialized, so each delivery's numbers are computed once: SQLite would
            # otherwise copy their expressions into every branch of the buckets' CASE.
            .cte("deliveries").prefix_with("MATERIALIZED"))


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


def _bucket_label(low, high):
    return f"{low}+ days" if high is None else f"{low}\u2013{high} days"


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
        delivered = deliveries(filters, period)
        lead_bucket = _bucket(delivered.c.lead_days).label("lead_bucket")
        cycle_bucket = case((delivered.c.cycle_days.is_(None), None),
                            else_=_bucket(delivered.c.cycle_days)).label("cycle_bucket")
        grouped = select(lead_bucket, cycle_bucket).subquery("grouped")
        for lead_index, cycle_index, count in db.session.execute(
                select(grouped.c.lead_bucket, grouped.c.cycle_bucket, func.count())
                .group_by(grouped.c.lead_bucket, grouped.c.cycle_bucket)):
            buckets["lead"][lead_index] += count
            if cycle_index is not None:
                buckets["cycle"][cycle_index] += count
        found = percentiles(delivered, ["lead_days", "cycle_days"])
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
