"""What became of the demo's deliveries: follow-ups asked, reminded, answered, handed over.

Resolving a demo request already scheduled its follow-up (``outcomes.schedule``, through the
signal), due on the day its requester said they would know by or after the kind's business
days. ``seed_outcomes`` then plays the weeks since then as the scheduler would: every working
morning (the settings' ``work_start``) up to ``now`` it runs ``outcomes.send_due`` (asking and
reminding what is due), and between those runs the requesters answer (``outcomes.record``) as
their planned request's ``outcome`` says (stories.Planned): promptly, after the reminder, once
from the mail with one click, or twice ("not used yet", later "acted"). Answers that would fall
after ``now`` do not happen, so follow-ups due lately wait; those due after ``now`` stay
scheduled. The people who left (teams.LEFT) are disabled first: their follow-ups go to a
colleague watching the request, or nobody.

Decisions and notes are the requesters' own words (texts.OUTCOME_TEXTS), tied to the lever of
each template. Times of answers come from a seeded random generator of their own, so the
histories' generator (and with it every title and date) is left as it was.
"""
import heapq
import random
from datetime import time, timedelta

from .. import localtime, outcomes, people, settings
from ..extensions import db
from ..models import FollowUp, User
from .histories import _working_time
from .teams import LEFT
from .texts import OUTCOME_TEXTS

__all__ = ["seed_outcomes", "parse_outcome"]

PROMPT_DAYS = (0.1, 3.5)  # from the question to a prompt answer (before the reminder)
AFTER_REMINDER_DAYS = (0.2, 3)  # from the reminder to a late answer
CHANGE_DAYS = (7, 21)  # from one answer to the next, when it changes
DETAILS_DAYS = (0.05, 0.8)  # from a one-click answer in the mail to its details on the page

# What a requester writes when the template has no words of its own for the answer.
FALLBACK = {
    "acted": ("We acted on it as planned.", ""),
    "decided_not_to_act": ("We looked at it and decided to leave things as they are.", ""),
    "not_yet": ("", "Not yet: the decision is still ahead of us."),
    "not_used": ("", ""),
}


def parse_outcome(text):
    """Planned.outcome as (late, [(outcome, reason, via)]): see stories.Planned."""
    text = text.strip()
    late = text.startswith("late ")
    if late:
        text = text[5:]
    answers = []
    for part in filter(None, (p.strip() for p in text.split(" then "))):
        token, _, via = part.partition("/")
        outcome, _, reason = token.partition(":")
        answers.append((outcome, reason or None, via or "page"))
    return late, answers


def seed_outcomes(now, played):
    """Play the follow-ups of the demo requests ``played`` ([(stories item, request)]) up to
    ``now``. Flushes; the caller commits."""
    values = settings.current()
    rng = random.Random(13)
    _disable_leavers()
    follow_ups = {f.request_id: f for f in db.session.scalars(db.select(FollowUp))}
    fates = {}
    for item, request in played:
        follow_up = follow_ups.get(request.id)
        if follow_up is not None:
            fates[follow_up.id] = (item, *parse_outcome(item.row.outcome))
    if not follow_ups:
        return
    start = time.fromisoformat(values["work_start"])
    hours = settings.business_hours(values)
    day = localtime.local_today(min(f.due_at for f in follow_ups.values()), values)
    answers = []  # heap of (when, follow-up id, index of the answer)
    while (tick := localtime.at(day, start, values)) <= now:
        _answer_until(tick, answers, fates, rng, now)
        if hours.is_working_day(day):
            outcomes.send_due(tick, values=values)
            _plan_answers(tick, answers, fates, rng)
        day += timedelta(days=1)
    _answer_until(now, answers, fates, rng, now)
    db.session.flush()


def _disable_leavers():
    """Disable the accounts of the people who left, through the people functions."""
    for user in db.session.scalars(db.select(User).where(User.email.in_(sorted(LEFT)))):
        if user.is_active:
            people.save_user(user, name=user.name, email=user.email, role=user.role,
                             team_ids=user.team_ids, is_active=False)


def _plan_answers(tick, answers, fates, rng):
    """Schedule the first answer of the follow-ups just asked (or, for late answerers, just
    reminded) at ``tick``."""
    rows = db.session.execute(
        db.select(FollowUp.id, FollowUp.asked_at, FollowUp.reminded_at)
        .where(db.or_(FollowUp.asked_at == tick, FollowUp.reminded_at == tick))).all()
    for follow_up_id, asked_at, reminded_at in rows:
        fate = fates.get(follow_up_id)
        if fate is None or not fate[2]:
            continue
        late = fate[1]
        if late and reminded_at == tick:
            delay = rng.uniform(*AFTER_REMINDER_DAYS)
        elif not late and asked_at == tick:
            delay = rng.uniform(*PROMPT_DAYS)
        else:
            continue
        heapq.heappush(answers, (_working_time(tick + timedelta(days=delay)), follow_up_id, 0))


def _answer_until(until, answers, fates, rng, now):
    """Record every planned answer before ``until`` (none after ``now``), and plan the next
    answer of those that change later."""
    while answers and answers[0][0] < until:
        at, follow_up_id, index = heapq.heappop(answers)
        if at > now:
            continue
        item, _, planned = fates[follow_up_id]
        follow_up = db.session.get(FollowUp, follow_up_id)
        if follow_up.status not in ("asked", "reminded", "answered"):
            continue
        outcome, reason, via = planned[index]
        decision, note = _words(item, outcome, reason, via)
        outcomes.record(follow_up, follow_up.recipient, at, outcome=outcome, decision=decision,
                        reason=reason, note=note, via=via, first_only=via == "mail")
        if index + 1 < len(planned):
            # After a one-click answer the details follow soon; a changed answer takes weeks.
            days = rng.uniform(*(DETAILS_DAYS if via == "mail" else CHANGE_DAYS))
            later = _working_time(at + timedelta(days=days))
            heapq.heappush(answers, (later, follow_up_id, index + 1))


def _words(item, outcome, reason, via):
    """(decision, note) of an answer, in the requester's words; none for a one-click answer."""
    if via == "mail":
        return "", ""
    token = f"{outcome}:{reason}" if reason else outcome
    decision, note = OUTCOME_TEXTS.get(item.row.template, {}).get(token, FALLBACK[outcome])
    return decision.format(x=item.filler), note.format(x=item.filler)
