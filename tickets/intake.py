"""Submitting a request, editing its content, and commenting: everything but its state.

Each function changes the session and flushes; the caller commits. Every change writes an event.
"""
from . import clocks, limits, settings, triage
from .extensions import db
from .lifecycle import ConcurrentChange, flush_or_conflict, record_created
from .models import FORMATS, IMPACTS, KINDS, Event, Request, Team, Watcher, utcnow

# The intake fields a requester fills in, in form order: what edits may change and record.
INTAKE_FIELDS = (
    "title", "team_id", "data_needed", "format", "usage", "lever_result",
    "lever_expected_shape", "lever_extraction", "lever_decision", "deadline", "kind",
    "business_impact", "is_exec_sponsored", "exec_sponsor", "is_confidential",
)


def _today(now, today):
    return today if today is not None else limits.local_date(now)


def submit_request(requester, fields, watchers=(), now=None, today=None):
    """Create a request from intake ``fields`` (a dict of INTAKE_FIELDS) and its 'created' event.

    ``today`` (default: the date of ``now`` in the settings' timezone) decides whether the
    deadline is short notice (limits.is_short_notice).

    The request goes to its team's triage queue, or to the central one when the team has no
    embedded analyst (recorded in the created event's data as {"routed": "team"|"central"}).
    An ad-hoc request takes a place in its team's weekly budget, or is waitlisted when the budget
    is used up (limits.admit).
    """
    now = now or utcnow()
    if fields["kind"] == "ad_hoc":
        # Lock the team before inserting: the insert takes a key-share lock on the team's row,
        # and two submissions holding that and then both asking for the row lock would deadlock.
        limits.lock_team(fields["team_id"])
    routed = triage.route(fields["team_id"])
    request = Request(requester=requester, state="submitted", created_at=now, updated_at=now,
                      is_short_notice=limits.is_short_notice(fields["deadline"],
                                                             _today(now, today)),
                      is_central=routed == "central",
                      **{name: fields[name] for name in INTAKE_FIELDS})
    request.watchers = [Watcher(email=email) for email in watchers]
    db.session.add(request)
    record_created(request, requester, now, data={"routed": routed})
    db.session.flush()
    limits.admit(request, now)
    clocks.refresh(request, now)
    return request


def edit_request(request, actor, fields, watchers=None, now=None, expected_version=None,
                 today=None):
    """Apply changed intake ``fields`` and record one 'edit' event listing old and new values.

    A changed deadline recomputes the short-notice flag from ``today`` (default: the date of
    ``now`` in the settings' timezone); an unchanged one keeps it, as the notice given then.
    A changed team routes the request again; a changed kind moves it in or out of the ad-hoc
    budget (limits.kind_changed). Return the event, or None when nothing changed.
    """
    now = now or utcnow()
    values = settings.current()
    old_kind = request.kind
    if expected_version is not None and expected_version != request.version:
        raise ConcurrentChange(
            "Someone else changed this request while you were editing it. "
            "Your changes were not saved; here is the current version, with your text kept below.")
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
        request.is_short_notice = limits.is_short_notice(
            request.deadline, today if today is not None else limits.local_date(now, values),
            values)
    if "team" in changes:
        with db.session.no_autoflush:  # one UPDATE, checked by flush_or_conflict
            request.is_central = triage.route(request.team_id) == "central"
    request.updated_at = now
    event = Event(request=request, actor=actor, kind="edit", text="", data={"changes": changes},
                  created_at=now)
    db.session.add(event)
    flush_or_conflict(request)
    if "kind" in changes:
        limits.kind_changed(request, old_kind, now, values)
    clocks.refresh(request, now)
    return event


def add_comment(request, actor, text, now=None):
    """Add a comment to the request's timeline."""
    now = now or utcnow()
    event = Event(request=request, actor=actor, kind="comment", text=text.strip(), data={},
                  created_at=now)
    db.session.add(event)
    db.session.flush()
    clocks.refresh(request, now)
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
