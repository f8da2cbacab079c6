"""Personal access tokens for the REST API (issue 16; DESIGN.md, Integrations).

A token is a secret of 256 random bits, shown once when it is made and kept only as a SHA-256
hash: a stolen database does not give the tokens away, and with that much randomness a plain
hash is enough (no salt or slow hash is needed, unlike a password). The secret starts with
``SECRET_PREFIX`` so secret scanners and people recognise it. A token carries exactly its
owner's permissions (tickets/policy.py), limited to reading with the "read" scope; it stops
working when it expires, is revoked, or its owner is deactivated.
"""
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from .errors import Refusal
from .extensions import db
from .models import TOKEN_SCOPES, AccessToken, User

SECRET_PREFIX = "ddp_"
# How many characters of the secret the page shows to tell tokens apart ("ddp_3kF9x").
SHOWN = len(SECRET_PREFIX) + 5
# The expiries the page offers, in days (None: never); the command line takes any number up
# to MAX_EXPIRY_DAYS.
EXPIRY_DAYS = (7, 30, 90, 365, None)
MAX_EXPIRY_DAYS = 3650
DEFAULT_EXPIRY_DAYS = 90
MAX_LIVE_TOKENS = 20
# Last use is written at most this often per token: a script calling the API in a loop does
# not turn every read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


def new_secret():
    """A fresh token secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_of(secret):
    """The hash a token's secret is stored and looked up by."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(user, name, scope, expires_days, now):
    """Make a token for ``user`` named ``name`` with ``scope``, expiring after ``expires_days``
    days (None: never). Returns (token, secret): the secret is shown once and never again."""
    name = (name or "").strip()
    if not name:
        raise Refusal("Name the token after what will use it, e.g. \u201cWeekly notebook\u201d.",
                      "name")
    if len(name) > 100:
        raise Refusal("Keep the name under 100 characters.", "name")
    if scope not in TOKEN_SCOPES:
        raise Refusal("Choose what the token may do: read only, or read and write.", "scope")
    if expires_days is not None and (isinstance(expires_days, bool)
                                     or not 1 <= expires_days <= MAX_EXPIRY_DAYS):
        raise Refusal("Choose when the token expires.", "expires_days")
    if len(live_of(user, now)) >= MAX_LIVE_TOKENS:
        raise Refusal(f"You have {MAX_LIVE_TOKENS} tokens already: revoke one you no longer "
                      "use first.")
    secret = new_secret()
    token = AccessToken(user_id=user.id, name=name, prefix=secret[:SHOWN],
                        token_hash=hash_of(secret), scope=scope, created_at=now,
                        expires_at=None if expires_days is None
                        else now + timedelta(days=expires_days))
    db.session.add(token)
    db.session.flush()
    return token, secret


def of_user(user):
    """Every token of ``user``, newest first (revoked and expired ones too: the page says so)."""
    return db.session.scalars(select(AccessToken).where(AccessToken.user_id == user.id)
                              .order_by(AccessToken.id.desc())).all()


def live_of(user, now):
    """The tokens of ``user`` that still work at ``now``."""
    return [token for token in of_user(user) if token.is_live(now)]


def revoke(token, now):
    """Stop ``token`` from working from now on (revoking twice changes nothing)."""
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()


def find(user, token_id):
    """Token ``token_id`` of ``user``, or None (another person's token is nobody's to see)."""
    token = db.session.get(AccessToken, token_id)
    return token if token is not None and token.user_id == user.id else None


def authenticate(secret, now):
    """The (token, its owner) that ``secret`` opens at ``now``, or None: an unknown, revoked
    or expired token, or an owner who was deactivated. Notes the token's last use (at most
    once per LAST_USED_EVERY), flushed for the caller to commit."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    row = db.session.execute(
        select(AccessToken, User).join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == hash_of(secret))).first()
    if row is None:
        return None
    token, user = row
    if not token.is_live(now) or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.flush()
    return token, user


def create_for_email(email, name, scope, expires_days, now):
    """``create`` for the person with e-mail ``email`` (the command line's way in)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise Refusal(f"Nobody has the e-mail address {email}.", "email")
    if not user.is_active:
        raise Refusal(f"{email} is deactivated: a token of theirs would not work.", "email")
    return create(user, name, scope, expires_days, now)
