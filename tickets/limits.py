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
from datetime import UTC, datetime, time, timedelta

from . import lifecycle, settings
from .extensions import db
from .models import Request, User

WIP_STATES = ("in_progress", "blocked")

WipStatus = namedtuple("WipStatus", "count limit")


def _wip_filter():
    return Request.state.in_(WIP_STATES)


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


def assignable_people():
    """Return (user, WipStatus) of every active analyst and lead, by name, for a lead choosing
    whom to assign: three SQL statements (people, their WIP grouped, the settings), whatever
    their number."""
    people = db.session.scalars(db.select(User).where(
        User.is_active, User.role.in_(("analyst", "lead"))).order_by(User.name, User.id)).all()
    counts = wip_counts(user.id for user in people)
    values = settings.current()
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
    """Raise LimitReached if ``user`` may not take one more request; lock them meanwhile.

    ``actor`` is who asks (the analyst claiming, or the lead assigning): the message speaks to
    them.
    """
    _lock(user)
    count, limit = wip_status(user)
    if count >= limit:
        raise lifecycle.LimitReached(_message(user, actor, count, limit))


def recheck_wip(user, actor=None):
    """After the change is flushed: raise LimitReached if ``user`` is now over their limit."""
    count, limit = wip_status(user)
    if count > limit:
        raise lifecycle.LimitReached(_message(user, actor, limit, limit))


# --- Lead time (DESIGN.md, Limits) ----------------------------------------------------------
#
# A deadline closer than N business days (setting ``lead_time_business_days``) is short notice.
# The cutoff is the N-th working day after today on the business-hours calendar (working
# weekdays, holidays skipped); a deadline before the cutoff is short notice, one on or after it
# is not. With N = 0 the cutoff is today itself, so no deadline is short notice. The flag is
# stored on the request when it is submitted and recomputed when an edit changes the deadline
# (from the date of the edit): it records how much notice the team was given.


def local_date(now, settings_values=None):
    """Return the date of the aware datetime ``now`` in the settings' timezone."""
    return now.astimezone(settings.business_hours(settings_values).tzinfo).date()


def short_notice_cutoff(today, settings_values=None, calendar=None):
    """Return the date ``lead_time_business_days`` working days after ``today``.

    ``calendar`` (an ``sla.BusinessHours``) defaults to the settings' business hours; pass one
    to count with holidays.
    """
    values = settings_values or settings.current()
    calendar = calendar or settings.business_hours(values)
    remaining = values["lead_time_business_days"]
    day = today
    while remaining > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def is_short_notice(deadline, today, settings_values=None, calendar=None):
    """Tell whether ``deadline`` (a date, or None) falls before the short-notice cutoff."""
    if deadline is None:
        return False
    return deadline < short_notice_cutoff(today, settings_values, calendar)


# --- Ad-hoc budget (DESIGN.md, Limits) ------------------------------------------------------
#
# A team's usage is the number of its ad-hoc requests created in the current ISO week: from
# Monday 00:00 in the settings' timezone up to ``now``. Requests count in every state except
# cancelled and duplicate (withdrawn or folded into another request, they cost the team
# nothing); declined, waitlisted and delivered ones count, since they were asks of that week.
# A request changed to another kind stops counting. The budget is the team's
# ``weekly_ad_hoc_budget``; None means no limit.

UNCOUNTED_STATES = ("cancelled", "duplicate")


def week_start(now, settings_values=None):
    """Return Monday 00:00 of ``now``'s ISO week in the settings' timezone, as aware UTC."""
    zone = settings.business_hours(settings_values).tzinfo
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)


def _ad_hoc_this_week(now, settings_values):
    return (Request.kind == "ad_hoc", Request.state.not_in(UNCOUNTED_STATES),
            Request.created_at >= week_start(now, settings_values), Request.created_at <= now)


def ad_hoc_usage(team, now, settings_values=None):
    """Return (used, budget) of ``team`` this week; budget None means no limit."""
    used = db.session.scalar(
        db.select(db.func.count()).select_from(Request)
        .where(Request.team_id == team.id, *_ad_hoc_this_week(now, settings_values)))
    return used, team.weekly_ad_hoc_budget


def ad_hoc_usage_by_team(team_ids, now, settings_values=None):
    """Return {team id: ad-hoc requests used this week} in one grouped SQL statement."""
    team_ids = list(team_ids)
    used = dict.fromkeys(team_ids, 0)
    if team_ids:
        rows = db.session.execute(
            db.select(Request.team_id, db.func.count())
            .where(Request.team_id.in_(team_ids), *_ad_hoc_this_week(now, settings_values))
            .group_by(Request.team_id))
        used.update({team_id: count for team_id, count in rows})
    return used


def budget_line(team, used):
    """Return "Marketing has used 4 of 5 ad-hoc requests this week", or "" without a budget."""
    if team.weekly_ad_hoc_budget is None:
        return ""
    return (f"{team.name} has used {used} of {team.weekly_ad_hoc_budget} ad-hoc requests "
            "this week")


def budget_lines(teams, now, settings_values=None):
    """Return {team id: budget line} for ``teams`` (one SQL statement for the usage)."""
    teams = list(teams)
    used = ad_hoc_usage_by_team([team.id for team in teams], now, settings_values)
    return {team.id: budget_line(team, used[team.id]) for team in teams}
