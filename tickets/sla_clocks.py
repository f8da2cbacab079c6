"""SLA clocks stored on requests: class, first response, resolution, and at-risk/due instants.

DESIGN.md, SLA: each SLA class has a first-response and a resolution target in business hours
(settings). This module keeps, on each request, what lists and reports need without reading
its events again:

SLA class
    Follows from the priority's cost of delay (``priority.explain(...).cost_of_delay``:
    impact + urgency + sponsor points): **high** from 12 points, **standard** from 6, **low**
    below 6. Examples: Critical impact due within a week (8 + 5) is high; Medium impact due
    within 30 days (4 + 2) is standard; Low impact with no hard deadline (2 + 0) is low.
    Until the request is triaged (accepted: by an analyst, or a lead's approval over budget)
    the class follows every edit and the nearing deadline; the class computed at triage, with
    the priority inputs the analyst set, is then fixed, so the targets the team accepted do
    not move under it. A requester's edit that sends it back to triage (``retriage``) lets it
    follow again until the next acceptance. A lead may set the class (with a reason, an event);
    "follow priority" returns it to the rule, computed at that moment and fixed again.
First response and resolution
    Stored when they happen: ``first_response_at`` / ``first_response_seconds`` once, at the
    first response (``business_hours.first_response_at``); ``delivered_at`` /
    ``resolution_seconds`` at each delivery, a re-delivery after a reopen overwriting them.
    ``started_at``, the first start of work (claim or assignment: cycle time counts from it),
    is kept with them.
    Seconds are business seconds from submission with pauses excluded, in the calendar of the
    moment they happen (a later change of business hours does not rewrite them).
At-risk and due instants
    ``sla_at_risk_at`` and ``sla_due_at`` are the UTC instants at which the running clock
    reaches 75% of its target and the target, so SQL can select by status
    (``status_condition``). The running clock is first response until someone responds, then
    resolution: both clocks count the same working time until the response, and the first
    response target is the shorter (settings require it), so it is always the worse one.
    A clock is **breached** once its due instant has passed (a target used up at Friday's
    closing is late over the weekend), **at risk** from the at-risk instant, **on track**
    before it.
Frozen clocks
    While paused (``needs_info``, ``waitlisted``) nothing runs, so the instants are stored
    relative to two fixed epochs that every real ``now`` lies between: a target not reached
    yet is stored as ``FROZEN_FUTURE`` + the business seconds left, a target already passed
    as ``FROZEN_PAST`` + the (negative) seconds left. The comparisons of ``status_condition``
    then still give the status the clock had when it paused, and ``status`` reads the frozen
    time left back without a query. Delivered and closed requests store None (stopped).
"""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, bindparam
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from . import business_hours, lifecycle, localtime, priority, settings, signals
from .errors import Refusal
from .extensions import db
from .models import (CLOSED_STATES, OPEN_STATES, PAUSED_STATES, SLA_CLASSES, START_ACTIONS,
                     STATE_EVENT_KINDS, STATES, Event, Request)
from .policy import allowed

# Cost-of-delay points (impact + urgency + sponsor) from which a request gets each class.
HIGH_FROM = 12
STANDARD_FROM = 6
# A running clock is at risk once it has used this share of its target.
AT_RISK_RATIO = 0.75

SLA_STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
    "paused": "Paused",
    "stopped": "Stopped",
}

# The clocks run while a request is open and not paused; delivery and closing stop them.
STOPPED_STATES = frozenset(STATES) - OPEN_STATES
RUNNING_STATES = OPEN_STATES - PAUSED_STATES
IDLE_STATES = PAUSED_STATES | STOPPED_STATES

FROZEN_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FROZEN_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)

FIRST_RESPONSE = "first response"
RESOLUTION = "resolution"

# Settings that move the clocks: changing one recomputes every open request's clocks.
CLOCK_SETTINGS = frozenset({"timezone", "working_days", "work_start", "work_end", "holidays",
                            "sla_targets"})

PAUSE_REASONS = {
    "needs_info": "Paused while waiting for the requester",
    "waitlisted": "Paused while waitlisted",
}


class SlaClassError(Refusal):
    """A class a lead cannot set; ``field`` names the form field concerned."""

    def __init__(self, field, message):
        super().__init__(message, field)


# --- The class ----------------------------------------------------------------------------

def sla_class_for(request, now):
    """Return the SLA class ``request``'s priority gives it at ``now`` (high, standard, low).

    Pass ``now`` in the team's timezone: the deadline's urgency counts from that date.
    """
    points = priority.explain(request, now).cost_of_delay
    if points >= HIGH_FROM:
        return "high"
    if points >= STANDARD_FROM:
        return "standard"
    return "low"


def class_table():
    """The class rule in words, for the help page: [(class label, rule), ...]."""
    return [("High", f"{HIGH_FROM} points or more"),
            ("Standard", f"{STANDARD_FROM} to {HIGH_FROM - 1} points"),
            ("Low", f"below {STANDARD_FROM} points")]


def _triaged_before(events, now):
    """Whether the request was accepted (triaged) before ``now``, and not sent back to triage
    since: its class is fixed from then until a new triage."""
    triaged = False
    for event in events:
        if event.kind != "transition":
            continue
        if event.action == "retriage" and event.created_at <= now:
            triaged = False
        elif event.to_state == "accepted" and event.created_at < now:
            # Not at ``now``: the class is computed once more at acceptance, then fixed.
            triaged = True
    return triaged


# --- Clocks from events -------------------------------------------------------------------

@dataclass(frozen=True)
class _Clock:
    """A running or paused clock measured from a request's events."""

    name: str
    target_seconds: float
    at_risk_at: datetime | None  # real instants: None if not reached before a pause
    due_at: datetime | None
    frozen_status: str | None  # while paused: its status when it paused
    frozen_time_left: float | None


def _state_changed_at(events):
    return max((event.created_at for event in events
                if event.kind in STATE_EVENT_KINDS and event.to_state), default=None)


def _measure(events, state, name, target_seconds, now, hours):
    """Measure the clock ``name`` of a request in ``state``, which is not stopped."""
    at_risk_at = business_hours.clock_reaches(events, AT_RISK_RATIO * target_seconds, hours,
                                              IDLE_STATES)
    due_at = business_hours.clock_reaches(events, target_seconds, hours, IDLE_STATES)
    if state not in PAUSED_STATES:
        return _Clock(name, target_seconds, at_risk_at, due_at, None, None)
    paused_at = _state_changed_at(events)
    time_left = target_seconds - business_hours.elapsed_business_seconds(events, now, hours,
                                                                          IDLE_STATES)
    if due_at is not None and due_at < paused_at:
        frozen = "breached"
    elif at_risk_at is not None:
        frozen = "at_risk"
    else:
        frozen = "on_track"
    return _Clock(name, target_seconds, at_risk_at, due_at, frozen, time_left)


def _stored_instants(clock):
    """The (at_risk_at, due_at) to store for ``clock`` (see Frozen clocks above)."""
    if clock.frozen_status is None:
        return clock.at_risk_at, clock.due_at
    left = timedelta(seconds=clock.frozen_time_left)
    if clock.frozen_status == "breached":
        return FROZEN_PAST, FROZEN_PAST + min(left, timedelta(0))
    if clock.frozen_status == "at_risk":
        return FROZEN_PAST, FROZEN_FUTURE + left
    to_risk = left - timedelta(seconds=(1 - AT_RISK_RATIO) * clock.target_seconds)
    return FROZEN_FUTURE + max(to_risk, timedelta(0)), FROZEN_FUTURE + left


# --- Refreshing the stored fields ---------------------------------------------------------

def _recompute(request, now, values, hours):
    """Return the SLA fields of ``request`` that differ from what they should be at ``now``."""
    events = request.events
    fields = {}
    if not request.sla_class_is_set and not _triaged_before(events, now):
        fields["sla_class"] = sla_class_for(request, localtime.local_now(now, values))

    responded_at = business_hours.first_response_at(events, request.requester_id)
    if request.first_response_at is None and responded_at is not None:
        fields["first_response_at"] = responded_at
        fields["first_response_seconds"] = business_hours.first_response_elapsed(
            events, request.requester_id, responded_at, hours, IDLE_STATES)
    started_at = min((event.created_at for event in events
                      if event.kind == "transition" and event.action in START_ACTIONS),
                     default=None)
    if started_at is not None and request.started_at != started_at:
        fields["started_at"] = started_at
    delivered_at = max((event.created_at for event in events
                        if event.kind == "transition" and event.action == "deliver"),
                       default=None)
    if delivered_at is not None and request.delivered_at != delivered_at:
        fields["delivered_at"] = delivered_at
        fields["resolution_seconds"] = business_hours.elapsed_business_seconds(
            events, delivered_at, hours, IDLE_STATES)

    fields["sla_at_risk_at"] = fields["sla_due_at"] = None
    if request.state not in STOPPED_STATES:
        target = settings.sla_target(fields.get("sla_class", request.sla_class), values)
        if request.first_response_at is None and "first_response_at" not in fields:
            clock = _measure(events, request.state, FIRST_RESPONSE,
                             target.first_response_seconds, now, hours)
        else:
            clock = _measure(events, request.state, RESOLUTION, target.resolution_seconds,
                             now, hours)
        fields["sla_at_risk_at"], fields["sla_due_at"] = _stored_instants(clock)
    return {name: value for name, value in fields.items() if getattr(request, name) != value}


def _store(request, fields):
    """Write derived SLA ``fields`` without bumping the request's version.

    They are a cache of the clocks, not a change anyone makes: a form a user has open on the
    request must stay valid when a comment or a settings change moves the clocks. The loaded
    request takes the values as already saved, so the ORM does not write them again.
    """
    table = Request.__table__
    db.session.execute(table.update().where(table.c.id == request.id).values(**fields))
    for name, value in fields.items():
        set_committed_value(request, name, value)


def _store_many(changes):
    """``_store`` for many requests ([(request, fields)]): one executemany UPDATE per set of
    changed fields. Returns how many requests changed."""
    table = Request.__table__
    by_names = {}
    for request, fields in changes:
        by_names.setdefault(tuple(sorted(fields)), []).append((request, fields))
    for names, group in by_names.items():
        db.session.connection().execute(
            table.update().where(table.c.id == bindparam("request_id"))
            .values({name: bindparam(name) for name in names}),
            [{"request_id": request.id, **fields} for request, fields in group])
        for request, fields in group:
            for name, value in fields.items():
                set_committed_value(request, name, value)
    return len(changes)


def refresh(request, now, values=None):
    """Recompute and store ``request``'s SLA fields after a change at ``now``.

    Reads ``request.events`` (which must hold the change's event, flushed) and the settings
    (``values`` from ``settings.current()``, read when not given). Called after submission,
    every transition, comment and edit. Writes at once, in the caller's transaction, and
    leaves the request's version alone (see ``_store``).
    """
    values = values or settings.current()
    fields = _recompute(request, now, values, settings.business_hours(values))
    if fields:
        _store(request, fields)


@signals.request_transitioned.connect
def _refresh_after_transition(request, event, now, **_):
    """A transition moves the clocks: recompute them."""
    refresh(request, now)


@signals.settings_changed.connect
def _refresh_after_settings(sender, keys, values, now, **_):
    """New business hours, holidays or targets move every open request's clocks."""
    if keys & CLOCK_SETTINGS:
        refresh_all(now, values)


def refresh_all(now, values=None, chunk_size=500, where=()):
    """Recompute every open request's SLA fields (after a settings change), or those of the
    open requests ``where`` (SQL conditions) selects: requests written in bulk (an import).

    Requests are read in chunks of ``chunk_size`` with their events, so memory stays flat
    whatever their number. Returns how many requests changed.
    """
    values = values or settings.current()
    hours = settings.business_hours(values)
    changed = 0
    last_id = 0
    while True:
        batch = db.session.scalars(
            db.select(Request).where(Request.state.in_(OPEN_STATES), Request.id > last_id,
                                     *where)
            .order_by(Request.id).limit(chunk_size)
            .options(selectinload(Request.events))).all()
        if not batch:
            return changed
        found = [(request, _recompute(request, now, values, hours)) for request in batch]
        changed += _store_many([(request, fields) for request, fields in found if fields])
        last_id = batch[-1].id


# --- Status from the stored fields --------------------------------------------------------

@dataclass(frozen=True)
class SlaView:
    """Where a request's SLA stands, in words and numbers, for badges and panels."""

    status: str  # on_track, at_risk, breached, paused, stopped
    clock: str | None  # "first response" or "resolution"; None when stopped
    time_left: float | None  # business seconds, negative when past; None when stopped
    due_at: datetime | None  # when the target runs out; None when paused or stopped
    text: str  # e.g. "At risk: 3 h 20 min left on first response"
    short: str  # for badges, e.g. "3 h left", "2 d 4 h over"
    frozen_status: str | None = None  # while paused: the status it had when it paused

    @property
    def label(self):
        return SLA_STATUS_LABELS[self.status]


def _compare(at_risk_at, due_at, now):
    """The status the stored instants give at ``now``: the comparisons of status_condition."""
    if due_at < now:
        return "breached"
    if at_risk_at <= now:
        return "at_risk"
    return "on_track"


def _time_left(due_at, now, hours):
    if now <= due_at:
        return business_hours.business_seconds_between(now, due_at, hours)
    return -business_hours.business_seconds_between(due_at, now, hours)


def duration(seconds, day_seconds, short=False):
    """Business ``seconds`` in words: '2 d 4 h 5 min' (a day is one working day), or with
    ``short`` only the largest units: '2 d 4 h', '3 h', '20 min'."""
    minutes = int(abs(seconds) // 60)
    day_minutes = max(1, int(day_seconds // 60))
    days, rest = divmod(minutes, day_minutes)
    hours, mins = divmod(rest, 60)
    if short:
        if days:
            parts = [(days, "d"), (hours, "h")]
        elif hours:
            parts = [(hours, "h")]
        else:
            parts = [(mins, "min")]
    else:
        parts = [(days, "d"), (hours, "h"), (mins, "min")]
    words = " ".join(f"{count} {unit}" for count, unit in parts if count)
    return words or "less than a minute"


def _words(status, clock, time_left, day_seconds, state=None, frozen=None):
    amount = duration(time_left, day_seconds)
    brief = duration(time_left, day_seconds, short=True)
    over = time_left < 0 or (status == "breached" or frozen == "breached")
    where = f"{amount} over the {clock} target" if over else f"{amount} left on {clock}"
    short = f"{brief} over" if over else f"{brief} left"
    if status == "paused":
        was = SLA_STATUS_LABELS[frozen].lower()
        return f"{PAUSE_REASONS.get(state, 'Paused')} ({was}): {where}", f"paused, {short}"
    return f"{SLA_STATUS_LABELS[status]}: {where}", short


def _stopped_view(request):
    if request.state == "delivered":
        text = "Clock stopped: delivered, waiting for the requester to confirm"
    elif request.state in CLOSED_STATES:
        text = f"Clock stopped: {STATES[request.state].lower()}"
    else:
        text = "No SLA clock yet"
    return SlaView("stopped", None, None, None, text, "stopped")


def status(request, now, values=None):
    """Return the SLA view of ``request`` at ``now`` from its stored fields (no query when
    ``values`` from ``settings.current()`` are given)."""
    if (request.state in STOPPED_STATES or request.sla_due_at is None
            or request.sla_at_risk_at is None):
        return _stopped_view(request)
    clock = FIRST_RESPONSE if request.first_response_at is None else RESOLUTION
    hours = settings.business_hours(values)
    day_seconds = hours.day_length.total_seconds()
    if request.state in PAUSED_STATES:
        frozen = _compare(request.sla_at_risk_at, request.sla_due_at, now)
        base = FROZEN_FUTURE if request.sla_due_at >= FROZEN_FUTURE else FROZEN_PAST
        time_left = (request.sla_due_at - base).total_seconds()
        text, short = _words("paused", clock, time_left, day_seconds, request.state, frozen)
        return SlaView("paused", clock, time_left, None, text, short, frozen)
    state = _compare(request.sla_at_risk_at, request.sla_due_at, now)
    time_left = _time_left(request.sla_due_at, now, hours)
    text, short = _words(state, clock, time_left, day_seconds)
    return SlaView(state, clock, time_left, request.sla_due_at, text, short)


def status_condition(status, now, include_paused=False):
    """Return a SQL condition on Request selecting the open requests of SLA ``status`` at
    ``now``: on_track, at_risk, breached (running clocks) or paused.

    With ``include_paused`` the first three also select paused requests by the status their
    clock had when it paused.
    """
    if status == "paused":
        return Request.state.in_(PAUSED_STATES)
    comparisons = {
        "breached": Request.sla_due_at < now,
        "at_risk": and_(Request.sla_at_risk_at <= now, Request.sla_due_at >= now),
        "on_track": Request.sla_at_risk_at > now,
    }
    if status not in comparisons:
        raise ValueError(f"unknown SLA status {status!r}")
    states = RUNNING_STATES | PAUSED_STATES if include_paused else RUNNING_STATES
    return and_(Request.state.in_(sorted(states)), comparisons[status])


# --- A lead sets the class ----------------------------------------------------------------

def set_class(request, sla_class, actor, reason, now, expected_version=None):
    """Set ``request``'s SLA class as lead ``actor`` decided (None: follow the priority).

    Writes an 'edit' event with the change and ``reason`` and recomputes the clocks; raises
    lifecycle.NotAllowed for a non-lead, lifecycle.ConcurrentChange when the request changed
    since ``expected_version``, SlaClassError for a closed request, a missing reason or no
    change. Returns the event.
    """
    if not allowed(actor, "set_sla_class"):
        raise lifecycle.NotAllowed("Only leads set the SLA class of a request.")
    lifecycle.check_version(
        request, expected_version,
        "Someone else changed this request while you were looking at it. Nothing was "
        "changed; review the SLA panel and try again.")
    if request.state in STOPPED_STATES:
        raise SlaClassError("sla_class", "The clocks of this request have stopped; its SLA "
                                         "class can no longer change.")
    if sla_class is not None and sla_class not in SLA_CLASSES:
        raise SlaClassError("sla_class", "Choose high, standard, low or follow priority.")
    reason = (reason or "").strip()
    if not reason:
        raise SlaClassError("reason", "Say why the class changes: the requester sees it.")
    values = settings.current()
    new_class = sla_class or sla_class_for(request, localtime.local_now(now, values))
    old_class, was_set = request.sla_class, request.sla_class_is_set
    if (new_class, sla_class is not None) == (old_class, was_set):
        raise SlaClassError("sla_class", "That is the class it has already.")
    request.sla_class = new_class
    request.sla_class_is_set = sla_class is not None
    request.updated_at = now
    event = Event(request=request, actor=actor, kind="edit", text=reason, created_at=now,
                  data={"changes": {"sla_class": [old_class, new_class]},
                        "follows_priority": sla_class is None})
    db.session.add(event)
    lifecycle.flush_or_conflict(request)
    refresh(request, now, values)
    return event


# --- The request page ---------------------------------------------------------------------

@dataclass(frozen=True)
class ClockRow:
    """One clock on the request page's SLA panel."""

    name: str  # "First response" or "Resolution"
    target_hours: float
    view: SlaView | None  # running or paused
    due_local: datetime | None  # in the calendar's timezone
    taken_seconds: float | None  # stopped: the stored time
    taken_text: str | None
    stopped_at: datetime | None  # stopped: when (in the calendar's timezone)
    is_met: bool | None
    note: str | None  # stopped without a time: why


def _live_view(request, clock, now, hours):
    day_seconds = hours.day_length.total_seconds()
    if clock.frozen_status is None and clock.due_at is None:
        # Due past business_hours.HORIZON: only settings stored before they had ranges get here.
        return SlaView("on_track", clock.name, None, None,
                       f"On track: not due before {business_hours.HORIZON.year}", "on track")
    if clock.frozen_status is not None:
        text, short = _words("paused", clock.name, clock.frozen_time_left, day_seconds,
                             request.state, clock.frozen_status)
        return SlaView("paused", clock.name, clock.frozen_time_left, None, text, short,
                       clock.frozen_status)
    state = _compare(clock.at_risk_at, clock.due_at, now)
    time_left = _time_left(clock.due_at, now, hours)
    text, short = _words(state, clock.name, time_left, day_seconds)
    return SlaView(state, clock.name, time_left, clock.due_at, text, short)


def panel(request, now, values):
    """The SLA panel of ``request``: its class and one row per clock (reads its events)."""
    hours = settings.business_hours(values)
    target = settings.sla_target(request.sla_class, values)
    day_seconds = hours.day_length.total_seconds()
    rows = []
    for name, hours_target, taken in (
            (FIRST_RESPONSE, target.first_response_hours, request.first_response_seconds),
            (RESOLUTION, target.resolution_hours, request.resolution_seconds)):
        stopped = (request.first_response_at is not None if name == FIRST_RESPONSE
                   else request.state in STOPPED_STATES)
        view = due_local = taken_text = stopped_at = is_met = note = None
        if stopped and taken is not None and (name == FIRST_RESPONSE or request.state in
                                              ("delivered", "resolved")):
            is_met = taken <= hours_target * 3600
            taken_text = duration(taken, day_seconds)
            at = request.first_response_at if name == FIRST_RESPONSE else request.delivered_at
            stopped_at = localtime.local_now(at, values) if at else None
        elif stopped or request.state in STOPPED_STATES:
            taken = None
            note = (f"Stopped: the request was {STATES[request.state].lower()}"
                    + (" before anyone responded" if name == FIRST_RESPONSE else ""))
        else:
            taken = None
            clock = _measure(request.events, request.state, name, hours_target * 3600, now,
                             hours)
            view = _live_view(request, clock, now, hours)
            if view.due_at is not None:
                due_local = localtime.local_now(view.due_at, values)
        rows.append(ClockRow(name.capitalize(), hours_target, view, due_local, taken,
                             taken_text, stopped_at, is_met, note))
    return {"sla_class_label": SLA_CLASSES[request.sla_class],
            "is_set": request.sla_class_is_set,
            "is_fixed": _triaged_before(request.events, now),
            "rows": rows, "timezone": hours.timezone}


def detail_context(request, user, now, values=None):
    """What the request page's SLA panel shows: the panel, and whether ``user`` may set the
    class (leads, while the clocks run)."""
    values = values or settings.current()
    return {"sla_panel": panel(request, now, values),
            "can_set_class": allowed(user, "set_sla_class", request)}
