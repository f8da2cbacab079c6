"""Triage: the queue of requests waiting for an analyst's first look, and changing a kind."""
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .. import lifecycle, localtime, people, settings, sla_clocks, triage
from ..errors import run_action
from ..extensions import db
from ..forms.triage import ChangeKindForm
from ..models import KINDS, Request, utcnow
from ..policy import allowed, get_visible_request_or_404, require
from ..queries import id_matches
from .helpers import is_safe_next, paginate, url_with
from .reports import csv_response
from .request_page import KIND, render_request_page, transition_form

bp = Blueprint("triage", __name__)

# The transitions offered on the triage page, in the order of the lifecycle table.
ROW_ACTIONS = ("accept", "approve", "ask", "decline", "mark_duplicate")
# The name of the change of kind among a row's actions (it is not a transition).
KIND_ACTION = "kind"


@dataclass
class Row:
    """One request on the triage page, with what the page shows and the actions it offers (the
    names of its transitions, and "kind" when the user may change its kind)."""

    req: Request
    age: str
    over_budget: str | None
    sla: object
    actions: list
    track_record: triage.TrackRecordLine | None = None


def _filters():
    def as_int(name):
        try:
            return int(request.args.get(name, ""))
        except ValueError:
            return None

    kind = request.args.get("kind", "")
    return {"team": as_int("team"), "kind": kind if kind in KINDS else ""}


def _row_actions(req):
    """The names of the triage actions ``current_user`` may take on ``req``, in page order."""
    # Only the row's transitions are asked of the policy (not the whole table: 25 rows a page).
    names = [name for name in ROW_ACTIONS
             if lifecycle.may_take(lifecycle.TRANSITIONS[name], req, current_user)]
    if allowed(current_user, "change_kind", req):
        names.append(KIND_ACTION)
    return names


def _dialog_forms(offered, values):
    """The forms of the ``offered`` action names, each once, of no request in particular: the
    page's one dialog holds them, and js/triage.js fills in the chosen request."""
    forms = {name: transition_form(name, None, values) for name in ROW_ACTIONS
             if name in offered}
    if KIND_ACTION in offered:
        forms[KIND_ACTION] = ChangeKindForm(formdata=None, prefix="kind")
    return forms


@bp.route("/triage")
@require("triage")
def index():
    """The requests waiting for triage, oldest first, in sections: the user's teams, the central
    queue, and (leads) the waitlist; a constant number of SQL statements whatever the data.

    The action forms are rendered once, in one dialog that each row's "Triage" link opens (with
    JavaScript); without it the link leads to the request's own triage page (``request_forms``).
    """
    now = utcnow()
    values = settings.current()
    sections = triage.section_conditions(current_user)
    filters = _filters()
    conditions = []
    if filters["team"] is not None:
        conditions.append(id_matches(Request.team_id, filters["team"]))
    if filters["kind"]:
        conditions.append(Request.kind == filters["kind"])
    counts = triage.section_counts(current_user, *conditions)
    section = request.args.get("section", "")
    if section not in sections:
        # Open on the first section with something in it.
        section = next((name for name in sections if counts.get(name)), next(iter(sections)))
    query = (db.select(Request).where(sections[section], *conditions)
             .order_by(Request.created_at.asc(), Request.id.asc())
             .options(joinedload(Request.team), joinedload(Request.requester)))
    if request.args.get("format") == "csv":
        return _triage_csv(query, section, now, values)
    page = paginate(query, current_app.config["PAGE_SIZE"])
    reasons = triage.over_budget(page.items, now, values)
    records = triage.track_record_lines(page.items, now, values)  # one statement for all teams
    rows = [Row(req, triage.age_text(req.created_at, now), reasons.get(req.id),
                sla_clocks.status(req, now, values), _row_actions(req), records[req.team_id])
            for req in page.items]
    offered = {name for row in rows for name in row.actions}
    teams = people.active_teams()
    return render_template(
        "triage/index.html", rows=rows, page=page, section=section, counts=counts,
        sections=[(name, triage.section_label(name, current_user)) for name in sections],
        filters=filters, teams=teams, here=url_with(), blank={"id": 0},
        transitions=[lifecycle.TRANSITIONS[name] for name in ROW_ACTIONS if name in offered],
        forms=_dialog_forms(offered, values))


@bp.route("/triage/<int:request_id>")
@require("triage")
def request_forms(request_id):
    """One request's triage actions, every form open: where a row's "Triage" link leads without
    JavaScript. The forms post to the same endpoints as the dialog's, and come back to the
    triage page (``next``) once done; their errors show on the request page."""
    req = get_visible_request_or_404(request_id, current_user, joinedload(Request.team),
                                     joinedload(Request.requester))
    target = request.args.get("next", "")
    back = target if is_safe_next(target) else url_for("triage.index")
    values = settings.current()
    now = utcnow()
    actions = _row_actions(req)
    forms = {name: transition_form(name, req, values) for name in actions if name != KIND_ACTION}
    if KIND_ACTION in actions:
        forms[KIND_ACTION] = ChangeKindForm.for_request(req)
    return render_template(
        "triage/request.html", req=req, back=back, forms=forms,
        transitions=[lifecycle.TRANSITIONS[name] for name in actions if name != KIND_ACTION],
        age=triage.age_text(req.created_at, now),
        over_budget=triage.over_budget([req], now, values).get(req.id),
        track_record=triage.track_record_lines([req], now, values)[req.team_id])


TRIAGE_CSV_COLUMNS = ("ID", "Title", "Team", "Requester", "Kind", "State", "Submitted",
                      "Waiting", "Deadline", "Short notice", "SLA status", "Link")


def _triage_csv(query, section, now, values):
    """Every request of the section matching the filters (not only one page), oldest first,
    streamed as a CSV: one statement, read in chunks."""
    link = url_for("requests.detail", request_id=0, _external=True)[:-1]

    def lines():
        for req in db.session.scalars(query.execution_options(yield_per=500)):
            yield [req.id, req.title, req.team.name, req.requester.name, req.kind_label,
                   req.state_label, req.created_at, triage.age_text(req.created_at, now),
                   req.deadline, req.is_short_notice,
                   sla_clocks.SLA_STATUS_LABELS[sla_clocks.status(req, now, values).status],
                   f"{link}{req.id}"]

    day = localtime.local_today(now, values).isoformat()
    return csv_response(f"triage_{section}_{day}.csv", TRIAGE_CSV_COLUMNS, lines())


@bp.route("/requests/<int:request_id>/kind", methods=["GET", "POST"])
@login_required
def change_kind(request_id):
    """Change a request's kind (an ad-hoc ask that is really a project), with an optional note.

    The form sits on the request page and on the triage page; this page shows it alone (the
    way in without JavaScript), and with its errors when a post from the triage page or from
    itself (both carry ``next``) needs correcting. A post from the request page goes back to it.
    """
    req = get_visible_request_or_404(request_id, current_user, joinedload(Request.team))
    if not allowed(current_user, "change_kind", req):
        abort(403)
    target = request.values.get("next", "")
    back = target if is_safe_next(target) else url_for("requests.detail", request_id=req.id)
    if request.method == "GET":
        form = ChangeKindForm.for_request(req)
        return render_template("triage/kind.html", req=req, form=form, back=back)
    form = ChangeKindForm(prefix="kind")
    if form.validate_on_submit():
        done = run_action(
            lambda: triage.change_kind(req, current_user, form.kind.data, utcnow(),
                                       expected_version=form.version.data, note=form.note.data),
            form=form,
            success=lambda _: f"#{req.id} is now {KINDS[req.kind][0].lower()}: {_kind_effect(req)}")
        if done:
            return redirect(back)
        status = done.status
    else:
        status = 400
    if "next" not in request.form:
        return render_request_page(request_id, current_user, {KIND: form}, status=status)
    if status == 409:
        fresh = get_visible_request_or_404(request_id, current_user, joinedload(Request.team))
        return render_template("triage/kind.html", req=fresh,
                               form=ChangeKindForm.for_request(fresh), back=back,
                               closed=not allowed(current_user, "change_kind", fresh)), 409
    return render_template("triage/kind.html", req=req, form=form, back=back), status


def _kind_effect(req):
    if req.kind == "ad_hoc":
        return "it counts against the team's weekly ad-hoc budget."
    if req.state == "submitted":
        return "it no longer counts against the ad-hoc budget, and is waiting for triage."
    return "it no longer counts against the ad-hoc budget."
