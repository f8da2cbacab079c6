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

The constants below are the rule itself: no setting changes them, and the help page reads them
(``urgency_table``), so it follows any change made here. The functions only read the attributes ``business_impact``, ``deadline``,
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
class Explanation:
    """The parts of a request's priority score, as shown on queues and request pages."""

    impact: float  # points from the business impact
    urgency: float  # points from the deadline
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

    @property
    def cost_of_delay(self):
        """Impact, urgency and sponsor points together: the numerator of the score."""
        return self.impact + self.urgency + self.sponsor

    @property
    def text(self):
        """The score in one line, e.g. 'impact 8 + urgency 5 (due in 3 days), / size M (3) + ...'."""
        parts = [f"impact {_points(self.impact)}",
                 f"urgency {_points(self.urgency)} ({self.urgency_reason})"]
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


def explain(request, now, track_record=None):
    """Return the parts of ``request``'s priority score at ``now`` (an aware datetime).

    ``track_record`` (a TrackRecord of the request's team) is given only when a lead switched
    the track record into the score; it scales the cost of delay by its ``factor``."""
    _check_aware(now)
    try:
        impact = IMPACT_POINTS[request.business_impact]
    except KeyError:
        raise ValueError(f"unknown business impact {request.business_impact!r}") from None
    days_left, urgency, reason = _urgency(request.deadline, now)
    sponsor = SPONSOR_POINTS if request.is_exec_sponsored else 0
    size_label = request.size if request.size is not None else UNSIZED_AS
    try:
        size_weight = SIZE_WEIGHTS[size_label]
    except KeyError:
        raise ValueError(f"unknown size {request.size!r}") from None
    days_waited = max(0, (now - request.created_at) // timedelta(days=1))
    ageing = min(AGEING_CAP, AGEING_PER_DAY * days_waited)
    factor = track_record.factor if track_record is not None else 1.0
    total = (impact + urgency + sponsor) * factor / size_weight + ageing
    return Explanation(
        impact=impact, urgency=urgency, urgency_reason=reason, sponsor=sponsor,
        size_label=size_label, size_weight=size_weight, is_size_assumed=request.size is None,
        ageing=ageing, total=total, days_left=days_left, days_waited=days_waited,
        track_record=track_record, record_factor=factor,
    )


def score(request, now, track_record=None):
    """Return ``request``'s priority score at ``now`` (``explain(...).total``) without building
    its explanation: what ranking a whole queue calls, once per request."""
    return explain(request, now, track_record).total


def priority_score(request, now):
    """Return ``request``'s priority score at ``now``: higher is done first."""
    return score(request, now)


def rank(requests, now, overrides=None, scores=None):
    """Return ``requests`` in queue order at ``now``: by score, with a lead's overrides applied.

    Without overrides the order is score descending; equal scores put the older request
    (earlier ``created_at``) first, then the lower ``id``, so the order never depends on the
    order of the input.

    ``overrides`` maps a request id to the position a lead gave it (1 is the top). An
    overridden request takes that position; the others fill the remaining positions in score
    order. Two overrides on the same position keep their score order, the second one moving
    down a place; an override past the end of the list puts the request last (overridden
    requests past the end keep the order of their positions). Overrides for requests not in
    ``requests`` (another team's queue, a closed request) are ignored.

    ``scores`` optionally maps a request id to its score at ``now``, for a caller that has
    computed them already (a queue page explains every score anyway); missing ones are
    computed.
    """
    requests = list(requests)
    overrides = dict(overrides or {})
    for request_id, position in overrides.items():
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise ValueError(f"override position of #{request_id} must be 1 or more, "
                             f"not {position!r}")
    known = scores or {}
    scores = {id(request): known[request.id] if request.id in known
              else priority_score(request, now) for request in requests}
    by_score = sorted(requests, key=lambda r: (-scores[id(r)], r.created_at, r.id))
    pinned = deque(sorted((r for r in by_score if r.id in overrides),
                          key=lambda r: overrides[r.id]))
    rest = deque(r for r in by_score if r.id not in overrides)
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
