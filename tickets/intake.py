"""Submitting a request, editing its content, and commenting: everything but its state.

Each function changes the session and flushes; the caller commits. Every change writes an event.
"""
from dataclasses import dataclass
from typing import Callable

from . import budget, deflections, lead_time, lifecycle, localtime, settings, signals, sla_clocks, triage
from .errors import Refusal
from .extensions import db
from .lifecycle import flush_or_conflict, record_created
from .models import FORMATS, IMPACTS, KINDS, Event, Request, Team, Watcher, utcnow
from .policy import allowed

# The intake fields a requester fills in, in form order: what edits may change and record.
INTAKE_FIELDS = (
    "title", "team_id", "data_needed", "format", "usage", "lever_result",
    "lever_expected_shape", "lever_extraction", "lever_decision", "deadline", "kind",
    "business_impact", "is_exec_sponsored", "exec_sponsor", "is_confidential",
)

# --- Fields triage decided on ------------------------------------------------------------------

FREE, REQUEUE, REFUSE = "free", "requeue", "refuse"


@dataclass(frozen=True)
class FieldRule:
    """What a requester's change to one field does once the request is triaged."""

    rule: str  # FREE: saved; REQUEUE: saved, and back to triage; REFUSE: refused
    name: str  # the field in words, as a sentence starts with it
    why: str  # one sentence, for the help page and the edit form
    # Only changes for which applies(old, new) is true follow ``rule``; others are FREE.
    applies: Callable | None = None
    when: str = "Changing it"  # the changes ``applies`` picks, as a sentence starts with them

    def covers(self, old, new):
        """Tell whether changing the field from ``old`` to ``new`` follows this rule."""
        return old != new and (self.applies is None or self.applies(old, new))


def _brought_forward(old, new):
    """A deadline set where there was none, or moved earlier: the team must say if it can."""
    return new is not None and (old is None or new < old)


_WORDING = "Your own words: they refine the request without changing what triage decided."

# After triage (``is_triaged``), what a requester's change to each field does: the one table
# ``edit_request``, the edit form and the help page read. Those who triage the request (its
# team's analysts, leads) change every field freely, and so does everyone before triage.
AFTER_TRIAGE = {
    "title": FieldRule(FREE, "Title", _WORDING),
    "team_id": FieldRule(REQUEUE, "Team", (
        "The new team's analysts triage it, and it moves from one team's ad-hoc budget to "
        "the other's (it may wait if that budget is used up).")),
    "data_needed": FieldRule(FREE, "What data is needed", _WORDING),
    "format": FieldRule(FREE, "Format", _WORDING),
    "usage": FieldRule(FREE, "How it will be used", _WORDING),
    "lever_result": FieldRule(FREE, "Result influenced", _WORDING),
    "lever_expected_shape": FieldRule(FREE, "Expected shape", _WORDING),
    "lever_extraction": FieldRule(FREE, "How answers are read", _WORDING),
    "lever_decision": FieldRule(FREE, "Decision or action", _WORDING),
    "deadline": FieldRule(REQUEUE, "Deadline", (
        "An earlier date raises the priority and may not fit the team's plan, so the team "
        "looks at it again. A later date, or no hard deadline, is saved as it is."),
        applies=_brought_forward,
        when="Bringing it forward (or setting one where there was none)"),
    "kind": FieldRule(REQUEUE, "Kind", (
        "Ad-hoc requests count against the team's weekly budget and other kinds do not, so "
        "the team looks at it again and its budget is checked again.")),
    "business_impact": FieldRule(REFUSE, "Business impact", (
        "The analyst confirmed it at triage, and it weighs most in the priority score.")),
    "is_exec_sponsored": FieldRule(REFUSE, "Exec sponsorship", (
        "The analyst confirmed it at triage, and it adds to the priority score.")),
    "exec_sponsor": FieldRule(REFUSE, "The executive sponsor", (
        "The analyst confirmed it at triage, with the sponsorship.")),
    "is_confidential": FieldRule(FREE, "Confidential", (
        "It decides who sees the request, not its priority, team or budget.")),
    "watchers": FieldRule(FREE, "Watchers", "It decides who is kept informed, nothing else."),
}


class FieldsLocked(Refusal):
    """Changes refused because triage decided those fields; ``messages`` maps each field to
    what its person is told (400, a message on each field)."""

    def __init__(self, messages):
        super().__init__(" ".join(messages.values()))
        self.messages = messages


def is_triaged(request):
    """Tell whether triage has decided on ``request``: it is accepted, or waits on the
    requester's answer to a question asked once it was accepted."""
    return request.state == "accepted" or (
        request.state == "needs_info" and request.resume_state == "accepted")


def edit_rules(request, user):
    """Return {field: FieldRule} of the fields ``user`` may not change freely on ``request``
    now: the REQUEUE and REFUSE rows of AFTER_TRIAGE for a requester of a triaged request,
    nothing for its triaging analysts and leads, nor before triage."""
    if not is_triaged(request) or allowed(user, "edit_triaged_fields", request):
        return {}
    return {name: rule for name, rule in AFTER_TRIAGE.items() if rule.rule != FREE}


# What a requester's change does under each rule, in the help page's words.
RULE_WORDS = {
    FREE: "Saved; the change is on the request's timeline.",
    REQUEUE: ("Saved, and the request goes back to triage: to its (new) team's triage queue, "
              "unassigned, its ad-hoc budget checked again. The timeline says why."),
    REFUSE: "Locked: ask the data team in a comment if it changed.",
}


def edit_notes(rules):
    """Return {field: what the edit form says under it} for ``rules`` (from ``edit_rules``)."""
    return {name: refusal(rule) if rule.rule == REFUSE
            else f"{rule.when} sends the request back to triage. {rule.why}"
            for name, rule in rules.items()}


def read_only(rules):
    """Return the fields of ``rules`` the edit form shows read-only (REFUSE)."""
    return frozenset(name for name, rule in rules.items() if rule.rule == REFUSE)


def refusal(rule):
    """What a requester is told when a change to ``rule``'s field is refused."""
    return f"{rule.name} was set at triage. Ask the data team in a comment if it changed."


def requeue_note(rules):
    """The note of the retriage event after a change of the fields of ``rules``."""
    names = [rule.name for rule in rules]
    words = " and ".join([names[0], *(name.lower() for name in names[1:])])
    return f"{words} changed by the requester: back to triage"


def submit_request(requester, fields, watchers=(), now=None, today=None):
    """Create a request from intake ``fields`` (a dict of INTAKE_FIELDS) and its 'created' event.

    ``today`` (default: the date of ``now`` in the settings' timezone) decides whether the
    deadline is short notice (lead_time.is_short_notice).

    The request goes to its team's triage queue, or to the central one when the team has no
    embedded analyst (recorded in the created event's data as {"routed": "team"|"central"}).
    An ad-hoc request takes a place in its team's weekly budget, or is waitlisted when the budget
    is used up (budget.admit). The requester's recent deflections it asks again stop counting
    as true ones (deflections.undo_if_resubmitted).
    """
    now = now or utcnow()
    if fields["kind"] == "ad_hoc":
        # Lock the team before inserting: the insert takes a key-share lock on the team's row,
        # and two submissions holding that and then both asking for the row lock would deadlock.
        budget.lock_team(fields["team_id"])
    routed = triage.route(fields["team_id"])
    if today is None:
        today = localtime.local_today(now)
    request = Request(requester=requester, state="submitted", created_at=now, updated_at=now,
                      is_short_notice=lead_time.is_short_notice(fields["deadline"], today),
                      is_central=routed == "central",
                      **{name: fields[name] for name in INTAKE_FIELDS})
    request.watchers = [Watcher(email=email) for email in watchers]
    db.session.add(request)
    record_created(request, requester, now, data={"routed": routed})
    db.session.flush()
    # Announced before the budget may waitlist it, so "created" comes before that transition.
    signals.request_created.send(request, now=now)
    budget.admit(request, now)
    sla_clocks.refresh(request, now)
    deflections.undo_if_resubmitted(request, now)
    return request


def edit_request(request, actor, fields, watchers=None, now=None, expected_version=None,
                 today=None):
    """Apply changed intake ``fields`` and record one 'edit' event listing old and new values.

    A changed deadline recomputes the short-notice flag from ``today`` (default: the date of
    ``now`` in the settings' timezone); an unchanged one keeps it, as the notice given then.
    A changed team routes the request again; a changed kind moves it in or out of the ad-hoc
    budget (budget.kind_changed). Return the event, or None when nothing changed.

    Once the request is triaged, a requester's changes follow AFTER_TRIAGE (``edit_rules``):
    a change of a REFUSE field raises FieldsLocked and changes nothing; a change of a REQUEUE
    field is saved and sends the request back to triage (the ``retriage`` transition, its
    budget checked again by budget.readmit).
    """
    now = now or utcnow()
    values = settings.current()
    old_kind = request.kind
    lifecycle.check_version(
        request, expected_version,
        "Someone else changed this request while you were editing it. "
        "Your changes were not saved; here is the current version, with your text kept below.")
    rules = edit_rules(request, actor)
    touched = {name: rule for name, rule in rules.items()
               if name in fields and rule.covers(getattr(request, name), fields[name])}
    refused = {name: refusal(rule) for name, rule in touched.items() if rule.rule == REFUSE}
    if refused:
        raise FieldsLocked(refused)
    requeued = [rule for rule in touched.values() if rule.rule == REQUEUE]
    old_team = request.team
    held_place = budget.counts_this_week(request, now, values)
    if requeued:
        # Both teams' budgets change: lock them first, in one order (as submissions do).
        for team_id in sorted({request.team_id, fields.get("team_id", request.team_id)}):
            budget.lock_team(team_id)
    changes = {}
    # Lazy loads below must not flush half an edit: one UPDATE, checked by flush_or_conflict.
    with db.session.no_autoflush:
        for name in INTAKE_FIELDS:
            if name not in fields:
                continue
            old, new = getattr(request, name), fields[name]
            if old != new:
                if name == "team_id":
                    changes["team"] = [request.team.name, db.session.get(Team, new).name]
                else:
                    changes[name] = [_jsonable(old), _jsonable(new)]
                setattr(request, name, new)
        if watchers is not None and sorted(watchers) != sorted(request.watcher_emails):
            changes["watchers"] = [request.watcher_emails, sorted(watchers)]
            keep = set(watchers)
            request.watchers = [w for w in request.watchers if w.email in keep] + [
                Watcher(email=email) for email in watchers if email not in request.watcher_emails]
    if not changes:
        return None
    if "deadline" in changes:
        if today is None:
            today = localtime.local_today(now, values)
        request.is_short_notice = lead_time.is_short_notice(request.deadline, today, values)
    if "team" in changes:
        with db.session.no_autoflush:  # one UPDATE, checked by flush_or_conflict
            request.is_central = triage.route(request.team_id) == "central"
    request.updated_at = now
    event = Event(request=request, actor=actor, kind="edit", text="", data={"changes": changes},
                  created_at=now)
    db.session.add(event)
    flush_or_conflict(request)
    if requeued:
        lifecycle.transition(request, "retriage", actor, now, note=requeue_note(requeued))
        budget.readmit(request, old_team, held_place, now, values)
    else:
        if "team" in changes:
            budget.team_changed(old_team, held_place, now, values)
        if "kind" in changes:
            budget.kind_changed(request, old_kind, now, values)
    sla_clocks.refresh(request, now)
    return event


def add_comment(request, actor, text, now=None, mentioned=()):
    """Add a comment to the request's timeline and announce it (signals.comment_added).

    ``mentioned`` are the people it mentions (``conversation.resolve_mentions``: each may see
    the request), recorded on the event for its timeline."""
    now = now or utcnow()
    data = {"mentions": lifecycle.mention_records(mentioned)} if mentioned else {}
    event = Event(request=request, actor=actor, kind="comment", text=text.strip(), data=data,
                  created_at=now)
    db.session.add(event)
    db.session.flush()
    sla_clocks.refresh(request, now)
    signals.comment_added.send(request, event=event, mentioned=tuple(mentioned), now=now)
    return event


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


FIELD_LABELS = {
    "title": "title", "team": "team", "data_needed": "data needed", "format": "format",
    "usage": "usage", "lever_result": "result influenced",
    "lever_expected_shape": "expected shape", "lever_extraction": "how answers are read",
    "lever_decision": "decision or action", "deadline": "deadline", "kind": "kind",
    "business_impact": "business impact", "is_exec_sponsored": "exec sponsored",
    "exec_sponsor": "exec sponsor", "is_confidential": "confidential", "watchers": "watchers",
    "sla_class": "SLA class",
}


def describe_change(name, value):
    """Return an edited field's recorded value in words, for the timeline."""
    if value is None or value == "":
        return "(none)"
    if name == "format":
        return FORMATS.get(value, value)
    if name == "kind":
        return KINDS[value][0] if value in KINDS else value
    if name == "business_impact":
        return IMPACTS[value][0] if value in IMPACTS else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    return str(value)
