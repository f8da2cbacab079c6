"""Queues: an analyst's own queue and the leads' backlog, in priority order, and lead overrides."""
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import aliased

from .. import counts, lifecycle, localtime, queues, settings, sla_clocks, wip
from ..errors import run_action
from ..extensions import db
from ..forms.triage import OverrideForm
from ..models import COMMITTED_STATES, KINDS, STATES, Request, Team, User, utcnow
from ..policy import WORKER_ROLES, get_visible_request_or_404, require
from ..queries import MAX_ID
from .reports import csv_response
from .request_page import RANK, render_request_page

bp = Blueprint("queue", __name__)


class ListPagination(Pagination):
    """A page of a list ranked in Python, with the attributes of Flask-SQLAlchemy's pages (so
    the ``pagination`` macro renders it)."""

    def _query_items(self):
        items = self._query_args["items"]
        return items[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self):
        return len(self._query_args["items"])


def paginate_list(items, page_size):
    """Return the page of ``items`` the ``page`` query argument asks for (out of range: empty)."""
    try:
        page = min(max(1, int(request.args.get("page", 1))), MAX_ID)
    except ValueError:
        page = 1
    return ListPagination(page=page, per_page=page_size, max_per_page=None, error_out=False,
                          items=items)


def _int_arg(name):
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


def _choice_arg(name, choices):
    value = request.args.get(name, "")
    return value if value in choices else None


@bp.route("/queue")
@require("work")
def queue():
    """The analyst's queue: "2 of 3 in progress", what they work on, then what comes next."""
    now = utcnow()
    values = settings.current()
    filters = {"team": _int_arg("team"), "sla": _choice_arg("sla", queues.SLA_FILTERS)}
    found = queues.analyst_queue(current_user, now, team=filters["team"], sla=filters["sla"],
                                 values=values)
    if request.args.get("format") == "csv":
        return _queue_csv(found, now, values)
    page = paginate_list(found.up_next, current_app.config["PAGE_SIZE"])
    queues.load(page.items)
    teams = queues.teams_by_id(found.team_ids)
    claim = lifecycle.TRANSITIONS["claim"]
    return render_template(
        "queue/queue.html", found=found, page=page, filters=filters, teams=teams,
        wip=wip.wip_status(current_user, values), now=now,
        sla_views={entry.id: sla_clocks.status(entry.request, now, values)
                   for entry in [*found.working, *page.items]},
        can_claim={entry.id: lifecycle.may_take(claim, entry.request, current_user)
                   for entry in page.items},
        sla_labels=sla_clocks.SLA_STATUS_LABELS, sla_filters=queues.SLA_FILTERS,
    )


QUEUE_CSV_COLUMNS = ("Section", "Position in team queue", "Queue length", "ID", "Title", "State",
                     "Kind", "Team", "Score", "Deadline", "SLA status", "Link")


def _queue_csv(found, now, values):
    """The whole queue as a CSV: what the analyst works on, then everything up next (not only
    one page), in queue order. Two statements to load the requests up next."""
    link = url_for("requests.detail", request_id=0, _external=True)[:-1]
    queues.load(found.up_next)

    def lines():
        for section, entries in (("Working on", found.working), ("Up next", found.up_next)):
            for entry in entries:
                req = entry.request
                if req is None:  # left the queue between the two statements
                    continue
                yield [section, entry.position, entry.total, req.id, req.title,
                       req.state_label, req.kind_label, req.team.name,
                       round(entry.explanation.total, 2), req.deadline,
                       sla_clocks.SLA_STATUS_LABELS[sla_clocks.status(req, now, values).status],
                       f"{link}{req.id}"]

    day = localtime.local_today(now, values).isoformat()
    return csv_response(f"queue_{day}.csv", QUEUE_CSV_COLUMNS, lines())


BACKLOG_STATE_CHOICES = {state: label for state, label in STATES.items()
                         if state in COMMITTED_STATES}


@bp.route("/backlog")
@require("view_backlog")
def backlog():
    """The whole backlog for leads, filtered by team, analyst, kind, SLA status and state."""
    now = utcnow()
    values = settings.current()
    analyst = "none" if request.args.get("analyst") == "none" else _int_arg("analyst")
    filters = {
        "team": _int_arg("team"), "analyst": analyst,
        "kind": _choice_arg("kind", KINDS),
        "sla": _choice_arg("sla", queues.SLA_FILTERS),
        "state": _choice_arg("state", BACKLOG_STATE_CHOICES),
    }
    found = queues.backlog(now, values=values, **filters)
    if request.args.get("format") == "csv":
        return _backlog_csv(found.entries, now, values)
    page = paginate_list(found.entries, current_app.config["PAGE_SIZE"])
    queues.load(page.items)
    teams = queues.teams_by_id(found.team_counts)
    analysts = db.session.scalars(db.select(User).where(
        User.role.in_(WORKER_ROLES), User.is_active).order_by(User.name)).all()
    # What the page lists (the queue and the work) among everything open, in counts' words.
    team_counts = counts.unclosed_by_team(None if filters["team"] is None else [filters["team"]])
    scope = "All teams"
    if filters["team"] is not None:
        chosen = teams.get(filters["team"]) or db.session.get(Team, filters["team"])
        scope = chosen.name if chosen is not None else "No such team"
    return render_template(
        "queue/backlog.html", found=found, page=page, filters=filters, teams=teams,
        analysts=analysts, now=now, states=BACKLOG_STATE_CHOICES,
        counts=counts.summed(team_counts.values()), words=counts.WORDS, scope=scope,
        sla_views={entry.id: sla_clocks.status(entry.request, now, values) for entry in page.items},
        sla_labels=sla_clocks.SLA_STATUS_LABELS, sla_filters=queues.SLA_FILTERS,
        oldest_first_after=settings.priority_weights(values).oldest_first_after,
    )


BACKLOG_CSV_COLUMNS = ("Position in team queue", "Queue length", "ID", "Title", "State", "Kind",
                       "Team", "Assignee", "Score", "Days waited", "Deadline", "SLA status",
                       "Link")


def _backlog_csv(entries, now, values):
    """Every backlog entry matching the filters (not only one page), in backlog order, as a CSV.

    The entries are already ranked (one statement); their titles and names come from one more
    statement over the backlog's requests, read in chunks. Two statements at any size.
    """
    assignee = aliased(User)
    details = db.select(Request.id, Request.title, Team.name, assignee.name).join(
        Team, Request.team_id == Team.id).outerjoin(
        assignee, Request.assignee_id == assignee.id).where(
        Request.state.in_(COMMITTED_STATES)).execution_options(yield_per=1000)
    link = url_for("requests.detail", request_id=0, _external=True)[:-1]

    def lines():
        found = {row[0]: row for row in db.session.execute(details)}
        for entry in entries:
            row, detail = entry.row, found.get(entry.id)
            if detail is None:  # left the backlog between the two statements
                continue
            yield [entry.position, entry.total, row.id, detail[1], STATES[row.state],
                   KINDS[row.kind][0], detail[2], detail[3], round(entry.explanation.total, 2),
                   entry.explanation.days_waited, row.deadline,
                   sla_clocks.SLA_STATUS_LABELS.get(entry.sla_status, ""), f"{link}{row.id}"]

    filename = f"backlog_{localtime.local_today(now, values).isoformat()}.csv"
    return csv_response(filename, BACKLOG_CSV_COLUMNS, lines())


@bp.route("/requests/<int:request_id>/rank", methods=["POST"])
@require("override")
def rank(request_id):
    """A lead moves a request in its team's queue, or clears the move, with a reason."""
    req = get_visible_request_or_404(request_id, current_user)
    # Before the form: the page of a delivered or closed request has no queue form to show its
    # field errors on.
    in_queue = run_action(lambda: queues.check_in_queue(req), commit=False)
    if not in_queue:
        return render_request_page(request_id, current_user, status=in_queue.status)
    form = OverrideForm(prefix="rank")
    if form.validate_on_submit():
        position = None if form.clear.data else form.position.data
        moved = (f"Moved to position {position} in the team's queue." if position is not None
                 else "The override is cleared: the request is back in its place by score.")
        done = run_action(
            lambda: queues.override_rank(req, current_user, position, form.reason.data, utcnow(),
                                         expected_version=form.version.data),
            form=form, success=moved)
        if done:
            return redirect(url_for("requests.detail", request_id=req.id, _anchor="queue-place"))
        status = done.status
    else:
        status = 400
    return render_request_page(request_id, current_user, {RANK: form}, status=status)
