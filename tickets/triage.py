"""Triage: routing new requests, the triage queues, and changing a request's kind.

Routing (issue 3, Triage): a new request goes to the triage queue of the analysts embedded in
its team; when the team has no active embedded analyst it goes to the central triage queue,
which every analyst and lead sees (``Request.is_central``). Confidential requests stay visible
only to their requester, assignee and leads (DESIGN.md, Roles), central or not.

The triage page shows, oldest first: the requests of the user's teams, the central queue, and
for leads the ad-hoc requests waitlisted over their team's budget (``budget`` waitlists and
releases them). Each row, and the request page of those who triage, shows the requesting
team's **track record** (``outcomes.track_records``): information for weighing a request of a
team that rarely uses what it asks for, and, when a lead switched it on, a factor of the
priority score (``priority``). Each function here changes the session and flushes; the caller
commits.
"""
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, false, func, or_

from . import budget, outcomes, priority, reuse, settings, sla_clocks
from .extensions import db
from .lifecycle import (
    InvalidTransition,
    MissingInput,
    NotAllowed,
    check_version,
    flush_or_conflict,
)
from .models import KINDS, OPEN_STATES, Event, Request, User, team_memberships
from .policy import allowed, served_requests

# The triage page's sections, in page order: key -> (label for analysts, label for leads).
SECTIONS = {
    "team": ("Your teams", "Teams with analysts"),
    "central": ("Central queue", "Central queue"),
    "waitlisted": ("Waitlisted over budget", "Waitlisted over budget"),
}

# The state of each section's requests.
SECTION_STATES = {"team": "submitted", "central": "submitted", "waitlisted": "waitlisted"}


def route(team_id):
    """Return where a new request of team ``team_id`` is triaged: "team" when an active analyst
    is embedded in the team, else "central" (one SQL statement)."""
    embedded = db.session.scalar(db.select(exists().where(
        team_memberships.c.team_id == team_id, team_memberships.c.user_id == User.id,
        User.role == "analyst", User.is_active)))
    return "team" if embedded else "central"


def section_conditions(user):
    """Return {section: SQL condition} of the triage sections ``user`` has (analysts: their
    teams' and the central queue; leads: every team's, the central queue and the waitlist)."""
    if not allowed(user, "triage"):
        return {}
    submitted, scope = Request.state == "submitted", served_requests(user)
    sections = {"team": and_(submitted, Request.is_central.is_(False), scope),
                "central": and_(submitted, Request.is_central.is_(True), scope)}
    if user.role == "lead":
        sections["waitlisted"] = Request.state == "waitlisted"
    return sections


def pending_condition(user):
    """Return the SQL condition of the requests waiting in ``user``'s triage queue: submitted,
    of one of their teams or central (analysts), or any submitted request (leads)."""
    sections = section_conditions(user)
    if not sections:
        return false()
    if user.role == "lead":
        return Request.state == "submitted"
    return or_(sections["team"], sections["central"])


def section_counts(user, *filters):
    """Return {section: number of requests} for ``user``'s sections, with ``filters`` applied
    (one SQL statement)."""
    sections = section_conditions(user)
    if not sections:
        return {}
    columns = [func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
               for condition in sections.values()]
    # The sections' states first: one range of ix_requests_triage per state, read from the
    # index alone, rather than one scan per section.
    states = sorted({SECTION_STATES[name] for name in sections})
    row = db.session.execute(db.select(*columns).select_from(Request)
                             .where(Request.state.in_(states), or_(*sections.values()),
                                    *filters)).one()
    return dict(zip(sections, (int(count) for count in row)))


def section_label(section, user):
    """The heading of a triage section, in words for this user's role."""
    analyst_label, lead_label = SECTIONS[section]
    return lead_label if user.role == "lead" else analyst_label


def age_text(created_at, now):
    """How long a request has waited, in words: "40 minutes", "5 hours", "3 days"."""
    seconds = max(0, (now - created_at).total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return "just now"


def over_budget(requests, now, settings_values=None):
    """Return {request id: reason} of the ``requests`` that are over their team's ad-hoc budget:
    waitlisted, or ad-hoc and counted this week in a team past its budget (one SQL statement
    for the usage of their teams, none when no team has a budget)."""
    requests = list(requests)
    teams = {r.team_id: r.team for r in requests if r.team.weekly_ad_hoc_budget is not None}
    used = budget.ad_hoc_usage_by_team(teams, now, settings_values) if teams else {}
    reasons = {}
    for request in requests:
        team = request.team
        if request.state == "waitlisted":
            reasons[request.id] = "Waitlisted: " + budget.budget_line(team, used.get(team.id, 0))
        elif (team.id in teams and budget.is_over_budget(team, used[team.id])
              and budget.counts_this_week(request, now, settings_values)):
            reasons[request.id] = budget.budget_line(team, used[team.id])
    return reasons


# --- Track records ---------------------------------------------------------------------------

TRACK_RECORD_HELP = (f"The used share of the team's last {outcomes.TRACK_RECORD_SIZE} answered "
                     "follow-ups (answered within a year; \u201cnot used yet\u201d counts as not "
                     "used).")


@dataclass(frozen=True)
class TrackRecordLine:
    """A team's track record as triage shows it: a line, and what it does to the score."""

    team_id: int
    record: priority.TrackRecord
    text: str  # "Marketing used 6 of its last 8 deliveries (75%)"
    weight: str  # what it does to the priority score; "" while it is not part of the score
    help: str = TRACK_RECORD_HELP


def track_record_line(team, record, values):
    """The line of ``team``'s ``record`` (a priority.TrackRecord), with what it does to the
    priority score when the settings ``values`` weigh it."""
    text = (f"{team.name} {record.text}" if record.answered
            else "No follow-up answered yet")
    weight = ""
    if values.get("track_record_in_priority"):
        if record.answered < priority.TRACK_RECORD_MIN_ANSWERS:
            weight = "too few answers to weigh in the score yet"
        else:
            weight = f"priority score \u00d7 {record.factor:.2f}"
    return TrackRecordLine(team_id=team.id, record=record, text=text, weight=weight)


def track_record_lines(requests, now, values):
    """{team id: TrackRecordLine} of the teams of ``requests`` (their ``team`` loaded): one SQL
    statement whatever their number, none without requests."""
    teams = {req.team_id: req.team for req in requests}
    records = outcomes.track_records(teams, now)
    return {team_id: track_record_line(teams[team_id], record, values)
            for team_id, record in records.items()}


# --- Changing the kind ------------------------------------------------------------------------

def change_kind(request, actor, kind, now, expected_version=None, note=""):
    """Change ``request``'s kind (an ad-hoc ask that is really a project) and record an 'edit'
    event with data {"changes": {"kind": [old, new]}} and ``note`` as its text; return it.

    Leaving ad-hoc gives the request's place in the weekly budget back; becoming ad-hoc takes
    one without waitlisting it (budget.kind_changed). Raises ConcurrentChange when the request
    changed since ``expected_version``, InvalidTransition once it is delivered or closed,
    NotAllowed for anyone else than its triaging analysts and leads, and MissingInput("kind")
    for an unknown or unchanged kind.
    """
    check_version(request, expected_version)
    if request.state not in OPEN_STATES:
        raise InvalidTransition(
            f"This request is now {request.state_label.lower()}, so its kind can no longer "
            "change. Nothing was changed.")
    if not allowed(actor, "change_kind", request):
        raise NotAllowed("You may not change the kind of this request.")
    if kind not in KINDS:
        raise MissingInput("kind", "Choose the kind of request.")
    if kind == request.kind:
        raise MissingInput("kind", f"It is already {KINDS[kind][0].lower()}: choose another kind.")
    values = settings.current()  # read before any change: a query autoflushes
    old_kind = request.kind
    request.kind = kind
    request.updated_at = now
    event = Event(request=request, actor=actor, kind="edit", text=(note or "").strip(),
                  data={"changes": {"kind": [old_kind, kind]}}, created_at=now)
    db.session.add(event)
    flush_or_conflict(request)
    budget.kind_changed(request, old_kind, now, values)
    sla_clocks.refresh(request, now)
    return event


def detail_context(request, user, now, values=None):
    """What the request page shows of triage: whether ``user`` may change the kind, why a
    waitlisted request waits (the last waitlist note; the events are loaded), its neighbours
    for those who triage it (``reuse.neighbours``: possible duplicates, and what already
    answers it), and for analysts and leads its team's track record (one SQL statement; the
    request's team is loaded)."""
    waitlist_reason = ""
    if request.state == "waitlisted":
        notes = [e.text for e in request.events if e.kind == "transition" and e.action == "waitlist"]
        waitlist_reason = notes[-1] if notes else ""
    track_record = None
    if allowed(user, "triage"):
        values = values if values is not None else settings.current()
        track_record = track_record_lines([request], now, values)[request.team_id]
    return {"can_change_kind": allowed(user, "change_kind", request),
            "waitlist_reason": waitlist_reason, "neighbours": reuse.neighbours(request, user),
            "track_record": track_record}



def submitted_message(request):
    """What the requester is told right after submitting: who triages it, or why it waits."""
    team = request.team.name
    if request.state == "waitlisted":
        return (f"Request #{request.id} is submitted, but {team} has used its ad-hoc budget for "
                "this week, so it is waitlisted: a lead can approve it now; otherwise it is "
                "released in priority order when next week's budget starts.")
    if request.is_central:
        return (f"Request #{request.id} is submitted. {team} has no embedded analyst, so the "
                "central data team will triage it.")
    return f"Request #{request.id} is submitted. The team's analysts will triage it."
