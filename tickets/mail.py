"""E-mail that is never lost: every message is first a row in the outbox, then sent over SMTP.

``queue_message`` writes the row in the caller's transaction, so a message exists exactly when
the change that caused it is committed. ``drain`` sends what is due: it takes a batch (locking
the rows for a while so that two senders never take the same message), sends each over one SMTP
connection, and records the outcome of each message in its own transaction. A failure keeps the
message pending with its error and a later ``send_after`` (exponential backoff up to an hour),
so nothing is dropped while the server is down and everything goes once it is back.

A message a crashed sender had taken becomes due again when its lock expires. The one window
for a second copy is a crash between the SMTP server accepting a message and the row being
marked sent; every other path sends each message once.
"""
from email.policy import default as default_policy
import smtplib
import socket
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import OutboxMessage, utcnow

LOCK_FOR = timedelta(minutes=5)
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
BATCH_SIZE = 100


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
        "status": "pending", "created_at": now,
        "send_after": send_after or now, "attempts": 0,
    }
    table = OutboxMessage.__table__
    dialect = db.session.get_bind().dialect.name
    if idempotency_key is not None and dialect in ("postgresql", "sqlite"):
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        statement = insert.values(values).on_conflict_do_nothing(
            index_elements=["idempotency_key"]).returning(table.c.id)
    else:
        statement = table.insert().values(values).returning(table.c.id)
    return db.session.execute(statement).scalar()


def render(template, **context):
    """Render a mail template: the app's Jinja setup (filters, autoescaping of .html), without
    the web pages' context processors, which need a logged-in request."""
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


def _take(now, limit):
    """Lock up to ``limit`` due messages for this sender and commit; return their ids.

    One UPDATE ... RETURNING: on PostgreSQL the rows are picked with SKIP LOCKED, on SQLite
    writers take turns and the second finds the rows already locked, so two senders never take
    the same message.
    """
    free = db.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now)
    due = (db.select(OutboxMessage.id)
           .where(OutboxMessage.status == "pending", OutboxMessage.send_after <= now, free)
           .order_by(OutboxMessage.send_after, OutboxMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    taken = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), free)
        .values(locked_until=now + LOCK_FOR)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False))
    ids = sorted(taken.scalars())
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


def _failed(message, now, error):
    message.attempts += 1
    message.last_attempt_at = now
    message.last_error = error[:2000]
    message.send_after = now + retry_delay(message.attempts)
    message.locked_until = None


def drain(now=None, limit=BATCH_SIZE, config=None):
    """Send the due messages of the outbox (at most ``limit``); return a DrainResult.

    Commits: each message's outcome is recorded in its own transaction.
    """
    now = now or utcnow()
    config = config or current_app.config
    result = DrainResult()
    ids = _take(now, limit)
    if not ids:
        return result
    smtp = None
    try:
        smtp = _connect(config)
    except (OSError, smtplib.SMTPException) as error:
        result.error = f"Cannot reach the SMTP server {config['MAIL_SERVER']}:" \
                       f"{config['MAIL_PORT']}: {error or type(error).__name__}"
    try:
        for message_id in ids:
            message = db.session.get(OutboxMessage, message_id)
            if message is None or message.status != "pending":
                continue
            if smtp is None:
                _failed(message, now, result.error)
                result.failed += 1
                db.session.commit()
                continue
            try:
                smtp.send_message(build_email(message, config))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as error:
                _failed(message, now, f"Refused by the SMTP server: {error}")
                result.failed += 1
            except (OSError, smtplib.SMTPException) as error:
                # The connection is gone: this message and the rest wait for the next run.
                _failed(message, now, f"SMTP error: {error or type(error).__name__}")
                result.failed += 1
                result.error = str(error) or type(error).__name__
                db.session.commit()
                smtp = None
                continue
            else:
                message.status = "sent"
                message.sent_at = now
                message.attempts += 1
                message.last_attempt_at = now
                message.last_error = None
                message.locked_until = None
                result.sent += 1
            db.session.commit()
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException, socket.timeout):
                pass
    return result


@dataclass
class OutboxStatus:
    """The outbox at a glance, for `flask outbox status`."""

    pending: int
    waiting_retry: int
    sent: int
    oldest_pending_at: object
    recent_errors: list


def status(now=None):
    """Count pending, retrying and sent messages and list the latest errors (four queries)."""
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
    return OutboxStatus(pending=counts.get("pending", 0), waiting_retry=waiting,
                        sent=counts.get("sent", 0), oldest_pending_at=oldest_pending,
                        recent_errors=errors)


def retry_now(now=None):
    """Make every pending message due now (after fixing the SMTP server); return how many."""
    now = now or utcnow()
    result = db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.send_after > now)
        .values(send_after=now, locked_until=None))
    return result.rowcount
