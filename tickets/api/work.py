"""The REST API's queues and reports (issue 16): an analyst's queue and the leads' backlog in
priority order, each request with its score explained as on the pages; every chart of the
reports page as JSON, for the same filters and people."""
from flask import request, url_for

from werkzeug.datastructures import MultiDict

from .. import forecast, localtime, queues, reports, settings
from ..extensions import db
from ..forms.reports import WhatIfForm
from ..models import Team, utcnow
from ..policy import allowed
from ..reports import deflection
from ..reports.gaps import GAP_CHARTS, parse_gap_filters
from ..reports.impact import impact, parse_impact_filters
from .problems import ApiProblem
from .schemas import (BacklogOut, BacklogQuery, ChartIndex, ChartOut, ClearanceOut,
                      ForecastOut, ForecastQuery, GapReportQuery,
                      ImpactOut, ImpactQuery, QueueEntryOut, QueueOut, QueueQuery, ReportQuery)
from .views import (TAG_WORK, answers, bp, current, form_problem, page_cursor, page_of, spec,
                    summary)


def entry_document(entry):
    """A loaded queue entry as a QueueEntryOut: its request, its place and its score's parts."""
    why = entry.explanation
    return QueueEntryOut(
        request=summary(entry.request), position=entry.position, queue_length=entry.total,
        sla_status=entry.sla_status,
        score={"total": round(why.total, 4), "text": why.score_text, "impact": why.impact,
               "urgency": why.urgency, "urgency_reason": why.urgency_reason,
               "sponsor": why.sponsor, "size": why.size_label,
               "is_size_assumed": why.is_size_assumed, "ageing": why.ageing,
               "days_waited": why.days_waited, "days_left": why.days_left,
               "is_oldest_first": why.is_oldest_first})


def _page(entries, page, limit):
    """The entries of page ``page`` (loaded), and the cursor of the next page."""
    shown = entries[(page - 1) * limit:page * limit]
    queues.load(shown)
    shown = [entry for entry in shown if entry.request is not None]  # left meanwhile
    more = page * limit < len(entries)
    return shown, page_cursor(page + 1) if more else None


@bp.route("/queue")
@spec.validate(query=QueueQuery, resp=answers(("HTTP_200", QueueOut), 400), tags=[TAG_WORK])
def get_queue():
    """Your queue (analysts and leads)

    What you work on, then your teams' accepted requests in the order the priority policy
    ranks them, each with its score explained.
    """
    user, query = current(), request.context.query
    if not allowed(user, "work"):
        raise ApiProblem(403, "Only analysts and leads have a queue.")
    page = page_of(query.cursor)
    now, values = utcnow(), settings.current()
    found = queues.analyst_queue(user, now, team=query.team, sla=query.sla, values=values)
    up_next, cursor = _page(found.up_next, page, query.limit)
    return QueueOut(working=[entry_document(entry) for entry in found.working]
                    if page == 1 else [],
                    up_next=[entry_document(entry) for entry in up_next], next_cursor=cursor)


@bp.route("/backlog")
@spec.validate(query=BacklogQuery, resp=answers(("HTTP_200", BacklogOut), 400),
               tags=[TAG_WORK])
def get_backlog():
    """The backlog (leads and admins)

    Every request being worked on, then the accepted queue of every team, in order, with its
    place, its SLA status and its score explained; the backlog page's filters.
    """
    user, query = current(), request.context.query
    if not allowed(user, "view_backlog"):
        raise ApiProblem(403, "Only leads and admins see the whole backlog.")
    page = page_of(query.cursor)
    found = queues.backlog(utcnow(), team=query.team, analyst=query.analyst, kind=query.kind,
                           sla=query.sla, state=query.state, values=settings.current())
    items, cursor = _page(found.entries, page, query.limit)
    return BacklogOut(items=[entry_document(entry) for entry in items],
                      total=len(found.entries), next_cursor=cursor)


# The deflection report's tables, each a chart-like table of the reports' shape.
DEFLECTION_TABLES = {
    "weeks": lambda filters, now, user: deflection.weeks(filters, now),
    "answers": lambda filters, now, user: deflection.answers(filters, now, user),
    "misses": lambda filters, now, user: deflection.misses(filters, now),
}


def _may_read_reports(user):
    if not allowed(user, "view_reports"):
        raise ApiProblem(403, "Reports are for the data team and admins.")


def _report(registry, key, missing):
    """The reader, ``registry[key]`` (a 404 saying ``missing`` when there is none) and now;
    a 403 for a reader who may not read reports."""
    user = current()
    _may_read_reports(user)
    found = registry.get(key)
    if found is None:
        raise ApiProblem(404, missing)
    return user, found, utcnow()


def _team_ids(user):
    """The teams whose figures ``user`` reads (None: every team)."""
    return None if allowed(user, "see_all") else user.team_ids


@bp.route("/reports")
@spec.validate(resp=answers(("HTTP_200", ChartIndex)), tags=[TAG_WORK])
def list_reports():
    """The reports (analysts, leads and admins)

    Every chart of the reports page, of the platform-gaps and deflection reports, and the
    impact ledger (leads and admins), with where to read each.
    """
    user = current()
    _may_read_reports(user)
    found = [{"key": key, "title": chart.title, "how_to_read": chart.how_to_read,
              "url": url_for("api.get_report", key=key, _external=True)}
             for key, chart in reports.CHARTS.items()]
    found += [{"key": f"platform-gaps/{key}", "title": chart.title,
               "how_to_read": chart.how_to_read,
               "url": url_for("api.get_gap_report", key=key, _external=True)}
              for key, chart in GAP_CHARTS.items()]
    found += [{"key": f"deflection/{key}", "title": f"Deflection: {key}",
               "how_to_read": "The deflection report's table of " + key + ".",
               "url": url_for("api.get_deflection_report", table=key, _external=True)}
              for key in DEFLECTION_TABLES]
    if allowed(user, "view_forecast"):
        found.append({"key": "forecast", "title": "Backlog forecast",
                      "how_to_read": "When each team's open requests are delivered, at 50, 85 "
                                     "and 95% confidence; a what-if on throughput.",
                      "url": url_for("api.get_forecast", _external=True)})
    if allowed(user, "view_impact"):
        found.append({"key": "impact", "title": "Impact ledger",
                      "how_to_read": "What became of the deliveries: used, not used, why.",
                      "url": url_for("api.get_impact", _external=True)})
    return ChartIndex(charts=found)


@bp.route("/reports/platform-gaps/<key>")
@spec.validate(query=GapReportQuery, resp=answers(("HTTP_200", ChartOut), 400, 404),
               tags=[TAG_WORK])
def get_gap_report(key):
    """A platform-gaps chart

    What requesters could not do themselves, ranked, by team or by week, for the filters.
    """
    user, chart, now = _report(GAP_CHARTS, key, f"There is no platform-gaps chart {key!r}: "
                                                "GET /reports lists them.")
    team_ids = _team_ids(user)
    filters = parse_gap_filters(request.args, localtime.local_today(now), team_ids,
                                None if team_ids is None else user)
    return ChartOut(**chart(filters, now).as_json())


@bp.route("/reports/deflection/<table>")
@spec.validate(query=ReportQuery, resp=answers(("HTTP_200", ChartOut), 400, 404),
               tags=[TAG_WORK])
def get_deflection_report(table):
    """A deflection table

    Per week, the requests received and deflected (weeks), what deflects most (answers), and
    what people looked for and did not find (misses).
    """
    user, compute, now = _report(DEFLECTION_TABLES, table, f"There is no deflection table "
                                                           f"{table!r}: weeks, answers or misses.")
    filters = reports.parse_filters(request.args, localtime.local_today(now), _team_ids(user))
    return ChartOut(**compute(filters, now, user).as_json())


@bp.route("/reports/impact")
@spec.validate(query=ImpactQuery, resp=answers(("HTTP_200", ImpactOut), 400), tags=[TAG_WORK])
def get_impact():
    """The impact ledger (leads and admins)

    Every figure of the impact ledger for the filters: headline, weeks, the ledger's rows, and
    the deliverables not used or left unanswered.
    """
    user = current()
    if not allowed(user, "view_impact"):
        raise ApiProblem(403, "The impact ledger is for leads and admins.")
    now = utcnow()
    filters = parse_impact_filters(request.args, localtime.local_today(now), viewer=user)
    return ImpactOut(**impact(filters, now).as_json())


@bp.route("/reports/<key>")
@spec.validate(query=ReportQuery, resp=answers(("HTTP_200", ChartOut), 400, 404),
               tags=[TAG_WORK], path_parameter_descriptions={"key": "A chart's key, from "
                                                                    "GET /reports."})
def get_report(key):
    """A chart's figures

    The chart's series and its table for the filters (default: the last weeks, every team you
    may see; analysts see their own teams), as on the reports page.
    """
    user, chart, now = _report(reports.CHARTS, key, f"There is no chart {key!r}: GET /reports "
                                                    "lists them.")
    filters = reports.parse_filters(request.args, localtime.local_today(now), _team_ids(user))
    return ChartOut(**reports.computed(chart, filters, now).as_json())


def _clearance(row):
    if row is None:
        return None
    dates = row.forecast
    return ClearanceOut(
        team_id=row.team_id, name=row.name, open_requests=row.backlog,
        work_days=round(row.work_days, 2), weekly_effort=row.weekly, note=row.note,
        forecast=None if dates is None else {
            "p50_date": dates.p50_date, "p85_date": dates.p85_date,
            "p95_date": dates.p95_date, "text": dates.text,
            "explanation": dates.explanation})


@bp.route("/reports/forecast")
@spec.validate(query=ForecastQuery, resp=answers(("HTTP_200", ForecastOut), 400),
               tags=[TAG_WORK])
def get_forecast():
    """The backlog forecast (analysts, leads and admins)

    When each team's open requests are delivered at the recent throughput (a what-if scales
    it), at 50, 85 and 95% confidence, each team and the teams together; analysts see the
    teams they serve. The forecast page's form checks the inputs.
    """
    user = current()
    if not allowed(user, "view_forecast"):
        raise ApiProblem(403, "The forecast is for the data team and admins.")
    everyone = allowed(user, "see_all")
    query = db.select(Team).order_by(Team.name)
    if not everyone:
        query = query.where(Team.id.in_(user.team_ids))
    teams = db.session.scalars(query).all()
    form = WhatIfForm(MultiDict(request.args), teams=teams, everyone=everyone)
    if not form.validate():
        raise form_problem(form)
    found = forecast.backlog_clearance(
        form.team_id, utcnow(), settings.current(), multiplier=form.multiplier,
        team_ids=None if everyone else [team.id for team in teams])
    return ForecastOut(teams=[_clearance(row) for row in found.teams],
                       overall=_clearance(found.overall), multiplier=found.multiplier,
                       weeks=found.weeks)
