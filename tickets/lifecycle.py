"""The request lifecycle of DESIGN.md as one table, and the only code that changes a state.

Every transition checks who may take it from the request's current state, changes the request
and writes its immutable event in the caller's transaction (this module flushes, the caller
commits), then announces it (``signals.request_transitioned``) for the rules that react. A
request's ``version`` column makes each change conditional on nobody else having changed the
request since it was read, so two people racing resolve to exactly one winner.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm.exc import StaleDataError

from . import localtime, signals, wip
from .errors import CHANGED_MEANWHILE, Refusal
from .extensions import db
from .models import (CLOSED_STATES, DECLINE_REASONS, IMPACTS, OPEN_STATES, SIZES,
                     STATE_EVENT_KINDS, STATES, Event, Watcher, utcnow)
from .policy import WORKER_ROLES, allowed

@dataclass(frozen=True)
class Transition:
    """One row of the lifecycle table: everything a transition is, in one place.

    Adding a transition is adding a row (and, if it needs inputs no form asks for yet, a form
    for its ``form`` key in the view layer's ``forms.transitions.FORMS_BY_KEY``).
    """

    name: str
    label: str  # the action's button, and how error messages name it
    sources: frozenset
    target: str | None  # None: back to the state the request was in before (answer)
    actors: frozenset  # who: relations of policy.relations (requester, team_analyst, ...)
    # inputs: note, size, url, reason, original, assignee; "priority" (business impact and exec
    # sponsor) is optional: None keeps the requester's values.
    needs: tuple = field(default=())
    style: str = "secondary"
    help: str = ""
    # False: taken by another operation (an edit) or by the system, never offered on the page.
    is_action: bool = True
    done: str = ""  # what the timeline says the actor did: "<name> accepted the request"
    # What the actor is told once it is done; ``{request...}`` fields are filled in.
    done_message: str = "Done."
    # The notification it sends: (kind of models.NOTIFICATIONS, the audiences told, a tuple of
    # notifications.AUDIENCES: "requester", "followers" (who watches it), "assignee", "asker"
    # (the analyst who asked the question answered, else the assignee)).
    notify: tuple | None = None
    form: str | None = None  # which form asks for its inputs (forms.transitions.FORMS_BY_KEY)


# What concerns the requester concerns whoever follows the request with them (its watchers).
TOLD_LIKE_THE_REQUESTER = ("requester", "followers")

TRANSITIONS = {
    t.name: t
    for t in [
        Transition("accept", "Accept", frozenset({"submitted"}), "accepted",
                   frozenset({"team_analyst", "lead"}), ("size", "priority"), "primary",
                   "Take it into the team's backlog, with a size estimate.",
                   done="accepted the request", done_message="Accepted into the backlog.",
                   notify=("accepted", TOLD_LIKE_THE_REQUESTER), form="accept"),
        Transition("waitlist", "Waitlist", frozenset({"submitted"}), "waitlisted",
                   frozenset({"system"}), ("note",), is_action=False,
                   done="waitlisted the request",
                   notify=("waitlisted", TOLD_LIKE_THE_REQUESTER)),
        Transition("approve", "Approve over budget", frozenset({"waitlisted"}), "accepted",
                   frozenset({"lead"}), ("size", "priority"), "primary",
                   "Accept it although the team's ad-hoc budget is used up.",
                   done="approved the request over budget",
                   done_message="Approved over budget and accepted.",
                   notify=("accepted", TOLD_LIKE_THE_REQUESTER), form="accept"),
        # DESIGN.md says a released request is accepted; but nobody sized it or set its
        # priority inputs, so it goes back to submitted, to be triaged like any new request.
        Transition("release", "Release", frozenset({"waitlisted"}), "submitted",
                   frozenset({"system"}), is_action=False,
                   done="released the request from the waitlist",
                   notify=("released", TOLD_LIKE_THE_REQUESTER)),
        Transition("ask", "Ask for info", frozenset({"submitted", "accepted"}), "needs_info",
                   frozenset({"team_analyst", "lead"}), ("note",), "outline-primary",
                   "Ask the requester a question; the SLA clock pauses until they answer.",
                   done="asked for more information",
                   done_message="Your question is sent to the requester.",
                   notify=("question", TOLD_LIKE_THE_REQUESTER), form="ask"),
        Transition("answer", "Answer", frozenset({"needs_info"}), None,
                   frozenset({"requester"}), ("note",), "primary",
                   "Answer the data team's question so work can go on.", done="answered",
                   done_message="Thank you: your answer is sent to the data team.",
                   notify=("answered", ("asker",)), form="answer"),
        Transition("claim", "Claim", frozenset({"accepted"}), "in_progress",
                   frozenset({"team_analyst", "lead"}), (), "primary",
                   "Start working on it yourself.", done="claimed the request",
                   done_message="You are working on it now.", form="plain"),
        Transition("assign", "Assign", frozenset({"accepted"}), "in_progress",
                   frozenset({"lead"}), ("assignee",), "outline-primary",
                   "Give it to an analyst, who starts working on it.",
                   done="assigned the request",
                   done_message="Assigned to {request.assignee.name}; they are working on it "
                                "now.",
                   notify=("assigned", ("assignee",)), form="assign"),
        Transition("block", "Mark blocked", frozenset({"in_progress"}), "blocked",
                   frozenset({"assignee", "lead"}), ("note",), "outline-warning",
                   "Something outside your control stops the work; say what.",
                   done="marked the request blocked", done_message="Marked blocked.",
                   form="block"),
        Transition("unblock", "Unblock", frozenset({"blocked"}), "in_progress",
                   frozenset({"assignee", "lead"}), (), "outline-primary",
                   done="unblocked the request", done_message="Back in progress.",
                   form="plain"),
        Transition("unclaim", "Unclaim", frozenset({"in_progress"}), "accepted",
                   frozenset({"assignee", "lead"}), (), "outline-secondary",
                   "Put it back in the team's backlog for someone else.",
                   done="put the request back in the backlog",
                   done_message="Put back in the team's backlog.", form="plain"),
        Transition("deliver", "Deliver", frozenset({"in_progress"}), "delivered",
                   frozenset({"assignee", "lead"}), ("url", "note"), "success",
                   "Hand over the result: a link to it and a note on how to read it.",
                   done="delivered",
                   done_message="Delivered. The requester is asked to confirm.",
                   notify=("delivered", TOLD_LIKE_THE_REQUESTER), form="deliver"),
        Transition("confirm", "Confirm delivery", frozenset({"delivered"}), "resolved",
                   frozenset({"requester"}), (), "success",
                   "It answers what you asked: close the request.",
                   done="confirmed the delivery",
                   done_message="Thank you: the request is resolved.", form="confirm"),
        Transition("auto_resolve", "Resolve automatically", frozenset({"delivered"}), "resolved",
                   frozenset({"system"}), ("note",), is_action=False,
                   done="resolved the request (no answer after delivery)"),
        Transition("reopen", "Reopen", frozenset({"delivered"}), "in_progress",
                   frozenset({"requester"}), ("note",), "outline-warning",
                   "The delivery does not answer the request; say what is missing.",
                   done="reopened the request",
                   done_message="Reopened: the analyst will look at what is missing.",
                   notify=("reopened", ("assignee",)), form="reopen"),
        Transition("decline", "Decline", OPEN_STATES, "declined",
                   frozenset({"team_analyst", "lead"}), ("reason", "note"), "outline-danger",
                   "Close it without doing it, with a reason the requester will see.",
                   done="declined the request",
                   done_message="Declined; the requester sees your explanation.",
                   notify=("declined", TOLD_LIKE_THE_REQUESTER), form="decline"),
        Transition("mark_duplicate", "Mark duplicate", OPEN_STATES, "duplicate",
                   frozenset({"team_analyst", "lead"}), ("original",), "outline-secondary",
                   "Another request asks for the same; its requester and watchers follow that one.",
                   done="marked the request as a duplicate",
                   done_message="Marked as a duplicate of #{request.duplicate_of_id}.",
                   form="duplicate"),
        Transition("cancel", "Cancel", OPEN_STATES, "cancelled",
                   frozenset({"requester", "lead"}), (), "outline-danger",
                   "Withdraw the request: it is no longer needed.",
                   done="cancelled the request", done_message="The request is cancelled.",
                   form="optional_note"),
        # A requester's edit of a field triage decided on (intake.AFTER_TRIAGE, "requeue"):
        # the triage no longer holds, so it is triaged again, by its (new) team. The caller
        # checks the ad-hoc budget again (budget.readmit).
        Transition("retriage", "Back to triage", frozenset({"accepted", "needs_info"}),
                   "submitted", frozenset({"requester"}), ("note",), is_action=False,
                   done="sent the request back to triage"),
    ]
}

# How the timeline says what each transition did (templates read it as DONE).
DONE = {name: t.done for name, t in TRANSITIONS.items()}


def done_message(t, request):
    """What the actor is told once transition ``t`` is done on ``request``."""
    return t.done_message.format(request=request)


class TransitionError(Refusal):
    """A transition that cannot be taken; ``str(error)`` is a message for the user."""


class NotAllowed(TransitionError):
    """The actor may not take this transition on this request (403)."""

    status = 403


class InvalidTransition(TransitionError):
    """The transition does not apply from the request's current state (409)."""

    status = 409


class MissingInput(TransitionError):
    """A required input is missing or wrong; ``field`` names it (400)."""

    def __init__(self, field, message):
        super().__init__(message, field)


class ConcurrentChange(TransitionError):
    """Someone else changed the request after it was read (409)."""

    status = 409


class LimitReached(TransitionError):
    """The analyst who would take the request is at their WIP limit (409)."""

    status = 409


def may_take(transition, request, user):
    """Tell whether ``user`` may take ``transition`` on ``request`` in its current state."""
    return request.state in transition.sources and allowed(user, transition, request)


def check_possible(request, t):
    """Raise InvalidTransition when transition ``t`` does not apply to ``request``'s current
    state (a page that offered it is out of date)."""
    if request.state not in t.sources:
        raise InvalidTransition(
            f"This request is now {request.state_label.lower()}, so \u201c{t.label}\u201d is no "
            "longer possible. Nothing was changed."
        )


def available_transitions(request, user):
    """Return the actions ``user`` may take on ``request`` now, in table order."""
    return [t for t in TRANSITIONS.values() if t.is_action and may_take(t, request, user)]


def transition(request, name, actor, now=None, *, note="", size=None, url=None, reason=None,
               original=None, rating=None, assignee=None, expected_version=None, impact=None,
               is_exec_sponsored=None, exec_sponsor=None, asset_id=None, answer=None,
               know_by=None, mentioned=()):
    """Move ``request`` by the transition ``name`` and record its event; return the event.

    ``actor`` is a User, or None for the system. ``expected_version`` is the version the actor
    saw; if the request changed since, nothing happens and ConcurrentChange is raised.
    ``impact``, ``is_exec_sponsored`` and ``exec_sponsor`` are the priority inputs of accept and
    approve (None keeps the request's value); the event records [old, new] of those changed.
    ``claim`` and ``assign`` are refused with LimitReached when the analyst who would work on
    the request is at their WIP limit (see ``wip``); on LimitReached the caller rolls back.
    ``asset_id`` (deliver: the catalogue asset delivered) and ``answer`` (a self-serve decline:
    {"kind": "asset" or "request", "id": ...}, what answers it) are recorded on the event; the
    catalogue and the gaps are ``reuse``'s work, in the same transaction. ``know_by`` (confirm:
    the day the requester will know whether the data was used) is recorded on the event, for
    ``outcomes`` to schedule the follow-up on. ``mentioned`` are the people the note mentions
    (``conversation.resolve_mentions``: a requester's reply), recorded on the event
    (``mention_records``) for its timeline and notifications.
    Once the change is flushed it is announced (``signals.request_transitioned``): the SLA
    clocks, notifications and the ad-hoc budget react to it.
    """
    now = now or utcnow()
    t = TRANSITIONS.get(name)
    if t is None:
        raise InvalidTransition(f"There is no action called {name!r}.")
    check_version(request, expected_version)
    check_possible(request, t)
    if not allowed(actor, t, request):
        raise NotAllowed(f"You may not {t.label.lower()} this request.")

    note = (note or "").strip()
    data = {}
    worker = None  # who will work on the request: its WIP limit applies
    if name == "claim":
        worker = actor
    elif "assignee" in t.needs:
        _check_assignee(request, assignee, actor)
        worker = assignee
        data["assignee_id"] = assignee.id
        data["assignee_name"] = assignee.name
    if worker is not None:
        # Before any change to the request: this locks the worker's row and queries, and a
        # query autoflushes.
        _refuse_over_limit(wip.check_wip(worker, actor))
    if url:
        check_url(url)
    if rating is not None and (name != "confirm" or rating not in range(1, 6)):
        # Only the requester rates the outcome, when confirming, on the 1-5 scale.
        raise MissingInput("rating", "Choose a rating from 1 to 5 when confirming the delivery.")
    if know_by is not None:
        data["know_by"] = check_know_by(know_by, name, now).isoformat()
    if "note" in t.needs and not note:
        raise MissingInput("note", "Please write a few words: this step needs an explanation.")
    if "size" in t.needs:
        if size not in SIZES:
            raise MissingInput("size", "Choose a size estimate.")
        data["size"] = [request.size, size]
        request.size = size
    if "url" in t.needs:
        check_url(url)
        request.delivered_url = url
        data["url"] = url
        if asset_id is not None:
            data["asset_id"] = asset_id
    if "reason" in t.needs:
        if reason not in DECLINE_REASONS:
            raise MissingInput("reason", "Choose why the request is declined.")
        if reason == "self_serve" and not url:
            raise MissingInput("url", "Link to the existing dashboard or dataset that answers it.")
        request.decline_reason = reason
        data["reason"] = reason
        if url:
            request.delivered_url = url
            data["url"] = url
        if answer is not None and reason == "self_serve":
            data["answer"] = {"kind": answer["kind"], "id": answer["id"]}
    if "original" in t.needs:
        _check_original(request, original)
        # Move the followers before changing the request: their lazy loads autoflush, and a
        # flush here would bump the version twice and escape flush_or_conflict on a lost race.
        _move_watchers(request, original)
        request.duplicate_of = original
        data["original_id"] = original.id
    if rating is not None:
        request.rating = rating
        data["rating"] = rating
    if mentioned:
        data["mentions"] = mention_records(mentioned)
    if "priority" in t.needs:
        data.update(_set_priority(request, impact, is_exec_sponsored, exec_sponsor))

    from_state = request.state
    to_state = t.target or request.resume_state or "submitted"
    if to_state == "needs_info":
        request.resume_state = from_state
    elif from_state == "needs_info":
        request.resume_state = None
    if worker is not None:
        request.assignee = worker
    elif name in ("unclaim", "retriage"):
        request.assignee = None
    if name == "retriage" and request.rank_override is not None:
        # A lead placed it in the queue it leaves; its new triage decides its place.
        data["rank_override"] = [request.rank_override, None]
        request.rank_override = None
    if name == "waitlist":
        request.budget_counted_at = None  # a waitlisted request holds no place in the budget
    elif name in ("approve", "release"):
        request.budget_counted_at = now  # it takes a place in this week's budget
    request.state = to_state
    request.updated_at = now
    request.closed_at = now if to_state in CLOSED_STATES else None

    event = Event(request=request, actor=actor, kind="transition", action=name,
                  from_state=from_state, to_state=to_state, text=note, data=data,
                  created_at=now)
    db.session.add(event)
    flush_or_conflict(request)
    if worker is not None:
        _refuse_over_limit(wip.recheck_wip(worker, actor))
    signals.request_transitioned.send(request, event=event, now=now)
    return event


def mention_records(people):
    """The mentions of a comment or a note as its event keeps them: each person's id, and
    their name and e-mail address as they were (the text mentions one or the other)."""
    return [{"id": person.id, "name": person.name, "email": person.email} for person in people]


def check_url(url):
    """Refuse a missing delivery link, or one that is not a full http(s) address under 500
    characters (MissingInput on "url")."""
    if not url:
        raise MissingInput("url", "Give the link to what you delivered.")
    if len(url) > 500:
        raise MissingInput("url", "Keep the link under 500 characters.")
    if not url.lower().startswith(("http://", "https://")):
        raise MissingInput("url", "Enter a full link starting with https://")


KNOW_BY_MAX_DAYS = 366


def check_know_by(know_by, name, now):
    """Refuse a "will know by" day unless confirming, and one not after today or more than a
    year ahead (MissingInput on "know_by"); return the day."""
    if name != "confirm" or not isinstance(know_by, date) or isinstance(know_by, datetime):
        raise MissingInput("know_by", "Give the day you will know whether the data was used.")
    today = localtime.local_today(now)
    if know_by <= today:
        raise MissingInput("know_by", "Choose a day after today.")
    if know_by > today + timedelta(days=KNOW_BY_MAX_DAYS):
        raise MissingInput("know_by", "Choose a day within a year.")
    return know_by


def _refuse_over_limit(problem):
    """Raise LimitReached with ``problem``, the WIP check's refusal (None: no refusal)."""
    if problem:
        raise LimitReached(problem)


def auto_resolve_due(now, settings_values=None):
    """Resolve the deliveries nobody confirmed or reopened within ``auto_resolve_days``;
    return the requests resolved (a scheduled job; the caller commits)."""
    from . import settings
    from .models import Request

    days = (settings_values or settings.current())["auto_resolve_days"]
    due = db.session.scalars(
        db.select(Request).where(Request.state == "delivered",
                                 Request.delivered_at <= now - timedelta(days=days))
        .order_by(Request.id)).all()
    note = (f"Nobody confirmed or reopened the delivery within {days} days, so it is resolved. "
            "Reopening is no longer possible; submit a new request if something is missing.")
    for request in due:
        transition(request, "auto_resolve", None, now, note=note)
    return due


def _set_priority(request, impact, is_exec_sponsored, exec_sponsor):
    """Apply the priority inputs given at triage; return {field: [old, new]} of those changed."""
    if impact is not None and impact not in IMPACTS:
        raise MissingInput("business_impact", "Choose the business impact.")
    if is_exec_sponsored is None:
        is_exec_sponsored = request.is_exec_sponsored
    if exec_sponsor is None:
        exec_sponsor = request.exec_sponsor
    exec_sponsor = (exec_sponsor or "").strip() if is_exec_sponsored else ""
    if is_exec_sponsored and not exec_sponsor:
        raise MissingInput("exec_sponsor", "Name the executive who sponsors it.")
    if len(exec_sponsor) > 120:
        raise MissingInput("exec_sponsor", "Keep the name under 120 characters.")
    changes = {}
    for field_name, key, new in (("business_impact", "impact", impact),
                                 ("is_exec_sponsored", "is_exec_sponsored", is_exec_sponsored),
                                 ("exec_sponsor", "exec_sponsor", exec_sponsor)):
        old = getattr(request, field_name)
        if new is not None and new != old:
            setattr(request, field_name, new)
            changes[key] = [old, new]
    return changes


def check_version(request, expected_version, message=None):
    """Raise ConcurrentChange when ``request`` changed since the version the person saw
    (``expected_version``; None checks nothing). ``message`` says what to do next; by default,
    review the request in its current state."""
    if expected_version is not None and expected_version != request.version:
        raise ConcurrentChange(message or (
            "Someone else changed this request while you were looking at it "
            f"(it is now {request.state_label.lower()}). Nothing was changed; review it and try again."))


def flush_or_conflict(request):
    """Flush pending changes; turn a lost race on ``request`` into ConcurrentChange."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ConcurrentChange(CHANGED_MEANWHILE) from error


def _check_assignee(request, assignee, actor):
    """The person a request is assigned to: an active analyst or lead (of its team, unless a
    lead chooses)."""
    if assignee is None:
        raise MissingInput("assignee", "Choose who works on the request.")
    if not assignee.is_active or assignee.role not in WORKER_ROLES:
        raise MissingInput("assignee", f"{assignee.name} cannot work on requests: choose an "
                                       "active analyst or lead.")
    if (actor is None or actor.role != "lead") and request.team_id not in assignee.team_ids:
        raise MissingInput("assignee", f"{assignee.name} does not serve this request's team.")


def _check_original(request, original):
    if original is None:
        raise MissingInput("original", "Give the number of the original request.")
    if original.id == request.id:
        raise MissingInput("original", "A request cannot be a duplicate of itself.")
    seen = set()
    cursor = original
    while cursor is not None and cursor.id not in seen:
        if cursor.state == "duplicate":
            raise MissingInput(
                "original", f"Request #{cursor.id} is itself a duplicate; point at the original."
            )
        seen.add(cursor.id)
        cursor = cursor.duplicate_of


def _move_watchers(duplicate, original):
    """The duplicate's requester and watchers follow the original from now on."""
    following = set(original.watcher_emails) | {original.requester.email}
    for email in [duplicate.requester.email, *duplicate.watcher_emails]:
        if email not in following:
            original.watchers.append(Watcher(email=email))
            following.add(email)


# What happens next, in the requester's words, for each state (shown on the request page).
NEXT_STEP = {
    "submitted": "The team's analysts will triage it: accept it with a size estimate, ask you a "
                 "question, or point you to something that already answers it.",
    "needs_info": "The data team is waiting for your answer to their question.",
    "waitlisted": "The team's ad-hoc budget for this week is used up, so it waits: a lead may "
                  "approve it now; otherwise it goes to triage, in priority order, as soon as "
                  "a place in the budget is free (at the latest when next week's budget starts).",
    "accepted": "It is in the team's backlog, worked in priority order.",
    "in_progress": "An analyst is working on it.",
    "blocked": "Work is paused until the blocker on the timeline is resolved.",
    "delivered": "The result is ready: check it, then confirm it or reopen the request.",
    "resolved": "Done. The result stays linked here for anyone who needs it again.",
    "declined": "The data team will not do this request; the reason is on the timeline.",
    "duplicate": "Another request asks for the same thing; follow that one instead.",
    "cancelled": "The request was withdrawn.",
}


def record_created(request, actor, now=None, data=None):
    """Write the 'created' event of a new request (``data``: e.g. where it was routed)."""
    now = now or utcnow()
    event = Event(request=request, actor=actor, kind="created", to_state=request.state,
                  created_at=now, data=dict(data or {}))
    db.session.add(event)
    return event


@dataclass(frozen=True)
class ImportedState:
    """Where a request imported from a spreadsheet stands: the values of its state columns
    (``columns``) and of its one "imported" event (``event``: to_state, created_at, data)."""

    columns: dict
    event: dict


def import_state(state, created_at, delivered_at=None, closed_at=None):
    """The state of a request imported in ``state`` (tickets/imports.py), created at
    ``created_at`` and, from its file, delivered at ``delivered_at`` and resolved or closed at
    ``closed_at`` (aware datetimes or None): the one way an import sets a state.

    A delivered or resolved request is delivered at ``delivered_at`` (else when it closed, else
    when it was created), a closed one closed at ``closed_at`` (else when it was delivered or
    created), so the reports count it on those days. Dates that contradict the state or each
    other raise MissingInput on their field. The event that records it is dated ``created_at``
    and names the state the file gave.
    """
    if state not in STATES:
        raise MissingInput("state", f"\u201c{state}\u201d is not a state")
    label = STATES[state].lower()
    if delivered_at is not None and state not in ("delivered", "resolved"):
        raise MissingInput("delivered_at", f"a request {label} was not delivered; leave the "
                                           "date empty or give its state")
    if closed_at is not None and state not in CLOSED_STATES:
        raise MissingInput("closed_at", f"a request {label} is not closed; leave the date "
                                        "empty or give its state")
    for name, at in (("delivered_at", delivered_at), ("closed_at", closed_at)):
        if at is not None and at < created_at:
            raise MissingInput(name, f"{at:%Y-%m-%d %H:%M} is before the request was created "
                                     f"({created_at:%Y-%m-%d %H:%M})")
    if delivered_at is not None and closed_at is not None and closed_at < delivered_at:
        raise MissingInput("closed_at", f"{closed_at:%Y-%m-%d %H:%M} is before its delivery "
                                        f"({delivered_at:%Y-%m-%d %H:%M})")
    if state in ("delivered", "resolved") and delivered_at is None:
        delivered_at = closed_at or created_at
    if state in CLOSED_STATES and closed_at is None:
        closed_at = delivered_at or created_at
    columns = {"state": state, "resume_state": "submitted" if state == "needs_info" else None,
               "created_at": created_at, "delivered_at": delivered_at, "closed_at": closed_at,
               "updated_at": max(at for at in (created_at, delivered_at, closed_at) if at)}
    data = {name: at.isoformat() for name, at in (("delivered_at", delivered_at),
                                                  ("closed_at", closed_at)) if at is not None}
    return ImportedState(columns, {"to_state": state, "created_at": created_at, "data": data})


def replay_state(events):
    """Return the state that a request's events lead to (history is the source of truth)."""
    state = None
    for event in events:
        if event.kind in STATE_EVENT_KINDS:
            state = event.to_state
    return state
