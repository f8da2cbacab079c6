"""Grouped rows turned into a chart's series: running totals, weekly counts, team names."""
from sqlalchemy import select

from ..extensions import db
from ..models import Team


def team_names(team_ids=None):
    """{team id: name} of the given teams (all when None), by name, in one statement."""
    query = select(Team.id, Team.name).order_by(Team.name)
    if team_ids is not None:
        query = query.where(Team.id.in_(team_ids))
    return dict(db.session.execute(query).all())


def running(rows, keys, length):
    """Turn (key, index, running total) rows into {key: [total at each index]}: a total
    holds until the next index that has a row; index -1 is the starting value."""
    totals = {key: [0] * length for key in keys}
    by_key = {}
    for key, index, total in rows:
        by_key.setdefault(key, []).append((index, int(total or 0)))
    for key, points in by_key.items():
        if key not in totals:
            continue
        points.sort()
        current, position = 0, 0
        for index in range(length):
            while position < len(points) and points[position][0] <= index:
                current = points[position][1]
                position += 1
            totals[key][index] = current
    return totals


def weekly_counts(period, rows, keys):
    """{key: [count per week]} from (key, week index, count) rows."""
    counts = {key: [0] * period.weeks for key in keys}
    for key, week, count in rows:
        if key in counts and 0 <= week < period.weeks:
            counts[key][week] += int(count)
    return counts
