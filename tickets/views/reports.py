"""Reports: the /reports page of charts, each chart's JSON (what the page draws), table and CSV.

The page itself computes no chart. It renders the filter bar and one card per chart of
``reports.CHARTS`` with the chart's title and how to read it; static/js/reports.js fetches each
chart's JSON (the same filters) and draws it, and loads a chart's server-rendered table only
when its "Table" toggle is opened. So every chart is computed once per page view (by its JSON
request, in parallel with the others), the page costs a constant few SQL statements however
slow a chart is, and without JavaScript the "Table" link still opens the chart's table as a
page of its own.

Filters come from the URL (``reports.parse_filters``), so a view can be shared by its link.
Leads and admins see every team; analysts the teams they serve, all together or one at a time
(a URL naming another team shows their own teams, with a note on the team field saying so);
requesters are refused (403).
"""
import csv
import io
from dataclasses import replace
from datetime import timedelta

from flask import (Blueprint, Response, abort, current_app, jsonify, render_template, request,
                   stream_with_context)
from flask_login import current_user

from .. import deflections, localtime, reports
from ..extensions import db
from ..forms.reports import ReportFiltersForm
from ..models import KINDS, Team, User, utcnow
from ..policy import WORKER_ROLES, allowed, require
from ..reports import deflection

bp = Blueprint("reports", __name__)

# The quick choices of the date range, in weeks so weekly charts get whole weeks.
QUICK_RANGES = (("4w", "4 weeks", 4), ("12w", "12 weeks", 12), ("1y", "1 year", 52),
                ("5y", "5 years", 260))
# A cell a spreadsheet program would read as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- CSV (shared by the chart exports and the list exports) -----------------------------------

def spreadsheet_safe(value):
    """A CSV cell for ``value``: text that a spreadsheet would run as a formula gets a leading
    ``'``; numbers stay numbers (a negative number is data, not a formula); None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(filename, columns, rows):
    """Stream ``rows`` (an iterable of lists) as a UTF-8 CSV download with a header row.

    The rows are written as they come, a chunk at a time, within the request's context, so an
    iterable that reads the database (``yield_per``) never holds the whole result in memory.
    """

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([spreadsheet_safe(column) for column in columns])
        for number, row in enumerate(rows, start=1):
            writer.writerow([spreadsheet_safe(cell) for cell in row])
            if number % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}",
                             "Cache-Control": "no-store"})


# --- Filters ----------------------------------------------------------------------------------

def _teams_for(user):
    """The teams ``user`` may see reports of: every team for leads and admins, their own for
    the others (the teams they serve), by name."""
    query = db.select(Team).order_by(Team.name)
    if not allowed(user, "see_all"):
        query = query.where(Team.id.in_(user.team_ids))
    return db.session.scalars(query).all()


def _read_filters():
    """The URL's filters for the current user, and the filter bar showing them: (form, Filters).

    Three SQL statements: the settings (today's date), the teams and the analysts.
    """
    today = localtime.local_today(utcnow())
    sees_everything = allowed(current_user, "see_all")
    filters = reports.parse_filters(request.args, today,
                                    None if sees_everything else current_user.team_ids)
    teams = _teams_for(current_user)
    analysts = db.session.scalars(db.select(User).where(
        User.role.in_(WORKER_ROLES)).order_by(User.name)).all()
    # A well-formed id that names nothing is no filter (the select could not show it).
    if filters.team_id is not None and filters.team_id not in {team.id for team in teams}:
        filters = replace(filters, team_id=None)
    if filters.analyst_id is not None and filters.analyst_id not in {p.id for p in analysts}:
        filters = replace(filters, analyst_id=None)
    form = ReportFiltersForm(filters, today=today, teams=teams, analysts=analysts,
                             sees_everything=sees_everything)
    form.explain(request.args, filters)
    return form, filters


def _chart_or_404(key):
    """The ChartSpec of ``key`` (404 when there is none)."""
    spec = reports.CHARTS.get(key)
    if spec is None:
        abort(404)
    return spec


def _computed(key):
    """Chart ``key`` computed for the URL's filters, and the filters."""
    spec = _chart_or_404(key)
    _, filters = _read_filters()
    return reports.computed(spec, filters, utcnow()), filters


# --- Views ------------------------------------------------------------------------------------

@bp.route("/reports")
@require("view_reports")
def index():
    """The charts page: the filter bar, then one card per chart, drawn by reports.js."""
    form, filters = _read_filters()
    today = form.today
    quick = []
    for code, label, weeks in QUICK_RANGES:
        start = today - timedelta(weeks=weeks) + timedelta(days=1)
        quick.append({"code": code, "label": label, "start": start.isoformat(),
                      "is_current": filters.start == start and filters.end == today})
    # Each card shows its chart's title and how to read it from the registry (also without
    # JavaScript); reports.js fetches the figures.
    cards = list(reports.CHARTS.values())
    return render_template(
        "reports/index.html", form=form, filters=filters, cards=cards, quick=quick,
        args=reports.filters_query(filters), scope_note=_scope_note(form, filters),
        has_no_team=not allowed(current_user, "see_all") and not current_user.team_ids,
        freshness=_freshness(current_app.config.get("REPORT_CACHE_SECONDS") or 0))


def _freshness(seconds):
    """How old the charts' figures may be (reports.computed keeps them), said on the page; ""
    when they are computed on every view."""
    if seconds <= 0:
        return ""
    if seconds < 60:
        return f"Figures are at most {seconds} seconds old."
    minutes = round(seconds / 60)
    return f"Figures are at most {'a minute' if minutes == 1 else f'{minutes} minutes'} old."


def choice_label(field):
    """The label of a select field's chosen value ("" when none is chosen)."""
    return {choice.value: choice.label for choice in field.choices}.get(field.data, "")


def scope_note(base, *parts):
    """One line saying what a report covers: its ``parts`` that are set, then the range of
    ``base`` (the reports' Filters), e.g. 'Marketing · Ad-hoc · 1 Sep 2026 – 23 Nov 2026'."""
    return " · ".join(part for part in (
        *parts, f"{base.start.strftime('%-d %b %Y')} – {base.end.strftime('%-d %b %Y')}") if part)


def _scope_note(form, filters):
    """What the charts cover: the team (or all), the analyst, the kind, the range."""
    return scope_note(filters,
                      choice_label(form.team) if filters.team_id else form.team.choices[0].label,
                      choice_label(form.analyst) if filters.analyst_id else "",
                      KINDS[filters.kind][0] if filters.kind else "")


@bp.route("/reports/<key>.json")
@require("view_reports")
def chart_json(key):
    """One chart's data for the URL's filters (what the page's script draws)."""
    chart, _ = _computed(key)
    response = jsonify(chart.as_json())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/reports/<key>.csv")
@require("view_reports")
def chart_csv(key):
    """One chart's table as a CSV download named after the chart and its date range."""
    chart, filters = _computed(key)
    filename = f"{key}_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
    return csv_response(filename, chart.columns, chart.rows)


@bp.route("/reports/<key>/table")
@require("view_reports")
def chart_table(key):
    """One chart's table, rendered here: a page of its own (the "Table" link without
    JavaScript), or only the table when reports.js asks for it (``?fragment=1``)."""
    spec = _chart_or_404(key)
    form, filters = _read_filters()
    chart = reports.computed(spec, filters, utcnow())
    template = "reports/_table.html" if request.args.get("fragment") else "reports/table.html"
    return render_template(template, chart=chart, key=key, args=reports.filters_query(filters),
                           scope_note=_scope_note(form, filters))


# --- Deflection ---------------------------------------------------------------------------------

# The deflection page's tables: what each export is called and computes.
DEFLECTION_TABLES = {
    "weeks": lambda filters, now: deflection.weeks(filters, now),
    "answers": lambda filters, now: deflection.answers(filters, now, current_user),
    "misses": lambda filters, now: deflection.misses(filters, now),
}


@bp.route("/reports/deflection")
@require("view_reports")
def deflection_page():
    """Deflection, counted honestly: per week the requests received, raw and true deflections
    and the true deflection rate (a chart drawn by reports.js from the weeks' JSON), what
    deflects most, and what people looked for and did not find. Range and team filters."""
    form, filters = _read_filters()
    now = utcnow()
    tables = {name: compute(filters, now) for name, compute in DEFLECTION_TABLES.items()}
    quick = []
    for code, label, weeks in QUICK_RANGES:
        start = form.today - timedelta(weeks=weeks) + timedelta(days=1)
        quick.append({"code": code, "label": label, "start": start.isoformat(),
                      "is_current": filters.start == start and filters.end == form.today})
    args = reports.filters_query(replace(filters, analyst_id=None, kind=None))
    return render_template(
        "reports/deflection.html", form=form, filters=filters, quick=quick, args=args,
        tables=tables, formula=deflection.FORMULA, reask_days=deflections.REASK_DAYS,
        scope_note=_scope_note(form, replace(filters, analyst_id=None, kind=None)),
        has_no_team=not allowed(current_user, "see_all") and not current_user.team_ids)


@bp.route("/reports/deflection/<any(weeks, answers, misses):table>.<any(csv, json):fmt>")
@require("view_reports")
def deflection_export(table, fmt):
    """One table of the deflection page as CSV or JSON, for the URL's range and team."""
    _, filters = _read_filters()
    chart = DEFLECTION_TABLES[table](filters, utcnow())
    if fmt == "json":
        response = jsonify(chart.as_json())
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    filename = f"deflection-{table}_{filters.start.isoformat()}_{filters.end.isoformat()}.csv"
    return csv_response(filename, chart.columns, chart.rows)
