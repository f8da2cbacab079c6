"""Revocable log-in sessions that expire on the server (issue 10, OWASP ASVS 3.3 and 3.5).

Flask-Login keeps one string per logged-in browser, in the signed session cookie and, with "keep
me signed in", in the HMAC-signed remember cookie, and gives it back to the user loader on every
request. Datadesk makes that string ``"<user id>:<session token>:<expires epoch>"``:

- the session token is the user's session generation (``users.session_token``).
  ``revoke_sessions`` replaces it (on logout, password, role or activity change, and "log out
  everywhere"), so every cookie made before no longer matches and lands on the login page;
- the expiry is written at log-in (``expires_at``: SESSION_LIFETIME_HOURS for a browser session,
  REMEMBER_COOKIE_DURATION with "keep me signed in") and is covered by the cookie's signature,
  so ``load_user`` refuses a replayed cookie after it, whatever the browser was told to keep.
"""
import hmac
import re
from datetime import datetime, timedelta, timezone

from flask import current_app

from .extensions import db
from .models import User, new_session_token
from .queries import MAX_ID

_SESSION_ID = re.compile(r"([0-9]{1,10}):([A-Za-z0-9_-]{1,64}):([0-9]{1,11})")


def revoke_sessions(user):
    """End every session and remember cookie of ``user``: they carry the old generation."""
    user.session_token = new_session_token()


def expires_at(remember, now):
    """When a log-in made at ``now`` stops working on the server."""
    config = current_app.config
    if remember:
        duration = config["REMEMBER_COOKIE_DURATION"]
        return now + (duration if isinstance(duration, timedelta) else timedelta(seconds=duration))
    return now + timedelta(hours=config["SESSION_LIFETIME_HOURS"])


def session_id(user, until):
    """The id Flask-Login stores for ``user``'s log-in, valid until ``until``."""
    return f"{user.get_id()}:{int(until.timestamp())}"


def expiry_of(value):
    """The expiry written in session id ``value``, or None when it is not one."""
    parsed = _parse(value)
    return parsed[2] if parsed else None


def load_user(value, now):
    """The active user session id ``value`` names if its generation is current and it has not
    expired at ``now``; None for anything else, malformed input included."""
    parsed = _parse(value)
    if parsed is None:
        return None
    user_id, token, until = parsed
    if until <= now:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def _parse(value):
    match = _SESSION_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    user_id = int(match.group(1))
    if not 0 < user_id <= MAX_ID:
        return None
    try:
        until = datetime.fromtimestamp(int(match.group(3)), timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return user_id, match.group(2), until
