"""Demand and backlog per team: requests submitted each week, and those still open."""
from sqlalchemy import and_, case, func, or_, select

from .. import counts, localtime, settings
from ..extensions import db
from ..models import Event, Request
from .charts import Series, chart
from .filters import conditions
from .periods import period_of
from .snapshot import daily_changes, running_totals, serves, snapshot_zone
from .series import running, team_names, weekly_counts


@chart("backlog_by_team", "Backlog by team",
       "Each line is a team's open requests (before delivery: counted as everywhere in "
       "Datadesk) at the end of each week; a rising line is demand outgrowing delivery.")
def backlog_by_team(spec, filters, now):
    """Open requests (``counts``: before delivery) per team at the end of each week, from the
    events: +1 when a request enters an open state (its creation, a reopening), -1 when it
    leaves them (a delivery, a closing), summed week by week from those open before the range
    (week -1)."""
    values = settings.current()
    period = period_of(filters, now, values)
    open_states = sorted(counts.WORDS["open"].states)
    if period.days and serves(filters, values, snapshot_zone()):
        # Entering and leaving the open states is the sum of the open states' own changes;
        # a week's figure is its last day's.
        daily = running_totals(daily_changes(
            filters, period, localtime.zone(values), "team_id", open_states))
        ends = [min(7 * (week + 1) - period.first.weekday(), period.days) - 1
                for week in range(period.weeks)]
        names = team_names(set(daily))
        found = {team: [daily[team][end] for end in ends] if team in daily
                 else [0] * period.weeks for team in names}
    else:
        rows = _backlog_from_events(filters, period, open_states)
        names = team_names({row[0] for row in rows})
        found = running(rows, names, period.weeks)
    teams = [team for team in names if any(found[team])]
    labels = period.week_labels()
    title = counts.WORDS["open"].title
    return spec.chart(
        type="line", labels=labels,
        series=[Series(names[team], found[team], {"team_id": team}) for team in teams],
        columns=["Week of", "Team", title],
        rows=[[week, names[team], found[team][i]] for i, week in enumerate(labels)
              for team in teams],
        x_label="Week of", y_label=title)


def _backlog_from_events(filters, period, open_states):
    """(team id, week index, running open count) rows from the event history itself."""
    entering = and_(Event.to_state.in_(open_states),
                    or_(Event.from_state.is_(None), Event.from_state.not_in(open_states)))
    leaving = and_(Event.from_state.in_(open_states), Event.to_state.not_in(open_states))
    deltas = (select(Request.team_id.label("team_id"),
                     case((Event.created_at < period.start_at, -1),
                          else_=period.week_index(Event.created_at)).label("week"),
                     case((entering, 1), (leaving, -1), else_=0).label("change"))
              .select_from(Event).join(Request, Request.id == Event.request_id)
              .where(Event.created_at < period.end_at, Event.to_state.is_not(None),
                     or_(entering, leaving), *conditions(filters))
              .subquery("deltas"))
    weekly = (select(deltas.c.team_id, deltas.c.week, func.sum(deltas.c.change).label("change"))
              .group_by(deltas.c.team_id, deltas.c.week).subquery("weekly"))
    return db.session.execute(
        select(weekly.c.team_id, weekly.c.week,
               func.sum(weekly.c.change).over(partition_by=weekly.c.team_id,
                                              order_by=weekly.c.week))
    ).all() if period.days else []


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
