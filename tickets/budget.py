"""Weekly ad-hoc budgets and the waitlist (DESIGN.md, Limits).

A team's usage this week is the number of its ad-hoc requests that took a place in its budget
(``budget_counted_at``) from Monday 00:00 in the settings' timezone up to ``now``, in every
state except cancelled and duplicate (withdrawn or folded into another request, they cost the
team nothing; declined and delivered ones count, since they were asks of that week). A request
takes its place when it is submitted, or when it leaves the waitlist (a lead approves it, or
it is released); a waitlisted request holds none. A request changed to another kind gives its
place back, and one changed to ad-hoc takes one (``kind_changed``). The budget is the team's
``weekly_ad_hoc_budget``; None means no limit (usage is still counted, for the reports).

Races: ``lock_team`` locks the team's row (``SELECT ... FOR UPDATE``) before counting, which
serialises the submissions of one team on PostgreSQL. SQLite has no row locks, but
``admit`` counts after the new request is flushed: that INSERT holds SQLite's single write
lock, so a concurrent submission's count waits for (and sees) the earlier one's commit.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, literal, union_all

from . import lifecycle, localtime, priority, settings, signals
from .extensions import db
from .models import Request, Team

UNCOUNTED_STATES = ("cancelled", "duplicate")


def _counted_this_week(now, settings_values, whole_week=False):
    # Up to ``now`` to report usage as it was then; the whole week to decide on a place, since
    # a concurrent submission may have taken one a moment "after" this one's ``now``.
    start = localtime.week_start(now, settings_values)
    end = Request.budget_counted_at < start + timedelta(days=7) if whole_week else \
        Request.budget_counted_at <= now
    return (Request.kind == "ad_hoc", Request.state.not_in(UNCOUNTED_STATES),
            Request.budget_counted_at >= start, end)


def counts_this_week(request, now, settings_values=None):
    """Tell whether ``request`` holds a place in its team's ad-hoc budget of ``now``'s week
    (no SQL when it is not ad-hoc or never counted; pass ``settings_values`` for none at all)."""
    return _holds_place(request.kind, request.budget_counted_at, request.state, now,
                        settings_values)


def _holds_place(kind, counted_at, state, now, settings_values):
    if kind != "ad_hoc" or counted_at is None or state in UNCOUNTED_STATES:
        return False
    return localtime.week_start(now, settings_values) <= counted_at <= now


def lock_team(team_id):
    """Lock the team's row until the transaction ends (PostgreSQL; nothing on SQLite)."""
    db.session.execute(db.select(Team.id).where(Team.id == team_id).with_for_update())


def ad_hoc_usage(team, now, settings_values=None, whole_week=False):
    """Return (used, budget) of ``team`` this week up to ``now`` (or, with ``whole_week``, all
    of its week); budget None means no limit."""
    used = db.session.scalar(
        db.select(db.func.count()).select_from(Request)
        .where(Request.team_id == team.id,
               *_counted_this_week(now, settings_values, whole_week)))
    return used, team.weekly_ad_hoc_budget


def ad_hoc_usage_by_team(team_ids, now, settings_values=None):
    """Return {team id: ad-hoc requests used this week} in one grouped SQL statement."""
    return {team_id: used for team_id, (used, _) in
            budget_status_by_team(team_ids, now, settings_values).items()}


def budget_status_by_team(team_ids, now, settings_values=None):
    """Return {team id: (used this week, waiting on the waitlist)} in one SQL statement.

    The two counts come from two branches of a UNION ALL, each read from its own index
    (team and budget week; state and team): one condition "counted or waiting" could use
    neither, and read every request of the teams (most of the table at 100,000).
    """
    team_ids = list(team_ids)
    status = dict.fromkeys(team_ids, (0, 0))
    if team_ids:
        counted = db.select(Request.team_id, literal(1).label("used"),
                            literal(0).label("waits")).where(
            Request.team_id.in_(team_ids), *_counted_this_week(now, settings_values))
        waiting = db.select(Request.team_id, literal(0), literal(1)).where(
            Request.state == "waitlisted", Request.team_id.in_(team_ids))
        both = union_all(counted, waiting).subquery()
        rows = db.session.execute(
            db.select(both.c.team_id, func.sum(both.c.used), func.sum(both.c.waits))
            .group_by(both.c.team_id))
        status.update({team_id: (int(used or 0), int(waits or 0))
                       for team_id, used, waits in rows})
    return status


def budget_line(team, used, waiting=0):
    """Return "Marketing has used 4 of 5 ad-hoc requests this week" (and "; 2 waiting on the
    waitlist" when some are), or "" without a budget."""
    if team.weekly_ad_hoc_budget is None:
        return ""
    line = (f"{team.name} has used {used} of {team.weekly_ad_hoc_budget} ad-hoc requests "
            "this week")
    if waiting:
        line += f"; {waiting} waiting on the waitlist"
    return line


@dataclass(frozen=True)
class Outlook:
    """What an ad-hoc request submitted now to a team meets (the intake form, before submit):
    the budget line, and when the budget is used up, the waitlist notice (``notice``: its
    title and what the requester can do), else None."""

    line: str
    notice: dict | None = None


def _period(now, settings_values):
    """(the last day of this budget period, the first day of the next), local dates."""
    next_start = localtime.local_today(
        localtime.week_start(now, settings_values) + timedelta(days=7, hours=12),
        settings_values)
    return next_start - timedelta(days=1), next_start


def waitlist_notice(team, used, waiting, now, settings_values=None):
    """The intake form's notice for an ad-hoc request to ``team`` whose budget is used up:
    it will be waitlisted, at which position, and what the requester can do about it."""
    last_day, next_start = _period(now, settings_values)
    next_day = f"{next_start:%a %-d %b %Y}"
    position = waiting + 1
    before = ("nobody waits before it" if not waiting else
              f"{waiting} {'request waits' if waiting == 1 else 'requests wait'} before it; "
              "the waitlist is released in priority order, so an urgent request may go sooner")
    return {
        "title": "If you submit it now, this request will be waitlisted",
        "text": (f"{team.name} has used {used} of {team.weekly_ad_hoc_budget} ad-hoc requests "
                 f"this week, so an ad-hoc request goes on the waitlist, at position "
                 f"{position} ({before})."),
        "options": [
            ("It is released to triage as soon as a place in the budget frees up, and at "
             f"the latest when the budget period ends ({last_day:%a %-d %b %Y}): next week's "
             f"budget starts on {next_day}, in priority order."),
            (f"If it can wait, choose a deadline after {next_day}: it is then released "
             "before it is needed."),
            ("If it cannot wait, submit it and ask a lead to approve it over budget: a lead "
             "can accept it at once."),
        ],
    }


def intake_outlooks(teams, now, settings_values=None):
    """{team id: Outlook} for ``teams`` on the intake form: one SQL statement for the usage."""
    teams = list(teams)
    status = budget_status_by_team([team.id for team in teams], now, settings_values)
    found = {}
    for team in teams:
        used, waiting = status[team.id]
        spent = team.weekly_ad_hoc_budget is not None and used >= team.weekly_ad_hoc_budget
        found[team.id] = Outlook(
            budget_line(team, used, waiting),
            waitlist_notice(team, used, waiting, now, settings_values) if spent else None)
    return found


def is_over_budget(team, used):
    """Tell whether ``team`` took more ad-hoc requests this week than its budget (a lead
    approved some over it, the budget was lowered, or a request became ad-hoc)."""
    return team.weekly_ad_hoc_budget is not None and used > team.weekly_ad_hoc_budget


def waitlist_note(team, used):
    """What the requester of a waitlisted request reads: why it waits, and until when."""
    return (f"{team.name} has used {used} of {team.weekly_ad_hoc_budget} ad-hoc requests this "
            "week. A lead can approve it now; otherwise it is released in priority order when "
            "next week's budget starts.")


def admit(request, now, settings_values=None):
    """Give a newly submitted (and flushed) ad-hoc ``request`` a place in its team's budget of
    this week, or waitlist it when the budget is used up; return the waitlist event or None.

    A request of another kind is left alone: it never counts.
    """
    if request.kind != "ad_hoc":
        return None
    team = request.team
    lock_team(team.id)
    used, budget = ad_hoc_usage(team, now, settings_values, whole_week=True)
    if budget is None or used < budget:
        request.budget_counted_at = now
        db.session.flush()
        return None
    return lifecycle.transition(request, "waitlist", None, now, note=waitlist_note(team, used))


def release_waitlisted(now, team_ids=None, settings_values=None):
    """Release waitlisted requests to triage, in priority order, while each team's budget of
    this week has room (all of a team without a budget); return the released requests.

    Idempotent: a second run releases nothing until a place frees up or a new week starts.
    ``team_ids`` limits it to some teams. The caller commits.
    """
    values = settings_values or settings.current()
    query = db.select(Request.team_id).where(Request.state == "waitlisted").distinct()
    if team_ids is not None:
        query = query.where(Request.team_id.in_(list(team_ids)))
    released = []
    for team_id in sorted(db.session.scalars(query)):
        lock_team(team_id)
        team = db.session.get(Team, team_id)
        waiting = db.session.scalars(db.select(Request).where(
            Request.team_id == team_id, Request.state == "waitlisted")).all()
        used, budget = ad_hoc_usage(team, now, values, whole_week=True)
        room = len(waiting) if budget is None else max(0, budget - used)
        for request in _in_release_order(waiting, now, values)[:room]:
            lifecycle.transition(request, "release", None, now, note=(
                f"A place in {team.name}'s ad-hoc budget is free, so it goes to triage."))
            released.append(request)
    return released


def place_freed(team, now, settings_values=None):
    """A request of ``team`` gave its place of this week back (cancelled, duplicate, no longer
    ad-hoc): the next waitlisted request takes it. Return what was released.

    Only for a team with a budget: without one nothing waits for a place (and the weekly
    ``release_waitlisted`` releases what still does).
    """
    if team.weekly_ad_hoc_budget is None:
        return []
    return release_waitlisted(now, team_ids=[team.id], settings_values=settings_values)


@signals.request_transitioned.connect
def _give_place_back(request, event, now, **_):
    """A request cancelled or marked duplicate gives back the place it held this week: the
    team's next waitlisted request takes it."""
    if event.to_state in UNCOUNTED_STATES and _holds_place(
            request.kind, request.budget_counted_at, event.from_state, now, None):
        place_freed(request.team, now)


@signals.team_budget_changed.connect
def _release_on_raise(team, old, new, now, **_):
    """A bigger weekly budget (or none) releases the team's waitlist at once, in waitlist
    (priority) order, as far as the new budget goes: not at the next hourly run. Returns the
    requests released."""
    if new is not None and (old is None or new <= old):
        return []
    return release_waitlisted(now, team_ids=[team.id])


def kind_changed(request, old_kind, now, settings_values):
    """Move ``request`` in or out of its team's ad-hoc budget after its kind changed from
    ``old_kind`` (the change is flushed; ``settings_values`` are the settings, read once).

    Becoming ad-hoc takes a place now, without waitlisting (triage decided it). Leaving ad-hoc
    gives the place back, which releases the next waitlisted request of the team; a waitlisted
    request that is no longer ad-hoc goes to triage, since no budget holds it back.
    """
    if request.kind == old_kind or "ad_hoc" not in (request.kind, old_kind):
        return
    if request.kind == "ad_hoc":
        if request.state != "waitlisted":
            request.budget_counted_at = now
        return
    freed = _holds_place("ad_hoc", request.budget_counted_at, request.state, now,
                         settings_values)
    request.budget_counted_at = None
    if request.state == "waitlisted":
        lifecycle.transition(request, "release", None, now, note=(
            "It is no longer an ad-hoc request, so the ad-hoc budget does not hold it back."))
        request.budget_counted_at = None
    if freed:
        place_freed(request.team, now, settings_values)


def readmit(request, old_team, held_place, now, settings_values):
    """Check ``request``'s budget again after a requester's change of its team or kind sent it
    back to triage (flushed); return the waitlist event or None.

    The place it held this week (``held_place``, read before the change) is given back to
    ``old_team``, whose next waitlisted request takes it; an ad-hoc request then asks its
    (new) team's budget for a place like a new submission, and waits if there is none.
    """
    request.budget_counted_at = None
    db.session.flush()
    if held_place:
        place_freed(old_team, now, settings_values)
    return admit(request, now, settings_values)


def team_changed(old_team, held_place, now, settings_values):
    """A lead moved a request to another team (flushed): a place it held this week in
    ``old_team``'s budget (``held_place``, read before the change) left that team, whose next
    waitlisted request takes it. The request keeps its place, now in its new team's budget,
    without waitlisting: a lead decided, as with an approval over budget."""
    if held_place:
        place_freed(old_team, now, settings_values)


def _in_release_order(waiting, now, values):
    """``waiting`` (a team's waitlisted requests) in the order the waitlist is released: the
    queue's order (``priority.rank`` in the settings' timezone, whose date urgency counts
    from) with the lead's weights and the oldest-first rule, so a request waitlisted past
    the rule's limit is released first."""
    return priority.rank(waiting, localtime.local_now(now, values),
                         weights=settings.priority_weights(values),
                         aged_before=settings.oldest_first_before(now, values))


def waitlist_position(request, now, settings_values=None):
    """Return (position, count) of waitlisted ``request`` on its team's waitlist, in the order
    the waitlist is released (priority, as ``release_waitlisted``), or None when it does not
    wait. One SQL statement."""
    if request.state != "waitlisted":
        return None
    values = settings_values or settings.current()
    waiting = db.session.scalars(db.select(Request).where(
        Request.team_id == request.team_id, Request.state == "waitlisted")).all()
    order = [req.id for req in _in_release_order(waiting, now, values)]
    return order.index(request.id) + 1, len(order)
