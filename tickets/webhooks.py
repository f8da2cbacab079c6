"""Webhooks (DESIGN.md, Integrations; issue 16): endpoints leads register, signed deliveries
through an outbox with retries, a delivery log, and endpoints paused when they keep failing.

**Queueing.** The receivers of the domain's signals (``request_created``,
``request_transitioned``, ``comment_added``, ``follow_up_answered``) add one
``WebhookDelivery`` per active endpoint subscribed to the event, in the transaction of the
change (the outbox pattern): a delivery exists exactly when its change is committed. Its
``event_key`` (unique per endpoint) names the domain event, so one event is queued once per
endpoint. Its ``payload`` is the exact body sent, built then: "send again" sends the same
bytes with a fresh signature.

**What a body says.** ``{"id", "event", "created_at", "request": {...}, "event_detail": {...}}``.
A confidential request's body carries only its id, state, URL and ``is_confidential``, and the
detail only its states: an endpoint's readers are not people the policy knows.

**Signing.** ``Datadesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``,
with ``Datadesk-Event``, ``Datadesk-Delivery`` (the body's id: delivery is at least once, so a
receiver drops an id it has seen), ``User-Agent: Datadesk-Webhooks/1`` and ``Content-Type:
application/json``. ``VERIFY_SNIPPET`` is how a receiver checks it; the endpoint page shows it.

**Sending.** ``deliver_due`` leases due deliveries as the mail outbox does
(``queries.lease_due``), POSTs each (WEBHOOK_TIMEOUT seconds, redirects never followed) and
records the answer. An endpoint's deliveries go one at a time, in order; up to WEBHOOK_SENDERS
endpoints are sent to at once, and a lease never takes an endpoint being sent to, so a slow
receiver delays only its own deliveries. 2xx succeeds; anything else is retried after 1, 2, 4 ... minutes (at most an
hour) until WEBHOOK_MAX_ATTEMPTS attempts, then fails. After WEBHOOK_PAUSE_AFTER_FAILURES failed
attempts in a row, whatever deliveries they were, the endpoint is paused and its creator and
every lead are told by mail. Events that happen while an endpoint is paused are not queued for
it; its pending deliveries wait and go when it is resumed.

**Private addresses.** Before each POST (and when a URL is saved) the host is resolved and every
address it has must be public: loopback, private, link-local, multicast, reserved, unspecified
and other non-global addresses (IPv4 and IPv6, IPv4-mapped IPv6 included) are refused, unless an
admin allowed private addresses for the endpoint. The connection goes to the address checked
(the Host header and TLS name stay the URL's), so a DNS answer changing between the check and
the connection (DNS rebinding) cannot send it elsewhere. A host that does not resolve is
accepted when saved (the receiver may not exist yet) and fails its deliveries until it does.
"""
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from . import mail, signals
from .errors import Conflict, Refusal
from .extensions import db
from .models import User, Webhook, WebhookDelivery, utcnow
from .policy import allowed

log = logging.getLogger(__name__)
from .queries import lease_due

# What an endpoint may subscribe to, with the label the form shows.
EVENTS = {
    "request.created": "A request is submitted",
    "request.state_changed": "A request changes state (every transition)",
    "request.commented": "Someone comments on a request",
    "request.delivered": "An analyst delivers a request",
    "follow_up.answered": "A requester answers a follow-up",
}
PING = "ping"  # the test event: any endpoint, whatever it subscribed to
USER_AGENT = "Datadesk-Webhooks/1"
SIGNATURE_HEADER = "Datadesk-Signature"
SECRET_PREFIX = "whsec_"
URL_LENGTH = 500
DESCRIPTION_LENGTH = 200
BATCH_SIZE = 10
DRAIN_SECONDS = 50  # one run stops taking batches after this, under the scheduler's minute
RESPONSE_KEPT = 500  # characters of a failed answer's body kept in the log
LOG_PAGE_SIZE = 25

# How a receiver checks a delivery (shown on the endpoint page; the tests run it).
VERIFY_SNIPPET = '''import hashlib, hmac, time

def is_genuine(secret, signature_header, body):  # body: the raw bytes received
    parts = dict(item.split("=", 1) for item in signature_header.split(","))
    signed = parts["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300
'''


class WebhookRefusal(Refusal):
    """A webhook action refused; the message is for the lead."""


class NotAllowed(WebhookRefusal):
    """Someone who may not manage webhooks tried to (403)."""

    status = 403


def _config(name, default):
    return current_app.config.get(name, default)


def new_secret():
    """A new signing secret: ``whsec_`` and 32 random bytes, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _must_manage(actor):
    if not allowed(actor, "manage_webhooks"):
        raise NotAllowed("Only leads and admins manage webhooks.")


# --- Addresses (SSRF guard) -------------------------------------------------------------------

def blocked_reason(address):
    """Why Datadesk must not connect to IP ``address`` (a string) unless allowed: "loopback",
    "private", ... or None for a public address. IPv4-mapped IPv6 is judged as its IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for reason, holds in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                          ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                          ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if holds:
            return reason
    return None if ip.is_global else "non-public"


def resolve(host, port):
    """The addresses of ``host`` (IPv4 and IPv6, in the resolver's order); [] when it has none."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return []
    addresses = []
    for *_, sockaddr in found:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL's parts and the address checked to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def split_url(url):
    """Check the form of ``url`` (http or https, a host, no user or password); return its
    parts (scheme, host, port, path with query) or raise a WebhookRefusal on field "url"."""
    url = (url or "").strip()
    if not url:
        raise WebhookRefusal("Enter the URL of the endpoint.", "url")
    if len(url) > URL_LENGTH:
        raise WebhookRefusal(f"Keep the URL under {URL_LENGTH} characters.", "url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefusal("This is not a valid URL.", "url") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookRefusal("Use an http:// or https:// URL.", "url")
    if not parts.hostname:
        raise WebhookRefusal("The URL needs a host, as in https://hooks.example.com/datadesk.",
                             "url")
    if parts.username or parts.password:
        raise WebhookRefusal("Leave the user name and password out of the URL: the signature "
                             "proves the sender.", "url")
    if any(ord(char) < 33 for char in url):
        raise WebhookRefusal("Remove the spaces and control characters from the URL.", "url")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def check_url(url, allow_private, *, must_resolve):
    """Return the Target of ``url``, or raise a WebhookRefusal (field "url") when its form is
    wrong or its host has an address that is not public (unless ``allow_private``). A host
    without addresses is refused when ``must_resolve`` (a POST), else its address is ''."""
    scheme, host, port, path = split_url(url)
    addresses = resolve(host, port)
    if not addresses:
        if must_resolve:
            raise WebhookRefusal(f"The host {host} cannot be found (DNS).", "url")
        return Target(scheme, host, port, path, "")
    if not allow_private:
        for address in addresses:
            reason = blocked_reason(address)
            if reason:
                raise WebhookRefusal(
                    f"{host} is a {reason} address ({address}): Datadesk only calls public "
                    "addresses. An admin may allow private addresses for this endpoint.", "url")
    return Target(scheme, host, port, path, addresses[0])


# --- Endpoints ----------------------------------------------------------------------------------

def _check_events(events):
    chosen = [name for name in EVENTS if name in set(events or ())]
    if not chosen or len(chosen) != len(set(events)):
        raise WebhookRefusal("Choose at least one event." if not chosen
                             else "Choose events from the list.", "events")
    return chosen


def create(actor, url, description, events, now, allow_private=False):
    """Register an endpoint for ``events``; return (webhook, its secret, shown once).
    ``allow_private`` counts only when ``actor`` may allow private addresses (an admin)."""
    _must_manage(actor)
    allow_private = bool(allow_private) and allowed(actor, "allow_private_webhooks")
    check_url(url, allow_private, must_resolve=False)
    secret = new_secret()
    webhook = Webhook(url=url.strip(), description=(description or "").strip(),
                      events=_check_events(events), secret=secret, is_active=True,
                      allow_private=allow_private, created_by_id=actor.id, created_at=now,
                      updated_at=now, consecutive_failures=0)
    db.session.add(webhook)
    db.session.flush()
    return webhook, secret


def update(webhook, actor, url, description, events, now, allow_private=None,
           expected_version=None):
    """Change an endpoint's URL, description and events (and, for an admin, whether it may
    call private addresses); refuse a change made on an out-of-date page (409)."""
    _must_manage(actor)
    if expected_version is not None and expected_version != webhook.version:
        raise Conflict("Someone else changed this endpoint meanwhile: review it and save "
                       "again.")
    if allow_private is not None and allowed(actor, "allow_private_webhooks"):
        webhook.allow_private = bool(allow_private)
    check_url(url, webhook.allow_private, must_resolve=False)
    webhook.url = url.strip()
    webhook.description = (description or "").strip()
    webhook.events = _check_events(events)
    webhook.updated_at = now
    db.session.flush()
    return webhook


def roll_secret(webhook, actor, now):
    """Give the endpoint a new secret (the old one stops at once); return it, shown once."""
    _must_manage(actor)
    webhook.secret = new_secret()
    webhook.updated_at = now
    db.session.flush()
    return webhook.secret


def pause(webhook, actor, now, reason=None):
    """Stop sending to the endpoint (its pending deliveries wait; new events are not queued)."""
    _must_manage(actor)
    webhook.is_active = False
    webhook.paused_at = now
    webhook.paused_reason = reason or f"Paused by {actor.name}."
    webhook.updated_at = now
    db.session.flush()


def resume(webhook, actor, now):
    """Send to the endpoint again: its failure count starts from zero and its pending
    deliveries are due at once."""
    _must_manage(actor)
    webhook.is_active = True
    webhook.paused_at = None
    webhook.paused_reason = None
    webhook.consecutive_failures = 0
    webhook.updated_at = now
    db.session.flush()
    db.session.execute(
        db.update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == "pending")
        .values(next_attempt_at=now, locked_until=None, locked_by=None)
        .execution_options(synchronize_session=False))


def delete(webhook, actor):
    """Remove the endpoint and its delivery log."""
    _must_manage(actor)
    db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    db.session.delete(webhook)
    db.session.flush()


def send_test(webhook, actor, now):
    """Queue a "ping" to the endpoint, whatever it subscribed to (even paused: a lead checks a
    receiver before resuming it); return the delivery."""
    _must_manage(actor)
    payload = body(PING, now, None, {"webhook_id": webhook.id, "actor": _person(actor),
                                     "message": "A test event sent from Datadesk."})
    delivery = WebhookDelivery(webhook_id=webhook.id, event=PING,
                               event_key=f"ping:{uuid.uuid4().hex}", request_id=None,
                               payload=payload, status="pending", attempts=0,
                               next_attempt_at=now, created_at=now)
    db.session.add(delivery)
    db.session.flush()
    return delivery


def send_again(delivery, actor, now):
    """Queue ``delivery`` again at once with the same body (a fresh signature when sent) and a
    new count of attempts."""
    _must_manage(actor)
    if delivery.status == "pending" and delivery.attempts == 0:
        raise WebhookRefusal("This delivery is waiting to be sent already.")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.locked_until = None
    delivery.locked_by = None
    db.session.flush()
    return delivery


def endpoints():
    """Every endpoint with its latest delivery: [(webhook, delivery or None)], newest first
    (two statements)."""
    hooks = db.session.scalars(db.select(Webhook).order_by(Webhook.id.desc())).all()
    latest = db.select(db.func.max(WebhookDelivery.id)).group_by(WebhookDelivery.webhook_id)
    last = {delivery.webhook_id: delivery for delivery in db.session.scalars(
        db.select(WebhookDelivery).where(WebhookDelivery.id.in_(latest)))}
    return [(hook, last.get(hook.id)) for hook in hooks]


def log_query(webhook):
    """The endpoint's deliveries, newest first (for a paginated page)."""
    return (db.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()))


# --- Bodies -------------------------------------------------------------------------------------

def _person(user):
    return None if user is None else {"id": user.id, "name": user.name}


def _iso(moment):
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def request_url(request):
    """The request's page on the app's public address."""
    return mail.absolute_url(f"/requests/{request.id}")


def describe_request(request):
    """The request as a body tells it; a confidential one by its id, state and URL only."""
    if request.is_confidential:
        return {"id": request.id, "state": request.state, "is_confidential": True,
                "url": request_url(request)}
    return {
        "id": request.id, "title": request.title, "state": request.state, "kind": request.kind,
        "format": request.format, "is_confidential": False,
        "team": {"id": request.team.id, "name": request.team.name},
        "requester": _person(request.requester), "assignee": _person(request.assignee),
        "business_impact": request.business_impact,
        "deadline": request.deadline.isoformat() if request.deadline else None,
        "size": request.size, "delivered_url": request.delivered_url,
        "created_at": _iso(request.created_at), "updated_at": _iso(request.updated_at),
        "url": request_url(request),
    }


def body(name, now, request, detail):
    """The JSON body of event ``name`` about ``request`` (None: no request) at ``now``."""
    body = {"id": f"dlv_{uuid.uuid4().hex}", "event": name, "created_at": _iso(now),
            "request": describe_request(request) if request is not None else None,
            "event_detail": detail}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True)


def _event_detail(request, event, **extra):
    detail = {"event_id": event.id, "kind": event.kind, "action": event.action,
              "from_state": event.from_state, "to_state": event.to_state}
    if request.is_confidential:
        return detail
    detail.update(actor=_person(event.actor), text=event.text, **extra)
    return detail


def queue(name, request, event_key, detail, now):
    """Queue event ``name`` about ``request`` for every active endpoint subscribed to it, once
    per ``event_key`` and endpoint; return how many were queued."""
    hooks = [hook for hook in db.session.scalars(db.select(Webhook).where(Webhook.is_active))
             if name in (hook.events or ())]
    if not hooks:
        return 0
    rows = [{"webhook_id": hook.id, "event": name, "event_key": event_key,
             "request_id": request.id if request is not None else None,
             "payload": body(name, now, request, detail), "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now} for hook in hooks]
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
        WebhookDelivery.__table__)
    done = db.session.execute(insert.values(rows).on_conflict_do_nothing(
        index_elements=["webhook_id", "event_key"]))
    return done.rowcount


@signals.request_created.connect
def on_created(request, now, **extra):
    """Queue "request.created"."""
    queue("request.created", request, f"request:{request.id}:created", {}, now)


@signals.request_transitioned.connect
def on_transition(request, event, now, **extra):
    """Queue "request.state_changed", and "request.delivered" for a delivery."""
    queue("request.state_changed", request, f"event:{event.id}",
          _event_detail(request, event), now)
    if event.action == "deliver":
        delivered = {} if request.is_confidential else {"delivered_url": request.delivered_url}
        queue("request.delivered", request, f"event:{event.id}:delivered",
              _event_detail(request, event, **delivered), now)


@signals.comment_added.connect
def on_comment(request, event, now, **extra):
    """Queue "request.commented"."""
    queue("request.commented", request, f"event:{event.id}", _event_detail(request, event), now)


@signals.follow_up_answered.connect
def on_follow_up_answered(request, event, follow_up, now, **extra):
    """Queue "follow_up.answered"."""
    outcome = {} if request.is_confidential else {
        "outcome": follow_up.outcome, "decision": follow_up.decision,
        "not_used_reason": follow_up.not_used_reason}
    queue("follow_up.answered", request, f"event:{event.id}",
          _event_detail(request, event, **outcome), now)


# --- Signing and sending ------------------------------------------------------------------------

def signature(secret, timestamp, body):
    """The ``Datadesk-Signature`` header of ``body`` (text) signed with ``secret`` at unix
    ``timestamp``: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def headers_for(outgoing, timestamp):
    """The headers of one POST of ``outgoing`` (an Outgoing)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Datadesk-Event": outgoing.event,
        "Datadesk-Delivery": json.loads(outgoing.payload)["id"],
        SIGNATURE_HEADER: signature(outgoing.secret, timestamp, outgoing.payload),
    }


@dataclass(frozen=True)
class Outgoing:
    """What one POST needs of a delivery and its endpoint, read from the session before the
    sending starts: the threads that send never touch the session."""

    delivery_id: int
    webhook_id: int
    event: str
    payload: str
    url: str
    allow_private: bool
    secret: str

    @classmethod
    def of(cls, delivery):
        webhook = delivery.webhook
        return cls(delivery.id, webhook.id, delivery.event, delivery.payload, webhook.url,
                   webhook.allow_private, webhook.secret)


@dataclass
class Answer:
    """What one POST got: the HTTP status (None: no answer), the time it took, an error."""

    status_code: int | None
    duration_ms: int
    error: str | None

    @property
    def is_success(self):
        return self.status_code is not None and 200 <= self.status_code < 300


def _connection(target, timeout):
    """An HTTP(S) connection to ``target``'s checked address, named by its host (Host header,
    TLS server name and certificate check)."""
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    address = target.address

    def pinned(_address, timeout=None, source_address=None):
        return socket.create_connection((address, target.port), timeout, source_address)

    connection._create_connection = pinned
    return connection


def post(outgoing, now, timeout):
    """POST ``outgoing`` (an Outgoing) to its endpoint once, never following a redirect;
    return an Answer. Reads no configuration and no session: the sending threads call it."""
    started = time.monotonic()

    def took():
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(outgoing.url, outgoing.allow_private, must_resolve=True)
    except Refusal as refusal:
        return Answer(None, took(), f"Not sent: {refusal}")
    connection = _connection(target, timeout)
    try:
        connection.request("POST", target.path, body=outgoing.payload.encode(),
                           headers=headers_for(outgoing, int(now.timestamp())))
        response = connection.getresponse()
        text = response.read(RESPONSE_KEPT).decode("utf-8", "replace")
        code = response.status
    except (OSError, http.client.HTTPException, ssl.SSLError) as error:
        return Answer(None, took(), f"{type(error).__name__}: {error}"[:RESPONSE_KEPT])
    finally:
        connection.close()
    if 200 <= code < 300:
        return Answer(code, took(), None)
    if 300 <= code < 400:
        where = response.getheader("Location", "")
        return Answer(code, took(), f"Redirected to {where or '?'}: redirects are not followed."
                      " Use the final URL.")
    return Answer(code, took(), f"HTTP {code}: {text}".strip()[:RESPONSE_KEPT])


def retry_delay(attempts):
    """How long to wait after the ``attempts``-th failure: 1, 2, 4 ... minutes, at most 1 hour
    (the mail outbox's backoff)."""
    return mail.retry_delay(attempts)


def _record(delivery, webhook, answer, now):
    """Write ``answer`` on ``delivery``; count the endpoint's failures in a row and pause it
    at the limit (telling its creator and the leads). The caller commits."""
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = answer.status_code
    delivery.duration_ms = answer.duration_ms
    delivery.last_error = answer.error
    delivery.locked_until = None
    delivery.locked_by = None
    # Counted in the database, without the endpoint's version: a lead's edit at the same
    # moment is no conflict.
    if answer.is_success:
        delivery.status = "succeeded"
        delivery.delivered_at = now
        db.session.execute(db.update(Webhook)
                           .where(Webhook.id == webhook.id, Webhook.consecutive_failures != 0)
                           .values(consecutive_failures=0)
                           .execution_options(synchronize_session=False))
        return
    if delivery.attempts >= _config("WEBHOOK_MAX_ATTEMPTS", 10):
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    failures = db.session.execute(
        db.update(Webhook).where(Webhook.id == webhook.id)
        .values(consecutive_failures=Webhook.consecutive_failures + 1)
        .returning(Webhook.consecutive_failures)
        .execution_options(synchronize_session=False)).scalar()
    if delivery.event != PING and failures >= _config("WEBHOOK_PAUSE_AFTER_FAILURES", 15):
        _pause_failing(webhook, failures, answer, now)


def _pause_failing(webhook, failures, answer, now):
    reason = (f"Paused by Datadesk after {failures} failed attempts in a row; the last: "
              f"{answer.error or answer.status_code}")[:300]
    paused = db.session.execute(
        db.update(Webhook).where(Webhook.id == webhook.id, Webhook.is_active)
        .values(is_active=False, paused_at=now, paused_reason=reason)
        .execution_options(synchronize_session=False))
    if paused.rowcount == 1:
        db.session.expire(webhook)
        tell_paused(webhook, reason, now)


def tell_paused(webhook, reason, now):
    """Queue a mail to the endpoint's creator and every active lead: it is paused, and why."""
    people = db.session.scalars(db.select(User).where(
        User.is_active, db.or_(User.role == "lead", User.id == webhook.created_by_id))
        .order_by(User.id)).all()
    page = mail.absolute_url(f"/settings/webhooks/{webhook.id}")
    for user in people:
        context = {"user": user, "webhook": webhook, "reason": reason, "url": page, "now": now}
        mail.queue_message(
            user.email, "A webhook endpoint was paused: it kept failing",
            mail.render("email/webhook_paused.txt", **context),
            mail.render("email/webhook_paused.html", **context),
            kind="notification", now=now, user=user,
            idempotency_key=f"webhook-paused:{webhook.id}:{_iso(now)}:{user.id}")


@dataclass
class DeliveryResult:
    """What one ``deliver_due`` did."""

    succeeded: int = 0
    failed: int = 0


def _due(now):
    active = db.select(Webhook.id).where(Webhook.is_active)
    return db.and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   db.or_(WebhookDelivery.webhook_id.in_(active),
                          WebhookDelivery.event == PING))


def deliver_due(now=None, limit=None, sender=None):
    """POST the due deliveries of active endpoints (and test events) until none is due,
    ``limit`` were taken or DRAIN_SECONDS have passed; return a DeliveryResult.

    Up to WEBHOOK_SENDERS endpoints are sent to at once, each one's deliveries one at a time
    and in order: a batch is leased only of endpoints not being sent to, and as soon as one
    endpoint's batch is done its answers are recorded and more is leased, so a slow or dead
    receiver delays only its own deliveries. The threads that send get an Outgoing and never
    touch the session. Commits: each lease, and each delivery's outcome, in its own
    transaction."""
    now = now or utcnow()
    sender = sender or mail.sender_name()
    timeout = float(_config("WEBHOOK_TIMEOUT", 5))
    workers = max(1, int(_config("WEBHOOK_SENDERS", 4)))
    result = DeliveryResult()
    taken, started = 0, time.monotonic()
    sending = {}  # future: the id of the endpoint it sends to
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhooks") as pool:
        while True:
            leased = []
            if (len(sending) < workers and (limit is None or taken < limit)
                    and time.monotonic() - started < DRAIN_SECONDS):
                size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - taken)
                leased = _lease(now, sender, timeout, size, busy=set(sending.values()))
                taken += len(leased)
                for webhook_id, outgoing in _by_endpoint(leased).items():
                    sending[pool.submit(_send_all, outgoing, now, timeout)] = webhook_id
            if not sending:
                break
            if leased and len(sending) < workers:
                continue  # a free sender: lease for another endpoint first
            done, _ = wait(sending, return_when=FIRST_COMPLETED)
            for future in done:
                del sending[future]
                for outgoing, answer in future.result():
                    delivery = db.session.get(WebhookDelivery, outgoing.delivery_id)
                    _record(delivery, delivery.webhook, answer, now)
                    db.session.commit()
                    if answer.is_success:
                        result.succeeded += 1
                    else:
                        result.failed += 1
    return result


def _lease(now, sender, timeout, size, busy):
    """Lease up to ``size`` due deliveries for ``sender``, none of the endpoints ``busy`` (ids
    being sent to); return them as Outgoing, in order, and commit."""
    due = _due(now)
    if busy:
        due = db.and_(due, WebhookDelivery.webhook_id.not_in(sorted(busy)))
    ids = lease_due(db.session, WebhookDelivery, due,
                    (WebhookDelivery.next_attempt_at, WebhookDelivery.id), size,
                    now + timedelta(seconds=(timeout * 2 + 5) * size), sender, now)
    outgoing = []
    for delivery_id in ids:
        delivery = db.session.get(WebhookDelivery, delivery_id)
        # Sent meanwhile, or taken by another sender after this one's lease ran out.
        if delivery is not None and delivery.status == "pending" and delivery.locked_by == sender:
            outgoing.append(Outgoing.of(delivery))
    db.session.commit()
    return outgoing


def _by_endpoint(outgoing):
    """{webhook id: [Outgoing]} of ``outgoing``, each endpoint's in the order given."""
    grouped = {}
    for item in outgoing:
        grouped.setdefault(item.webhook_id, []).append(item)
    return grouped


def _send_all(outgoing, now, timeout):
    """POST each of ``outgoing`` (one endpoint's) in turn: [(Outgoing, Answer)]. Runs in a
    sending thread; whatever goes wrong in one POST is that delivery's failed attempt, never
    the end of the run."""
    answers = []
    for item in outgoing:
        try:
            answer = post(item, now, timeout)
        except Exception as error:  # a bug in one POST must not strand the leased batch
            log.exception("Webhook delivery %s could not be sent", item.delivery_id)
            answer = Answer(None, 0, f"Not sent: {type(error).__name__}: {error}"[:RESPONSE_KEPT])
        answers.append((item, answer))
    return answers


@dataclass
class WebhookStatus:
    """Webhooks at a glance, for `flask webhooks status`."""

    endpoints: int
    paused: list  # (id, url, reason)
    counts: dict  # status -> deliveries
    waiting_retry: int
    recent_errors: list  # (id, webhook id, event, attempts, error)


def status(now=None):
    """Count endpoints and deliveries by status, list the paused endpoints and latest errors."""
    counts = dict(db.session.execute(
        db.select(WebhookDelivery.status, db.func.count()).group_by(WebhookDelivery.status)).all())
    hooks = db.session.execute(db.select(Webhook.id, Webhook.url, Webhook.is_active,
                                         Webhook.paused_reason).order_by(Webhook.id)).all()
    waiting = db.session.scalar(db.select(db.func.count()).where(
        WebhookDelivery.status == "pending", WebhookDelivery.attempts > 0))
    errors = db.session.execute(
        db.select(WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.event,
                  WebhookDelivery.attempts, WebhookDelivery.last_error)
        .where(WebhookDelivery.last_error.is_not(None))
        .order_by(WebhookDelivery.last_attempt_at.desc()).limit(5)).all()
    return WebhookStatus(endpoints=len(hooks),
                         paused=[(h.id, h.url, h.paused_reason) for h in hooks if not h.is_active],
                         counts=counts, waiting_retry=waiting, recent_errors=errors)


def find(webhook_id):
    """The endpoint ``webhook_id``, or None."""
    return db.session.get(Webhook, webhook_id)


def find_delivery(webhook, delivery_id):
    """The delivery ``delivery_id`` of ``webhook``, or None."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    return delivery if delivery is not None and delivery.webhook_id == webhook.id else None


def pretty_payload(delivery):
    """The delivery's body, indented for reading."""
    try:
        return json.dumps(json.loads(delivery.payload), indent=2, ensure_ascii=False)
    except ValueError:
        return delivery.payload

