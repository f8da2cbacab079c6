"""The impact ledger (/reports/impact): what became of the deliveries, for leads and admins.

The page computes its figures itself (``reports.impact.impact``: a constant few statements) and
renders the headline figures, the week-by-week chart (drawn by static/js/reports.js from its
JSON, as the other reports' charts are), the ledger table and the two lists. Its figures are
exported as one JSON document (/reports/impact.json) and the ledger as a CSV
(/reports/impact.csv); each table also has its own CSV and JSON (/reports/impact/<table>.csv),
where the lists are complete. Filters live in the URL; a value the ledger cannot use is said
next to its field and answered with 400 (the figures shown are those of the filters applied).
Analysts and requesters are refused (403): ``view_impact``.
"""
from dataclasses import replace
from datetime import timedelta

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user

from .. import localtime
from ..extensions import db
from ..forms.impact import ImpactFiltersForm
from ..models import FORMATS, KINDS, Team, utcnow
from ..policy import require
from ..reports import impact as ledger_report
from .reports import QUICK_RANGES, choice_label, csv_response, scope_note

bp = Blueprint("impact", __name__)

view_impact = require("view_impact")


def _read_filters():
    """The URL's filters and the filter bar showing them: (form, ImpactFilters). Two SQL
    statements: the settings (today's date) and the teams."""
    today = localtime.local_today(utcnow())
    filters = ledger_report.parse_impact_filters(request.args, today,
                                                 viewer=current_user._get_current_object())
    teams = db.session.scalars(db.select(Team).order_by(Team.name)).all()
    if filters.base.team_id is not None and filters.base.team_id not in {t.id for t in teams}:
        filters = replace(filters, base=replace(filters.base, team_id=None))
    form = ImpactFiltersForm(filters, today=today, teams=teams)
    form.explain(request.args, filters)
    return form, filters


def _scope_note(form, filters):
    """What the ledger covers, e.g. 'Marketing · Dashboard · 1 Sep – 23 Nov'."""
    base = filters.base
    return scope_note(base, choice_label(form.team) if base.team_id else "All teams",
                      KINDS[base.kind][0] if base.kind else "",
                      FORMATS[filters.format] if filters.format else "")


def _status(form):
    return 400 if form.refused else 200


def _filename(name, filters, extension):
    base = filters.base
    return f"impact_{name}_{base.start.isoformat()}_{base.end.isoformat()}.{extension}"


@bp.route("/reports/impact")
@view_impact
def ledger():
    """The ledger: headline figures, the chart week by week, the table, and the deliverables
    not used or left unanswered."""
    form, filters = _read_filters()
    today = form.today
    args = ledger_report.impact_filters_query(filters)
    quick = []
    for code, label, weeks in QUICK_RANGES:
        start = today - timedelta(weeks=weeks) + timedelta(days=1)
        quick.append({"code": code, "label": label, "start": start.isoformat(),
                      "is_current": filters.base.start == start and filters.base.end == today})
    figures = ledger_report.impact(filters, utcnow())
    return render_template(
        "impact/ledger.html", form=form, filters=filters, quick=quick, figures=figures,
        headline=figures.headline, args=args, scope_note=_scope_note(form, filters),
        card=ledger_report.impact_by_week, key=ledger_report.impact_by_week.key,
        reasons=ledger_report.NOT_USED_REASONS,
        outcomes=ledger_report.OUTCOMES, group_label=ledger_report.GROUPS[filters.group],
        shown=ledger_report.LIST_SHOWN), _status(form)


@bp.route("/reports/impact.json")
@view_impact
def ledger_json():
    """Every figure of the page for the URL's filters, as one JSON document."""
    form, filters = _read_filters()
    if form.refused:
        return _refused(form)
    response = jsonify(ledger_report.impact(filters, utcnow()).as_json())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/reports/impact.csv")
@view_impact
def ledger_csv():
    """The ledger table (its rows and the totals) as a CSV download."""
    return export("ledger", "csv")


# What each table export computes: (filters, now) -> (columns, rows, JSON).
def _ledger_table(filters, now):
    found = ledger_report.ledger(filters, now)
    return found.columns, found.table(), {
        "columns": found.columns, "rows": [row.as_json() for row in found.rows],
        "totals": found.totals.as_json()}


def _list_table(name):
    def compute(filters, now):
        found = ledger_report.deliverables(name, filters, now, limit=None)
        return found.columns, found.table(), {
            "count": found.count, "items": [item.as_json() for item in found.items]}
    return compute


TABLES = {"ledger": _ledger_table, "not_used": _list_table("not_used"),
          "unanswered": _list_table("unanswered")}


@bp.route("/reports/impact/<any(ledger, not_used, unanswered):table>"
          ".<any(csv, json):fmt>")
@view_impact
def export(table, fmt):
    """One table of the page, complete (the lists are not cut), as CSV or JSON."""
    form, filters = _read_filters()
    if form.refused:
        return _refused(form)
    columns, rows, data = TABLES[table](filters, utcnow())
    if fmt == "json":
        response = jsonify(data)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    return csv_response(_filename(table, filters, "csv"), columns, rows)


# --- The chart (its card is reports/_chart_card.html, as on the other report pages) ----------

def _refused(form):
    return jsonify(errors={field.name: field.errors for field in form if field.errors}), 400


def _chart(key):
    """The chart ``key`` computed for the URL's filters: (form, filters, Chart)."""
    if key != ledger_report.impact_by_week.key:
        abort(404)
    form, filters = _read_filters()
    return form, filters, ledger_report.impact_by_week(filters, utcnow())


@bp.route("/reports/impact/<any(weeks):key>.json")
@view_impact
def chart_json(key):
    """The chart's data (what reports.js draws)."""
    form, _, chart = _chart(key)
    if form.refused:
        return _refused(form)
    response = jsonify(chart.as_json())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/reports/impact/<any(weeks):key>.csv")
@view_impact
def chart_csv(key):
    """The chart's table as a CSV download."""
    form, filters, chart = _chart(key)
    if form.refused:
        return _refused(form)
    return csv_response(_filename(key, filters, "csv"), chart.columns, chart.rows)


@bp.route("/reports/impact/<any(weeks):key>/table")
@view_impact
def chart_table(key):
    """The chart's table: a page of its own (without JavaScript), or only the table when
    reports.js asks for it (``?fragment=1``)."""
    form, filters, chart = _chart(key)
    if request.args.get("fragment"):
        return render_template("reports/_table.html", chart=chart), _status(form)
    args = ledger_report.impact_filters_query(filters)
    return render_template(
        "reports/table.html", chart=chart, key=key, args=args,
        scope_note=_scope_note(form, filters),
        parent=("Impact ledger", url_for("impact.ledger", **args)),
        csv_url=url_for("impact.chart_csv", key=key, **args),
        json_url=url_for("impact.chart_json", key=key, **args)), _status(form)
