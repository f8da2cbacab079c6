"""Event notifications by e-mail: who is told what, batched per recipient and request.

A notification is queued in the outbox in the same transaction as the change that causes it
(``on_transition`` receives every transition: ``signals.request_transitioned``). Several events on one request for one recipient
within ``BATCH_WINDOW`` make one mail: while the first message has not been sent (nor tried), a
later event joins it and its text is rendered again with every event, so a burst of changes
sends one message a few minutes after it started. Each recipient's preferences decide which
kinds of notification they get (models.NOTIFICATIONS); an unsubscribe link is in every mail.
"""
from datetime import timedelta

from . import lifecycle, mail, signals
from .extensions import db
from .models import OPEN_STATES, PAUSED_STATES, OutboxMessage, Request

BATCH_WINDOW = timedelta(minutes=3)

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


def wants(user, kind):
    """Tell whether ``user`` gets ``kind`` notifications (active, and chose them)."""
    return user is not None and user.is_active and kind in (user.notifications or ())


@signals.request_transitioned.connect
def on_transition(request, event, now):
    """Queue the notification a transition calls for (its row's ``notify``), if its recipient
    wants it."""
    rule = lifecycle.TRANSITIONS[event.action].notify
    if rule is None:
        return None
    kind, who = rule
    recipient = request.requester if who == "requester" else request.assignee
    if event.actor_id is not None and recipient is not None and recipient.id == event.actor_id:
        return None  # nobody is told what they did themselves
    return notify(recipient, request, kind, event, now)


def _item(kind, event, now):
    return {"kind": kind, "event_id": event.id if event is not None else None,
            "at": now.isoformat(), "actor": event.actor_name if event is not None else "Datadesk",
            "text": (event.text or "")[:1000] if event is not None else ""}


def notify(user, request, kind, event, now):
    """Tell ``user`` about ``event`` on ``request`` (a notification of ``kind``); batched.

    Returns the outbox id the notification went into, or None when the user does not want it.
    """
    if not wants(user, kind):
        return None
    key = f"notify:{user.id}:{request.id}"
    waiting = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.batch_key == key, OutboxMessage.status == "pending",
               OutboxMessage.attempts == 0, OutboxMessage.locked_until.is_(None),
               OutboxMessage.send_after > now)
        .order_by(OutboxMessage.id.desc()).limit(1)
        .with_for_update()).first()
    if waiting is not None:
        items = [*waiting.payload.get("items", []), _item(kind, event, now)]
        subject, text, html = render(user, request, items)
        # Only while no sender has taken it: otherwise a new message starts a new batch.
        updated = db.session.execute(
            db.update(OutboxMessage)
            .where(OutboxMessage.id == waiting.id, OutboxMessage.locked_until.is_(None),
                   OutboxMessage.attempts == 0)
            .values(subject=subject, text_body=text, html_body=html,
                    payload={"request_id": request.id, "items": items})
            .execution_options(synchronize_session=False))
        if updated.rowcount == 1:
            db.session.expire(waiting)
            return waiting.id
    items = [_item(kind, event, now)]
    subject, text, html = render(user, request, items)
    return mail.queue_message(
        user.email, subject, text, html, kind="notification", now=now, user=user,
        headers=mail.unsubscribe_headers(user, "notifications"),
        send_after=now + BATCH_WINDOW, batch_key=key,
        payload={"request_id": request.id, "items": items})


def render(user, request, items):
    """Return (subject, text, html) of the notification mail telling ``user`` about ``items``."""
    kinds = list(dict.fromkeys(item["kind"] for item in items))
    headline = HEADLINES[kinds[0]] if len(kinds) == 1 else f"{len(items)} updates on a request"
    subject = f"[Datadesk #{request.id}] {headline}"
    context = {
        "user": user, "req": request, "items": items, "headlines": HEADLINES,
        "headline": headline, "link": mail.absolute_url(f"/requests/{request.id}"),
        "unsubscribe_url": mail.unsubscribe_url(user, "notifications"),
        "preferences_url": mail.absolute_url("/preferences"),
    }
    return (subject, mail.render("email/notification.txt", **context),
            mail.render("email/notification.html", **context))


def sla_at_risk(now):
    """Tell each assignee once about their requests that went at risk (a scheduled job).

    One message per request and at-risk instant: the idempotency key carries the instant, so a
    request that goes at risk again after a pause is told about again, and reruns add nothing.
    Returns how many messages were queued.
    """
    queued = 0
    rows = db.session.scalars(
        db.select(Request)
        .where(Request.state.in_(sorted(OPEN_STATES - PAUSED_STATES)),
               Request.assignee_id.is_not(None), Request.sla_at_risk_at <= now,
               Request.sla_due_at > now)
        .options(db.joinedload(Request.assignee))).all()
    for request in rows:
        user = request.assignee
        if not wants(user, "sla_at_risk"):
            continue
        items = [{"kind": "sla_at_risk", "event_id": None, "at": now.isoformat(),
                  "actor": "Datadesk", "text": ""}]
        subject, text, html = render(user, request, items)
        key = f"sla:{request.id}:{user.id}:{request.sla_at_risk_at.isoformat()}"
        if mail.queue_message(user.email, subject, text, html, kind="notification", now=now,
                              user=user, idempotency_key=key,
                              headers=mail.unsubscribe_headers(user, "notifications")):
            queued += 1
    return queued
