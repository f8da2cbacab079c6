"""Ad-hoc and planned work: what each team got delivered, by kind, against its ad-hoc budget."""
from sqlalchemy import func, select

from .. import settings
from ..extensions import db
from ..models import KINDS, Request, Team
from ..queries import unindexed
from .charts import Series, chart
from .filters import conditions
from .periods import period_of


@chart("ad_hoc_vs_planned", "Ad-hoc and planned work",
       "Each bar is what a team got delivered in the range, by kind; a bar that is mostly "
       "ad-hoc leaves little room for projects and fixes.")
def ad_hoc_vs_planned(spec, filters, now):
    """Per team, the requests delivered in the range by kind, with the team's ad-hoc budget
    over the range (today's weekly budget times the range's weeks) as a table column."""
    period = period_of(filters, now, settings.current())
    # Grouped by an unindexed team, SQLite reads the range's deliveries from their covering
    # index instead of walking every team's index and looking up each request's kind.
    rows = db.session.execute(
        select(Request.team_id, Request.kind, func.count())
        .where(period.contains(Request.delivered_at), *conditions(filters))
        .group_by(unindexed(Request.team_id), Request.kind)).all() if period.days else []
    teams = {row.id: row for row in db.session.execute(
        select(Team.id, Team.name, Team.weekly_ad_hoc_budget)
        .where(Team.id.in_({row[0] for row in rows})).order_by(Team.name))}
    counts = {team_id: dict.fromkeys(KINDS, 0) for team_id in teams}
    for team_id, kind, count in rows:
        if kind in KINDS:
            counts[team_id][kind] += count
    weeks = round(period.days / 7, 1)
    return spec.chart(
        type="stacked_bar", labels=[team.name for team in teams.values()],
        series=[Series(KINDS[kind][0], [counts[team_id][kind] for team_id in teams],
                       {"kind": kind}) for kind in KINDS],
        columns=["Team", *(KINDS[kind][0] for kind in KINDS), "Total",
                 "Ad-hoc budget for the range"],
        rows=[[team.name, *(counts[team.id][kind] for kind in KINDS),
               sum(counts[team.id].values()),
               None if team.weekly_ad_hoc_budget is None
               else round(team.weekly_ad_hoc_budget * weeks, 1)]
              for team in teams.values()],
        x_label="Team", y_label="Requests delivered", notes={"weeks": weeks})
