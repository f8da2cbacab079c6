"""Outcomes (DESIGN.md, Outcomes): was the lever pulled? Follow-ups, answers, track records.

When a request is resolved (confirmed or resolved automatically) ``schedule`` creates its
**follow-up**: due on the day the requester said they would know by (at confirmation), or
after the settings' business days for the request's kind, at the start of that working day.
``send_due`` (`flask followups send`, the scheduler's daily job) asks each due follow-up once
and reminds it once, ``follow_up_reminder_days`` later, then stops. Each mail is queued in the
outbox under a key of its own (``follow-up:<id>:ask`` / ``:reminder``), unique, so two
senders, a restart or a ``--force`` run can never send one twice; the follow-up's step and its
timeline event are written only by the sender whose mail went in. A requester who left
(disabled) is not mailed: the follow-up is handed to an active watcher (of the request's team
first) or marked unanswerable.

An **answer** (``record``) is an immutable ``outcome`` event on the request and the latest
answer on the follow-up (the impact ledger reads it); the requester may answer again later,
which adds an event and keeps the history. The mail's one-click links carry a signed,
expiring token bound to the follow-up, its recipient, the answer and the follow-up's
``link_nonce`` (``read_link``): it records a first answer without logging in, once; changing
an answer, or adding the decision and a note afterwards, needs logging in.

A team's **track record** (``track_records``) is the used share of its last answered
follow-ups; ``priority`` turns it into an optional, explained factor a lead switches on.

Functions here flush; the caller commits.
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import (Integer, and_, column, func, literal, select, true, union_all,
                        values)
from sqlalchemy.orm import joinedload

from . import localtime, mail, settings, signals
from .errors import Refusal
from .extensions import db
from .models import (NOT_USED_REASONS, OUTCOMES, USED_OUTCOMES, WAITING_FOLLOW_UP_STATUSES,
                     Event, FollowUp, Request, User, Watcher, team_memberships)
from .policy import answers_follow_up, visible_requests
from .priority import TrackRecord

log = logging.getLogger(__name__)

LINK_DAYS = 30  # an answer link in a mail works this long
TRACK_RECORD_SIZE = 10  # a team's track record: its last this many answered follow-ups
TRACK_RECORD_DAYS = 365  # ... answered within this many days
DECISION_MAX = 2000
NOTE_MAX = 10000
STEPS = ("ask", "reminder")


class OutcomeRefusal(Refusal):
    """An answer that cannot be recorded; ``field`` names the input concerned."""


class LinkRefused(Refusal):
    """An answer link that does not (or no longer) work; ``reason`` says which way, the page
    says what to do instead: forged (400), expired (410), used (409), foreign (403)."""

    def __init__(self, reason, message, status, follow_up=None):
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.follow_up = follow_up


# --- Scheduling ---------------------------------------------------------------------------

def due_moment(request, resolved_at, know_by, values):
    """When the follow-up of ``request`` resolved at ``resolved_at`` is asked: the start of the
    working day on ``know_by``, or the kind's business days after resolution."""
    day = know_by or settings.business_hours(values).working_days_after(
        localtime.local_today(resolved_at, values), values["follow_up_business_days"][request.kind])
    return localtime.at(day, time.fromisoformat(values["work_start"]), values)


def schedule(request, now, know_by=None, values=None):
    """Create the follow-up of the resolved ``request`` (once: a second call returns the first
    one); it asks the requester."""
    existing = db.session.scalar(select(FollowUp).where(FollowUp.request_id == request.id))
    if existing is not None:
        return existing
    values = values or settings.current()
    follow_up = FollowUp(request=request, recipient_id=request.requester_id, know_by=know_by,
                         due_at=due_moment(request, now, know_by, values), created_at=now,
                         status="scheduled")
    db.session.add(follow_up)
    db.session.flush()
    return follow_up


@signals.request_transitioned.connect
def on_transition(request, event, now):
    """A resolution schedules the follow-up (on the requester's "I will know by" day, if any)."""
    if event.to_state != "resolved":
        return None
    know_by = event.data.get("know_by") if event.data else None
    return schedule(request, now, datetime.fromisoformat(know_by).date() if know_by else None)


# --- Answer links -------------------------------------------------------------------------

def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="datadesk-follow-up")


def link_token(follow_up, outcome):
    """The signed token of the link answering ``outcome`` to ``follow_up`` from its mail."""
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    return _serializer().dumps({"f": follow_up.id, "u": follow_up.recipient_id,
                                "n": follow_up.link_nonce, "o": outcome})


def link_url(follow_up, outcome):
    """The one-click link of ``outcome`` in the follow-up mail (works without logging in)."""
    return mail.absolute_url(f"/follow-ups/answer/{link_token(follow_up, outcome)}")


def read_link(token, viewer=None, now=None):
    """Return (follow-up, outcome) of a genuine, current answer link, or raise LinkRefused.

    ``viewer`` is the person logged in, if anyone: a link mailed to someone else is refused.
    A link is refused once its follow-up has an answer (it answers once; changing the answer
    needs logging in), and when the follow-up was handed to someone else since it was sent.
    """
    try:
        data = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except SignatureExpired:
        raise LinkRefused("expired", f"This link has expired (answer links work for {LINK_DAYS} "
                                     "days). Log in to answer on the request's page.", 410) from None
    except BadSignature:
        raise LinkRefused("forged", "This link is not valid: it may have been cut short when it "
                                    "was copied. Open it from the e-mail again, or log in to "
                                    "answer.", 400) from None
    if (not isinstance(data, dict) or not isinstance(data.get("f"), int)
            or not isinstance(data.get("u"), int) or data.get("o") not in OUTCOMES):
        raise LinkRefused("forged", "This link is not valid. Log in to answer.", 400)
    follow_up = db.session.get(FollowUp, data["f"])
    if follow_up is None or data.get("n") != follow_up.link_nonce \
            or follow_up.recipient_id != data["u"]:
        raise LinkRefused("forged", "This link no longer works: the question was handed to "
                                    "someone else or withdrawn. Nothing was changed.", 400)
    if viewer is not None and getattr(viewer, "is_authenticated", False) \
            and viewer.id != follow_up.recipient_id:
        raise LinkRefused("foreign", "This link was sent to someone else, and you are logged in "
                                     "as another person. Nothing was changed.", 403, follow_up)
    if not follow_up.recipient.is_active:
        raise LinkRefused("foreign", "This link belongs to an account that is disabled. "
                                     "Nothing was changed.", 403, follow_up)
    if follow_up.answered_at is not None:
        raise LinkRefused("used", "This question has an answer already, so the link no longer "
                                  "works. Log in to change the answer or add the decision "
                                  "taken.", 409, follow_up)
    return follow_up, data["o"]


# --- Answers ------------------------------------------------------------------------------

def may_answer(user, follow_up):
    """Tell whether ``user`` may answer ``follow_up`` (policy.answers_follow_up)."""
    return answers_follow_up(user, follow_up)


def check_answer(outcome, decision, reason, note):
    """Refuse an answer that is incomplete or too long (OutcomeRefusal naming the field);
    return (outcome, decision, reason, note) cleaned."""
    decision, note = (decision or "").strip(), (note or "").strip()
    if outcome not in OUTCOMES:
        raise OutcomeRefusal("Choose what became of the delivery.", "outcome")
    if outcome == "not_used":
        if reason not in NOT_USED_REASONS:
            raise OutcomeRefusal("Say why it was not used: it tells the team what to change.",
                                 "reason")
    else:
        reason = None
    if len(decision) > DECISION_MAX:
        raise OutcomeRefusal(f"Keep the decision under {DECISION_MAX} characters.", "decision")
    if len(note) > NOTE_MAX:
        raise OutcomeRefusal(f"Keep the note under {NOTE_MAX} characters.", "note")
    return outcome, decision, reason, note


def record(follow_up, user, now, *, outcome, decision="", reason=None, note="", via="page",
           first_only=False):
    """Record ``user``'s answer to ``follow_up``: an ``outcome`` event on its request and the
    latest answer on the follow-up; return the event.

    ``first_only`` (an answer link) records only while nobody has answered: of two answers
    racing, one wins and the other is refused, whatever process they run in.
    """
    if not may_answer(user, follow_up):
        raise OutcomeRefusal("Only the person asked may answer this follow-up.")
    outcome, decision, reason, note = check_answer(outcome, decision, reason, note)
    previous = follow_up.outcome
    changes = {"status": "answered", "outcome": outcome, "decision": decision,
               "not_used_reason": reason, "note": note, "answered_at": now,
               "answered_by_id": user.id}
    condition = [FollowUp.id == follow_up.id]
    if first_only:
        condition.append(FollowUp.answered_at.is_(None))
    done = db.session.execute(db.update(FollowUp).where(*condition).values(**changes)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise LinkRefused("used", "This question has an answer already, so the link no longer "
                                  "works. Log in to change the answer.", 409, follow_up)
    db.session.expire(follow_up)
    data = {"follow_up_id": follow_up.id, "outcome": outcome, "via": via}
    if decision:
        data["decision"] = decision
    if reason:
        data["reason"] = reason
    if previous:
        data["previous"] = previous
    event = Event(request_id=follow_up.request_id, actor_id=user.id, kind="outcome",
                  text=note, data=data, created_at=now)
    db.session.add(event)
    db.session.flush()
    signals.follow_up_answered.send(follow_up.request, event=event, follow_up=follow_up,
                                    now=now)
    return event


def history(request_id):
    """The outcome events of a request, oldest first (one statement)."""
    return db.session.scalars(
        select(Event).where(Event.request_id == request_id, Event.kind == "outcome")
        .order_by(Event.id)).all()


def waiting_condition(user):
    """SQL: the follow-ups waiting for ``user``'s answer (asked or reminded)."""
    return and_(FollowUp.recipient_id == user.id,
                FollowUp.status.in_(sorted(WAITING_FOLLOW_UP_STATUSES)))


def waiting_count(user):
    """How many follow-ups wait for ``user``'s answer, of requests they may still see (the
    list /follow-ups shows); one statement."""
    return db.session.scalar(select(func.count()).select_from(FollowUp)
                             .join(Request, Request.id == FollowUp.request_id)
                             .where(waiting_condition(user), visible_requests(user)))


# --- Asking ---------------------------------------------------------------------------------

@dataclass
class SendResult:
    """What one ``send_due`` run did."""

    asked: int = 0
    reminded: int = 0
    handed_over: int = 0
    unanswerable: int = 0
    skipped: int = 0  # another sender got there first

    @property
    def text(self):
        return (f"{self.asked} follow-up(s) asked, {self.reminded} reminded, "
                f"{self.handed_over} handed over, {self.unanswerable} unanswerable")


def mail_key(follow_up, step):
    """The outbox key that makes ``step`` (ask, reminder) of ``follow_up`` go once."""
    return f"follow-up:{follow_up.id}:{step}"


def due(now, values=None, force=False):
    """[(follow-up, step)] due at ``now``: those to ask (all scheduled ones with ``force``) and
    those to remind. Two statements."""
    values = values or settings.current()
    # What asking reads, loaded here: then a sender's first statement for each follow-up is
    # its outbox INSERT, which on SQLite waits for a concurrent sender's lock instead of
    # failing as a read transaction turned writer would ("database is locked").
    loads = (joinedload(FollowUp.recipient), joinedload(FollowUp.request))
    asks = db.session.scalars(
        select(FollowUp).where(FollowUp.status == "scheduled",
                               *(() if force else (FollowUp.due_at <= now,)))
        .options(*loads).order_by(FollowUp.due_at, FollowUp.id)).all()
    remind_before = now - timedelta(days=values["follow_up_reminder_days"])
    reminders = db.session.scalars(
        select(FollowUp).where(FollowUp.status == "asked", FollowUp.asked_at <= remind_before)
        .options(*loads).order_by(FollowUp.asked_at, FollowUp.id)).all()
    return [(f, "ask") for f in asks] + [(f, "reminder") for f in reminders]


def stand_in(request):
    """Who is asked when the requester left: an active user watching ``request``, one of its
    team first; None when there is nobody (a confidential request's watchers cannot see it)."""
    if request.is_confidential:
        return None
    row = db.session.execute(
        select(User).join(Watcher, Watcher.email == User.email)
        .outerjoin(team_memberships, and_(team_memberships.c.user_id == User.id,
                                          team_memberships.c.team_id == request.team_id))
        .where(Watcher.request_id == request.id, User.is_active, User.id != request.requester_id)
        .order_by(team_memberships.c.team_id.is_(None), User.id).limit(1)).scalar()
    return row


def _system_event(follow_up, now, step, **data):
    event = Event(request_id=follow_up.request_id, actor_id=None, kind="follow_up",
                  data={"follow_up_id": follow_up.id, "step": step, **data}, created_at=now)
    db.session.add(event)
    return event


def _hand_over_if_gone(follow_up, now, result):
    """When the recipient is disabled: hand the follow-up to a stand-in (new links) or mark it
    unanswerable. Return False when nobody can be asked."""
    if follow_up.recipient.is_active:
        return True
    other = stand_in(follow_up.request)
    if other is None:
        follow_up.status = "unanswerable"
        _system_event(follow_up, now, "unanswerable", former=follow_up.recipient.name)
        result.unanswerable += 1
        return False
    former = follow_up.recipient.name
    follow_up.recipient = other
    follow_up.link_nonce = secrets.token_urlsafe(16)  # the links sent before stop working
    _system_event(follow_up, now, "handed_over", former=former, recipient=other.name)
    result.handed_over += 1
    db.session.flush()
    return True


def send_one(follow_up, step, now, values, result):
    """Queue ``step`` (ask, reminder) of ``follow_up`` once, and record it."""
    if not _hand_over_if_gone(follow_up, now, result):
        return
    subject, text, html = render(follow_up, step, values)
    recipient = follow_up.recipient
    if mail.queue_message(recipient.email, subject, text, html, kind="follow_up", now=now,
                          user=recipient, idempotency_key=mail_key(follow_up, step)) is None:
        result.skipped += 1  # another sender queued it: it records the step
        return
    moved = db.session.execute(
        db.update(FollowUp)
        .where(FollowUp.id == follow_up.id,
               FollowUp.status == ("scheduled" if step == "ask" else "asked"))
        .values(**({"status": "asked", "asked_at": now} if step == "ask"
                   else {"status": "reminded", "reminded_at": now}))
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        # Answered meanwhile: the mail must not go.
        raise _Withdrawn()
    db.session.expire(follow_up)
    _system_event(follow_up, now, "asked" if step == "ask" else "reminded",
                  recipient=recipient.name)
    if step == "ask":
        result.asked += 1
    else:
        result.reminded += 1


class _Withdrawn(Exception):
    """The follow-up was answered between being picked and being asked."""


def send_due(now, force=False, values=None):
    """Ask and remind every follow-up due at ``now`` (a scheduled job; the caller commits).

    Safe to run any number of times, in any number of processes: each step's mail has a unique
    key. Each follow-up runs in a savepoint: one that fails is logged and retried next run.
    """
    values = values or settings.current()
    result = SendResult()
    for follow_up, step in due(now, values, force):
        try:
            with db.session.begin_nested():
                send_one(follow_up, step, now, values, result)
        except _Withdrawn:
            result.skipped += 1
        except Exception:
            log.exception("Follow-up %s (%s) could not be sent; the next run retries it",
                          follow_up.id, step)
    return result


def render(follow_up, step, values=None):
    """Return (subject, text, html) of the follow-up mail (``step``: ask or reminder)."""
    request = follow_up.request
    links = {outcome: link_url(follow_up, outcome) for outcome in OUTCOMES}
    context = {
        "follow_up": follow_up, "req": request, "step": step, "user": follow_up.recipient,
        "links": links, "outcomes": OUTCOMES, "link_days": LINK_DAYS,
        "request_link": mail.absolute_url(f"/requests/{request.id}#outcome"),
        "is_stand_in": follow_up.recipient_id != request.requester_id,
        "preferences_url": mail.absolute_url("/preferences"),
    }
    prefix = "Reminder: " if step == "reminder" else ""
    subject = f"[Datadesk #{request.id}] {prefix}Was the data used? {request.title}"[:300]
    return (subject, mail.render("email/follow_up.txt", **context),
            mail.render("email/follow_up.html", **context))


# --- Track records ------------------------------------------------------------------------

def used_count(outcome):
    """SQL: how many of the rows' ``outcome`` (a column of outcomes) are used ones."""
    return func.sum(db.case((outcome.in_(sorted(USED_OUTCOMES)), 1), else_=0))


def track_records(team_ids, now):
    """{team id: TrackRecord} over each team's last TRACK_RECORD_SIZE answered follow-ups of
    the last TRACK_RECORD_DAYS ("not used yet" counts as not used). One statement."""
    team_ids = sorted(set(team_ids))
    if not team_ids:
        return {}
    since = now - timedelta(days=TRACK_RECORD_DAYS)
    answered = (FollowUp.answered_at.is_not(None), FollowUp.answered_at > since,
                FollowUp.answered_at <= now)
    if db.session.get_bind().dialect.name == "sqlite":
        answers = _last_answers_by_team(team_ids, answered)
    else:
        # PostgreSQL reads each team's last answers newest first along
        # ``ix_follow_ups_answered_at`` and stops at TRACK_RECORD_SIZE (a LATERAL part per team
        # of a VALUES list), asking each answer's team by primary key: about a hundred lookups.
        # One window over every answer of the year joined the year's answers to all 100,000
        # requests (a hash join over a sequential scan: 29 ms at 100k).
        teams = values(column("team_id", Integer), name="teams").data(
            [(team_id,) for team_id in team_ids])
        last = (select(FollowUp.outcome.label("outcome"))
                .join(Request, Request.id == FollowUp.request_id)
                .where(Request.team_id == teams.c.team_id, *answered)
                .order_by(FollowUp.answered_at.desc(), FollowUp.id.desc())
                .limit(TRACK_RECORD_SIZE).lateral("last_answers"))
        answers = (select(teams.c.team_id.label("team_id"), last.c.outcome.label("outcome"))
                   .select_from(teams.join(last, true())).subquery())
    rows = db.session.execute(
        select(answers.c.team_id, func.count(), used_count(answers.c.outcome))
        .group_by(answers.c.team_id))
    records = {team_id: TrackRecord(used=0, answered=0) for team_id in team_ids}
    for team_id, count, used_answers in rows:
        records[team_id] = TrackRecord(used=int(used_answers or 0), answered=int(count))
    return records


def _last_answers_by_team(team_ids, answered):
    """SQL: (team_id, outcome) of each team's last TRACK_RECORD_SIZE answers, for SQLite.

    Each team's answers are read newest first along ``ix_follow_ups_answered_at`` and stop at
    TRACK_RECORD_SIZE (one part per team, in one UNION ALL): a team that answers reads a few
    dozen rows, not every answer of the year (SQLite's window over them read each team's
    thousands of requests instead). The team is asked of each answer's request row by row: a
    join lets SQLite start from the team's requests.
    """
    team_of = (select(Request.team_id).where(Request.id == FollowUp.request_id)
               .scalar_subquery())
    parts = []
    for team_id in team_ids:
        last = (select(literal(team_id).label("team_id"), FollowUp.outcome.label("outcome"))
                .where(team_of == team_id, *answered)
                .order_by(FollowUp.answered_at.desc(), FollowUp.id.desc())
                .limit(TRACK_RECORD_SIZE).subquery())
        parts.append(select(last.c.team_id, last.c.outcome))
    return union_all(*parts).subquery()


def track_record(team_id, now):
    """The track record of one team."""
    return track_records([team_id], now)[team_id]
