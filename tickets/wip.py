"""Work-in-progress limits (DESIGN.md, Limits): how many requests an analyst may hold at once.

An analyst's WIP is the number of requests assigned to them that are in progress or blocked
(blocked still counts). Claiming a request, or a lead assigning one, is refused once the
analyst's WIP has reached their limit (``settings.wip_limit_for``).

Races: two claims by the same analyst at the same moment must not both pass the check.
``check_wip`` first locks the analyst's users row (``SELECT ... FOR UPDATE``), which serialises
claims per analyst on PostgreSQL (READ COMMITTED would otherwise let both transactions count the
same committed rows). SQLite has no row locks (the clause is not rendered) but serialises
writers; its SELECTs however run before the write transaction begins, so both counts may be
stale there. ``recheck_wip``, called after the change is flushed inside the write transaction,
catches that case: it counts again, and the caller's rollback undoes the change.
"""
from collections import namedtuple

from . import settings
from .queries import few
from .extensions import db
from .models import IN_WORK_STATES, Request, User
from .policy import WORKER_ROLES

WipStatus = namedtuple("WipStatus", "count limit")


def _wip_filter():
    # Few: SQLite then counts along the in-work states of ix_requests_queue (index only) rather
    # than every request the person was ever assigned (8 ms at 100k).
    return few(Request.state.in_(IN_WORK_STATES))


def wip_count(user):
    """Return how many requests ``user`` has in progress or blocked (one SQL statement)."""
    return db.session.scalar(
        db.select(db.func.count()).select_from(Request)
        .where(Request.assignee_id == user.id, _wip_filter()))


def wip_counts(user_ids):
    """Return {user id: WIP} for many users in one grouped SQL statement (0 when none)."""
    user_ids = list(user_ids)
    counts = dict.fromkeys(user_ids, 0)
    if user_ids:
        rows = db.session.execute(
            db.select(Request.assignee_id, db.func.count()).where(
                Request.assignee_id.in_(user_ids), _wip_filter())
            .group_by(Request.assignee_id))
        counts.update({user_id: count for user_id, count in rows})
    return counts


def wip_status(user, values=None):
    """Return ``user``'s WipStatus(count, limit), e.g. (2, 3) shown as "2 of 3 in progress"."""
    return WipStatus(wip_count(user), settings.wip_limit_for(user, values))


def assignable_people(values=None):
    """Return (user, WipStatus) of every active analyst and lead, by name, for a lead choosing
    whom to assign: two SQL statements (people, their WIP grouped; plus the settings when
    ``values`` is None), whatever their number."""
    people = db.session.scalars(db.select(User).where(
        User.is_active, User.role.in_(WORKER_ROLES)).order_by(User.name, User.id)).all()
    counts = wip_counts(user.id for user in people)
    values = values or settings.current()
    return [(user, WipStatus(counts[user.id], settings.wip_limit_for(user, values)))
            for user in people]


def _message(user, actor, count, limit):
    if actor is not None and actor.id == user.id:
        return (f"You have {count} of {limit} requests in progress or blocked; "
                "finish or unclaim one first.")
    return (f"{user.name} has {count} of {limit} requests in progress or blocked; "
            "choose someone else, or ask them to finish or unclaim one first.")


def _lock(user):
    """Lock ``user``'s row until the transaction ends (PostgreSQL; nothing on SQLite)."""
    db.session.execute(db.select(User.id).where(User.id == user.id).with_for_update())


def check_wip(user, actor=None):
    """Lock ``user``'s row, then return why they may not take one more request (None: they may).

    ``actor`` is who asks (the analyst claiming, or the lead assigning): the message speaks to
    them. The lifecycle refuses the claim or assignment with it (LimitReached).
    """
    _lock(user)
    count, limit = wip_status(user)
    return _message(user, actor, count, limit) if count >= limit else None


def recheck_wip(user, actor=None):
    """After the change is flushed: return why ``user`` is now over their limit, or None."""
    count, limit = wip_status(user)
    return _message(user, actor, limit, limit) if count > limit else None
