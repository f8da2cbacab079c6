"""Demand and backlog per team: requests submitted each week, and those still open."""
from sqlalchemy import case, func, literal, or_, select, union_all

from .. import settings
from ..extensions import db
from ..models import Request
from .charts import Series, chart
from .filters import conditions
from .periods import period_of
from .series import running, team_names, weekly_counts


@chart("backlog_by_team", "Backlog by team",
       "Each line is a team's requests not closed yet (open or delivered) at the end of each "
       "week; a rising line is demand outgrowing delivery.")
def backlog_by_team(spec, filters, now):
    """Requests not closed yet (open or delivered) per team at the end of each week: +1 in the
    week a request was submitted, -1 in the week it closed, summed up week by week from the
    requests open when the range starts."""
    period = period_of(filters, now, settings.current())
    narrowing = conditions(filters)
    opened = (select(Request.team_id.label("team_id"),
                     case((Request.created_at < period.start_at, -1),
                          else_=period.week_index(Request.created_at)).label("week"),
                     literal(1).label("change"))
              .where(Request.created_at < period.end_at,
                     or_(Request.closed_at.is_(None), Request.closed_at >= period.start_at),
                     *narrowing))
    closed = (select(Request.team_id.label("team_id"),
                     period.week_index(Request.closed_at).label("week"),
                     literal(-1).label("change"))
              .where(period.contains(Request.closed_at), Request.created_at < period.end_at,
                     *narrowing))
    deltas = union_all(opened, closed).subquery("deltas")
    weekly = (select(deltas.c.team_id, deltas.c.week, func.sum(deltas.c.change).label("change"))
              .group_by(deltas.c.team_id, deltas.c.week).subquery("weekly"))
    rows = db.session.execute(
        select(weekly.c.team_id, weekly.c.week,
               func.sum(weekly.c.change).over(partition_by=weekly.c.team_id,
                                              order_by=weekly.c.week))
    ).all() if period.days else []
    names = team_names({row[0] for row in rows})
    counts = running(rows, names, period.weeks)
    teams = [team for team in names if any(counts[team])]
    labels = period.week_labels()
    return spec.chart(
        type="line", labels=labels,
        series=[Series(names[team], counts[team], {"team_id": team}) for team in teams],
        columns=["Week of", "Team", "Open requests"],
        rows=[[week, names[team], counts[team][i]] for i, week in enumerate(labels)
              for team in teams],
        x_label="Week of", y_label="Open requests")


@chart("demand_by_team", "Demand by team",
       "Each bar is the requests submitted in a week, stacked by team; compare its height "
       "with the throughput chart to see whether the team keeps up.")
def demand_by_team(spec, filters, now):
    """Requests submitted per team per ISO week of the range."""
    period = period_of(filters, now, settings.current())
    submitted = (select(Request.team_id.label("team_id"),
                        period.week_index(Request.created_at).label("week"))
                 .where(period.contains(Request.created_at), *conditions(filters))
                 .subquery("submitted"))
    rows = db.session.execute(
        select(submitted.c.team_id, submitted.c.week, func.count())
        .group_by(submitted.c.team_id, submitted.c.week)).all() if period.days else []
    names = team_names({row[0] for row in rows})
    counts = weekly_counts(period, rows, names)
    labels = period.week_labels()
    return spec.chart(
        type="stacked_bar", labels=labels,
        series=[Series(names[team], counts[team], {"team_id": team}) for team in names],
        columns=["Week of", "Team", "Requests submitted"],
        rows=[[week, names[team], counts[team][i]] for i, week in enumerate(labels)
              for team in names if counts[team][i]],
        x_label="Week of", y_label="Requests submitted")
