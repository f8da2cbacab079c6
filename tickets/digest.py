"""The weekly digest: what each person should know about their week, once per ISO week.

A digest is a plain context built by one function per role (``requester_context``,
``analyst_context``, ``lead_context``), rendered to a multipart mail (``render``) and queued in
the outbox under the idempotency key ``digest:<user id>:<ISO week>`` (``queue_digest``). The key
is unique in the outbox, so however many times, processes or restarts try, a person gets one
digest a week. ``queue_due`` queues the digests whose moment has come: each person's day (their
own choice or the settings' ``digest_weekday``) at the settings' ``digest_time``, in the
settings' timezone; a run after a missed moment catches up once. The one way to a second copy
is a deliberate resend to one named person (``force``), under a key of its own
(``digest:<user id>:<ISO week>:forced:<n>``).

Outcomes (issue 13) appear in all three: the requester's follow-ups waiting for their answer
(counted among what waits on them), what became of an analyst's deliveries this week and their
own track over ``TRACK_DAYS``, and the lead's impact of the week (answers, used share, reasons
for not using, follow-ups still waiting).

The lists of requests are capped (``LIST_LIMIT``, with "and N more" and a link to the page that
has them all; the lead's five oldest open requests), but for what an analyst is working on (held
down by their WIP limit), and the figures come from grouped statements, so building one costs
the same number of SQL statements whatever the data.
"""
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import joinedload

from . import (budget, counts, forecast, gaps, lifecycle, localtime, mail, outcomes, people, queues,
               settings, sla_clocks, triage, wip)
from .extensions import db
from .models import (NOT_USED_REASONS, OUTCOMES, STATES, USED_OUTCOMES,
                     WAITING_FOLLOW_UP_STATUSES, WAITING_ON_REQUESTER_STATES, Event, FollowUp,
                     OutboxMessage, Request, User)
from .policy import allowed, visible_requests
from .reports.stats import percentile

log = logging.getLogger(__name__)

LIST_LIMIT = 10
LEAD_TIME_WEEKS = 4  # lead-time percentiles look at this many weeks of deliveries
TOP_GAPS = 5  # the platform gaps of the week a lead's digest lists, most analyst hours first
TRACK_DAYS = 90  # an analyst's own track: the answers about their deliveries of these days
TOP_REASONS = 3  # the reasons for not using a delivery the lead's impact summary names
SHORT = 140  # a lever or an answer's text in a digest: at most this many characters
ROLES_WITH_DIGEST = ("requester", "analyst", "lead", "admin")
TEMPLATES = {"requester": "requester", "analyst": "analyst", "lead": "lead", "admin": "lead"}


@dataclass(frozen=True)
class Week:
    """The ISO week a digest covers, in the settings' timezone."""

    year: int
    number: int
    monday: date
    starts_at: datetime  # Monday 00:00 local, aware

    @property
    def key(self):
        return f"{self.year}-W{self.number:02d}"

    @property
    def label(self):
        sunday = self.monday + timedelta(days=6)
        return f"week {self.number}, {self.monday:%-d %b} to {sunday:%-d %b %Y}"


def week_of(now, values):
    """The ISO week ``now`` falls in, in the settings' timezone."""
    today = localtime.local_today(now, values)
    year, number, weekday = today.isocalendar()
    monday = today - timedelta(days=weekday - 1)
    return Week(year, number, monday, localtime.at(monday, time(0), values))


def idempotency_key(user, week):
    """The outbox key that makes ``user``'s digest of ``week`` unique."""
    return f"digest:{user.id}:{week.key}"


def moment(user, week, values):
    """When ``user``'s digest of ``week`` is due: their day at the settings' time, local."""
    day = user.digest_weekday if user.digest_weekday is not None else values["digest_weekday"]
    return localtime.at(week.monday + timedelta(days=day),
                        time.fromisoformat(values["digest_time"]), values)


def _link(path):
    return mail.absolute_url(path)


def _request_link(request_id):
    return _link(f"/requests/{request_id}")


def _short(text, limit=SHORT):
    """``text`` on one line, cut at a word before ``limit`` characters (with an ellipsis)."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "\u2026"


def _outcome_link(request_id):
    return _link(f"/requests/{request_id}#outcome")


def _share(part, whole):
    """``part`` of ``whole`` as a whole percentage, or None when ``whole`` is 0."""
    return round(100 * part / whole) if whole else None


def _capped(query, order_by, limit=LIST_LIMIT):
    """Return (the first ``limit`` rows of ``query`` in ``order_by``'s order, total):
    ``query`` selects one entity (with its loader options), ``order_by`` is a tuple of
    columns. One statement: a subquery numbers every matching row in order and counts them
    (window functions), and the outer query loads the first ``limit`` by primary key.

    The subquery is fenced (``OFFSET 0``) so that PostgreSQL plans it by the filters'
    indexes: given the ORDER BY and LIMIT in one query with a window count, it walked the
    sort column's index through every request of the history (a requester's open requests:
    160 ms at 100,000). At 100,000 requests a second statement counting them cost a
    requester's digest as much as the list, hence the window."""
    entity = query.column_descriptions[0]["entity"]
    ranked = (query.with_only_columns(entity.id.label("id"),
                                      func.row_number().over(order_by=order_by).label("place"),
                                      func.count().over().label("total"))
              .order_by(None).offset(0).subquery("ranked"))
    found = db.session.execute(
        query.join(ranked, ranked.c.id == entity.id).add_columns(ranked.c.total)
        .where(ranked.c.place <= limit).order_by(ranked.c.place)).all()
    if found:
        return [row[0] for row in found], found[0][1]
    if limit > 0:
        return [], 0
    total = db.session.scalar(db.select(func.count()).select_from(query.order_by(None).subquery()))
    return [], total


# --- Requesters ---------------------------------------------------------------------------

def requester_context(user, now, values, ranking=None):
    """What a requester needs: what waits on them, their teams' open requests with queue
    position and next step, and what was delivered this week."""
    week = week_of(now, values)
    seen = visible_requests(user)
    mine_or_teams = or_(Request.requester_id == user.id,
                        and_(Request.team_id.in_(user.team_ids), seen))
    loads = (joinedload(Request.team), joinedload(Request.requester))
    waiting, waiting_total = _capped(
        db.select(Request).where(Request.requester_id == user.id,
                                 Request.state.in_(WAITING_ON_REQUESTER_STATES))
        .options(*loads), order_by=(Request.updated_at,))
    questions = _latest_texts([r.id for r in waiting if r.state == "needs_info"], "ask")
    open_requests, open_total = _capped(
        db.select(Request).where(mine_or_teams, counts.condition("open"))
        .options(*loads), order_by=(Request.created_at.desc(), Request.id.desc()))
    places = queues.spots(open_requests, now, values, ranking=ranking)
    forecasts = forecast.for_requests(open_requests, now, values, places=places)
    delivered, delivered_total = _capped(
        db.select(Request).where(mine_or_teams, Request.delivered_at >= week.starts_at,
                                 Request.delivered_at <= now)
        .options(*loads), order_by=(Request.delivered_at.desc(),))
    follow_ups, follow_ups_total = _capped(
        db.select(FollowUp).where(outcomes.waiting_condition(user))
        .options(joinedload(FollowUp.request).joinedload(Request.team)),
        order_by=(FollowUp.asked_at, FollowUp.id))
    return {
        "follow_ups": [{"req": f.request, "link": _outcome_link(f.request_id),
                        "result": _short(f.request.lever_result),
                        "decision": _short(f.request.lever_decision),
                        "asked_at": f.asked_at, "is_reminded": f.status == "reminded"}
                       for f in follow_ups],
        "follow_ups_total": follow_ups_total,
        "waiting": [{"req": r, "link": _request_link(r.id), "question": questions.get(r.id, ""),
                     "what": ("Answer the data team's question" if r.state == "needs_info"
                              else "Check the delivery, then confirm it or reopen it")}
                    for r in waiting],
        "waiting_total": waiting_total,
        "open": [{"req": r, "link": _request_link(r.id), "state": STATES[r.state],
                  "position": (queues.position_text(places[r.id].position, places[r.id].total)
                               if r.id in places else ""),
                  "forecast": forecasts[r.id].text if r.id in forecasts else "",
                  "next_step": lifecycle.NEXT_STEP[r.state]} for r in open_requests],
        "open_total": open_total,
        "delivered": [{"req": r, "link": _request_link(r.id)} for r in delivered],
        "delivered_total": delivered_total,
        "list_link": _link("/requests/mine"),
        "team_list_link": _link("/requests/team"),
    }


def _latest_texts(request_ids, action):
    """{request id: text of its latest ``action`` transition}: one statement."""
    if not request_ids:
        return {}
    rows = db.session.execute(
        db.select(Event.request_id, Event.text)
        .where(Event.request_id.in_(request_ids), Event.kind == "transition",
               Event.action == action).order_by(Event.id))
    return {request_id: text for request_id, text in rows}


# --- Analysts -----------------------------------------------------------------------------

def _sla_rows(condition, now, values):
    rows, total = _capped(
        db.select(Request).where(condition).options(joinedload(Request.team)),
        order_by=(Request.sla_due_at, Request.id))
    return [{"req": r, "link": _request_link(r.id), "sla": sla_clocks.status(r, now, values)}
            for r in rows], total


def analyst_context(user, now, values, ranking=None):
    """What an analyst needs: their queue in order, deadlines in the next 7 days, SLA at risk
    and breached, triage waiting for them, and their WIP against its limit."""
    local_today = localtime.local_today(now, values)
    # Theirs: assigned to them, in their teams' backlog, or waiting in their triage queue.
    theirs = or_(Request.assignee_id == user.id, queues.queue_condition(user),
                 triage.pending_condition(user))
    the_queue = queues.analyst_queue(user, now, values=values, ranking=ranking)
    up_next = queues.load(the_queue.up_next[:LIST_LIMIT])
    due_soon, due_total = _capped(
        db.select(Request).where(theirs, counts.condition("open"),
                                 Request.deadline >= local_today,
                                 Request.deadline <= local_today + timedelta(days=7))
        .options(joinedload(Request.team)), order_by=(Request.deadline, Request.id))
    at_risk, at_risk_total = _sla_rows(
        and_(theirs, sla_clocks.status_condition("at_risk", now)), now, values)
    breached, breached_total = _sla_rows(
        and_(theirs, sla_clocks.status_condition("breached", now)), now, values)
    triage_rows, triage_total = _capped(
        db.select(Request).where(triage.pending_condition(user))
        .options(joinedload(Request.team)), order_by=(Request.created_at, Request.id))
    own_wip = wip.wip_status(user, values)
    return {
        **_deliveries_context(user, now),
        "wip": own_wip,
        "working": [{"req": e.request, "link": _request_link(e.id),
                     "score": e.explanation.total, "state": STATES[e.request.state]}
                    for e in the_queue.working],
        "up_next": [{"req": e.request, "link": _request_link(e.id), "score": e.explanation.total,
                     "position": queues.position_text(e.position, e.total),
                     "overridden": e.is_overridden} for e in up_next if e.request is not None],
        "up_next_total": len(the_queue.up_next),
        "due_soon": [{"req": r, "link": _request_link(r.id)} for r in due_soon],
        "due_total": due_total,
        "at_risk": at_risk, "at_risk_total": at_risk_total,
        "breached": breached, "breached_total": breached_total,
        "triage": [{"req": r, "link": _request_link(r.id)} for r in triage_rows],
        "triage_total": triage_total,
        "queue_link": _link("/queue"), "triage_link": _link("/triage"),
    }


def _answer_row(follow_up):
    """An answer to a follow-up, as the digests list it."""
    return {"req": follow_up.request, "link": _outcome_link(follow_up.request_id),
            "outcome": follow_up.outcome_label, "is_used": follow_up.is_used,
            "decision": _short(follow_up.decision), "reason": follow_up.reason_label,
            "note": _short(follow_up.note), "answered_at": follow_up.answered_at}


def _deliveries_context(user, now):
    """What became of ``user``'s deliveries (they were the assignee): the answers recorded in
    the last 7 days, and their track over TRACK_DAYS. Three statements."""
    theirs = FollowUp.request.has(Request.assignee_id == user.id)
    answers, answers_total = _capped(
        db.select(FollowUp).where(theirs, FollowUp.answered_at > now - timedelta(days=7),
                                  FollowUp.answered_at <= now)
        .options(joinedload(FollowUp.request).joinedload(Request.team)),
        order_by=(FollowUp.answered_at.desc(), FollowUp.id.desc()))
    used = outcomes.used_count(FollowUp.outcome)
    track_used, track_answered = db.session.execute(
        db.select(used, func.count()).select_from(FollowUp)
        .where(theirs, FollowUp.answered_at > now - timedelta(days=TRACK_DAYS),
               FollowUp.answered_at <= now)).one()
    track_used, track_answered = int(track_used or 0), int(track_answered or 0)
    return {
        "answers": [_answer_row(f) for f in answers],
        "answers_total": answers_total,
        "track": {"used": track_used, "answered": track_answered, "days": TRACK_DAYS,
                  "share": _share(track_used, track_answered)},
    }


# --- Leads --------------------------------------------------------------------------------

def _attainment(pairs, values):
    """Share of (class, business seconds, which) pairs within their class's target."""
    met = total = 0
    for sla_class, seconds, which in pairs:
        if seconds is None:
            continue
        target = settings.sla_target(sla_class, values)
        limit = target.first_response_seconds if which == "first" else target.resolution_seconds
        total += 1
        met += seconds <= limit
    return (met, total)


def lead_context(user, now, values, ranking=None):
    """What a lead needs: backlog size and its change over the week, throughput, lead time
    percentiles, oldest open requests, SLA attainment, ad-hoc budget use, the waitlist, and
    the platform gaps of the last 7 days that cost the most analyst hours."""
    week_ago = now - timedelta(days=7)
    # The counting words of ``counts`` (open: before delivery), now and a week ago by the
    # states the events give then: the same definition on both sides of the change.
    counts_now = counts.summed(counts.at(now).values())
    open_then = counts.summed(counts.at(week_ago).values()).open
    window = now - timedelta(weeks=LEAD_TIME_WEEKS)
    deliveries = db.session.execute(
        db.select(Request.created_at, Request.delivered_at, Request.sla_class,
                  Request.resolution_seconds)
        .where(Request.delivered_at > window, Request.delivered_at <= now)).all()
    lead_days = sorted((done - created).total_seconds() / 86400
                       for created, done, _, _ in deliveries)
    this_week = [row for row in deliveries if row.delivered_at > week_ago]
    responses = db.session.execute(
        db.select(Request.sla_class, Request.first_response_seconds)
        .where(Request.first_response_at > week_ago, Request.first_response_at <= now)).all()
    first_met = _attainment([(c, s, "first") for c, s in responses], values)
    resolution_met = _attainment([(r.sla_class, r.resolution_seconds, "resolution")
                                  for r in this_week], values)
    oldest, _ = _capped(
        db.select(Request).where(counts.condition("open"), Request.created_at <= now)
        .options(joinedload(Request.team)), order_by=(Request.created_at, Request.id), limit=5)
    teams = people.active_teams()
    budgets = budget.budget_status_by_team([t.id for t in teams], now, values)
    gaps_from = localtime.local_today(now, values) - timedelta(days=6)  # the report's 7 days
    waitlisted, waitlisted_total = _capped(
        db.select(Request).where(Request.state == "waitlisted")
        .options(joinedload(Request.team)), order_by=(Request.created_at, Request.id))
    return {
        "impact": impact_summary(week_ago, now),
        "counts": counts_now, "words": counts.WORDS,
        "open": counts_now.open, "open_change": counts_now.open - open_then,
        "throughput": len(this_week),
        "lead_time_p50": percentile(lead_days, 0.5),
        "lead_time_p85": percentile(lead_days, 0.85),
        "lead_time_count": len(lead_days), "lead_time_weeks": LEAD_TIME_WEEKS,
        "oldest": [{"req": r, "link": _request_link(r.id),
                    "age_days": (now - r.created_at).days} for r in oldest],
        "first_met": first_met, "resolution_met": resolution_met,
        "budgets": [{"team": t, "used": budgets[t.id][0], "waiting": budgets[t.id][1],
                     "budget": t.weekly_ad_hoc_budget} for t in teams
                    if t.weekly_ad_hoc_budget is not None or budgets[t.id] != (0, 0)],
        "waitlisted": [{"req": r, "link": _request_link(r.id)} for r in waitlisted],
        "waitlisted_total": waitlisted_total,
        # One statement: the categories and an example note each.
        "top_gaps": gaps.top_gaps(week_ago, now, TOP_GAPS),
        "gaps_link": _link(f"/reports/platform-gaps?start={gaps_from.isoformat()}"),
        "backlog_link": _link("/backlog"),
        # Admins get this digest too, and do not triage: they get the list instead.
        "triage_link": _link("/triage?section=waitlisted" if allowed(user, "triage")
                             else "/requests/all?state=waitlisted"),
    }


def impact_summary(start, end):
    """The answers to follow-ups recorded in (``start``, ``end``]: how many, the used share,
    how many acted, decided not to act, not used yet and not used (with the TOP_REASONS most
    given reasons), and how many follow-ups wait for an answer now. Two statements."""
    rows = db.session.execute(
        db.select(FollowUp.outcome, FollowUp.not_used_reason, func.count())
        .where(FollowUp.answered_at > start, FollowUp.answered_at <= end)
        .group_by(FollowUp.outcome, FollowUp.not_used_reason)).all()
    waiting = db.session.scalar(
        db.select(func.count()).select_from(FollowUp)
        .where(FollowUp.status.in_(sorted(WAITING_FOLLOW_UP_STATUSES))))
    by_outcome = dict.fromkeys(OUTCOMES, 0)
    reasons = {}
    for outcome, reason, count in rows:
        by_outcome[outcome] = by_outcome.get(outcome, 0) + count
        if outcome == "not_used":
            label = NOT_USED_REASONS.get(reason, "No reason given")
            reasons[label] = reasons.get(label, 0) + count
    answered = sum(by_outcome.values())
    used = sum(by_outcome[outcome] for outcome in USED_OUTCOMES)
    top = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    return {"answered": answered, "used": used, "used_share": _share(used, answered),
            "acted": by_outcome["acted"], "decided_not_to_act": by_outcome["decided_not_to_act"],
            "not_yet": by_outcome["not_yet"], "not_used": by_outcome["not_used"],
            "outcomes": [{"outcome": outcome, "label": label, "count": by_outcome[outcome]}
                         for outcome, label in OUTCOMES.items()],
            "top_reasons": [{"reason": label, "count": count} for label, count in top],
            "waiting": waiting, "link": _link("/reports/impact")}


CONTEXTS = {"requester": requester_context, "analyst": analyst_context, "lead": lead_context,
            "admin": lead_context}


def _plural(count, word):
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def subject(user, context):
    """The digest's subject line: the numbers that matter most to this role."""
    if user.role == "requester":
        # Follow-ups to answer wait on them as much as questions and deliveries to confirm.
        waiting = context["waiting_total"] + context["follow_ups_total"]
        parts = [f"{waiting} waiting on you"] if waiting else []
        parts.append(f"{context['open_total']} open")
        parts.append(f"{context['delivered_total']} delivered")
        return "Your Datadesk week: " + ", ".join(parts)
    if user.role == "analyst":
        parts = [f"{context['wip'].count} of {context['wip'].limit} in progress"]
        if context["at_risk_total"] or context["breached_total"]:
            parts.append(f"{context['at_risk_total']} at risk, "
                         f"{context['breached_total']} breached")
        parts.append(f"{context['triage_total']} to triage")
        return "Your Datadesk queue: " + ", ".join(parts)
    return (f"Datadesk weekly: {context['open']} open ({context['open_change']:+d}), "
            f"{context['throughput']} delivered")


def build(user, now, values=None, ranking=None):
    """Return (subject, text, html) of ``user``'s digest at ``now``.

    ``ranking`` (a ``queues.Ranking`` of ``now``) lets a run of many digests rank each team's
    queue once for everyone rather than once per recipient."""
    values = values or settings.current()
    context = CONTEXTS[user.role](user, now, values, ranking=ranking)
    week = week_of(now, values)
    common = {
        "user": user, "week": week, "now": now, "role": TEMPLATES[user.role],
        "unsubscribe_url": mail.unsubscribe_url(user, "digest"),
        "preferences_url": _link("/preferences"), "home_url": _link("/"),
        "plural": _plural,
    }
    name = TEMPLATES[user.role]
    return (subject(user, context),
            mail.render(f"email/digest_{name}.txt", **context, **common),
            mail.render(f"email/digest_{name}.html", **context, **common))


def is_queued(user, week):
    """Tell whether ``user``'s digest of ``week`` is in the outbox already (sent or not)."""
    key = idempotency_key(user, week)
    return db.session.scalar(
        db.select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None


def _forced_key(user, week):
    """The key of one more deliberate copy of ``user``'s digest of ``week``: the n-th resend.

    Two resends at the same instant get the same key, so the unique key lets one through.
    """
    prefix = f"{idempotency_key(user, week)}:forced:"
    done = db.session.scalar(db.select(func.count()).where(
        OutboxMessage.idempotency_key.startswith(prefix, autoescape=True)))
    return f"{prefix}{done + 1}"


def queue_digest(user, now, values=None, force=False, ranking=None):
    """Queue ``user``'s digest of this ISO week in the outbox; return its id, or None when this
    week's was queued already (by any process: the key is unique).

    ``force`` (`flask digests send --user ... --force`, one named person) queues one extra copy
    under a key of its own when this week's was queued already; otherwise this week's itself.
    """
    values = values or settings.current()
    week = week_of(now, values)
    key = idempotency_key(user, week)
    if is_queued(user, week):
        if not force:
            return None
        key = _forced_key(user, week)
    subject_, text, html = build(user, now, values, ranking=ranking)
    return mail.queue_message(user.email, subject_, text, html, kind="digest", now=now,
                              user=user, idempotency_key=key,
                              headers=mail.unsubscribe_headers(user, "digest"))


def due_recipients(now, values=None):
    """The users whose digest of this week is due at ``now`` and not queued yet (three
    statements: the candidates, their teams and the keys already queued)."""
    values = values or settings.current()
    week = week_of(now, values)
    candidates = db.session.scalars(
        db.select(User).where(User.is_active, User.is_digest_enabled,
                              User.role.in_(ROLES_WITH_DIGEST))
        .options(db.selectinload(User.teams)).order_by(User.id)).all()
    keys = {idempotency_key(user, week): user for user in candidates}
    done = set(db.session.scalars(db.select(OutboxMessage.idempotency_key)
                                  .where(OutboxMessage.idempotency_key.in_(list(keys)))))
    due = []
    for key, user in keys.items():
        when = moment(user, week, values)
        # Someone who joined after this week's moment starts next week.
        if key not in done and when <= now and user.created_at <= when:
            due.append(user)
    return due


def queue_due(now, values=None):
    """Queue every digest due at ``now`` (a scheduled job; the caller commits); return how
    many were queued. Safe to run at any time and any number of times.

    Each digest is built in a savepoint: one that fails (a bug, bad data) is logged and left
    for the next run, and never keeps everyone else's digest from being queued.
    """
    values = values or settings.current()
    queued = 0
    # Every team's queue is ranked once for the whole run, not once per recipient.
    ranking = queues.Ranking(now, values)
    for user in due_recipients(now, values):
        try:
            with db.session.begin_nested():
                queued += queue_digest(user, now, values, ranking=ranking) is not None
        except Exception:
            log.exception("The digest of user %s could not be queued; the next run retries it",
                          user.id)
    return queued

