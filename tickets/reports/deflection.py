"""Deflection: how many would-be requests the catalogue and past deliveries answered, counted
honestly, what answered them, and what people looked for and did not find.

Per ISO week of the range (the settings' timezone): requests received, raw deflections (every
"This answers my question"), true deflections (those the same person did not ask again within
``deflections.REASK_DAYS`` days) and the true deflection rate,

    true deflections / (true deflections + requests received),

the share of would-be requests that ended without reaching the data team. Raw deflections are
not in the rate: a question "answered" and asked anyway a few days later cost the team the
request and the requester the detour, and counting it is how help centres' headline figures are
inflated (independent figures: about 18 % for a traditional knowledge base, 40-55 % best in
class). Deflections of the last ``REASK_DAYS`` days may still be asked again: the latest week's
true figure is provisional.

Each function returns a ``Chart`` (its rows are the table and the CSV), computed by grouped SQL
in a constant number of statements.
"""
from dataclasses import replace

from sqlalchemy import case, false, func, select

from .. import deflections, localtime, settings
from ..extensions import db
from ..models import ASSET_KINDS, Asset, Deflection, Request, SearchMiss, Team
from ..policy import visible_assets, visible_requests
from .charts import Chart, Series
from .filters import conditions
from .periods import period_of
from .series import weekly_counts

MAX_ROWS = 50  # rows of the answers and misses tables

FORMULA = "True deflection rate = true deflections \u00f7 (true deflections + requests received)"
WEEKS_HOW = ("Each week: the requests received, the would-be requests that ended at a "
             "suggestion (raw), and those of them not asked again within "
             f"{deflections.REASK_DAYS} days (true).")
ANSWERS_HOW = ("The catalogue assets and delivered requests that people said answered their "
               "question, most true deflections first.")
MISSES_HOW = ("What people searched for, or asked for on the intake form, and found nothing: "
              "a gap in the catalogue.")


def _team_conditions(column, filters):
    """SQL conditions narrowing rows whose team is ``column`` to the filters' teams."""
    found = []
    if filters.team_ids is not None:
        found.append(column.in_(filters.team_ids) if filters.team_ids else false())
    if filters.team_id is not None:
        found.append(column == filters.team_id)
    return found


def rate(true, received):
    """The true deflection rate (a share from 0 to 1, 3 decimals), None with nothing counted."""
    total = true + received
    return round(true / total, 3) if total else None


def weeks(filters, now):
    """Requests received, raw and true deflections and the true deflection rate per ISO week
    of the range; the range's totals in ``notes``. Deflections count in their team (the team
    chosen on the form), requests in theirs; the analyst and kind filters do not apply."""
    period = period_of(filters, now, settings.current())
    received_rows = deflected_rows = []
    if period.days:
        received = (select(period.week_index(Request.created_at).label("week"))
                    .where(period.contains(Request.created_at),
                           *conditions(replace(filters, analyst_id=None, kind=None)))
                    .subquery("received"))
        received_rows = db.session.execute(
            select(received.c.week, func.count()).group_by(received.c.week)).all()
        deflected = (select(period.week_index(Deflection.created_at).label("week"),
                            case((Deflection.resubmitted_request_id.is_(None), 1),
                                 else_=0).label("is_true"))
                     .where(period.contains(Deflection.created_at),
                            *_team_conditions(Deflection.team_id, filters))
                     .subquery("deflected"))
        deflected_rows = db.session.execute(
            select(deflected.c.week, func.count(), func.sum(deflected.c.is_true))
            .group_by(deflected.c.week)).all()
    counts = weekly_counts(period, [("received", week, count) for week, count in received_rows]
                           + [("raw", week, count) for week, count, _ in deflected_rows]
                           + [("true", week, true) for week, _, true in deflected_rows],
                           ("received", "raw", "true"))
    labels = period.week_labels()
    rows = [[week, counts["received"][i], counts["raw"][i], counts["true"][i],
             counts["raw"][i] - counts["true"][i], rate(counts["true"][i], counts["received"][i])]
            for i, week in enumerate(labels)]
    totals = {name: sum(values) for name, values in counts.items()}
    return Chart(
        key="deflection_weeks", title="Deflections per week", how_to_read=WEEKS_HOW,
        type="bar", labels=labels,
        series=[Series("Requests received", counts["received"]),
                Series("Deflections (raw)", counts["raw"]),
                Series("True deflections", counts["true"])],
        columns=["Week of", "Requests received", "Deflections (raw)", "True deflections",
                 f"Asked again within {deflections.REASK_DAYS} days", "True deflection rate"],
        rows=rows, x_label="Week of", y_label="Count",
        notes={"received": totals["received"], "raw": totals["raw"], "true": totals["true"],
               "reasked": totals["raw"] - totals["true"],
               "rate": rate(totals["true"], totals["received"]), "formula": FORMULA})


def answers(filters, now, user):
    """The assets and delivered requests that deflected most in the range, as ``user`` may see
    them (one the reader may not see is left out): kind, title, owning team, raw and true
    deflections, most true first; at most MAX_ROWS."""
    period = period_of(filters, now, settings.current())
    if not period.days:
        return _answers_chart([])
    is_true = func.sum(case((Deflection.resubmitted_request_id.is_(None), 1), else_=0))
    narrowing = [period.contains(Deflection.created_at),
                 *_team_conditions(Deflection.team_id, filters)]
    by_asset = (select(Asset.id, Asset.title, Asset.kind, Team.name, func.count(), is_true)
                .select_from(Deflection).join(Asset, Asset.id == Deflection.asset_id)
                .join(Team, Team.id == Asset.team_id)
                .where(*narrowing, visible_assets(user))
                .group_by(Asset.id, Asset.title, Asset.kind, Team.name)
                .order_by(is_true.desc(), func.count().desc(), Asset.id).limit(MAX_ROWS))
    by_request = (select(Request.id, Request.title, Team.name, func.count(), is_true)
                  .select_from(Deflection).join(Request, Request.id == Deflection.answer_request_id)
                  .join(Team, Team.id == Request.team_id)
                  .where(*narrowing, visible_requests(user))
                  .group_by(Request.id, Request.title, Team.name)
                  .order_by(is_true.desc(), func.count().desc(), Request.id).limit(MAX_ROWS))
    rows = [[ASSET_KINDS.get(kind, kind), title, team, raw, true, "asset", ref_id]
            for ref_id, title, kind, team, raw, true in db.session.execute(by_asset)]
    rows += [["Delivered request", f"#{ref_id} {title}", team, raw, true, "request", ref_id]
             for ref_id, title, team, raw, true in db.session.execute(by_request)]
    rows.sort(key=lambda row: (-row[4], -row[3], row[5], row[6]))
    return _answers_chart(rows[:MAX_ROWS])


def _answers_chart(rows):
    return Chart(
        key="deflection_answers", title="What deflects most", how_to_read=ANSWERS_HOW,
        type="bar", labels=[row[1] for row in rows],
        series=[Series("Deflections (raw)", [row[3] for row in rows]),
                Series("True deflections", [row[4] for row in rows])],
        columns=["Kind", "Asset or request", "Owning team", "Deflections (raw)",
                 "True deflections", "Type", "ID"],
        rows=rows, x_label="Asset or request", y_label="Deflections")


def misses(filters, now):
    """Searches and intake drafts that found nothing in the range, grouped by what was looked
    for (``search.normalise``): the query, how often, by how many people, from which box and
    when last; most frequent first, at most MAX_ROWS."""
    values = settings.current()
    period = period_of(filters, now, values)
    rows = []
    if period.days:
        times = func.count()
        found = db.session.execute(
            select(func.max(SearchMiss.query), times,
                   func.count(func.distinct(SearchMiss.user_id)),
                   func.sum(case((SearchMiss.source == "search", 1), else_=0)),
                   func.sum(case((SearchMiss.source == "intake", 1), else_=0)),
                   func.max(SearchMiss.created_at))
            .where(period.contains(SearchMiss.created_at),
                   *_team_conditions(SearchMiss.team_id, filters))
            .group_by(SearchMiss.query_key)
            .order_by(times.desc(), func.max(SearchMiss.created_at).desc(),
                      SearchMiss.query_key)
            .limit(MAX_ROWS))
        rows = [[query, count, people, int(searched or 0), int(intake or 0),
                 localtime.local_today(last, values).isoformat()]
                for query, count, people, searched, intake, last in found]
    return Chart(
        key="deflection_misses", title="Searches that found nothing", how_to_read=MISSES_HOW,
        type="bar", labels=[row[0] for row in rows],
        series=[Series("Times", [row[1] for row in rows])],
        columns=["Looked for", "Times", "People", "In search", "On the intake form",
                 "Last looked for"],
        rows=rows, x_label="Looked for", y_label="Times")
