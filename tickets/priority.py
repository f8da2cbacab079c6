"""The priority score of a request and its explanation: pure functions of a request and a clock.

Datadesk orders its queues in the spirit of weighted shortest job first (DESIGN.md, Priority):
the cost of waiting for a request, divided by how long it takes, plus a small bonus for time
already waited so that nothing starves::

    score = (impact + urgency + sponsor) / size + ageing

impact
    Points for the business impact chosen at intake: Minimal 1, Low 2, Medium 4, High 6,
    Critical 8. Points double at the low end, where "nice to know" must stay well apart from
    work that shapes a plan, then rise by 2 per step, so a Critical request weighs eight
    Minimal ones while High and Critical stay within reach of a close deadline.
urgency
    Time criticality, from the deadline counted in calendar days from today's date (the date of
    ``now`` in ``now``'s own timezone, so pass ``now`` in the team's timezone): no hard deadline
    0, due in more than 30 days 1, within 30 days 2, within 14 days 3, within 7 days 5, within
    2 days (or today) 7, overdue 8. It never falls as the deadline comes nearer, and at its
    highest it weighs as much as a Critical impact.
sponsor
    2 when an executive sponsors the request ("white-glove"): one impact step at the top of the
    scale. It tips close calls, but a sponsored Low request (2 + 2) stays below a High one (6).
size
    The job's weight from the size estimate, close to its length in working days: S 1, M 3,
    L 8, XL 20. A request not yet sized counts as M, and its explanation says so.
ageing
    0.1 per full day (24 hours) since the request was created, at most 5 (reached after 50
    days). An old, small, low-impact request with no deadline (score 1.0) passes a new Medium
    request of size M due in two weeks ((4 + 3) / 3 = 2.3) after 14 days of waiting. The cap
    keeps a wait from outweighing everything: 5 points lift even the lowest request past any M
    request due in more than 30 days or without a deadline (at most (8 + 1 + 2) / 3 = 3.7),
    but not past a small High request due within a week ((6 + 5) / 1 = 11).

track record (optional, off unless a lead switches it on: ``track_record_in_priority``)
    The requesting team's used share of its last answered follow-ups (``outcomes``) scales the
    cost of delay: ``0.5 + 0.5 x used share``, so a team that used everything it asked for
    keeps its points and one that used nothing has them halved; ageing is untouched, so
    nothing starves. A team with fewer than TRACK_RECORD_MIN_ANSWERS answers keeps its points
    (too few to judge), and the explanation says so.

Every queue and request page shows these parts, for example
``impact 8 + urgency 5 (due in 3 days) + sponsor 2, / size M (3) + ageing 1.2 = 6.2``, or with
the track record ``(impact 8 + urgency 5) x track record 0.8 (used 6 of 10), / size M ...``.

weights (lead-settable on /settings, "Priority" card: ``settings.priority_weights``)
    A ``Weights`` scales the parts: ``impact`` and ``urgency`` multiply their points, ``sponsor``
    is the sponsor's points, ``ageing_per_day`` and ``ageing_cap`` set the ageing. The constants
    below are the defaults (``DEFAULT_WEIGHTS``), and every function takes ``weights`` with them
    as its default, so a caller that passes none scores exactly as before. A weight other than 1
    shows in the explanation (``impact 8 (x 1.5)``). The SLA class is not weighted: it reads
    ``explain(request, now).cost_of_delay`` with the default weights, so a lead's weights move a
    request in the queue but never change its SLA targets.

the oldest-first rule (the wait guarantee; ``Weights.oldest_first_after``, 0 switches it off)
    A waiting request created before ``aged_before`` (``settings.oldest_first_before``: now
    minus ``oldest_first_after`` working days of the team's calendar) is *aged*. Aged requests
    go ahead of every scored request, and among themselves oldest first (``created_at``, then
    ``id``); a lead's overrides still apply on top, as for any request.

    Why this bounds the wait to start. Take a request r created at c; it is aged from the
    moment A = c + N working days. From A on, the only requests ranked ahead of r are aged
    requests created before c: requests that age later were created after c and rank behind
    r, and new arrivals are not aged at all. So the set ahead of r only shrinks after A; it
    holds the k requests created before r that still wait at A (k is finite, and 0 whenever
    the aged group has been drained, the normal state when capacity exceeds demand). Each time
    an analyst frees up (WIP limit 1, no preemption), the head of the queue starts. With m
    analysts, r starts at the (k+1)-th time an analyst frees up after A, so its wait is at most
    N working days plus the time to start k+1 requests: with k = 0, N working days plus the
    shortest remaining work among the m requests in progress. Score, weights, urgency and new
    arrivals cannot delay it further; only lead overrides (which a lead sees and owns) and an
    aged backlog that exceeds what the analysts can start (demand above capacity for weeks:
    then no order bounds every wait) can. The bound covers the requests ``rank`` is given: an
    ad-hoc request waitlisted by its team's budget is outside the queue until released, so the
    budget must apply the rule too (release aged waitlisted requests first, or at once) for the
    guarantee to reach it; ``bench/simulate_policy.py`` measures both. ``tests/test_priority_weights.py`` checks the two
    facts the argument rests on, on random queues: no non-aged request ever ranks ahead of an
    aged one, and aged requests rank in created order.

The help page reads these constants and the current weights (``urgency_table``), so it follows
any change made here. The functions only read the attributes ``business_impact``, ``deadline``,
``is_exec_sponsored``, ``size``, ``created_at`` (and ``id`` for ranking) of a request, so any
object with those attributes works.
"""
import math
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

# Business impact (models.IMPACTS, 1-5) -> points of cost of delay.
IMPACT_POINTS = {1: 1, 2: 2, 3: 4, 4: 6, 5: 8}

# (days left at most, points), checked in order; days left is the deadline minus today's date,
# negative when overdue. The last step catches every later deadline.
URGENCY_STEPS = (
    (-1, 8),  # overdue
    (2, 7),  # due today or within 2 days
    (7, 5),
    (14, 3),
    (30, 2),
    (math.inf, 1),
)
NO_DEADLINE_URGENCY = 0

SPONSOR_POINTS = 2

# Size estimate (models.SIZES) -> weight, about the job's length in working days.
SIZE_WEIGHTS = {"S": 1, "M": 3, "L": 8, "XL": 20}
UNSIZED_AS = "M"  # the size a request counts as until triage sets one

AGEING_PER_DAY = 0.1
AGEING_CAP = 5

# The oldest-first rule's default: working days after which a waiting request goes first.
OLDEST_FIRST_AFTER = 15

TRACK_RECORD_MIN_ANSWERS = 3
TRACK_RECORD_FLOOR = 0.5  # the factor of a team that used none of its last deliveries


@dataclass(frozen=True)
class TrackRecord:
    """A team's last answered follow-ups (``outcomes.track_records``): how many, how many used."""

    used: int
    answered: int

    @property
    def share(self):
        """The used share, or None without answers."""
        return self.used / self.answered if self.answered else None

    @property
    def text(self):
        if not self.answered:
            return "no follow-up answered yet"
        return f"used {self.used} of its last {self.answered} deliveries ({self.share:.0%})"

    @property
    def factor(self):
        """The factor on the cost of delay (1 with too few answers to judge)."""
        if self.answered < TRACK_RECORD_MIN_ANSWERS:
            return 1.0
        return TRACK_RECORD_FLOOR + (1 - TRACK_RECORD_FLOOR) * self.share


@dataclass(frozen=True)
class Weights:
    """How much each part of the score counts: what a lead sets on the "Priority" card.

    ``impact`` and ``urgency`` multiply their points, ``sponsor`` is the points an executive
    sponsor adds, ``ageing_per_day`` and ``ageing_cap`` make the ageing, and
    ``oldest_first_after`` is the working days after which a waiting request goes first, oldest
    first (0: the rule is off). The defaults are today's rule.
    """

    impact: float = 1.0
    urgency: float = 1.0
    sponsor: float = SPONSOR_POINTS
    ageing_per_day: float = AGEING_PER_DAY
    ageing_cap: float = AGEING_CAP
    oldest_first_after: int = OLDEST_FIRST_AFTER


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Explanation:
    """The parts of a request's priority score, as shown on queues and request pages."""

    impact: float  # points from the business impact (before its weight)
    urgency: float  # points from the deadline (before its weight)
    urgency_reason: str  # "due in 3 days", "overdue by 2 days", "no hard deadline"
    sponsor: float  # points for an exec sponsor, 0 without one
    size_label: str  # the size the score used: the estimate, or UNSIZED_AS
    size_weight: float
    is_size_assumed: bool  # True when the request has no size estimate yet
    ageing: float
    total: float
    days_left: int | None  # until the deadline, negative when overdue; None without one
    days_waited: int  # full days since the request was created
    # The team's track record when a lead switched it into the score; None: not part of it.
    track_record: TrackRecord | None = None
    record_factor: float = 1.0
    impact_weight: float = 1.0
    urgency_weight: float = 1.0
    # True when the oldest-first rule puts the request ahead of every scored one.
    is_oldest_first: bool = False
    oldest_first_after: int = OLDEST_FIRST_AFTER

    @property
    def cost_of_delay(self):
        """Impact, urgency and sponsor points together, weighted: the numerator of the score.

        With the default weights (what ``sla_clocks`` asks for) these are the plain points."""
        return self.impact * self.impact_weight + self.urgency * self.urgency_weight + self.sponsor

    @property
    def score_text(self):
        """The score's sum in one line, e.g. 'impact 8 + urgency 5 (due in 3 days), / size ...'."""
        parts = [f"impact {_points(self.impact)}{_times(self.impact_weight)}"]
        if self.urgency_weight == 1:
            parts.append(f"urgency {_points(self.urgency)} ({self.urgency_reason})")
        else:
            parts.append(f"urgency {_points(self.urgency)} ({self.urgency_reason}, "
                         f"\u00d7 {_points(self.urgency_weight)})")
        if self.sponsor:
            parts.append(f"sponsor {_points(self.sponsor)}")
        cost = " + ".join(parts)
        if self.track_record is not None:
            record = self.track_record
            if record.answered < TRACK_RECORD_MIN_ANSWERS:
                note = (f"{record.text}: too few to weigh" if record.answered
                        else "no follow-up answered yet: not weighed")
            else:
                note = record.text.replace(" of its last", " of", 1).replace(" deliveries", "")
            cost = f"({cost}) \u00d7 track record {self.record_factor:.2f} ({note})"
        if self.is_size_assumed:
            size = f"size not set, counted as {self.size_label} ({_points(self.size_weight)})"
        else:
            size = f"size {self.size_label} ({_points(self.size_weight)})"
        return (f"{cost}, / {size} + ageing {self.ageing:.1f} "
                f"= {self.total:.1f}")

    @property
    def text(self):
        """The score in one line; an aged request says first that it goes first, oldest first."""
        if self.is_oldest_first:
            return (f"waiting {self.oldest_first_after}+ working days: goes first, oldest first "
                    f"(score {self.score_text})")
        return self.score_text


def is_oldest_first(request, aged_before):
    """Tell whether the oldest-first rule puts ``request`` ahead of every scored request:
    it was created before ``aged_before`` (None: the rule is off)."""
    return aged_before is not None and request.created_at < aged_before


def explain(request, now, track_record=None, weights=DEFAULT_WEIGHTS, aged_before=None):
    """Return the parts of ``request``'s priority score at ``now`` (an aware datetime).

    ``track_record`` (a TrackRecord of the request's team) is given only when a lead switched
    the track record into the score; it scales the cost of delay by its ``factor``.
    ``weights`` are the lead's (``settings.priority_weights``); ``aged_before`` is the moment
    before which a request counts as aged (``settings.oldest_first_before``; None: rule off)."""
    _check_aware(now)
    try:
        impact = IMPACT_POINTS[request.business_impact]
    except KeyError:
        raise ValueError(f"unknown business impact {request.business_impact!r}") from None
    days_left, urgency, reason = _urgency(request.deadline, now)
    sponsor = weights.sponsor if request.is_exec_sponsored else 0
    size_label = request.size if request.size is not None else UNSIZED_AS
    try:
        size_weight = SIZE_WEIGHTS[size_label]
    except KeyError:
        raise ValueError(f"unknown size {request.size!r}") from None
    days_waited = max(0, (now - request.created_at) // timedelta(days=1))
    ageing = min(weights.ageing_cap, weights.ageing_per_day * days_waited)
    factor = track_record.factor if track_record is not None else 1.0
    cost = impact * weights.impact + urgency * weights.urgency + sponsor
    total = cost * factor / size_weight + ageing
    return Explanation(
        impact=impact, urgency=urgency, urgency_reason=reason, sponsor=sponsor,
        size_label=size_label, size_weight=size_weight, is_size_assumed=request.size is None,
        ageing=ageing, total=total, days_left=days_left, days_waited=days_waited,
        track_record=track_record, record_factor=factor,
        impact_weight=weights.impact, urgency_weight=weights.urgency,
        is_oldest_first=is_oldest_first(request, aged_before),
        oldest_first_after=weights.oldest_first_after,
    )


def score(request, now, track_record=None, weights=DEFAULT_WEIGHTS):
    """Return ``request``'s priority score at ``now`` (``explain(...).total``) without building
    its explanation: what ranking a whole queue calls, once per request."""
    _check_aware(now)
    try:
        impact = IMPACT_POINTS[request.business_impact]
    except KeyError:
        raise ValueError(f"unknown business impact {request.business_impact!r}") from None
    deadline = request.deadline
    if deadline is None:
        urgency = NO_DEADLINE_URGENCY
    else:
        days_left = (deadline - now.date()).days
        urgency = next((points for most, points in URGENCY_STEPS if days_left <= most),
                       URGENCY_STEPS[-1][1])
    size = request.size if request.size is not None else UNSIZED_AS
    try:
        size_weight = SIZE_WEIGHTS[size]
    except KeyError:
        raise ValueError(f"unknown size {request.size!r}") from None
    cost = impact * weights.impact + urgency * weights.urgency
    if request.is_exec_sponsored:
        cost += weights.sponsor
    if track_record is not None:
        cost *= track_record.factor
    days_waited = max(0, (now - request.created_at) // _DAY)
    return cost / size_weight + min(weights.ageing_cap, weights.ageing_per_day * days_waited)


def priority_score(request, now, weights=DEFAULT_WEIGHTS):
    """Return ``request``'s priority score at ``now``: higher is done first."""
    return score(request, now, weights=weights)


def order_key(request, now, weights=DEFAULT_WEIGHTS, aged_before=None, score_value=None):
    """Return the key that sorts ``request`` into queue order at ``now`` (without overrides).

    Aged requests (``is_oldest_first``) come first, oldest first (``created_at``, then
    ``id``); the others follow by score descending, then ``created_at``, then ``id``.
    ``score_value`` is the request's score if the caller has it already."""
    if is_oldest_first(request, aged_before):
        return (0, 0.0, request.created_at, request.id)
    if score_value is None:
        score_value = score(request, now, weights=weights)
    return (1, -score_value, request.created_at, request.id)


def rank(requests, now, overrides=None, scores=None, weights=DEFAULT_WEIGHTS, aged_before=None):
    """Return ``requests`` in queue order at ``now``: by score, with a lead's overrides applied.

    Without overrides the order is score descending; equal scores put the older request
    (earlier ``created_at``) first, then the lower ``id``, so the order never depends on the
    order of the input. With ``aged_before`` (the oldest-first rule, see the module
    docstring) every request created before it goes ahead of the scored ones, oldest first.

    ``overrides`` maps a request id to the position a lead gave it (1 is the top). An
    overridden request takes that position; the others fill the remaining positions in queue
    order. Two overrides on the same position keep their queue order, the second one moving
    down a place; an override past the end of the list puts the request last (overridden
    requests past the end keep the order of their positions). Overrides for requests not in
    ``requests`` (another team's queue, a closed request) are ignored.

    ``scores`` optionally maps a request id to its score at ``now`` (computed with the same
    ``weights``), for a caller that has computed them already (a queue page explains every
    score anyway); missing ones are computed, aged requests' are not needed.
    """
    requests = list(requests)
    overrides = dict(overrides or {})
    for request_id, position in overrides.items():
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise ValueError(f"override position of #{request_id} must be 1 or more, "
                             f"not {position!r}")
    known = scores or {}
    keys = {id(request): order_key(request, now, weights, aged_before, known.get(request.id))
            for request in requests}
    by_key = sorted(requests, key=lambda r: keys[id(r)])
    if not overrides:
        return by_key
    pinned = deque(sorted((r for r in by_key if r.id in overrides),
                          key=lambda r: overrides[r.id]))
    rest = deque(r for r in by_key if r.id not in overrides)
    ordered = []
    while pinned or rest:
        position = len(ordered) + 1
        if pinned and (overrides[pinned[0].id] <= position or not rest):
            ordered.append(pinned.popleft())
        else:
            ordered.append(rest.popleft())
    return ordered


def _urgency(deadline, now):
    """Return (days left, points, reason) for ``deadline`` seen from ``now``'s date."""
    if deadline is None:
        return None, NO_DEADLINE_URGENCY, "no hard deadline"
    days_left = (deadline - now.date()).days
    points = next((points for most, points in URGENCY_STEPS if days_left <= most),
                  URGENCY_STEPS[-1][1])
    if days_left < 0:
        reason = f"overdue by {_days(-days_left)}"
    elif days_left == 0:
        reason = "due today"
    else:
        reason = f"due in {_days(days_left)}"
    return days_left, points, reason


def _check_aware(now):
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware datetime as now")


_DAY = timedelta(days=1)


def _times(weight):
    """' (x 1.5)' after a weighted part, nothing for a weight of 1."""
    return "" if weight == 1 else f" (\u00d7 {_points(weight)})"


def _days(count):
    return f"{count} day" if count == 1 else f"{count} days"


def _points(value):
    """Show whole points without a decimal (8), others with one (1.5)."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def urgency_table():
    """The urgency steps in words, for the help page: [(label, points), ...]."""
    rows = [("No hard deadline", NO_DEADLINE_URGENCY)]
    previous = None
    for days, points in URGENCY_STEPS:
        if days < 0:
            label = "Overdue"
        elif days == math.inf:
            label = f"Due in more than {previous} days"
        elif previous is None or previous < 0:
            label = f"Due today or within {days} days"
        else:
            label = f"Due within {days} days"
        rows.append((label, points))
        previous = days
    return rows
