"""Ageing work in progress: every open request as a dot, by state and age, coloured by SLA."""
from sqlalchemy import case, func, select

from .. import settings, sla_clocks
from ..extensions import db
from ..models import STATES, Request
from ..queries import few, unindexed
from .charts import Series, chart
from .delivery import deliveries
from .filters import conditions
from .flow import FLOW_STATES
from .periods import period_of
from .stats import PERCENTILES, percentiles

AGEING_CAP = 2000  # ageing_wip shows at most this many points, the oldest
SLA_STATUS_ORDER = ("breached", "at_risk", "on_track", "paused", "stopped")


def _jitter(request_id):
    """A small offset from the category's centre, the same for a request every time."""
    return ((request_id * 7919) % 101 / 100 - 0.5) * 0.5


def _sla_status_column(now):
    return case(*((sla_clocks.status_condition(status, now), status)
                  for status in ("breached", "at_risk", "on_track")),
                (Request.state.in_(sla_clocks.PAUSED_STATES), "paused"), else_="stopped")


@chart("ageing_wip", "Ageing work in progress",
       "Each dot is a request not closed yet (open or delivered): the higher, the older; dots "
       "above the p85 line of past cycle times are at risk of taking longer than most.")
def ageing_wip(spec, filters, now):
    """Every request not closed now as a point: x its state (FLOW_STATES index, with a jitter), y its
    age in days, coloured by SLA status. The date range chooses the deliveries whose cycle time
    percentiles (first start of work to delivery) give the p50/p85/p95 lines. At most
    AGEING_CAP points, the oldest; the notes say how many there are in all."""
    period = period_of(filters, now, settings.current())
    rows = db.session.execute(
        select(Request.id, Request.title, Request.is_confidential, Request.state,
               Request.created_at, _sla_status_column(now).label("sla"),
               func.count().over().label("total"))
        # By state (a few thousand open requests), not by creation: walking the creation
        # index to sort would read every request of the history.
        .where(few(Request.state.in_(FLOW_STATES)), unindexed(Request.created_at) <= now,
               *conditions(filters))
        .order_by(Request.created_at, Request.id).limit(AGEING_CAP)).all()
    total = rows[0].total if rows else 0
    if period.days:
        notes = percentiles(deliveries(filters, period), ["cycle_days"])["cycle_days"]
    else:
        notes = dict.fromkeys(PERCENTILES)
    notes.update(shown=len(rows), total=total, capped=total > len(rows))
    points = {status: [] for status in SLA_STATUS_ORDER}
    table = []
    for row in rows:
        age = round((now - row.created_at).total_seconds() / 86400, 2)
        x = round(FLOW_STATES.index(row.state) + _jitter(row.id), 3)
        points[row.sla].append({"x": x, "y": age, "id": row.id})
        table.append([row.id, "(confidential)" if row.is_confidential else row.title,
                      STATES[row.state], age, sla_clocks.SLA_STATUS_LABELS[row.sla]])
    how = spec.how_to_read
    if notes["capped"]:
        how += f" Showing the {len(rows):,} oldest of {total:,}."
    return spec.chart(
        how_to_read=how, type="scatter", labels=[STATES[state] for state in FLOW_STATES],
        series=[Series(sla_clocks.SLA_STATUS_LABELS[status], points[status], {"status": status})
                for status in SLA_STATUS_ORDER if points[status]],
        columns=["Request", "Title", "State", "Age (days)", "SLA"], rows=table,
        x_label="State", y_label="Age (days)", notes=notes)
