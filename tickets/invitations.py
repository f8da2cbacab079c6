"""Invitations and password resets: signed links by mail with which people set their own
password (issue 14; DESIGN.md, Conversation: Invitation). No admin ever types someone else's
password.

A link carries a token signed with the app's secret key and a salt of its own per purpose, so
an invitation never works as a reset link nor the other way round. The token names the person,
the instant it was made, and a fingerprint of their password hash: setting a password changes
the hash, so every link made before dies at once (single use), and sending the invitation again
gives the invited person a new random password nobody knows, which voids the older link too.
Links expire (``lifetime``): an invitation after INVITATION_DAYS, a reset link after
PASSWORD_RESET_MINUTES. Each mail goes through the outbox, exactly once (its idempotency key
names the person and the fingerprint the link is bound to).
"""
import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from . import localtime, mail, people
from .errors import Refusal
from .extensions import db
from .models import User

PURPOSES = ("invitation", "reset")
SALTS = {"invitation": "datadesk-invitation", "reset": "datadesk-password-reset"}
PATHS = {"invitation": "/join/", "reset": "/password/reset/"}


class LinkProblem(Exception):
    """A link that cannot be used; ``reason`` says why: forged (not one of ours, or its person
    is gone), expired, used (a password was set since), or inactive (the account is disabled)."""

    def __init__(self, reason, user=None):
        super().__init__(reason)
        self.reason = reason
        self.user = user


def lifetime(purpose):
    """How long a link of ``purpose`` works after it was made."""
    config = current_app.config
    if purpose == "invitation":
        return timedelta(days=config["INVITATION_DAYS"])
    return timedelta(minutes=config["PASSWORD_RESET_MINUTES"])


def _serializer(purpose):
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALTS[purpose])


def _fingerprint(user):
    # Enough of the hash's digest to tell a change; the hash itself never leaves the database.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_token(user, purpose, now):
    """A signed token with which ``user`` sets their password (``purpose``: invitation or reset),
    made at ``now``; it dies when their password changes or its ``lifetime`` ends."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    return _serializer(purpose).dumps(
        # Whole seconds, rounded up: a link never dies before its full lifetime.
        {"u": user.id, "p": _fingerprint(user), "t": math.ceil(now.timestamp())})


def link(user, purpose, now):
    """The absolute address of ``user``'s link of ``purpose`` (in mail, on BASE_URL)."""
    return mail.absolute_url(PATHS[purpose] + make_token(user, purpose, now))


def read_token(token, purpose, now):
    """Return the person a token of ``purpose`` lets set a password at ``now``; raise
    LinkProblem (forged, used, expired, inactive) for any other token."""
    try:
        data = _serializer(purpose).loads(token)
    except BadSignature:
        raise LinkProblem("forged") from None
    if (not isinstance(data, dict) or not isinstance(data.get("u"), int)
            or not isinstance(data.get("p"), str) or not isinstance(data.get("t"), int)
            or not 0 < data["u"] < 2**31):
        raise LinkProblem("forged")
    user = db.session.get(User, data["u"])
    if user is None:
        raise LinkProblem("forged")
    if not hmac.compare_digest(data["p"].encode(), _fingerprint(user).encode()):
        raise LinkProblem("used", user)
    try:
        made_at = datetime.fromtimestamp(data["t"], UTC)
    except (OverflowError, OSError, ValueError):
        raise LinkProblem("forged") from None
    if now - made_at > lifetime(purpose):
        raise LinkProblem("expired", user)
    if not user.is_active:
        raise LinkProblem("inactive", user)
    return user


# --- Invitations --------------------------------------------------------------------------

def invite(*, actor, now, name, email, role, team_ids=(), time_zone=None):
    """Create a person and send them an invitation to set their password; return them.

    The same rules as any change of people apply (people.save_user); the mail is queued in the
    same transaction, so the person exists exactly when their invitation does."""
    user = people.save_user(None, actor=actor, name=name, email=email, role=role,
                            team_ids=team_ids, time_zone=time_zone, now=now)
    send_invitation(user, now)
    return user


def update_person(user, *, actor, now, name, email, role, team_ids=(), is_active=True):
    """Change a person (people.save_user); one invited but not joined whose address changed
    is invited again at the new address, and the link sent to the old one stops working.
    Return (the person, whether they were invited again)."""
    old_email = user.email
    people.save_user(user, actor=actor, name=name, email=email, role=role, team_ids=team_ids,
                     is_active=is_active, now=now)
    if not user.has_joined and user.is_active and user.email != old_email:
        send_invitation(user, now)
        return user, True
    return user, False


def send_invitation(user, now):
    """Send ``user`` an invitation (again): a new link, which voids every older one.

    Refused for someone who joined already (they use "Forgot your password?") and for a
    disabled account, which gets no mail."""
    if user.has_joined:
        raise Refusal(f"{user.name} has joined already: they can use “Forgot your password?” "
                      "on the log-in page.")
    if not user.is_active:
        raise Refusal(f"{user.name}'s account is inactive: make it active before inviting them.",
                      "is_active")
    user.set_password(secrets.token_urlsafe(32))  # nobody knows it: the older link dies
    user.invited_at = now
    db.session.flush()
    _queue(user, "invitation", now)
    return user


def invitation_expires_at(user):
    """When ``user``'s latest invitation link stops working (None: never invited)."""
    return user.invited_at + lifetime("invitation") if user.invited_at else None


# --- Password resets ----------------------------------------------------------------------

def request_password_reset(email, now):
    """Mail a reset link to the active account ``email`` names, if there is one.

    Returns nothing, and does the same work either way (the mail is rendered for nobody when
    there is no one to send it to), so neither the answer nor its time tells whether an
    address has an account. A disabled account gets no mail."""
    email = (email or "").strip().lower()
    user = None
    if email and "\x00" not in email:  # PostgreSQL refuses NUL in a query
        user = db.session.scalars(db.select(User).where(User.email == email)).first()
    if user is not None and user.is_active:
        _queue(user, "reset", now)
    else:
        _render(User(name="", email=email, password_hash=""), "reset",
                "https://example.invalid/", now)


# --- Setting the password -----------------------------------------------------------------

def set_password(token, purpose, password, now):
    """Give the person of a valid link ``password``: every link made before dies, and so does
    every session they had (people.change_password). Accepting an invitation is joining.
    Return the person; raise LinkProblem for a link that cannot be used."""
    user = read_token(token, purpose, now)
    people.change_password(user, password)
    if user.joined_at is None:
        user.joined_at = now
    db.session.flush()
    return user


# --- Mail ---------------------------------------------------------------------------------

SUBJECTS = {"invitation": "You are invited to Datadesk",
            "reset": "Set a new Datadesk password"}


def _render(user, purpose, url, now):
    viewer = localtime.Viewer(user, now, is_relative=False)
    context = {"user": user, "url": url, "now": now, "viewer": viewer,
               "expires_at": now + lifetime(purpose), "login_url": mail.absolute_url("/login"),
               "forgot_url": mail.absolute_url("/password/forgot"),
               "lifetime_text": lifetime_text(purpose)}
    return (mail.render(f"email/{purpose}.txt", **context),
            mail.render(f"email/{purpose}.html", **context))


def lifetime_text(purpose):
    """How long a link of ``purpose`` works, in words: "7 days", "1 hour", "30 minutes"."""
    span = lifetime(purpose)
    if span >= timedelta(days=2):
        return f"{span.days} days"
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} hour{'s' if minutes != 60 else ''}" if minutes % 60 == 0 \
        else f"{minutes} minutes"


def _queue(user, purpose, now):
    url = link(user, purpose, now)
    text, html = _render(user, purpose, url, now)
    # One mail per link: the key names the password the link is bound to and the instant it
    # was made, so a retried transaction never sends it twice.
    key = f"{purpose}:{user.id}:{_fingerprint(user)}:{int(now.timestamp())}"
    return mail.queue_message(user.email, SUBJECTS[purpose], text, html, kind=purpose,
                              now=now, user=user, idempotency_key=key)
