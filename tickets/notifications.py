"""Notifications: who is told what about a request, in the app and by mail (DESIGN.md,
Conversation; issue 14).

What happens on a request (a transition: ``signals.request_transitioned``; a comment:
``signals.comment_added``; a request going at risk of missing its SLA: the ``sla_at_risk``
job) becomes a ``Notice``: its kind (models.NOTIFICATIONS), a short text for the app, and the
words, facts and links a mail gives. A notice goes to its audiences (``AUDIENCES``; for a
transition its row says which: ``lifecycle.Transition.notify``): the requester, the people who
follow the request (its watchers), the assignee, the analyst who asked the question being
answered. Nobody is told what they did themselves, and a person is told only while policy lets
them see the request.

Each person's mode for each kind (``mode``) decides how: ``immediately`` (an entry in
/notifications, and a mail a few minutes later), ``daily`` (the entry, and one mail a day with
all of them: ``send_daily``), or ``off`` (nothing at all). A watcher without an account gets
mail only, never about a confidential request, with a signed link that stops that address
following that request (``unwatch_url``).

Mail is batched: several events on one request for one recipient within ``BATCH_WINDOW`` make
one mail. While the first message has not been sent (nor tried), a later event joins it and its
text is rendered again with every event, so a burst of changes sends one message a few minutes
after it started. Everything is written in the transaction of the change that causes it.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager, joinedload

from . import budget, forecast, lifecycle, localtime, mail, settings, signals
from .extensions import db
from .models import (DECLINE_REASONS, DEFAULT_NOTIFICATION_MODE, NOTIFICATION_MODES, NOTIFICATIONS,
                     OPEN_STATES, PAUSED_STATES, Event, Notification, OutboxMessage, Request, User)
from .policy import WORKER_ROLES, allowed, visible_requests
from .queries import id_matches, insert_once

BATCH_WINDOW = timedelta(minutes=3)
SHORT_TEXT = 300  # Notification.text: one line in the app's list
LONG_TEXT = 1000  # an event's words in a mail

HEADLINES = {
    "accepted": "Your request is accepted",
    "declined": "Your request is declined",
    "question": "The data team has a question about your request",
    "answered": "The requester answered your question",
    "comment": "A new comment on a request",
    "mention": "You are mentioned in a comment",
    "reopened": "A delivered request is reopened",
    "waitlisted": "Your request is waitlisted",
    "delivered": "Your request is delivered: please check and confirm it",
    "assigned": "A request is assigned to you",
    "sla_at_risk": "A request you work on is at risk of missing its SLA",
    "released": "Your request has left the waitlist",
}
# What someone who follows a request (a watcher) reads instead of the requester's words.
FOLLOWER_HEADLINES = {
    **HEADLINES,
    "accepted": "A request you follow is accepted",
    "declined": "A request you follow is declined",
    "question": "The data team has a question about a request you follow",
    "comment": "A new comment on a request you follow",
    "waitlisted": "A request you follow is waitlisted",
    "delivered": "A request you follow is delivered",
    "released": "A request you follow has left the waitlist",
}

# The kinds about asking for data; the others are about doing the work, which requesters and
# admins are never given.
REQUESTER_KINDS = ("accepted", "declined", "question", "comment", "mention", "delivered",
                   "waitlisted", "released")

# Who can be told about a request: see lifecycle.Transition.notify.
AUDIENCES = ("requester", "followers", "assignee", "asker")
# Who a comment concerns (the people it mentions are told of the mention instead).
COMMENT_AUDIENCES = ("requester", "assignee", "followers")


# --- Preferences ----------------------------------------------------------------------------

def kinds_for(user):
    """The kinds of notification worth offering ``user`` ({kind: description}): analysts and
    leads get every kind; requesters and admins, who are never given work, those about the
    requests they ask for or follow."""
    if user.role in WORKER_ROLES:
        return dict(NOTIFICATIONS)
    return {kind: NOTIFICATIONS[kind] for kind in REQUESTER_KINDS}


def mode(user, kind):
    """How ``user`` gets notifications of ``kind``: a key of models.NOTIFICATION_MODES."""
    chosen = (user.notification_modes or {}).get(kind)
    return chosen if chosen in NOTIFICATION_MODES else DEFAULT_NOTIFICATION_MODE


def wants(user, kind):
    """Tell whether ``user`` gets ``kind`` notifications at all (active, and not "off")."""
    return user is not None and user.is_active and mode(user, kind) != "off"


def set_modes(user, modes):
    """Give ``user`` the ``modes`` ({kind: mode}) chosen for the kinds offered to them; the
    other kinds keep theirs (a requester made an analyst later finds them as they were)."""
    offered = kinds_for(user)
    current = dict(user.notification_modes or {})
    current.update({kind: value for kind, value in modes.items()
                    if kind in offered and value in NOTIFICATION_MODES})
    user.notification_modes = current


def turn_off(user):
    """Stop every notification to ``user``, in the app and by mail (their unsubscribe link)."""
    user.notification_modes = {kind: "off" for kind in NOTIFICATIONS}


def headline(kind, request, user):
    """What a notification of ``kind`` on ``request`` says to ``user`` (None: an address
    without an account): the requester's words to the requester and the assignee, a
    follower's to the others."""
    follows = user is None or user.id not in (request.requester_id, request.assignee_id)
    return (FOLLOWER_HEADLINES if follows else HEADLINES)[kind]


# --- What happened ----------------------------------------------------------------------------

@dataclass
class Notice:
    """What one thing that happened on a request tells: its kind, the event (None: nothing on
    the timeline, such as an SLA risk) and who did it (None: Datadesk), the words written
    (``text``), and what a mail adds: ``facts`` (sentences) and ``links`` ((label, URL))."""

    kind: str
    request: Request
    event: Event | None
    actor: User | None
    now: datetime
    text: str = ""
    facts: tuple = ()
    links: tuple = ()

    @property
    def short(self):
        """One line for the app's list: the facts, then the words, cut to SHORT_TEXT."""
        line = " ".join(" ".join([*self.facts, self.text]).split())
        return line if len(line) <= SHORT_TEXT else line[:SHORT_TEXT - 1].rstrip() + "\u2026"

    def item(self):
        """The notice as one item of a mail's payload (JSON)."""
        return {"kind": self.kind, "event_id": self.event.id if self.event is not None else None,
                "at": self.now.isoformat(),
                "actor": self.actor.name if self.actor is not None else "Datadesk",
                "text": self.text, "facts": list(self.facts),
                "links": [list(link) for link in self.links]}


def describe(kind, request, event, now, values=None):
    """The Notice of ``kind`` that ``event`` (None: none) on ``request`` gives: the words of the
    event, and the forecast of an acceptance, the reason and the answer of a decline, the
    place on the waitlist, the link to a delivery, the due time of an SLA at risk."""
    values = values or settings.current()
    facts, links = [], []
    data = event.data if event is not None else {}
    if kind == "accepted":
        found = forecast.for_request(request, now, values)
        facts.append(f"Forecast: {found.text}." if found is not None else
                     "Forecast: not enough history yet to give a date.")
    elif kind == "declined":
        reason = DECLINE_REASONS.get(request.decline_reason, "")
        if reason:
            facts.append(f"Reason: {reason}.")
        if request.decline_reason == "self_serve" and request.delivered_url:
            links.append(("What answers it", request.delivered_url))
        answer = data.get("answer") or {}
        if answer.get("kind") == "asset":
            links.append(("Its entry in the catalogue",
                          mail.absolute_url(f"/catalogue/{answer['id']}")))
        elif answer.get("kind") == "request":
            links.append((f"Request #{answer['id']}, which answers it",
                          mail.absolute_url(f"/requests/{answer['id']}")))
    elif kind == "waitlisted":
        place = budget.waitlist_position(request, now, values)
        if place is not None:
            facts.append(f"It is number {place[0]} of {place[1]} on {request.team.name}'s "
                         "waitlist.")
    elif kind == "delivered" and request.delivered_url:
        links.append(("What was delivered", request.delivered_url))
    elif kind == "sla_at_risk" and request.sla_due_at is not None:
        facts.append("Its SLA target falls due "
                     f"{request.sla_due_at.strftime('%-d %b %Y, %H:%M')} UTC.")
    text = (event.text or "")[:LONG_TEXT] if event is not None else ""
    return Notice(kind, request, event, event.actor if event is not None else None, now,
                  text, tuple(facts), tuple(links))


@signals.request_transitioned.connect
def on_transition(request, event, now, **_):
    """Tell the audiences of a transition's row (``notify``) what it did; return the users
    told in the app."""
    rule = lifecycle.TRANSITIONS[event.action].notify
    if rule is None:
        return []
    kind, audiences = rule
    told = tell(describe(kind, request, event, now), audiences)
    # A reply to a question may mention people (tickets/conversation.py records them on the
    # answer's event): they are told as a comment's mentions are.
    return told + _tell_mentioned(request, event, now, _mentioned_in(event), told)


def _mentioned_in(event):
    ids = [record["id"] for record in (event.data or {}).get("mentions", ())]
    if not ids:
        return []
    return db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)).all()


def _tell_mentioned(request, event, now, mentioned, told=(), values=None):
    """Tell each of ``mentioned`` (not the author, nor anyone in ``told``) that ``event``
    mentions them; return those told."""
    if not mentioned:
        return []
    notice = describe("mention", request, event, now, values)
    done = []
    for user in mentioned:
        if user.id != event.actor_id and user not in told and user not in done \
                and deliver(user, notice):
            done.append(user)
    return done


@signals.comment_added.connect
def on_comment(request, event, mentioned=(), now=None, **_):
    """Tell the people a comment mentions ("mention"), and the others it concerns (the
    requester, the assignee, the followers) that there is a new comment; return the users
    told in the app. Someone mentioned who turned mentions off is told of the comment as if
    not mentioned."""
    now = now or event.created_at
    values = settings.current()
    told = _tell_mentioned(request, event, now, mentioned, values=values)
    return told + tell(describe("comment", request, event, now, values), COMMENT_AUDIENCES,
                       skip={user.id for user in told})


# --- Who is told --------------------------------------------------------------------------------

def _asker(request):
    """The analyst who asked the question being answered (the last "ask"), while active; else
    the request's assignee."""
    asked = db.session.scalars(
        select(Event).where(Event.request_id == request.id, Event.action == "ask")
        .order_by(Event.id.desc()).limit(1).options(joinedload(Event.actor))).first()
    if asked is not None and asked.actor is not None and asked.actor.is_active:
        return asked.actor
    return request.assignee


def followers(request):
    """(users, addresses): the watchers of ``request`` who have an account (as Users), and
    those who have none (as Watchers)."""
    watchers = list(request.watchers)
    if not watchers:
        return [], []
    accounts = {user.email: user for user in db.session.scalars(
        select(User).where(User.email.in_([watcher.email for watcher in watchers])))}
    return ([accounts[watcher.email] for watcher in watchers if watcher.email in accounts],
            [watcher for watcher in watchers if watcher.email not in accounts])


def tell(notice, audiences, skip=()):
    """Tell ``notice`` to its ``audiences`` (names of AUDIENCES), but not to whoever did it nor
    the user ids of ``skip``; return the users told in the app."""
    request = notice.request
    users, addresses = [], []
    for audience in audiences:
        if audience == "requester":
            users.append(request.requester)
        elif audience == "assignee":
            users.append(request.assignee)
        elif audience == "asker":
            users.append(_asker(request))
        elif audience == "followers":
            accounts, others = followers(request)
            users += accounts
            addresses += others
        else:
            raise ValueError(f"no audience called {audience!r}")
    actor = notice.actor
    passed = set(skip) | ({actor.id} if actor is not None else set())
    told = []
    for user in users:
        if user is not None and user.id not in passed:
            passed.add(user.id)
            if deliver(user, notice):
                told.append(user)
    if not request.is_confidential:
        for watcher in addresses:
            if actor is None or watcher.email != actor.email:
                _queue_mail(notice, watcher=watcher)
    return told


def deliver(user, notice, once_key=None):
    """Tell ``user`` about ``notice`` by their mode for its kind: an entry in the app, and a
    mail (batched) when they chose "immediately"; nothing when they chose "off", are no longer
    active or may not see the request. With a ``once_key`` it is told once, whatever runs at
    the same time. Return the new notification's id, or None."""
    request = notice.request
    if not wants(user, notice.kind) or not allowed(user, "see", request):
        return None
    how = mode(user, notice.kind)
    created = insert_once(db.session, Notification.__table__, {
        "recipient_id": user.id, "request_id": request.id, "kind": notice.kind,
        "event_id": notice.event.id if notice.event is not None else None,
        "actor_id": notice.actor.id if notice.actor is not None else None,
        "text": notice.short, "created_at": notice.now, "read_at": None,
        "is_daily": how == "daily", "mailed_at": None, "once_key": once_key,
    }, "once_key")
    if created is not None and how == "immediately":
        _queue_mail(notice, user=user)
    return created


# --- Mail -------------------------------------------------------------------------------------

def _queue_mail(notice, user=None, watcher=None):
    """Queue the mail telling ``user`` (or ``watcher``, an address without an account) about
    ``notice``, joining the message about the same request still gathering for them; return
    the outbox id."""
    request, now = notice.request, notice.now
    key = f"notify:{user.id}:{request.id}" if user is not None else f"notify:watcher:{watcher.id}"
    item = notice.item()
    waiting = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.batch_key == key, OutboxMessage.status == "pending",
               OutboxMessage.attempts == 0, OutboxMessage.locked_until.is_(None),
               OutboxMessage.send_after > now)
        .order_by(OutboxMessage.id.desc()).limit(1)
        .with_for_update()).first()
    if waiting is not None:
        items = [*waiting.payload.get("items", []), item]
        subject, text, html = render(request, items, user=user, watcher=watcher)
        # Only while no sender has taken it: otherwise a new message starts a new batch.
        updated = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == waiting.id, OutboxMessage.locked_until.is_(None),
                   OutboxMessage.attempts == 0)
            .values(subject=subject, text_body=text, html_body=html,
                    payload={"request_id": request.id, "items": items})
            .execution_options(synchronize_session=False))
        if updated.rowcount == 1:
            db.session.expire(waiting)
            return waiting.id
    items = [item]
    subject, text, html = render(request, items, user=user, watcher=watcher)
    headers = (mail.unsubscribe_headers(user, "notifications") if user is not None
               else {"List-Unsubscribe": f"<{unwatch_url(watcher)}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return mail.queue_message(
        user.email if user is not None else watcher.email, subject, text, html,
        kind="notification", now=now, user=user, headers=headers,
        send_after=now + BATCH_WINDOW, batch_key=key,
        payload={"request_id": request.id, "items": items})


def render(request, items, user=None, watcher=None):
    """Return (subject, text, html) of the mail telling ``user`` (or ``watcher``, an address
    without an account) about ``items`` on ``request``."""
    kinds = list(dict.fromkeys(item["kind"] for item in items))
    headlines = {kind: headline(kind, request, user) for kind in NOTIFICATIONS}
    title = headlines[kinds[0]] if len(kinds) == 1 else f"{len(items)} updates on a request"
    context = {
        "req": request, "items": items, "headlines": headlines, "headline": title,
        "link": mail.absolute_url(f"/requests/{request.id}"), "user": user,
        "watcher": watcher,
    }
    if user is not None:
        context.update(unsubscribe_url=mail.unsubscribe_url(user, "notifications"),
                       preferences_url=mail.absolute_url("/preferences"))
    else:
        context.update(unwatch_url=unwatch_url(watcher))
    return (f"[Datadesk #{request.id}] {title}", mail.render("email/notification.txt", **context),
            mail.render("email/notification.html", **context))


# --- Watchers without an account ------------------------------------------------------------

def _unwatch_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="datadesk-unwatch")


def unwatch_token(watcher):
    """A signed token that stops ``watcher``'s address following its request."""
    return _unwatch_serializer().dumps({"r": watcher.request_id, "e": watcher.email})


def read_unwatch_token(token):
    """Return (request id, address) of a genuine token, or None for a tampered or foreign
    one."""
    try:
        data = _unwatch_serializer().loads(token)
    except BadSignature:
        return None
    if (not isinstance(data, dict) or not isinstance(data.get("r"), int)
            or not isinstance(data.get("e"), str)):
        return None
    return data["r"], data["e"]


def unwatch_url(watcher):
    """The link in a watcher's mail that stops that address following the request; it needs
    no account."""
    return mail.absolute_url(f"/unwatch/{unwatch_token(watcher)}")


def request_of_token(token):
    """(request, address) that an unwatch ``token`` names, or None (tampered, or the request
    is gone)."""
    found = read_unwatch_token(token)
    if found is None:
        return None
    request = db.session.scalars(
        select(Request).where(id_matches(Request.id, found[0]))).first()
    return None if request is None else (request, found[1])


def stop_following(request, address, now):
    """Stop ``address`` following ``request`` (the link in its mail): its watcher is removed
    and the timeline says so. Return whether it was following."""
    watcher = next((w for w in request.watchers if w.email == address), None)
    if watcher is None:
        return False
    before = request.watcher_emails
    request.watchers.remove(watcher)
    db.session.add(Event(
        request=request, actor=None, kind="edit", created_at=now,
        text=f"{address} stopped following the request (the link in a notification).",
        data={"changes": {"watchers": [before, [e for e in before if e != address]]}}))
    db.session.flush()
    return True


# --- The app's list -------------------------------------------------------------------------

def _shown_to(user):
    """The SQL conditions of the notifications ``user`` sees: theirs, about requests they may
    still see (a notification joined to its request)."""
    return (Notification.recipient_id == user.id, visible_requests(user))


def unread_count(user):
    """How many notifications ``user`` has not read (those they may still see): one
    statement."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .join(Request, Request.id == Notification.request_id)
        .where(*_shown_to(user), Notification.read_at.is_(None)))


def listing(user, unread_only=False):
    """The select of ``user``'s notifications, newest first, with their requests and actors
    (for ``paginate``); ``unread_only``: those not read yet."""
    query = (select(Notification).join(Notification.request)
             .where(*_shown_to(user))
             .options(contains_eager(Notification.request).joinedload(Request.team),
                      joinedload(Notification.actor))
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def open_notification(user, notification_id, now):
    """Mark ``user``'s notification ``notification_id`` read and return it; None when it is not
    theirs, does not exist, or is about a request they may no longer see."""
    found = db.session.scalars(
        select(Notification).join(Notification.request)
        .where(id_matches(Notification.id, notification_id), *_shown_to(user))).first()
    if found is not None and found.read_at is None:
        found.read_at = now
        db.session.flush()
    return found


def mark_all_read(user, now):
    """Mark every unread notification of ``user`` read; return how many."""
    return db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False)).rowcount


# --- Scheduled ----------------------------------------------------------------------------------

def sla_at_risk(now):
    """Tell each assignee once about their requests that went at risk (a scheduled job).

    Once per request and at-risk instant (its ``once_key``), so a request that goes at risk
    again after a pause is told about again, and reruns add nothing. Returns how many were
    told.
    """
    told = 0
    rows = db.session.scalars(
        select(Request)
        .where(Request.state.in_(sorted(OPEN_STATES - PAUSED_STATES)),
               Request.assignee_id.is_not(None), Request.sla_at_risk_at <= now,
               Request.sla_due_at > now)
        .options(joinedload(Request.assignee))).all()
    values = settings.current()
    for request in rows:
        user = request.assignee
        key = f"sla:{request.id}:{user.id}:{request.sla_at_risk_at.isoformat()}"
        if deliver(user, describe("sla_at_risk", request, None, now, values), once_key=key):
            told += 1
    return told


def daily_key(user, day):
    """The outbox key of ``user``'s daily batch of ``day`` (their local date): one a day."""
    return f"notify-daily:{user.id}:{day.isoformat()}"


def send_daily(now, values=None, at_any_hour=False):
    """Queue each person's daily batch: one mail with the notifications of the kinds they get
    "daily" that no daily mail has carried yet. Return how many mails were queued.

    Exactly once a day per person (the outbox key ``daily_key`` of their local day), from the
    start of the working day (``work_start``) on the person's own clock (their time zone;
    ``at_any_hour`` from midnight: the command). A
    notification that came after today's mail waits for tomorrow's. Those about requests the
    person may no longer see, and those of someone no longer active, are dropped.
    """
    values = values or settings.current()
    start = settings.business_hours(values).start
    pending = (Notification.is_daily.is_(True), Notification.mailed_at.is_(None),
               Notification.created_at <= now)
    people = db.session.scalars(
        select(User).where(User.id.in_(select(Notification.recipient_id).where(*pending)))
        .order_by(User.id)).all()
    queued = 0
    for user in people:
        # The person's own morning and day: a colleague in Tokyo gets it on Tokyo's morning.
        local_now = now.astimezone(localtime.person_zone(user, values))
        if not at_any_hour and local_now.time() < start:
            continue
        day = local_now.date()
        ids = list(db.session.scalars(
            select(Notification.id).where(Notification.recipient_id == user.id, *pending)))
        rows = db.session.scalars(
            listing(user).where(Notification.id.in_(ids))
            .order_by(None).order_by(Notification.request_id, Notification.created_at,
                                     Notification.id)).all() if user.is_active else []
        if rows:
            subject, text, html = render_daily(user, rows, day)
            if mail.queue_message(user.email, subject, text, html, kind="notification",
                                  now=now, user=user, idempotency_key=daily_key(user, day),
                                  headers=mail.unsubscribe_headers(user, "notifications")) is None:
                continue  # today's mail went already: these wait for tomorrow's
            queued += 1
        db.session.execute(update(Notification).where(Notification.id.in_(ids))
                           .values(mailed_at=now).execution_options(synchronize_session=False))
    return queued


def render_daily(user, rows, day):
    """Return (subject, text, html) of ``user``'s daily batch of notifications ``rows`` (in
    request order) on ``day``."""
    groups = []
    for row in rows:
        if not groups or groups[-1]["req"].id != row.request_id:
            groups.append({"req": row.request, "rows": [],
                           "link": mail.absolute_url(f"/requests/{row.request_id}")})
        groups[-1]["rows"].append((headline(row.kind, row.request, user), row))
    count = len(rows)
    subject = (f"[Datadesk] {count} notification{'s' if count != 1 else ''} on "
               f"{len(groups)} request{'s' if len(groups) != 1 else ''}, "
               f"{day.strftime('%-d %b %Y')}")
    context = {"user": user, "groups": groups, "count": count, "day": day,
               "title": subject.removeprefix("[Datadesk] "),
               "list_url": mail.absolute_url("/notifications"),
               "unsubscribe_url": mail.unsubscribe_url(user, "notifications"),
               "preferences_url": mail.absolute_url("/preferences")}
    return (subject, mail.render("email/notification_daily.txt", **context),
            mail.render("email/notification_daily.html", **context))
