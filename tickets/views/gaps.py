"""Platform gaps: the taxonomy leads edit (/settings/platform-gaps) and the report ranking what
was missing for requesters to do it themselves (/reports/platform-gaps).

The report's page renders the filter bar and the ranking table itself (it is the page's point,
and works without JavaScript); its two charts (per team, week by week) are drawn by
static/js/reports.js from their JSON, as the charts of /reports are, and each has its table,
CSV and JSON. Analysts see the gaps of the teams they serve, leads and admins every team's;
requesters are refused (403).
"""
from dataclasses import replace
from datetime import timedelta

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from .. import gaps, localtime
from ..errors import run_action
from ..extensions import db
from ..forms.gaps import CategoryActionForm, CategoryForm, GapFiltersForm
from ..models import GapCategory, Team, utcnow
from ..policy import allowed, require
from ..reports.gaps import GAP_CHARTS, gap_filters_query, parse_gap_filters, ranking, tidy_hours
from .reports import QUICK_RANGES, choice_label, csv_response, scope_note

bp = Blueprint("gaps", __name__)

manage = require("manage_gap_categories")

# What each button of a category's row does: (domain call, message on success).
ACTIONS = {
    "up": (lambda category: gaps.move(category, current_user, -1), None),
    "down": (lambda category: gaps.move(category, current_user, 1), None),
    "retire": (lambda category: gaps.set_active(category, current_user, False),
               "{name} is retired: analysts no longer see it; its gaps stay in the reports."),
    "reactivate": (lambda category: gaps.set_active(category, current_user, True),
                   "{name} is offered again."),
    "delete": (lambda category: gaps.delete_category(category, current_user),
               "{name} is deleted."),
}


def _category_or_404(category_id):
    category = db.session.get(GapCategory, category_id)
    if category is None:
        abort(404)
    return category


# --- The taxonomy -----------------------------------------------------------------------------

@bp.route("/settings/platform-gaps", methods=["GET", "POST"])
@manage
def categories():
    """The categories with how often each was used; add one (a POST of the form at the end)."""
    form = CategoryForm()
    if form.validate_on_submit():
        done = run_action(lambda: gaps.add_category(current_user, form.name.data,
                                                    form.description.data, utcnow()),
                          form=form, success=lambda added: f"{added.name} is added.")
        if done:
            return redirect(url_for("gaps.categories", _anchor=f"category-{done.result.id}"))
    status = 400 if request.method == "POST" else 200
    return render_template("gaps/categories.html", form=form, rows=gaps.categories_with_use(),
                           button=CategoryActionForm()), status


@bp.route("/settings/platform-gaps/<int:category_id>/edit", methods=["GET", "POST"])
@manage
def edit_category(category_id):
    """Rename a category or change its description."""
    category = _category_or_404(category_id)
    form = CategoryForm(obj=category)
    if form.validate_on_submit():
        done = run_action(lambda: gaps.update_category(category, current_user, form.name.data,
                                                       form.description.data),
                          form=form, success=lambda saved: f"{saved.name} is saved.")
        if done:
            return redirect(url_for("gaps.categories", _anchor=f"category-{category.id}"))
    status = 400 if request.method == "POST" else 200
    return render_template("gaps/category_form.html", form=form, category=category), status


@bp.route("/settings/platform-gaps/<int:category_id>/<action>", methods=["POST"])
@manage
def category_action(category_id, action):
    """One button of a category's row: move it up or down, retire, reactivate or delete it."""
    if action not in ACTIONS:
        abort(404)
    category = _category_or_404(category_id)
    call, message = ACTIONS[action]
    form = CategoryActionForm()
    if not form.validate_on_submit():
        return render_template("gaps/categories.html", form=CategoryForm(formdata=None),
                               rows=gaps.categories_with_use(), button=form,
                               expired=True), 400
    name = category.name
    done = run_action(lambda: call(category),
                      success=message.format(name=name) if message else None)
    anchor = None if action == "delete" and done else f"category-{category_id}"
    return redirect(url_for("gaps.categories", _anchor=anchor))


# --- The report -------------------------------------------------------------------------------

def _read_filters():
    """The URL's filters for the current user and the filter bar showing them: (form,
    GapFilters). Two SQL statements: the settings (today's date) and the teams."""
    today = localtime.local_today(utcnow())
    sees_everything = allowed(current_user, "see_all")
    viewer = None if sees_everything else current_user._get_current_object()
    filters = parse_gap_filters(request.args, today,
                                None if sees_everything else current_user.team_ids, viewer)
    query = db.select(Team).order_by(Team.name)
    if not sees_everything:
        query = query.where(Team.id.in_(current_user.team_ids))
    teams = db.session.scalars(query).all()
    # A well-formed id that names nothing is no filter (the select could not show it).
    if filters.base.team_id is not None and filters.base.team_id not in {t.id for t in teams}:
        filters = replace(filters, base=replace(filters.base, team_id=None))
    form = GapFiltersForm(filters, today=today, teams=teams, sees_everything=sees_everything)
    form.explain(request.args, filters)
    return form, filters


def _scope_note(form, filters):
    """What the report covers, e.g. 'Marketing · Declines · 1 Sep – 23 Nov'."""
    return scope_note(filters.base,
                      choice_label(form.team) if filters.base.team_id
                      else form.team.choices[0].label,
                      choice_label(form.context) if filters.context else "")


def _chart_or_404(key):
    spec = GAP_CHARTS.get(key)
    if spec is None:
        abort(404)
    return spec


@bp.route("/reports/platform-gaps")
@require("view_reports")
def report():
    """What was missing for requesters to do it themselves, ranked by analyst hours and
    count, with the teams most affected, the latest notes, and the charts per team and week."""
    form, filters = _read_filters()
    today = form.today
    quick = []
    for code, label, weeks in QUICK_RANGES:
        start = today - timedelta(weeks=weeks) + timedelta(days=1)
        quick.append({"code": code, "label": label, "start": start.isoformat(),
                      "is_current": filters.base.start == start and filters.base.end == today})
    ranked = ranking(filters, utcnow())
    return render_template(
        "gaps/report.html", form=form, filters=filters, quick=quick, ranked=ranked,
        total_gaps=sum(rank.count for rank in ranked),
        total_hours=tidy_hours(sum(rank.hours for rank in ranked)),
        cards=[spec for key, spec in GAP_CHARTS.items() if key != "ranking"],
        ranking_spec=GAP_CHARTS["ranking"], args=gap_filters_query(filters),
        scope_note=_scope_note(form, filters),
        has_no_team=not allowed(current_user, "see_all") and not current_user.team_ids)


@bp.route("/reports/platform-gaps/<key>.json")
@require("view_reports")
def chart_json(key):
    """One gap chart's data for the URL's filters (what the page's script draws)."""
    spec = _chart_or_404(key)
    _, filters = _read_filters()
    response = jsonify(spec(filters, utcnow()).as_json())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/reports/platform-gaps/<key>.csv")
@require("view_reports")
def chart_csv(key):
    """One gap chart's table as a CSV download named after it and its date range."""
    spec = _chart_or_404(key)
    _, filters = _read_filters()
    chart = spec(filters, utcnow())
    filename = (f"platform_gaps_{key}_{filters.base.start.isoformat()}_"
                f"{filters.base.end.isoformat()}.csv")
    return csv_response(filename, chart.columns, chart.rows)


@bp.route("/reports/platform-gaps/<key>/table")
@require("view_reports")
def chart_table(key):
    """One gap chart's table: a page of its own (without JavaScript), or only the table when
    reports.js asks for it (``?fragment=1``)."""
    spec = _chart_or_404(key)
    form, filters = _read_filters()
    chart = spec(filters, utcnow())
    if request.args.get("fragment"):
        return render_template("reports/_table.html", chart=chart)
    args = gap_filters_query(filters)
    return render_template(
        "reports/table.html", chart=chart, key=key, args=args,
        scope_note=_scope_note(form, filters),
        parent=("Platform gaps", url_for("gaps.report", **args)),
        csv_url=url_for("gaps.chart_csv", key=key, **args),
        json_url=url_for("gaps.chart_json", key=key, **args))
