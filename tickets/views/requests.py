"""Requests: the intake form, the request page with its timeline and actions, and the lists."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import or_
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import (budget, forecast, intake, lead_time, lifecycle, localtime, priority, queues,
               settings, sla_clocks, triage, wip)
from ..auth import (can_change_kind, can_comment, can_edit, get_visible_request_or_404,
                    visible_requests)
from ..extensions import db
from ..forms import TRANSITION_FORMS, ChangeKindForm, CommentForm, RequestForm, SlaClassForm
from ..models import (CLOSED_STATES, IMPACTS, KINDS, OPEN_STATES, STATES, Event, Request, Team, User,
                      utcnow)
from ..queries import contains_text, id_matches
from .helpers import is_safe_next, paginate, text_arg
from .reports import csv_response

bp = Blueprint("requests", __name__)

LIST_SCOPES = {
    "mine": "My requests",
    "team": "My team's requests",
    "all": "All requests",
}
SORTS = {
    "newest": ("Newest first", [Request.created_at.desc(), Request.id.desc()]),
    "oldest": ("Oldest first", [Request.created_at.asc(), Request.id.asc()]),
    "deadline": ("Deadline soonest", [Request.deadline.is_(None), Request.deadline.asc(), Request.id.asc()]),
    "updated": ("Recently updated", [Request.updated_at.desc(), Request.id.desc()]),
    "impact": ("Highest impact", [Request.business_impact.desc(), Request.created_at.asc()]),
}


def _active_teams():
    return db.session.scalars(db.select(Team).where(Team.is_active).order_by(Team.name)).all()


@bp.route("/")
@login_required
def index():
    """Send each user to the page they work from: analysts to their queue, leads to the
    backlog, admins to every request, requesters to their own requests."""
    if current_user.is_analyst:
        return redirect(url_for("queue.queue"))
    if current_user.is_lead:
        return redirect(url_for("queue.backlog"))
    if current_user.sees_everything:
        return redirect(url_for("requests.list_requests", scope="all"))
    return redirect(url_for("requests.list_requests", scope="mine"))


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new():
    """The intake form."""
    teams = _active_teams()
    form = RequestForm(today=localtime.local_today(utcnow()), teams=teams)
    if request.method == "GET":
        home = next((team for team in current_user.teams if team.is_active), None)
        if home is not None:
            form.team_id.data = home.id
    if form.validate_on_submit():
        fields = _intake_fields(form)
        created = intake.submit_request(current_user, fields, watchers=form.watcher_list)
        db.session.commit()
        flash(triage.submitted_message(created),
              "info" if created.state == "waitlisted" else "success")
        return redirect(url_for("requests.detail", request_id=created.id))
    status = 400 if request.method == "POST" else 200
    return _render_form(form, None, teams), status


def _render_form(form, editing, teams, lock_notes=None):
    """The intake form with its limits: the short-notice cutoff and each team's ad-hoc budget
    line (two SQL statements: the settings and the grouped usage, whatever the teams), and
    under each field triage decided on, what changing it does (``lock_notes``)."""
    values = settings.current()
    now = utcnow()
    cutoff = lead_time.short_notice_cutoff(localtime.local_today(now, values), values)
    lines = budget.budget_lines(teams, now, values)
    return render_template("requests/form.html", form=form, editing=editing, cutoff=cutoff,
                           budget_lines={str(key): line for key, line in lines.items() if line},
                           budget_line=lines.get(form.team_id.data, ""),
                           lock_notes=lock_notes or {})


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request_id):
    """Change a request's intake fields; the change is recorded on its timeline."""
    req = get_visible_request_or_404(request_id, current_user, selectinload(Request.watchers))
    if not can_edit(req, current_user):
        abort(403)
    teams = _active_teams()
    if req.team not in teams:
        teams.append(req.team)
    rules = intake.edit_rules(req, current_user)
    form = RequestForm(obj=req, today=localtime.local_today(utcnow()), teams=teams, read_only=intake.read_only(rules))
    if not form.watchers.raw_data:
        # Shown as they are; a post without the field (not an emptied one) changes nothing.
        form.watchers.data = "\n".join(req.watcher_emails)
    if request.method == "GET":
        form.no_deadline.data = req.deadline is None
    elif form.deadline.data == req.deadline:
        form.today = min(form.today, req.deadline or form.today)  # an unchanged old date is kept
    status = 200
    if form.validate_on_submit():
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            abort(400)
        was_triaged = intake.is_triaged(req)
        try:
            changed = intake.edit_request(req, current_user, _intake_fields(form),
                                          watchers=form.watcher_list, expected_version=version)
            db.session.commit()
        except lifecycle.ConcurrentChange as conflict:
            db.session.rollback()
            flash(str(conflict), "warning")
            status = 409
        except intake.FieldsLocked as locked:
            db.session.rollback()
            form.refuse(locked.messages)
            status = 400
        else:
            if was_triaged and req.state in ("submitted", "waitlisted"):
                flash(f"Your changes are saved, and the request is back in triage. "
                      f"{lifecycle.NEXT_STEP[req.state]}", "info")
            else:
                flash("Your changes are saved." if changed else "Nothing was changed.",
                      "success")
            return redirect(url_for("requests.detail", request_id=req.id))
    elif request.method == "POST":
        status = 400
    return _render_form(form, req, teams, intake.edit_notes(rules)), status


def _intake_fields(form):
    fields = {name: getattr(form, name).data for name in intake.INTAKE_FIELDS}
    if form.no_deadline.data:
        fields["deadline"] = None
    if not form.is_exec_sponsored.data:
        fields["exec_sponsor"] = ""
    return fields


@bp.route("/requests/<int:request_id>")
@login_required
def detail(request_id):
    """A request: its fields, its state, the actions this user may take, and its timeline."""
    return _render_detail(request_id)


def _render_detail(request_id, bound_forms=None, open_action=None, comment_form=None, status=200):
    req = get_visible_request_or_404(
        request_id, current_user,
        joinedload(Request.team), joinedload(Request.requester), joinedload(Request.assignee),
        selectinload(Request.watchers),
        selectinload(Request.events).joinedload(Event.actor),
    )
    now = utcnow()
    values = settings.current()  # read once: every panel below takes it
    transitions = lifecycle.available_transitions(req, current_user)
    forms = {}
    for t in transitions:
        form = (bound_forms or {}).get(t.name) or TRANSITION_FORMS[t.name](
            formdata=None, version=req.version, prefix=t.name)
        form.version.data = req.version
        if "assignee" in t.needs and t.name not in (bound_forms or {}):
            form.set_choices(wip.assignable_people(values))
        if "priority" in t.needs and t.name not in (bound_forms or {}):
            form.prefill(req)  # the priority inputs start from the requester's values
        forms[t.name] = form
    claim_wip = wip.wip_status(current_user, values) if "claim" in forms else None
    original = None
    if req.duplicate_of_id:
        original = db.session.scalars(db.select(Request).where(
            Request.id == req.duplicate_of_id, visible_requests(current_user))).first()
    duplicates = db.session.scalars(db.select(Request).where(
        Request.duplicate_of_id == req.id, visible_requests(current_user))
        .order_by(Request.id)).all()
    extras = {"sla_panel": sla_clocks.panel(req, now, values),
              "sla_class_form": _sla_class_form(req),
              **queues.detail_context(req, current_user, now, values),
              "kind_form": (ChangeKindForm.for_request(req)
                            if can_change_kind(req, current_user) else None),
              "waitlist_reason": triage.waitlist_reason(req)}
    # The forecast counts the work ahead from the queue place just found, not a second ranking.
    extras.update(forecast.detail_context(req, current_user, now, values,
                                          place=extras["queue_place"]))
    return render_template(
        "requests/detail.html", **extras, req=req, transitions=transitions, forms=forms,
        open_action=open_action, comment_form=comment_form or CommentForm(),
        can_edit=can_edit(req, current_user), can_comment=can_comment(req, current_user),
        original=original, duplicates=duplicates, describe_change=intake.describe_change,
        field_labels=intake.FIELD_LABELS,
        score=priority.explain(req, localtime.local_now(now, values)) if not req.is_closed else None,
        wip=claim_wip,
    ), status


def _sla_class_form(req):
    """The form a lead sets the request's SLA class with, or None for anyone else."""
    if not sla_clocks.may_set_class(req, current_user):
        return None
    return SlaClassForm(formdata=None, prefix="sla", version=req.version,
                        sla_class=req.sla_class if req.sla_class_is_set else "")


@bp.route("/requests/<int:request_id>/comments", methods=["POST"])
@login_required
def comment(request_id):
    """Add a comment to an open request."""
    req = get_visible_request_or_404(request_id, current_user)
    if not can_comment(req, current_user):
        abort(403)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_detail(request_id, comment_form=form, status=400)
    intake.add_comment(req, current_user, form.text.data)
    db.session.commit()
    flash("Your comment is added.", "success")
    return redirect(url_for("requests.detail", request_id=req.id, _anchor="timeline"))


@bp.route("/requests/<int:request_id>/actions/<name>", methods=["POST"])
@login_required
def act(request_id, name):
    """Take one lifecycle transition, with the inputs its form asks for.

    On success it goes back to the request page, or to a safe ``next`` the form carries (the
    triage page); on an error it shows the request page with the form open.
    """
    form_class = TRANSITION_FORMS.get(name)
    if form_class is None:
        abort(404)
    req = get_visible_request_or_404(request_id, current_user)
    t = lifecycle.TRANSITIONS[name]
    if not t.actors & lifecycle.actor_roles(req, current_user):
        abort(403)
    try:
        # Before the form: on a request that moved on, the page no longer shows this form, so
        # its field errors would show nowhere.
        lifecycle.check_possible(req, t)
    except lifecycle.InvalidTransition as conflict:
        flash(str(conflict), "warning")
        return _render_detail(request_id, status=409)
    form = form_class(prefix=name)
    if "assignee" in t.needs:
        form.set_choices(wip.assignable_people())
    if not form.validate_on_submit():
        return _render_detail(request_id, {name: form}, open_action=name, status=400)

    inputs = {key: form[key].data for key in ("note", "size", "url", "reason", "rating")
              if key in form}
    if "priority" in t.needs:
        inputs.update(form.priority_inputs())
    if "original" in t.needs:
        inputs["original"] = db.session.scalars(db.select(Request).where(
            id_matches(Request.id, form.original.data), visible_requests(current_user))).first()
        if inputs["original"] is None:
            form.original.errors.append(f"There is no request #{form.original.data} that you can see.")
            return _render_detail(request_id, {name: form}, open_action=name, status=400)
    if "assignee" in t.needs:
        inputs["assignee"] = db.session.get(User, int(form.assignee.data))
    try:
        lifecycle.transition(req, name, current_user, expected_version=form.version.data, **inputs)
        db.session.commit()
    except lifecycle.MissingInput as missing:
        db.session.rollback()
        field = missing.field if missing.field in form else "note"
        form[field].errors.append(str(missing))
        return _render_detail(request_id, {name: form}, open_action=name, status=400)
    except lifecycle.NotAllowed:
        db.session.rollback()
        abort(403)
    except (lifecycle.InvalidTransition, lifecycle.ConcurrentChange,
            lifecycle.LimitReached) as conflict:
        db.session.rollback()
        flash(str(conflict), "warning")
        return _render_detail(request_id, status=409)
    target = request.form.get("next", "")
    if is_safe_next(target):
        flash(f"#{req.id} {req.title}: {lifecycle.done_message(t, req)}", "success")
        return redirect(target)
    flash(lifecycle.done_message(t, req), "success")
    return redirect(url_for("requests.detail", request_id=req.id))


@bp.route("/help")
def help_page():
    """How requests are handled and how the priority score is computed (from the live rules)."""
    return render_template("requests/help.html", priority=priority, next_step=lifecycle.NEXT_STEP,
                           after_triage=intake.AFTER_TRIAGE, rule_words=intake.RULE_WORDS)


# --- Lists ---------------------------------------------------------------------------------

@bp.route("/requests", defaults={"scope": None})
@bp.route("/requests/<any(mine, team, all):scope>")
@login_required
def list_requests(scope):
    """A filtered, sorted, paginated list: a constant number of SQL statements per page."""
    if scope is None:
        return redirect(url_for("requests.index"))
    if scope == "all" and not current_user.sees_everything:
        abort(403)
    as_csv = request.args.get("format") == "csv"
    if scope == "team" and not current_user.team_ids and not as_csv:
        flash("You are not in any team yet, so this list is empty. Ask a lead to add you to one.", "info")

    query = db.select(Request).where(visible_requests(current_user))
    if scope == "mine":
        query = query.where(or_(Request.requester_id == current_user.id,
                                Request.assignee_id == current_user.id))
    elif scope == "team":
        query = query.where(Request.team_id.in_(current_user.team_ids))

    filters = _list_filters()
    if filters["state"] == "open":
        query = query.where(Request.state.in_(OPEN_STATES))
    elif filters["state"] == "closed":
        query = query.where(Request.state.in_(CLOSED_STATES))
    elif filters["state"] in STATES:
        query = query.where(Request.state == filters["state"])
    if filters["team"] is not None:
        query = query.where(id_matches(Request.team_id, filters["team"]))
    if filters["kind"] in KINDS:
        query = query.where(Request.kind == filters["kind"])
    if filters["assignee"] == "none":
        query = query.where(Request.assignee_id.is_(None))
    elif filters["assignee"] is not None:
        query = query.where(id_matches(Request.assignee_id, filters["assignee"]))
    if filters["q"]:
        query = query.where(contains_text(Request.title, filters["q"]))
    query = query.order_by(*SORTS[filters["sort"]][1])
    if as_csv:
        return _requests_csv(query, scope)
    query = query.options(
        joinedload(Request.team), joinedload(Request.requester), joinedload(Request.assignee))

    page = paginate(query, current_app.config["PAGE_SIZE"])
    # Requesters asked where their accepted requests stand: "3rd of 12" in the team's queue.
    positions = {}
    if scope == "mine":
        positions = {request_id: queues.position_text(*place) for request_id, place
                     in queues.positions(page.items, utcnow()).items()}
    team_choices = _active_teams() if scope == "all" else list(current_user.teams)
    assignees = db.session.scalars(db.select(User).where(
        User.role.in_(("analyst", "lead")), User.is_active).order_by(User.name)).all()
    return render_template(
        "requests/list.html", page=page, scope=scope, title=_list_title(scope),
        filters=filters, sorts=SORTS, team_choices=team_choices, assignees=assignees,
        scopes=_scopes_for(current_user), positions=positions,
    )


LIST_CSV_COLUMNS = ("ID", "Title", "State", "Kind", "Team", "Requester", "Assignee",
                    "Business impact", "Deadline", "Short notice", "Confidential",
                    "Submitted at (UTC)", "Updated at (UTC)", "Link")


def _requests_csv(query, scope):
    """Every request ``query`` selects (not only one page), in its order, as a CSV download.

    One SQL statement of the columns the file holds, read 500 rows at a time while the file
    is streamed, so a list of any length costs the same statements and little memory.
    """
    requester, assignee = aliased(User), aliased(User)
    rows = (query.with_only_columns(
        Request.id, Request.title, Request.state, Request.kind, Team.name, requester.name,
        assignee.name, Request.business_impact, Request.deadline, Request.is_short_notice,
        Request.is_confidential, Request.created_at, Request.updated_at,
        maintain_column_froms=False)
        .select_from(Request)
        .join(Team, Request.team_id == Team.id)
        .join(requester, Request.requester_id == requester.id)
        .outerjoin(assignee, Request.assignee_id == assignee.id)
        .execution_options(yield_per=500))
    link = url_for("requests.detail", request_id=0, _external=True)[:-1]

    def lines():
        for row in db.session.execute(rows):
            yield [row[0], row.title, STATES[row.state], KINDS[row.kind][0], row[4], row[5],
                   row[6], IMPACTS[row.business_impact][0], row.deadline, row.is_short_notice,
                   row.is_confidential, _utc_minutes(row.created_at),
                   _utc_minutes(row.updated_at), f"{link}{row[0]}"]

    filename = f"requests-{scope}_{localtime.local_today(utcnow()).isoformat()}.csv"
    return csv_response(filename, LIST_CSV_COLUMNS, lines())


def _utc_minutes(value):
    return value.strftime("%Y-%m-%d %H:%M") if value else None


def _list_title(scope):
    if scope == "team" and current_user.role in ("analyst", "lead"):
        return "Requests of my teams"
    return LIST_SCOPES[scope]


def _scopes_for(user):
    scopes = [("mine", "My requests"), ("team", _team_label(user))]
    if user.sees_everything:
        scopes.append(("all", "All requests"))
    return scopes


def _team_label(user):
    return "Requests of my teams" if user.role in ("analyst", "lead") else "My team's requests"


def _list_filters():
    args = request.args

    def as_int(name):
        try:
            return int(args.get(name, ""))
        except ValueError:
            return None

    assignee = args.get("assignee", "")
    sort = args.get("sort", "newest")
    return {
        "state": args.get("state", "open"),
        "team": as_int("team"),
        "kind": args.get("kind", ""),
        "assignee": "none" if assignee == "none" else as_int("assignee"),
        "q": text_arg("q", 200),
        "sort": sort if sort in SORTS else "newest",
    }


@bp.app_context_processor
def navigation():
    """The navigation's list links for the current user."""
    if not current_user.is_authenticated:
        return {"nav_lists": []}
    return {"nav_lists": _scopes_for(current_user)}
