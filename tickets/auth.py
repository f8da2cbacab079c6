"""Who may see and do what: the one place every view asks.

A request a user may not see is answered with 404 (its existence is not revealed); an action on
a request they may see but not change is answered with 403.
"""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import and_, false, or_, true

from .extensions import db
from .lifecycle import actor_roles
from .models import BACKLOG_STATES, OPEN_STATES, Request, Watcher
from .queries import id_matches


def visible_requests(user):
    """Return a SQL condition selecting the requests ``user`` may see (DESIGN.md, Roles).

    Leads and admins see everything. Others see their own requests, those assigned to them,
    and the non-confidential requests of their teams or that they watch; analysts also see the
    non-confidential requests of the central triage queue (teams without an embedded analyst).
    """
    if user is None or not user.is_authenticated:
        return false()
    if user.sees_everything:
        return true()
    not_confidential = Request.is_confidential.is_(False)
    conditions = [Request.requester_id == user.id, Request.assignee_id == user.id]
    team_ids = user.team_ids
    if team_ids:
        conditions.append(and_(Request.team_id.in_(team_ids), not_confidential))
    conditions.append(
        and_(not_confidential,
             Request.watchers.any(Watcher.email == user.email))
    )
    if user.role == "analyst":
        conditions.append(and_(not_confidential, Request.is_central.is_(True)))
    return or_(*conditions)


def get_visible_request_or_404(request_id, user, *options):
    """Load a request ``user`` may see, with loader ``options``, or abort with 404."""
    query = db.select(Request).where(id_matches(Request.id, request_id), visible_requests(user))
    if options:
        query = query.options(*options)
    found = db.session.scalars(query).first()
    if found is None:
        abort(404)
    return found


def can_edit(request, user):
    """Requesters edit their own request until work starts; leads edit any open request."""
    if request.is_closed:
        return False
    if user.is_lead:
        return True
    return user.id == request.requester_id and request.state in BACKLOG_STATES


def can_change_kind(request, user):
    """Analysts who triage the request (of its team, or any analyst for a central one) and leads
    change its kind while it is open and not yet delivered."""
    if user is None or not user.is_authenticated or request.state not in OPEN_STATES:
        return False
    return bool({"team_analyst", "lead"} & actor_roles(request, user))


def can_triage(user):
    """Analysts and leads work the triage page."""
    return user.is_authenticated and user.role in ("analyst", "lead")


def can_comment(request, user):
    """Anyone who may see an open request may comment on it (the caller checked visibility)."""
    return not request.is_closed and user.is_authenticated


def can_manage_people(user):
    """Leads and admins manage teams, users, roles and analyst embedding."""
    return user.is_authenticated and user.role in ("lead", "admin")


def roles_required(*roles):
    """View decorator: log in first, then refuse (403) users whose role is not in ``roles``."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
