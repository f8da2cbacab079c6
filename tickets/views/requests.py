"""Requests: the intake form, the request page with its timeline and actions, and the lists."""
from datetime import timedelta
from types import SimpleNamespace

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import (attachments, budget, conversation, deflections, forecast, intake, lead_time,
               lifecycle, localtime, outcomes, people, priority, queues, request_lists, reuse,
               settings, sla_clocks, triage, waiting)
from ..errors import run_action
from ..extensions import db
from ..forms.requests import CommentForm, DeflectForm, IntakeForm, ReplyForm, RequestForm
from ..forms.transitions import TRANSITION_FORMS, prepare_form, refused_field, take
from ..models import (IMPACTS, KINDS, STATES, Asset, Deflection, Request,
                      Team, User, utcnow)
from ..policy import (WORKER_ROLES, allowed, get_visible_request_or_404, visible_assets,
                      visible_requests)
from .helpers import is_safe_next, paginate, text_arg
from .reports import csv_response
from .request_page import COMMENT, REPLY, render_request_page

bp = Blueprint("requests", __name__)




@bp.route("/")
@login_required
def index():
    """Send each user to the page they work from: analysts to their queue, leads to the
    backlog, admins to every request, requesters to their own requests."""
    if current_user.is_analyst:
        return redirect(url_for("queue.queue"))
    if current_user.is_lead:
        return redirect(url_for("queue.backlog"))
    if allowed(current_user, "see_all"):
        return redirect(url_for("requests.list_requests", scope="all"))
    return redirect(url_for("requests.list_requests", scope="mine"))


@bp.route("/requests/new", methods=["GET", "POST"])
@login_required
def new():
    """The intake form, with what may already answer it.

    While the requester types, suggest.js shows the suggestions (``similar_json``) and marks
    the form as checked. Without it, a valid post whose text has suggestions the requester has
    not seen shows them above the filled form ("check before you submit", every field kept)
    and the button becomes "Submit anyway"; the next post of the same text submits. A draft
    with nothing to suggest submits at once, and is remembered as an intake miss.
    """
    teams = people.active_teams()
    form = IntakeForm(today=localtime.local_today(utcnow()), teams=teams)
    if request.method == "GET":
        home = next((team for team in current_user.teams if team.is_active), None)
        if home is not None:
            form.team_id.data = home.id
    if form.validate_on_submit():
        found = deflections.suggestions(current_user, form.title.data, form.data_needed.data)
        key = deflections.draft_key(form.title.data, form.data_needed.data)
        if found and form.suggestions_seen.data != key:
            form.suggestions_seen.data = key
            form.hold_files(current_user)
            return _render_form(form, None, teams, suggestions=_suggestions(found),
                                checking=True)
        done = run_action(
            lambda: _submit(form, is_miss=not found),
            form=form, success=lambda created: (
                triage.submitted_message(created),
                "info" if created.state == "waitlisted" else "success"))
        if done:
            return redirect(url_for("requests.detail", request_id=done.result.id))
    status = 400 if request.method == "POST" else 200
    if request.method == "POST":
        form.hold_files(current_user)
    return _render_form(form, None, teams), status


def _submit(form, is_miss):
    """Submit the intake ``form`` with its files (on the request's 'created' event); a
    draft nothing answered is an intake miss."""
    created = intake.submit_request(current_user, form.intake_fields(),
                                    watchers=form.watcher_list)
    _attach_files(created, form, created.created_at,
                  event=next(e for e in created.events if e.kind == "created"))
    if is_miss:
        deflections.record_intake_miss(current_user, form.title.data, created.created_at)
    return created


def _attach_files(req, form, now, event=None):
    """Attach the files of ``form`` (held from its last post and chosen now) to ``req``."""
    return attachments.attach(req, current_user, form.uploads(), now, event=event,
                              release=form.held.data)


def _render_form(form, editing, teams, lock_notes=None, suggestions=(), checking=False):
    """The intake form with its limits: the short-notice cutoff and each team's ad-hoc budget
    outlook (its line and, when it is used up, the waitlist notice a new ad-hoc request gets;
    two SQL statements: the settings and the grouped usage, whatever the teams), and
    under each field triage decided on, what changing it does (``lock_notes``); on a new
    request, the ``suggestions`` of the "check before you submit" step when ``checking``."""
    values = settings.current()
    now = utcnow()
    cutoff = lead_time.short_notice_cutoff(localtime.local_today(now, values), values)
    outlooks = budget.intake_outlooks(teams, now, values)
    shown = outlooks.get(form.team_id.data)
    return render_template("requests/form.html", form=form, editing=editing, cutoff=cutoff,
                           outlooks={str(key): {"line": outlook.line,
                                                "notice": None if editing else outlook.notice}
                                     for key, outlook in outlooks.items()},
                           outlook=shown,
                           waitlist_notice=(shown.notice if shown and not editing
                                            and form.kind.data == "ad_hoc" else None),
                           upload_rules=attachments.rules(values),
                           lock_notes=lock_notes or {}, suggestions=suggestions,
                           checking=checking)


# --- Suggestions and deflections ----------------------------------------------------------

@bp.route("/requests/similar.json")
@login_required
def similar_json():
    """The intake form's suggestions for the text typed so far (``?title=&data_needed=``):
    up to five active assets and delivered requests the person may see, as data and as the
    panel's HTML, and ``checked``, the fingerprint that marks the form as checked."""
    title = text_arg("title", 200)
    data_needed = text_arg("data_needed", 5000)
    found = _suggestions(deflections.suggestions(current_user, title, data_needed))
    response = jsonify(
        results=[{key: str(value) if key.endswith("_html") else value
                  for key, value in item.items()} for item in found],
        html=render_template("requests/_suggestions.html", suggestions=found),
        checked=deflections.draft_key(title, data_needed))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _suggestions(hits):
    """The intake form's suggestions from search Hits (see ``_suggestion``)."""
    today = localtime.local_today(utcnow())
    return [_suggestion(hit.kind, hit.item, today, hit.title, hit.snippet) for hit in hits]


def _suggestion(kind, item, today, title_html=None, snippet_html=None):
    """One asset or request as the intake form suggests it: kind, id, title and snippet
    (escaped HTML, matched words marked), a label ("Dashboard · Marketing", "Request #12 ·
    Marketing · delivered 3 Nov") and the link that opens it (an asset's own http(s) link, a
    request's page)."""
    if kind == "asset":
        label = f"{item.kind_label} \u00b7 {item.team.name}"
        url = item.url if item.url.lower().startswith(("https://", "http://")) else ""
    else:
        label = f"Request #{item.id} \u00b7 {item.team.name}"
        if item.delivered_at is not None:
            day = localtime.local_today(item.delivered_at)
            label += (f" \u00b7 delivered {day.day} {day:%b}"
                      + ("" if day.year == today.year else f" {day.year}"))
        url = url_for("requests.detail", request_id=item.id)
    return {"kind": kind, "id": item.id,
            "title_html": title_html if title_html is not None else escape(item.title),
            "snippet_html": snippet_html if snippet_html is not None else Markup(""),
            "label": label, "url": url}


@bp.route("/requests/deflect", methods=["POST"])
@login_required
def deflect():
    """"This answers my question": record a deflection and end the draft without submitting
    it. The intake form posts itself here, so a refusal (nothing by that id that the person
    may see) shows the form again with everything kept (400)."""
    form = DeflectForm()
    if form.validate_on_submit():
        kind, ref_id = form.chosen
        done = run_action(lambda: deflections.record(
            current_user, kind, ref_id, team_id=form.team,
            text=deflections.draft_text(*form.text), now=utcnow()))
        if done:
            return redirect(url_for("requests.deflected", deflection_id=done.result.id))
    elif "csrf_token" in form.errors:
        flash("The form expired; please send it again.", "danger")
    else:
        flash(" ".join(next(iter(form.errors.values()))), "danger")
    teams = people.active_teams()
    return _render_form(IntakeForm(today=localtime.local_today(utcnow()), teams=teams), None,
                        teams), 400


@bp.route("/requests/deflected/<int:deflection_id>")
@login_required
def deflected(deflection_id):
    """The end of a deflected draft: glad it helped, and the link to what answered it (only
    for the person who recorded it, and while they may still see it)."""
    deflection = db.session.scalar(db.select(Deflection).where(
        Deflection.id == deflection_id, Deflection.user_id == current_user.id))
    if deflection is None:
        abort(404)
    answer = None
    if deflection.asset_id is not None:
        item = db.session.scalar(db.select(Asset).where(
            Asset.id == deflection.asset_id, visible_assets(current_user))
            .options(joinedload(Asset.team)))
        kind = "asset"
    else:
        item = db.session.scalar(db.select(Request).where(
            Request.id == deflection.answer_request_id, visible_requests(current_user))
            .options(joinedload(Request.team)))
        kind = "request"
    if item is not None:
        answer = _suggestion(kind, item, localtime.local_today(utcnow()))
    return render_template("requests/deflected.html", deflection=deflection, answer=answer)


@bp.route("/requests/<int:request_id>/edit", methods=["GET", "POST"])
@login_required
def edit(request_id):
    """Change a request's intake fields; the change is recorded on its timeline."""
    req = get_visible_request_or_404(request_id, current_user, selectinload(Request.watchers))
    if not allowed(current_user, "edit", req):
        abort(403)
    teams = people.active_teams(keep=req.team)
    rules = intake.edit_rules(req, current_user)
    form = RequestForm(obj=req, today=localtime.local_today(utcnow()), teams=teams, read_only=intake.read_only(rules))
    if not form.watchers.raw_data:
        # Shown as they are; a post without the field (not an emptied one) changes nothing.
        form.watchers.data = "\n".join(req.watcher_emails)
    if request.method == "GET":
        form.no_deadline.data = req.deadline is None
    else:
        form.keep_unchanged_deadline(req.deadline)
    status = 200
    if form.validate_on_submit():
        try:
            version = int(request.form.get("version", ""))
        except ValueError:
            abort(400)
        was_triaged = intake.is_triaged(req)
        done = run_action(lambda: _edit(req, form, version), form=form,
                          success=lambda result: _edited_message(req, was_triaged, *result))
        if done:
            return redirect(url_for("requests.detail", request_id=req.id))
        status = done.status
    elif request.method == "POST":
        status = 400
    if request.method == "POST":
        form.hold_files(current_user)
    return _render_form(form, req, teams, intake.edit_notes(rules)), status


def _edit(req, form, version):
    """Save the edit ``form``'s changes and attach its files (an "attached" event after the
    edit's); return (the edit event or None, the files attached)."""
    now = utcnow()
    changed = intake.edit_request(req, current_user, form.intake_fields(),
                                  watchers=form.watcher_list, expected_version=version, now=now)
    return changed, _attach_files(req, form, now)


def _edited_message(req, was_triaged, changed, added=()):
    if was_triaged and req.state in ("submitted", "waitlisted"):
        return (f"Your changes are saved, and the request is back in triage. "
                f"{lifecycle.NEXT_STEP[req.state]}", "info")
    if added and not changed:
        return f"{_count_files(added)} attached; nothing else was changed."
    if added:
        return f"Your changes are saved and {_count_files(added)} attached."
    return "Your changes are saved." if changed else "Nothing was changed."


def _count_files(added):
    return f"\u201c{added[0].filename}\u201d is" if len(added) == 1 else f"{len(added)} files are"


@bp.route("/requests/<int:request_id>")
@login_required
def detail(request_id):
    """A request: its fields, its state, the actions this user may take, and its timeline.

    ``?duplicate_of=request:12`` or ``?self_serve=asset:7`` (a neighbour's links) open the
    duplicate or decline form with that pick made.
    """
    picks = {}
    for name, arg, purpose in PICK_ARGS:
        if request.args.get(arg):
            found = reuse.prefill_pick(current_user, request.args[arg], purpose)
            if found is not None:
                picks[name] = found
    return render_request_page(request_id, current_user, picks=picks)


# The address arguments that preselect a picker: (transition, argument, picker purpose).
PICK_ARGS = (("mark_duplicate", "duplicate_of", "duplicate"), ("decline", "self_serve", "answer"))


@bp.route("/requests/<int:request_id>/comments", methods=["POST"])
@login_required
def comment(request_id):
    """Add a comment to an open request; its @mentions tell those people.

    While the request waits on this person's answer (needs_info), the comment is the answer
    (``conversation.post``): a page from before the question still gets it answered.
    """
    req = get_visible_request_or_404(request_id, current_user)
    if not allowed(current_user, "comment", req):
        abort(403)
    form = CommentForm()
    if form.validate_on_submit():
        done = run_action(lambda: _comment(req, form), form=form, success=_posted_message)
        if done:
            return redirect(url_for("requests.detail", request_id=req.id, _anchor="timeline"))
        status = done.status
    else:
        status = 400
    form.hold_files(current_user)
    return render_request_page(request_id, current_user, {COMMENT: form}, status=status)


def _comment(req, form):
    """Add the comment of ``form`` with its files."""
    now = utcnow()
    event = conversation.post(req, current_user, form.text.data, now)
    _attach_files(req, form, now, event=event)
    return event


def _posted_message(event):
    if event.kind == "transition":
        return lifecycle.done_message(lifecycle.TRANSITIONS[event.action], event.request)
    return "Your comment is added."


@bp.route("/requests/<int:request_id>/reply", methods=["POST"])
@login_required
def reply(request_id):
    """The box beside the question a request waits on: answer it with the text (the
    ``answer`` transition). If the request moved on meanwhile (answered elsewhere, declined,
    back to triage), nothing is sent and the page shows the text again, to keep or resend as
    a comment (409)."""
    req = get_visible_request_or_404(request_id, current_user)
    if not allowed(current_user, conversation.ANSWER, req):
        abort(403)  # only the requester answers; their own request may have moved on (409)
    form = ReplyForm(prefix=REPLY)
    valid = form.validate_on_submit()
    # A request that no longer waits on this reply refuses it as a whole, whatever was typed.
    if valid or not conversation.awaits_reply(req, current_user):
        done = run_action(
            lambda: conversation.reply(req, current_user, form.text.data or "", utcnow()),
            form=form, success=_posted_message)
        if done:
            return redirect(url_for("requests.detail", request_id=req.id, _anchor="timeline"))
        if done.status == 409:
            return render_request_page(request_id, current_user, status=409,
                                       unsent=form.text.data)
        status = done.status
    else:
        status = 400
    return render_request_page(request_id, current_user, {REPLY: form}, status=status)


@bp.route("/requests/<int:request_id>/mentionable.json")
@login_required
def mentionable_json(request_id):
    """The people a comment on the request may mention whose name or e-mail address contains
    ``?q=``, at most eight, among those who may see it: the @mention autocomplete. A constant
    number of SQL statements, whatever the number of people."""
    req = get_visible_request_or_404(request_id, current_user)
    people = conversation.mentionable(req, current_user, text_arg("q", 100))
    response = jsonify(people=people)
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
    if not allowed(current_user, t, req):
        abort(403)
    # Before the form: on a request that moved on, the page no longer shows this form, so its
    # field errors would show nowhere.
    possible = run_action(lambda: lifecycle.check_possible(req, t), commit=False)
    if not possible:
        return render_request_page(request_id, current_user, status=possible.status)
    form = prepare_form(form_class(prefix=name), name)
    if form.validate_on_submit():
        target = request.form.get("next", "")
        back = target if is_safe_next(target) else None
        done = run_action(
            lambda: take(t, req, current_user, form, utcnow()), form=form,
            field_of=refused_field(t),
            success=lambda _: ((f"#{req.id} {req.title}: " if back else "")
                               + lifecycle.done_message(t, req)))
        if done:
            return redirect(back or url_for("requests.detail", request_id=req.id))
        status = done.status
        # Words typed without a pick: what they may mean, to choose from (forms with a picker
        # only: the others have no candidates to show).
        if hasattr(done.refusal, "candidates"):
            form.candidates = done.refusal.candidates
    else:
        status = 400
    return render_request_page(request_id, current_user, {name: form}, status=status)


@bp.route("/help")
def help_page():
    """How requests are handled and how the priority score is computed (from the live rules)."""
    values = settings.current()
    return render_template(
        "requests/help.html", priority=priority, next_step=lifecycle.NEXT_STEP,
        after_triage=intake.AFTER_TRIAGE, rule_words=intake.RULE_WORDS,
        sla_rules={"classes": sla_clocks.class_table(),
                   "at_risk_percent": round(sla_clocks.AT_RISK_RATIO * 100)},
        forecast_rules={"weeks": forecast.HISTORY_WEEKS, "trials": forecast.TRIALS,
                        "max_years": forecast.MAX_WEEKS // 52,
                        "size_days": forecast.SIZE_DAYS,
                        "assumed_size": forecast.ASSUMED_SIZE,
                        "min_deliveries": forecast.MIN_DELIVERIES,
                        "min_weeks": forecast.MIN_ACTIVE_WEEKS},
        track_record_rules={"size": outcomes.TRACK_RECORD_SIZE,
                            "min_answers": priority.TRACK_RECORD_MIN_ANSWERS,
                            "floor": priority.TRACK_RECORD_FLOOR,
                            "slope": 1 - priority.TRACK_RECORD_FLOOR,
                            "is_on": values["track_record_in_priority"],
                            "example": _track_record_example(utcnow())},
        weights=settings.priority_weights(values))


def _track_record_example(now):
    """A score with a track record, computed by the live rule, for the help page."""
    example = SimpleNamespace(business_impact=4, deadline=None, is_exec_sponsored=False,
                              size="M", created_at=now - timedelta(days=4))
    return priority.explain(example, now, priority.TrackRecord(used=5, answered=10)).text


# --- Lists ---------------------------------------------------------------------------------

@bp.route("/requests", defaults={"scope": None})
@bp.route("/requests/<any(mine, team, all):scope>")
@login_required
def list_requests(scope):
    """A filtered, sorted, paginated list: a constant number of SQL statements per page."""
    if scope is None:
        return redirect(url_for("requests.index"))
    if not request_lists.may_list(current_user, scope):
        abort(403)
    as_csv = request.args.get("format") == "csv"
    if scope == "team" and not current_user.team_ids and not as_csv:
        flash("You are not in any team yet, so this list is empty. Ask a lead to add you to one.", "info")
    filters = _list_filters()
    query = request_lists.select_requests(db.select(Request), current_user, scope, filters)
    if as_csv:
        return _requests_csv(query, scope)
    query = query.options(
        joinedload(Request.team), joinedload(Request.requester), joinedload(Request.assignee))

    page = paginate(query, current_app.config["PAGE_SIZE"], key=Request.id)
    # Requesters asked where their accepted requests stand: "3rd of 12" in the team's queue.
    positions = {}
    waits, more_waiting = [], False
    if scope == "mine":
        positions = {request_id: queues.position_text(*place) for request_id, place
                     in queues.positions(page.items, utcnow()).items()}
        # What waits on the person comes first: questions, deliveries, follow-ups.
        waits, more_waiting = waiting.waiting_on(current_user)
    team_choices = people.active_teams() if scope == "all" else list(current_user.teams)
    assignees = db.session.scalars(db.select(User).where(
        User.role.in_(WORKER_ROLES), User.is_active).order_by(User.name)).all()
    return render_template(
        "requests/list.html", page=page, scope=scope, title=_list_title(scope),
        filters=filters, sorts=request_lists.SORTS, team_choices=team_choices, assignees=assignees,
        scopes=_scopes_for(current_user), positions=positions, waits=waits,
        more_waiting=more_waiting, waiting_ids={wait.request.id for wait in waits},
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
    if scope == "team" and allowed(current_user, "work"):
        return "Requests of my teams"
    return request_lists.SCOPES[scope]


def _scopes_for(user):
    scopes = [("mine", "My requests"), ("team", _team_label(user))]
    if allowed(user, "see_all"):
        scopes.append(("all", "All requests"))
    return scopes


def _team_label(user):
    return "Requests of my teams" if allowed(user, "work") else "My team's requests"


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
        "sort": sort if sort in request_lists.SORTS else "newest",
    }


@bp.app_context_processor
def navigation():
    """The navigation's list links for the current user."""
    if not current_user.is_authenticated:
        return {"nav_lists": []}
    return {"nav_lists": _scopes_for(current_user)}
