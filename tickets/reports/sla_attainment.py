"""SLA attainment: the share of first responses and deliveries within their class's target."""
from sqlalchemy import case, func, literal, select, union_all

from .. import settings
from ..extensions import db
from ..models import SLA_CLASSES, Request
from ..queries import unindexed
from .charts import Series, chart
from .filters import conditions
from .periods import period_of
from .series import team_names


def _target_seconds(which, values):
    """SQL: the target in business seconds of the request's SLA class for ``which`` clock."""
    return case(*((Request.sla_class == sla_class,
                   getattr(settings.sla_target(sla_class, values), f"{which}_seconds"))
                  for sla_class in SLA_CLASSES))


@chart("sla_attainment", "SLA attainment",
       "Each line is the share of first responses or deliveries of a week that met their SLA "
       "class's target in business hours (paused time not counted); gaps are weeks with none.")
def sla_attainment(spec, filters, now):
    """Per ISO week, the share of first responses (by ``first_response_at``) and deliveries
    (by ``delivered_at``) within their SLA class's target, from the stored business seconds
    (clock pauses already excluded), against today's targets. Rows per week, class and team
    with met/total counts; series per measure and class in percent (None: nothing that week).
    """
    values = settings.current()
    period = period_of(filters, now, values)
    narrowing = conditions(filters)
    measures = []
    for which, at, seconds in (("first_response", Request.first_response_at,
                                Request.first_response_seconds),
                               ("resolution", Request.delivered_at, Request.resolution_seconds)):
        # Each measure grouped on its own: SQLite sorts two halves instead of their union.
        # (Grouped by the week's name: its expression holds parameters, which the group
        # would repeat.)
        team_id = unindexed(Request.team_id)
        met = case((seconds <= _target_seconds(which, values), 1), else_=0)
        measures.append(
            select(literal(which).label("measure"), period.week_index(at).label("week"),
                   Request.sla_class, team_id.label("team_id"), func.sum(met), func.count())
            .where(period.contains(at), seconds.is_not(None), *narrowing)
            .group_by("week", Request.sla_class, team_id))
    rows = db.session.connection().execute(union_all(*measures)).all() if period.days else []
    names = team_names({row[3] for row in rows})
    labels = period.week_labels()
    weeks = len(labels)
    class_index = {sla_class: index for index, sla_class in enumerate(SLA_CLASSES)}
    class_names = list(SLA_CLASSES.values())
    # (measure, class) -> per week [met, total]; and the rows by (week, class, team).
    totals = {}
    table = {}
    for measure, week, sla_class, team_id, met, count in rows:
        if not 0 <= week < weeks:
            continue
        met = int(met or 0)
        weekly = totals.get((measure, sla_class))
        if weekly is None:
            weekly = totals[measure, sla_class] = [[0, 0] for _ in labels]
        weekly[week][0] += met
        weekly[week][1] += count
        key = (week, class_index[sla_class], names[team_id])
        line = table.get(key)
        if line is None:
            line = table[key] = [0, 0, 0, 0]
        offset = 0 if measure == "first_response" else 2
        line[offset] += met
        line[offset + 1] += count
    series = []
    for measure, measure_label in (("first_response", "First response"),
                                   ("resolution", "Resolution")):
        for sla_class in SLA_CLASSES:
            weekly = totals.get((measure, sla_class))
            if weekly is None:
                continue
            series.append(Series(
                f"{measure_label}, {SLA_CLASSES[sla_class].lower()}",
                [round(100 * met / total, 1) if total else None for met, total in weekly],
                {"measure": measure, "sla_class": sla_class}))
    return spec.chart(
        type="line", labels=labels, series=series,
        columns=["Week of", "SLA class", "Team", "First responses met", "First responses",
                 "Deliveries met", "Deliveries"],
        rows=[[labels[week], class_names[index], team, *counts]
              for (week, index, team), counts in sorted(table.items())],
        x_label="Week of", y_label="Within target (%)")
