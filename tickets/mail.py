"""E-mail that is never lost: every message is first a row in the outbox, then sent over SMTP.

``queue_message`` writes the row in the caller's transaction, so a message exists exactly when
the change that caused it is committed. Messages wait in two lanes (``priority``): notifications
go before digests, so a Monday burst of digests never delays them. ``drain`` sends what is due a
small batch at a time: it locks each batch in the name of this sender (``<host>:<pid>``) for a
lease proportionate to its size (``lease``), so that two senders never take the same message,
sends each over one SMTP connection, and records the outcome of each message in its own
transaction. It goes on until nothing is due or MAIL_DRAIN_SECONDS have passed: the SMTP server
sets the rate (or MAIL_MAX_PER_MINUTE, where a provider imposes one). A failure, including a
message that cannot even be built, keeps the message pending with its error and a later
``send_after`` (exponential backoff up to an hour), so nothing is dropped while the server is
down and everything goes once it is back.

A message a crashed sender had taken becomes due again when its lease ends, or at once when
``free_gone_senders`` (`flask outbox retry`) finds that the sender was a process of this host
that no longer runs; ``status`` shows who holds what until when. The windows for a second copy
are a crash between the SMTP server accepting a message and the row being marked sent, and a
sender so slow that its lease ran out and another sender took the message between its check
and its send; every other path sends each message once.

The List-Unsubscribe header goes out as one plain ASCII line (``OneLineHeader``), as one-click
unsubscribe (RFC 8058) needs.
"""
import math
import os
import smtplib
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from email.errors import MessageError
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from . import localtime
from .extensions import db
from .models import OutboxMessage, utcnow
from .queries import insert_once, lease_due

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
BATCH_SIZE = 20  # messages a sender takes (locks) at a time
CONNECT_ROUNDS = 3  # connect, STARTTLS, log in: each may take up to MAIL_TIMEOUT
# The outbox's lanes: lower goes first, so a burst of digests never delays a notification or a
# follow-up's question (kinds "notification", "follow_up": the default lane).
PRIORITIES = {"digest": 1}
DEFAULT_PRIORITY = 0


def priority_of(kind):
    """The lane of a message of ``kind``: digests (1) wait behind everything else (0):
    notifications and follow-ups."""
    return PRIORITIES.get(kind, DEFAULT_PRIORITY)


def queue_message(recipient, subject, text_body, html_body, *, kind, now, user=None,
                  idempotency_key=None, headers=None, send_after=None, batch_key=None,
                  payload=None):
    """Add a message to the outbox in the current transaction; return its id.

    With an ``idempotency_key`` a second message with the same key is not added (whatever
    process tries, the unique constraint decides) and None is returned instead.
    """
    values = {
        "kind": kind, "idempotency_key": idempotency_key,
        "user_id": user.id if user is not None else None, "recipient": recipient,
        "subject": subject, "text_body": text_body, "html_body": html_body,
        "headers": dict(headers or {}), "batch_key": batch_key, "payload": dict(payload or {}),
        "status": "pending", "priority": priority_of(kind), "created_at": now,
        "send_after": send_after or now, "attempts": 0,
    }
    return insert_once(db.session, OutboxMessage.__table__, values, "idempotency_key")


def render(template, **context):
    """Render a mail template: the app's Jinja setup (filters, autoescaping of .html), without
    the web pages' context processors, which need a logged-in request.

    Times are written for the recipient (``user`` in the context) in their time zone, in full
    (``localtime.Viewer``); a caller rendering several parts may pass one ``viewer`` to them."""
    if "viewer" not in context:
        context["viewer"] = localtime.Viewer(context.get("user"), context.get("now") or utcnow(),
                                             is_relative=False)
    return current_app.jinja_env.get_template(template).render(**context)


# --- Links in mail ------------------------------------------------------------------------

UNSUBSCRIBE_WHAT = ("digest", "notifications")


def absolute_url(path):
    """``path`` on the app's public address (the BASE_URL setting), for links in mail."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="datadesk-unsubscribe")


def unsubscribe_token(user, what):
    """A signed token that stops ``what`` (digest or notifications) mail to ``user``."""
    if what not in UNSUBSCRIBE_WHAT:
        raise ValueError(what)
    return _serializer().dumps({"u": user.id, "w": what})


def read_unsubscribe_token(token):
    """Return (user id, what) of a genuine token, or None for a tampered or foreign one."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if (not isinstance(data, dict) or not isinstance(data.get("u"), int)
            or data.get("w") not in UNSUBSCRIBE_WHAT):
        return None
    return data["u"], data["w"]


def unsubscribe_url(user, what):
    """The link in a mail that stops ``what`` mail to ``user``; it works without logging in."""
    return absolute_url(f"/unsubscribe/{unsubscribe_token(user, what)}")


def unsubscribe_headers(user, what):
    """List-Unsubscribe headers, with one-click unsubscribe (RFC 8058) for mail clients."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(user, what)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def retry_delay(attempts):
    """How long to wait after the ``attempts``-th failure: 1, 2, 4 ... minutes, at most 1 hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


# RFC 5322: a header line may hold 998 characters (78 is only a recommendation).
MAX_HEADER_LINE = 998


class OneLineHeader(UnstructuredHeader):
    """A header sent as written, on one line: the List-Unsubscribe URL must reach mail clients
    verbatim. Python folds headers at 78 characters, and an unstructured header's word too long
    for a line (any real unsubscribe URL) becomes RFC 2047 encoded words (=?utf-8?q?...?=),
    which no mail client reads as a URL, so one-click unsubscribe breaks."""

    def fold(self, *, policy):
        """``Name: value`` and the line end, unless the value is not ASCII or the line would be
        longer than RFC 5322 allows: those are folded (and encoded) as usual."""
        line = f"{self.name}: {self}"
        if not line.isascii() or len(line) > MAX_HEADER_LINE:
            return super().fold(policy=policy)
        return line + policy.linesep


_headers = HeaderRegistry()
_headers.map_to_type("list-unsubscribe", OneLineHeader)
POLICY = default_policy.clone(header_factory=_headers)


def build_email(message, config):
    """Return the multipart (plain text and HTML) EmailMessage of an outbox row."""
    email = EmailMessage(policy=POLICY)
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "datadesk.invalid"
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


@dataclass
class DrainResult:
    """What one ``drain`` did."""

    sent: int = 0
    failed: int = 0
    error: str = ""


def sender_name():
    """Who holds the messages this process takes: ``<hostname>:<pid>``, so the lock of a
    sender that is gone can be recognised (``sender_is_gone``)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def sender_is_gone(name):
    """Tell whether sender ``name`` is a process of this host that no longer runs. A sender on
    another host cannot be checked from here: it counts as alive until its lease ends."""
    host, _, pid = (name or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or not 0 < int(pid) < 2**31:
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _max_per_minute(config):
    rate = config.get("MAIL_MAX_PER_MINUTE")
    return rate if rate and rate > 0 else None


def lease(count, config):
    """How long a sender holds the ``count`` messages it takes: a connection, then for each
    message the SMTP timeout (a send that takes longer has failed) and, under
    MAIL_MAX_PER_MINUTE, its wait for its turn."""
    timeout = float(config.get("MAIL_TIMEOUT", 10))
    rate = _max_per_minute(config)
    per_message = timeout + (60 / rate if rate else 0)
    return timedelta(seconds=timeout * CONNECT_ROUNDS + per_message * count)


def _take(now, limit, held_for, sender):
    """Lock up to ``limit`` due messages for ``sender`` until ``now + held_for`` and commit;
    return their ids. Notifications come before digests, then the longest waiting first.

    One UPDATE ... RETURNING: on PostgreSQL the rows are picked with SKIP LOCKED, on SQLite
    writers take turns and the second finds the rows already locked, so two senders never take
    the same message.
    """
    ids = lease_due(db.session, OutboxMessage,
                    db.and_(OutboxMessage.status == "pending", OutboxMessage.send_after <= now),
                    (OutboxMessage.priority, OutboxMessage.send_after, OutboxMessage.id),
                    limit, now + held_for, sender, now)
    db.session.commit()
    return ids


def _connect(config):
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"],
                        timeout=config.get("MAIL_TIMEOUT", 10))
    if config.get("MAIL_USE_TLS"):
        smtp.starttls()
    if config.get("MAIL_USERNAME"):
        smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    return smtp


def _release(message):
    message.locked_until = None
    message.locked_by = None


def _failed(message, now, error):
    message.attempts += 1
    message.last_attempt_at = now
    message.last_error = error[:2000]
    message.send_after = now + retry_delay(message.attempts)
    _release(message)


def _sent(message, now):
    message.status = "sent"
    message.sent_at = now
    message.attempts += 1
    message.last_attempt_at = now
    message.last_error = None
    _release(message)


class _Sender:
    """One drain's SMTP connection, opened at its first message and kept for the others,
    and its pace under MAIL_MAX_PER_MINUTE."""

    def __init__(self, config, result, started):
        self.config = config
        self.result = result
        self.started = started
        self.rate = _max_per_minute(config)
        self.smtp = None
        self.tried = 0

    def send_batch(self, ids, now, name):
        """Send the messages ``ids`` this sender (``name``) took; each outcome commits."""
        for message_id in ids:
            message = db.session.get(OutboxMessage, message_id)
            # Sent meanwhile, or taken by another sender after this one's lease ran out.
            if message is None or message.status != "pending" or message.locked_by != name:
                continue
            self._send(message, now)
            db.session.commit()

    def _send(self, message, now):
        if self.smtp is None and not self.result.error:
            self._open()
        if self.smtp is None:
            _failed(message, now, self.result.error)
            self.result.failed += 1
            return
        try:
            email = build_email(message, self.config)
        except (ValueError, TypeError, MessageError) as error:
            _failed(message, now, f"Cannot build the message: {error}")
            self.result.failed += 1
            return
        self._wait_for_turn()
        try:
            self.smtp.send_message(email)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused, smtplib.SMTPNotSupportedError) as error:
            _failed(message, now, f"Refused by the SMTP server: {error}")
            self.result.failed += 1
        except (OSError, smtplib.SMTPException) as error:
            # The connection is gone: this message and the rest wait for the next run.
            _failed(message, now, f"SMTP error: {error or type(error).__name__}")
            self.result.failed += 1
            self.result.error = str(error) or type(error).__name__
            self.smtp = None
        else:
            _sent(message, now)
            self.result.sent += 1

    def _open(self):
        config = self.config
        try:
            self.smtp = _connect(config)
        except (OSError, smtplib.SMTPException) as error:
            self.result.error = (f"Cannot reach the SMTP server {config['MAIL_SERVER']}:"
                                 f"{config['MAIL_PORT']}: {error or type(error).__name__}")

    def _wait_for_turn(self):
        """Under MAIL_MAX_PER_MINUTE, the n-th message of a drain goes n intervals after its
        start; without it, at once (the SMTP server sets the pace)."""
        self._wait_until(self.tried)
        self.tried += 1

    def _wait_until(self, turn):
        if self.rate:
            wait = self.started + turn * 60 / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def close(self):
        """Quit the connection. Under a rate cap, first let the last message's interval pass,
        so that the next drain, starting at once, keeps the pace."""
        if self.tried:
            self._wait_until(self.tried)
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException, socket.timeout):
                pass
            self.smtp = None


def drain(now=None, limit=None, config=None):
    """Send the due messages of the outbox, notifications first; return a DrainResult.

    Takes a small batch at a time (``BATCH_SIZE``, locked for its ``lease``) and goes on until
    nothing is due, ``limit`` messages were taken, the SMTP server fails, or
    MAIL_DRAIN_SECONDS have passed (under the scheduler's one-minute interval), so the rate is
    what the SMTP server sustains, or MAIL_MAX_PER_MINUTE where a provider imposes one.
    Commits: each batch's lock and each message's outcome in its own transaction.
    """
    now = now or utcnow()
    config = config or current_app.config
    budget = float(config.get("MAIL_DRAIN_SECONDS", 50))
    rate = _max_per_minute(config)
    if rate:  # no more than the budget holds at that pace
        most = max(1, math.ceil(budget * rate / 60))
        limit = most if limit is None else min(limit, most)
    name = sender_name()
    result = DrainResult()
    started = time.monotonic()
    sender = _Sender(config, result, started)
    taken, batch_now = 0, now
    try:
        while limit is None or taken < limit:
            size = BATCH_SIZE if limit is None else min(BATCH_SIZE, limit - taken)
            ids = _take(batch_now, size, lease(size, config), name)
            if not ids:
                break
            taken += len(ids)
            sender.send_batch(ids, batch_now, name)
            elapsed = time.monotonic() - started
            if result.error or elapsed >= budget:
                break
            batch_now = now + timedelta(seconds=elapsed)
    finally:
        sender.close()
    return result


@dataclass
class OutboxStatus:
    """The outbox at a glance, for `flask outbox status`."""

    pending: int
    waiting_retry: int
    sent: int
    oldest_pending_at: object
    recent_errors: list
    locks: list  # (sender, messages, until, is_gone) of every lock in force


def status(now=None):
    """Count pending, retrying and sent messages, list the latest errors and who holds which
    messages until when (five queries)."""
    now = now or utcnow()
    counts = dict(db.session.execute(
        db.select(OutboxMessage.status, db.func.count()).group_by(OutboxMessage.status)).all())
    waiting = db.session.scalar(
        db.select(db.func.count())
        .where(OutboxMessage.status == "pending", OutboxMessage.attempts > 0))
    oldest_pending = db.session.scalar(
        db.select(db.func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))
    errors = db.session.execute(
        db.select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.attempts,
                  OutboxMessage.last_error, OutboxMessage.send_after)
        .where(OutboxMessage.status == "pending", OutboxMessage.last_error.is_not(None))
        .order_by(OutboxMessage.last_attempt_at.desc()).limit(5)).all()
    locks = [(sender, count, until, sender_is_gone(sender)) for sender, count, until in
             db.session.execute(
                 db.select(OutboxMessage.locked_by, db.func.count(),
                           db.func.max(OutboxMessage.locked_until))
                 .where(OutboxMessage.status == "pending", OutboxMessage.locked_until > now)
                 .group_by(OutboxMessage.locked_by).order_by(OutboxMessage.locked_by))]
    return OutboxStatus(pending=counts.get("pending", 0), waiting_retry=waiting,
                        sent=counts.get("sent", 0), oldest_pending_at=oldest_pending,
                        recent_errors=errors, locks=locks)


def free_gone_senders(now=None):
    """Free the messages held by senders that are gone (a process of this host that no longer
    runs, e.g. killed with -9, or a lease that ran out) and make them due now; return how many.

    A live sender's messages, and those of a sender on another host whose lease still runs,
    stay where they are: freeing them could send a message twice.
    """
    now = now or utcnow()
    holders = db.session.scalars(
        db.select(OutboxMessage.locked_by).distinct()
        .where(OutboxMessage.status == "pending", OutboxMessage.locked_until > now))
    gone = [holder for holder in holders if sender_is_gone(holder)]
    freed = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.locked_until.is_not(None),
               db.or_(OutboxMessage.locked_until <= now, OutboxMessage.locked_by.in_(gone)))
        .values(locked_until=None, locked_by=None, send_after=now)
        .execution_options(synchronize_session=False))
    return freed.rowcount


def retry_now(now=None):
    """Make every pending message that waits for a retry due now (after fixing the SMTP
    server); return how many. Messages a sender holds are left to it."""
    now = now or utcnow()
    free = db.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now)
    result = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.send_after > now, free)
        .values(send_after=now, locked_until=None, locked_by=None)
        .execution_options(synchronize_session=False))
    return result.rowcount
