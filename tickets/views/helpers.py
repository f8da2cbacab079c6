"""Small helpers shared by views and templates: formatting, URLs, pagination, log-in sessions."""
from datetime import UTC, datetime
from urllib.parse import unquote, urljoin, urlsplit

import sqlalchemy as sa
from flask import current_app, g, request, session, url_for
from flask_sqlalchemy.pagination import SelectPagination
from flask_login import current_user, login_user, logout_user
from jinja2 import pass_context
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

from .. import localtime, models, sessions
from ..extensions import db
from ..queries import MAX_ID


class IdConverter(IntegerConverter):
    """The ``int`` of every route (``<int:request_id>``): at most MAX_ID, the largest value an
    INTEGER column holds. A bigger number names no row, so the URL does not match (404)
    instead of reaching the database, which would fail on it (an overflow, a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _viewer(context):
    """The reader of the template being rendered: the page's ``viewer`` (a context processor
    gives it) or a mail's (mail.render gives it); else the installation's clock, in full."""
    viewer = context.get("viewer")
    if isinstance(viewer, localtime.Viewer):
        return viewer
    return localtime.Viewer(None, models.utcnow(), is_relative=False)


@pass_context
def format_datetime(context, value):
    """An instant as its reader's wall clock shows it, in full: 'Thu 3 Dec 2026, 14:05 EST'."""
    if value is None:
        return ""
    return localtime.exact_text(value, _viewer(context).zone)


@pass_context
def format_moment(context, value):
    """An instant for reading on a page: how long ago (or ahead) it is, with the exact local
    time on hover and the instant for machines (``<time datetime title>``). In mail, where
    relative times go stale, the exact local time alone."""
    if value is None:
        return ""
    viewer = _viewer(context)
    exact = localtime.exact_text(value, viewer.zone)
    if not viewer.is_relative:
        return exact
    shown = (localtime.relative_text(value, viewer.now)
             or localtime.day_text(viewer.local(value).date(), weekday=False))
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.astimezone(UTC).isoformat(timespec="seconds"), exact, shown)


@pass_context
def format_date(context, value, weekday=True, year=True):
    """A date, or the date an instant falls on for its reader, written unambiguously:
    'Thu 3 Dec 2026' ('3 Dec 2026' without the weekday, '3 Dec' without the year). A date
    string events recorded (ISO) is read as a date; any other text is shown as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _viewer(context).local(value).date()
    else:
        day = localtime.as_date(value)
        if day is None:
            return value
        value = day
    return localtime.day_text(value, weekday=weekday, year=year)


def url_with(**changes):
    """Return the current page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = [value]
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def is_safe_next(target):
    r"""Tell whether ``target`` is a path on this site (no open redirects).

    Control characters, line breaks and backslashes are refused, written or percent-encoded:
    browsers drop tabs and new lines from a URL (``/\t/evil.example`` is ``//evil.example``)
    and read ``\`` as ``/``, and a CR or LF cannot go into a Location header at all, so
    taking one would fail after the action was done. A refused target sends the person to
    the default page instead.
    """
    if not target:
        return False
    for text in (target, unquote(target)):
        if text.startswith("//") or "\\" in text or not text.isprintable():
            return False
    host = urlsplit(request.host_url)
    joined = urlsplit(urljoin(request.host_url, target))
    return joined.scheme in ("http", "https") and joined.netloc == host.netloc and target.startswith("/")


def text_arg(name, max_length):
    """A query argument as stripped text, without NUL characters (PostgreSQL refuses them)."""
    return request.args.get(name, "").replace("\x00", "").strip()[:max_length]


def paginate(select, page_size, key=None):
    """Run ``select`` one page at a time: two SQL statements (count and page) plus its eager loads.

    With ``key`` (the primary key of the one class ``select`` picks), the page is chosen by
    its keys first, in a subquery that sorts only what the filters and the order read, and
    only the page's rows are then read whole with their eager loads, in the same statement;
    the count counts keys. A late page of a long list then sorts narrow rows, not every
    column of every row.
    """
    try:
        page = min(max(1, int(request.args.get("page", 1))), MAX_ID)
    except ValueError:
        page = 1
    if key is None:
        return db.paginate(select, page=page, per_page=page_size, error_out=False)
    return KeyFirstPagination(select=select, session=db.session(), key=key, page=page,
                              per_page=page_size, max_per_page=None, error_out=False)


class KeyFirstPagination(SelectPagination):
    """``paginate``'s page chosen by key first (see there)."""

    def _query_items(self):
        select, key = self._query_args["select"], self._query_args["key"]
        page_keys = select.with_only_columns(key).limit(self.per_page).offset(self._query_offset)
        rows = select.where(key.in_(page_keys))
        return list(self._query_args["session"].execute(rows).unique().scalars())

    def _query_count(self):
        select, key = self._query_args["select"], self._query_args["key"]
        keys = select.with_only_columns(key).order_by(None).subquery()
        return self._query_args["session"].scalar(sa.select(sa.func.count()).select_from(keys))


def once_per_request(name, count):
    """``count(current_user)`` for the header and the lists (a number of things waiting): run
    on the first call of a request only, its result kept in ``g.<name>``; 0 for a visitor who
    is not logged in. One statement a page, however many places show it."""
    if not current_user.is_authenticated:
        return 0
    if name not in g:
        setattr(g, name, count(current_user))
    return getattr(g, name)


def as_choices(items, labels=None):
    """(value, label) pairs for a filter select: from a dict whose values are labels or
    (label, hint) tuples, from values and a ``labels`` dict, or from objects with id and name."""
    if isinstance(items, dict):
        return [(key, value[0] if isinstance(value, tuple) else value)
                for key, value in items.items()]
    if labels is not None:
        return [(value, labels[value]) for value in items]
    return [(item.id, item.name) for item in items]


def acting_user():
    """The logged-in person as a row of this request's database session, for a domain call
    that changes them or records them as its actor (``current_user`` is the log-in's proxy).
    Called inside an action, it is read again after run_action rolled a try back."""
    return db.session.get(models.User, current_user.id)


def log_in(user, *, remember, now):
    """Log ``user`` in on this browser with a session that expires on the server
    (tickets/sessions.py). Nothing of the anonymous session carries over (session fixation)."""
    session.clear()
    login_user(user, remember=remember)
    # login_user stored user.get_id(); the stored id also carries this log-in's expiry.
    session["_user_id"] = sessions.session_id(user, sessions.expires_at(remember, now))


def log_out():
    """Forget this browser's log-in: the whole session and the remember cookie."""
    logout_user()
    session.clear()
    session["_remember"] = "clear"  # Flask-Login deletes the remember cookie on the response


def keep_this_browser_logged_in(user, now):
    """After ``user``'s sessions were revoked by their own action, carry this browser over to
    the new generation, with the expiry it had; every other browser stays logged out."""
    until = sessions.expiry_of(session.get("_user_id")) or sessions.expires_at(False, now)
    session["_user_id"] = sessions.session_id(user, until)
    if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        session["_remember"] = "set"  # rewrite the remember cookie with the new generation
