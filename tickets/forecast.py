"""Delivery forecasts people can trust: a range of dates from the request's size, the team's
throughput and the queue ahead, or plainly "not enough history yet".

**Work, in days of effort.** Each size estimate stands for the middle of its guidance
(``models.SIZES``): S 1 day, M 2.5, L 7.5, XL 15 (``SIZE_DAYS``); a request not sized yet
counts as M (``ASSUMED_SIZE``) and says so. The work to finish before a request is delivered:

- accepted: the accepted requests above it in its team's queue (``queues.spots``: the queue's
  order, leads' overrides included), half the effort of the team's requests in work (on
  average half done: ``IN_WORK_LEFT``), then its own effort;
- submitted: as if it joined the back of the queue once triaged (every accepted request of the
  team, half the work in progress, then itself): a cautious guess, since its score may place
  it higher;
- in progress or blocked: half its own effort (it holds an analyst already; blocked may take
  longer than it says).

Needs info and waitlisted requests have no forecast (they wait on an answer or on budget,
which throughput does not measure); delivered ones are done.

**Throughput** is the team's delivered effort per ISO week over the last ``HISTORY_WEEKS`` full
weeks (zero weeks included), in the settings' timezone. **Enough history** means at least
``MIN_DELIVERIES`` deliveries in at least ``MIN_ACTIVE_WEEKS`` different weeks of them: below
that the pace is not known, and the forecast says "not enough history yet" instead of a date.

**The simulation** (``simulate``): each of ``TRIALS`` trials draws weekly throughputs at random
from the history until the work is done, interpolating inside the last week, and never less
than the request's own effort at one analyst's pace (a 2-week job takes 2 weeks however large
the team). The 50th and 85th percentiles of the trials give **the range**: half the futures
deliver by the first date, 85 in 100 by the second. A week is the settings' working days; a
date is that many working days (holidays skipped) after today. ``bench/bench_forecast.py``
back-tests it on a simulated quarter and ``tests/test_forecast_calibration.py`` on a
simulated history and the demo's: the 85% date is met by at least 80% of requests.

**Warnings**: a range that passes the request's deadline or its SLA resolution target says so,
and what to do (talk to the lead, move the deadline, reduce the scope).

Seeds derive from the team and the ISO week, so a page shows the same forecast all week unless
the queue or the history changes, and the digest the same as the page. Figures come from
grouped SQL statements (effort delivered per team, size and week; work per team, state and
size), so forecasting any number of requests costs the same statements; the core is pure
Python (``plan``, ``simulate``, ``working_day_after``).
"""
import functools
import math
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import time, timedelta
from itertools import accumulate

from sqlalchemy import and_, case, func

from . import business_hours, counts, localtime, queues, settings
from .extensions import db
from .models import COMMITTED_STATES, IN_WORK_STATES, SIZES, Request, Team
from .reports.stats import percentile

HISTORY_WEEKS = 8
MIN_DELIVERIES = 6  # enough history: this many deliveries in the last HISTORY_WEEKS weeks...
MIN_ACTIVE_WEEKS = 3  # ...in at least this many different weeks
TRIALS = 2000
MAX_WEEKS = 104  # two years: beyond this a forecast says "more than 2 years"
PERCENTILES = (0.50, 0.85, 0.95)
FORECAST_STATES = COMMITTED_STATES | {"submitted"}
MULTIPLIER_RANGE = (10, 1000)  # the what-if's throughput, in percent of the recent one
# Days of effort each size estimate stands for: the middle of models.SIZES' guidance.
SIZE_DAYS = {"S": 1.0, "M": 2.5, "L": 7.5, "XL": 15.0}
ASSUMED_SIZE = "M"  # a request not sized yet (not triaged) counts as this
IN_WORK_LEFT = 0.5  # the share of a request in work still to do, on average
# Later requests that score higher overtake a waiting one: at most this share of the team's
# throughput goes to them while it waits (bench/bench_forecast.py calibrates it).
OVERTAKE = 0.25
ADVICE = ("Talk to the lead about its priority or the deadline, or reduce the scope so that a "
          "smaller first part can be delivered sooner.")


def effort(size):
    """Days of effort of a size estimate (``ASSUMED_SIZE``'s when not sized)."""
    return SIZE_DAYS.get(size, SIZE_DAYS[ASSUMED_SIZE])


def _plural(count, word):
    count_text = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{count_text} {word}" if count == 1 else f"{count_text} {word}s"


def _days(amount):
    """'1 day', '2.5 days', '12 days' of effort."""
    return _plural(_tidy(amount), "day")


def _tidy(number):
    """A number as shown: whole numbers as ints, others to one decimal."""
    rounded = round(number, 1)
    return int(rounded) if float(rounded).is_integer() else rounded


# --- The pure core ------------------------------------------------------------------------

@dataclass(frozen=True)
class History:
    """A team's recent deliveries, per full week, oldest first: how many, and their effort."""

    deliveries: tuple
    effort: tuple

    @property
    def total(self):
        return sum(self.deliveries)

    @property
    def active_weeks(self):
        return sum(1 for count in self.deliveries if count)

    @property
    def is_enough(self):
        """Enough to know the team's pace: MIN_DELIVERIES in MIN_ACTIVE_WEEKS different weeks."""
        return self.total >= MIN_DELIVERIES and self.active_weeks >= MIN_ACTIVE_WEEKS

    def scaled(self, multiplier):
        """This history with its effort times ``multiplier`` (the what-if)."""
        return History(self.deliveries, tuple(value * multiplier for value in self.effort))

    def phrase(self, subject):
        """'Marketing delivered 14 requests in the last 8 weeks, 2 to 9 days of work a week'."""
        low, high = _tidy(min(self.effort)), _tidy(max(self.effort))
        pace = _days(high) if low == high else f"{low:g} to {_days(high)}"
        return (f"{subject} delivered {_plural(self.total, 'request')} in the last "
                f"{_plural(len(self.deliveries), 'week')}, {pace} of work a week")

    def missing(self, subject):
        """Why this history is not enough, in a sentence."""
        return (f"{subject} delivered {_plural(self.total, 'request')} in the last "
                f"{_plural(len(self.deliveries), 'week')}"
                f"{'' if not self.total else ', in ' + _plural(self.active_weeks, 'week')}; "
                f"a forecast needs at least {MIN_DELIVERIES} deliveries in "
                f"{MIN_ACTIVE_WEEKS} different weeks to know the team's pace.")


def history_of(deliveries, bounds):
    """The History of ``deliveries`` ((instant, size) pairs) in the weeks between consecutive
    ``bounds`` (aware instants, oldest first): the pure twin of ``history_by_team``."""
    weeks = len(bounds) - 1
    counted, work = [0] * weeks, [0.0] * weeks
    for at, size in deliveries:
        for index in range(weeks):
            if bounds[index] <= at < bounds[index + 1]:
                counted[index] += 1
                work[index] += effort(size)
                break
    return History(tuple(counted), tuple(work))


@dataclass(frozen=True)
class Ahead:
    """The work before a request is delivered (see the module's docstring), in sizes."""

    queue: tuple = ()  # sizes of the accepted requests above it (all of them: not triaged)
    in_work: tuple = ()  # sizes of the team's requests in work (not itself)
    own: str | None = None  # its own size (None: not sized yet)
    own_share: float = 1.0  # the share of its own effort still to do
    behind: int = 0  # accepted requests below it in the queue

    @property
    def overtaken(self):
        """The share of the team's throughput that goes to requests arriving later and ranking
        above it, while it waits: ``OVERTAKE`` times its share of the queue that is above it
        (none at the top; a request not triaged yet counts as at the bottom)."""
        waiting = len(self.queue) + self.behind + 1
        return OVERTAKE * len(self.queue) / waiting if self.own_share == 1.0 else 0.0

    @property
    def own_days(self):
        return self.own_share * effort(self.own)

    @property
    def work(self):
        """Days of effort to deliver before it is delivered, itself included."""
        return (sum(effort(size) for size in self.queue)
                + IN_WORK_LEFT * sum(effort(size) for size in self.in_work) + self.own_days)


@dataclass(frozen=True)
class Simulation:
    """``simulate``'s answer: weeks needed at 50, 85 and 95% confidence (None: more than
    ``max_weeks``)."""

    p50: float | None
    p85: float | None
    p95: float | None
    trials: int
    max_weeks: int

    @property
    def weeks(self):
        return (self.p50, self.p85, self.p95)


def simulate(work, throughput_samples, trials=TRIALS, seed=0, max_weeks=MAX_WEEKS, floor=0.0):
    """Return ``_simulate`` of these inputs, remembered: it is a pure function, and a digest run
    asks the same question (a team's samples, some work, this week's seed) many times."""
    return _simulate(round(work, 6), tuple(throughput_samples), trials, seed, max_weeks,
                     round(floor, 6))


@functools.lru_cache(maxsize=4096)
def _simulate(work, throughput_samples, trials, seed, max_weeks, floor):
    """Simulate how many weeks ``work`` (days of effort) takes at the weekly throughputs sampled.

    Each trial draws weekly throughputs from ``throughput_samples`` (with replacement) until
    their sum reaches ``work``; the week it is reached counts in part (the share of that week's
    throughput it needed), and no trial is shorter than ``floor`` weeks. The answer holds the
    50/85/95th percentiles of the trials (``reports.stats.percentile``). None when the samples
    hold no throughput at all; a percentile past ``max_weeks`` is None in the answer.
    Deterministic for a given ``seed``.
    """
    samples = list(throughput_samples)
    if not samples or max(samples) <= 0:
        return None
    if work <= 0:
        return Simulation(floor, floor, floor, trials, max_weeks)
    rng = random.Random(seed)
    mean = sum(samples) / len(samples)
    # Draw about twice the expected weeks at once, then extend: fast, and a pure function of
    # the inputs, so a seed always gives the same answer.
    chunk = max(4, min(max_weeks, math.ceil(2 * work / mean)))
    beyond = max_weeks + 1
    results = []
    for _ in range(trials):
        done, weeks, needed = 0.0, 0, beyond
        while weeks < max_weeks:
            drawn = rng.choices(samples, k=min(chunk, max_weeks - weeks))
            sums = list(accumulate(drawn, initial=done))
            index = bisect_left(sums, work, lo=1)  # the first week whose total reaches it
            if index < len(sums):
                needed = weeks + index - 1 + (work - sums[index - 1]) / drawn[index - 1]
                break
            done, weeks = sums[-1], weeks + len(drawn)
        results.append(max(needed, floor))
    results.sort()
    picked = [percentile(results, share) for share in PERCENTILES]
    return Simulation(*(None if weeks > max_weeks else weeks for weeks in picked),
                      trials=trials, max_weeks=max_weeks)


def working_day_after(today, weeks, hours):
    """The working day (``hours``: a business_hours.BusinessHours) ``weeks`` weeks of working
    days after ``today``: a week is as many working days as the calendar has a week; 0 is today.
    """
    needed = math.ceil(weeks * len(hours.weekdays) - 1e-9)
    day = today
    while needed > 0:
        day += timedelta(days=1)
        if day.weekday() in hours.weekdays and day not in hours.holidays:
            needed -= 1
    return day


def plan(ahead, history, today, hours, seed=0, trials=TRIALS):
    """The dates (50, 85 and 95%; None: more than 2 years) by which the work ``ahead`` is done
    at the pace of ``history``, counted from ``today`` in working days, or None when the history
    has no throughput. The request's own effort at one analyst's pace is the floor."""
    floor = ahead.own_days / len(hours.weekdays)
    pace = 1 - ahead.overtaken
    simulation = simulate(ahead.work, [value * pace for value in history.effort],
                          trials=trials, seed=seed, floor=floor)
    if simulation is None:
        return None
    return tuple(None if weeks is None else working_day_after(today, weeks, hours)
                 for weeks in simulation.weeks)


def format_day(day, weekday=False):
    """'3 Dec 2026' (or 'Thu 3 Dec 2026'): unambiguous, whatever the reader's country."""
    return f"{day:%a %-d %b %Y}" if weekday else f"{day:%-d %b %Y}"


def throughput_phrase(samples):
    """'1 to 6 requests a week' (or '3 requests a week' when every week was the same)."""
    low, high = min(samples), max(samples)
    if low == high:
        return f"{_plural(_tidy(low), 'request')} a week"
    return f"{_tidy(low):g} to {_plural(_tidy(high), 'request')} a week"


# --- Forecasts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Risk:
    """The range passes a date that matters (``kind``: deadline or sla): what and what to do."""

    kind: str
    is_likely_late: bool  # even the 50% date passes it (else only the 85% one)
    text: str
    advice: str = ADVICE


@dataclass(frozen=True)
class Forecast:
    """Dates by which the request is delivered at 50, 85 and 95% confidence (None: more than 2
    years away), the range in words (``text``), how it was computed (``explanation``), and the
    dates it passes (``risks``)."""

    p50_date: object
    p85_date: object
    p95_date: object
    text: str
    explanation: str
    work_days: float = 0.0
    risks: tuple = ()
    size_note: str = ""  # "Size assumed M (2 to 3 days) until triage."

    @property
    def dates(self):
        """(label, date or None) for the 50% and 85% confidences: the range."""
        return [("50%", self.p50_date), ("85%", self.p85_date)]

    @property
    def range(self):
        """(label, date or None, text) for the two ends of the range."""
        return [(label, day, _day_text(day, weekday=True)) for label, day in self.dates]


def _day_text(day, weekday=False):
    return f"more than {MAX_WEEKS // 52} years" if day is None else format_day(day, weekday)


def range_text(p50_date, p85_date):
    """'likely between 3 Dec 2026 and 10 Dec 2026 (50% and 85% confidence)', 'likely by 3 Dec
    2026 (85% confidence)' when both ends fall on one day."""
    if p85_date is None:
        if p50_date is None:
            return f"more than {MAX_WEEKS // 52} years away (50% confidence)"
        return (f"likely from {format_day(p50_date)}, possibly more than {MAX_WEEKS // 52} "
                "years away (50% and 85% confidence)")
    if p50_date == p85_date:
        return f"likely by {format_day(p85_date)} (85% confidence)"
    return (f"likely between {format_day(p50_date)} and {format_day(p85_date)} "
            "(50% and 85% confidence)")


def risk_of(kind, what, due, p50_date, p85_date):
    """A Risk when the range passes ``due`` (a date), else None."""
    if due is None or (p85_date is not None and p85_date <= due):
        return None
    late = p50_date is None or p50_date > due
    if late:
        text = (f"Even the 50% date is after {what} ({format_day(due)}): it will most likely "
                "be late.")
    else:
        text = (f"The 85% date is after {what} ({format_day(due)}): there is a real risk it "
                "is late.")
    return Risk(kind, late, text)


def resolution_due_day(request, values):
    """The local date the request's SLA resolution target falls due, or None (no running
    clock). Before the first response the stored due instant is the first response's; both
    clocks count the same working time until then, so the resolution's is that instant plus
    the difference of the targets in working time."""
    due = request.sla_due_at
    if due is None or request.state not in FORECAST_STATES:
        return None
    hours = settings.business_hours(values)
    if request.first_response_at is None:
        target = settings.sla_target(request.sla_class, values)
        due = business_hours.add_business_seconds(
            due, target.resolution_seconds - target.first_response_seconds, hours)
        if due is None:
            return None
    return localtime.local_today(due, values)


def _ahead_words(request, ahead, spot, team_name):
    """What is ahead of the request, in one sentence, with the queue panel's position words."""
    working = len(ahead.in_work)
    in_work = (f"{_plural(working, 'request')} being worked on now" if working
               else "nothing being worked on now")
    if request.state in IN_WORK_STATES:
        blocked = (" It is blocked, which may delay it beyond this."
                   if request.state == "blocked" else "")
        return (f"It is being worked on now: half of its {_days(effort(ahead.own))} of work "
                f"(size {ahead.own or ASSUMED_SIZE}) is counted as left.{blocked}")
    own = f"then its own {_days(ahead.own_days)} (size {ahead.own or ASSUMED_SIZE})"
    if spot is not None:
        above = len(ahead.queue)
        queue = (f"{_plural(above, 'accepted request')} above it"
                 f" ({_days(sum(effort(size) for size in ahead.queue))})" if above
                 else "nothing above it")
        return (f"Position {spot.position} of {spot.total} in {team_name}\u2019s queue: "
                f"{queue}, {in_work} (half their work counted as left), {own}.")
    return (f"Not triaged yet: counted as joining the back of {team_name}\u2019s queue, behind "
            f"{_plural(len(ahead.queue), 'accepted request')}, with {in_work} (half their "
            f"work counted as left), {own}.")


def _team_work(team_ids):
    """{team id: {(state, size): count}} of the accepted and in-work requests: one statement."""
    rows = db.session.execute(
        db.select(Request.team_id, Request.state, Request.size, func.count())
        .where(Request.team_id.in_(list(team_ids)), Request.state.in_(COMMITTED_STATES))
        .group_by(Request.team_id, Request.state, Request.size))
    found = {}
    for team_id, state, size, count in rows:
        found.setdefault(team_id, {})[(state, size)] = count
    return found


def _sizes(work, states, leave_out=None):
    """The sizes of ``work`` ({(state, size): count}) in ``states``, less one ``leave_out``
    (state, size): the request itself."""
    sizes = []
    for (state, size), count in sorted(work.items(), key=lambda item: str(item[0])):
        if state in states:
            sizes += [size] * (count - (1 if (state, size) == leave_out else 0))
    return tuple(sizes)


def _ahead_of(request, work, spot):
    if request.state in IN_WORK_STATES:
        return Ahead(own=request.size, own_share=IN_WORK_LEFT)
    in_work = _sizes(work, IN_WORK_STATES)
    if request.state == "accepted":
        return Ahead(queue=spot.sizes_above if spot else (), in_work=in_work, own=request.size,
                     behind=spot.total - spot.position if spot else 0)
    return Ahead(queue=_sizes(work, {"accepted"}), in_work=in_work, own=request.size)


def week_key(now, values):
    """The ISO week of ``now`` in the settings' timezone, e.g. '2026-W48' (seeds use it)."""
    year, number, _ = localtime.local_today(now, values).isocalendar()
    return f"{year}-W{number:02d}"


def week_bounds(now, values, weeks=HISTORY_WEEKS):
    """Monday 00:00 (local) of each of the last ``weeks`` full weeks and of this week, oldest
    first: ``weeks + 1`` aware instants, so DST changes fall where the calendar puts them."""
    today = localtime.local_today(now, values)
    monday = today - timedelta(days=today.weekday())
    return [localtime.at(monday - timedelta(weeks=n), time(0), values)
            for n in range(weeks, -1, -1)]


def history_by_team(team_ids, now, weeks=HISTORY_WEEKS, values=None):
    """Return {team id: History} over the last ``weeks`` full ISO weeks (by
    ``Request.delivered_at``; weeks without a delivery count 0). ``team_ids`` None: every team
    that delivered anything. One grouped SQL statement (per team and size)."""
    values = values or settings.current()
    bounds = week_bounds(now, values, weeks)
    columns = [func.sum(case((and_(Request.delivered_at >= start, Request.delivered_at < end),
                              1), else_=0))
               for start, end in zip(bounds, bounds[1:])]
    query = (db.select(Request.team_id, Request.size, *columns)
             .where(Request.delivered_at >= bounds[0], Request.delivered_at < bounds[-1])
             .group_by(Request.team_id, Request.size))
    counted = {}
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return {}
        query = query.where(Request.team_id.in_(team_ids))
        counted = {team_id: ([0] * weeks, [0.0] * weeks) for team_id in team_ids}
    for team_id, size, *per_week in db.session.execute(query):
        deliveries, work = counted.setdefault(team_id, ([0] * weeks, [0.0] * weeks))
        for index, count in enumerate(per_week):
            deliveries[index] += int(count or 0)
            work[index] += int(count or 0) * effort(size)
    return {team_id: History(tuple(deliveries), tuple(work))
            for team_id, (deliveries, work) in counted.items()}


def for_requests(requests, now, values=None, places=None):
    """Return {request id: Forecast} for those of ``requests`` that have one (see the module's
    docstring): submitted, accepted, in progress or blocked, of a team with enough history.
    A constant number of SQL statements whatever the number of requests: the grouped history,
    the grouped work, and the queue spots (pass ``places``, {id: ``queues.Spot``}, when the
    caller has them already)."""
    candidates = [req for req in requests if req.state in FORECAST_STATES]
    if not candidates:
        return {}
    values = values or settings.current()
    team_ids = {req.team_id for req in candidates}
    histories = history_by_team(team_ids, now, HISTORY_WEEKS, values)
    work = _team_work(team_ids)
    if places is None:
        places = queues.spots(candidates, now, values)
    today = localtime.local_today(now, values)
    hours = settings.business_hours(values)
    key = week_key(now, values)
    found = {}
    for req in candidates:
        history = histories.get(req.team_id)
        if history is None or not history.is_enough:
            continue
        spot = places.get(req.id) if req.state == "accepted" else None
        ahead = _ahead_of(req, work.get(req.team_id, {}), spot)
        # Seeded by team and week, not request: the same work in the same team gets the same
        # answer all week, on pages and in digests alike.
        dates = plan(ahead, history, today, hours, seed=f"team:{req.team_id}:{key}")
        if dates is None:
            continue
        found[req.id] = _forecast(req, ahead, spot, history, dates, values)
    return found


def _forecast(req, ahead, spot, history, dates, values):
    p50, p85, p95 = dates
    team_name = req.team.name
    risks = tuple(found for found in (
        risk_of("deadline", "the deadline", req.deadline, p50, p85),
        risk_of("sla", f"the SLA target for delivery ({req.sla_class} class)",
                 resolution_due_day(req, values), p50, p85)) if found is not None)
    size_note = ("" if req.size else
                 f"Size assumed {ASSUMED_SIZE} ({SIZES[ASSUMED_SIZE][1]}) until triage.")
    explanation = (f"{_ahead_words(req, ahead, spot, team_name)} "
                   f"{history.phrase(team_name)}.")
    return Forecast(p50, p85, p95, text=range_text(p50, p85), explanation=explanation,
                    work_days=ahead.work, risks=risks, size_note=size_note)


def for_request(request, now, values=None, places=None):
    """The Forecast of one request, or None when it has none (see ``for_requests``)."""
    return for_requests([request], now, values, places).get(request.id)


NO_FORECAST_NOTES = {
    "needs_info": "No forecast while the team waits for the requester's answer: the clock "
                  "is paused, and the forecast comes back once it is answered.",
    "waitlisted": "No forecast while it waits for a place in the team's ad-hoc budget: it "
                  "comes back once the request is released or a lead approves it.",
}


def detail_context(request, user, now, values=None, place=None):
    """Extra template values for the request page: its forecast, or why it has none. ``place``
    is the request's ``queues.Place`` when the page has it already (None: not accepted, or not
    looked up yet). No SQL for states without forecasts."""
    if request.state not in FORECAST_STATES:
        return {"forecast": None, "forecast_note": NO_FORECAST_NOTES.get(request.state, "")}
    values = values or settings.current()
    places = None
    if place is not None or request.state != "accepted":
        places = ({request.id: queues.Spot(place.position, place.total, place.sizes_above)}
                  if place is not None else {})
    found = for_request(request, now, values, places)
    note = ""
    if found is None:
        history = history_by_team([request.team_id], now, HISTORY_WEEKS, values)
        note = ("No forecast yet: not enough history. "
                + history[request.team_id].missing(request.team.name))
    return {"forecast": found, "forecast_note": note}


# --- Backlog clearance (/reports/forecast) --------------------------------------------------

@dataclass(frozen=True)
class Clearance:
    """How long one team's (``team_id`` None: several teams') open requests take to deliver."""

    team_id: int | None
    name: str
    backlog: int  # open (before delivery): counts' word
    history: History
    forecast: Forecast | None
    note: str = ""  # why there is no forecast
    work_days: float = 0.0

    @property
    def samples(self):
        return list(self.history.effort)

    @property
    def weekly(self):
        """The weekly effort delivered as shown (scaled ones to one decimal), oldest first."""
        return [_tidy(value) for value in self.history.effort]

    @property
    def low(self):
        return _tidy(min(self.history.effort)) if self.history.effort else 0

    @property
    def high(self):
        return _tidy(max(self.history.effort)) if self.history.effort else 0


@dataclass(frozen=True)
class ClearanceReport:
    """``backlog_clearance``'s answer: a row per team and the teams together."""

    teams: list
    overall: Clearance | None
    multiplier: float
    weeks: int


def _open_work(team_ids):
    """{team id: (name, is_active, Counts of the open requests, days of effort they need)}:
    every team when ``team_ids`` is None. One grouped SQL statement (teams without requests
    included)."""
    open_states = counts.WORDS["open"].states
    query = (db.select(Team.id, Team.name, Team.is_active, Request.state, Request.size,
                       func.count(Request.id))
             .select_from(Team)
             .outerjoin(Request, and_(Request.team_id == Team.id,
                                      Request.state.in_(sorted(open_states))))
             .group_by(Team.id, Team.name, Team.is_active, Request.state, Request.size))
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return {}
        query = query.where(Team.id.in_(team_ids))
    found = {}
    for team_id, name, is_active, state, size, count in db.session.execute(query):
        entry = found.setdefault(team_id, [name, is_active, {}, 0.0])
        if state is not None:
            entry[2][state] = entry[2].get(state, 0) + count
            share = IN_WORK_LEFT if state in IN_WORK_STATES else 1.0
            entry[3] += count * share * effort(size)
    return {team_id: (name, active, counts.Counts(by_state), work)
            for team_id, (name, active, by_state, work) in found.items()}


def _clearance(team_id, name, backlog, work, history, dates, subject, multiplier):
    scaled = "" if multiplier == 1 else f", scaled to {multiplier * 100:g}%"
    if not backlog:
        return Clearance(team_id, name, 0, history, None, "Nothing to deliver.")
    if not history.is_enough:
        return Clearance(team_id, name, backlog, history, None,
                         "Not enough history yet: " + history.missing(subject),
                         work_days=work)
    if dates is None:
        return Clearance(team_id, name, backlog, history, None,
                         "No throughput at this pace.", work_days=work)
    explanation = (f"{history.phrase(subject)}{scaled}; "
                   f"{counts.phrase(backlog, 'open')} need about {_days(work)} of work.")
    p50, p85, p95 = dates
    return Clearance(team_id, name, backlog, history,
                     Forecast(p50, p85, p95, text=range_text(p50, p85),
                              explanation=explanation, work_days=work),
                     work_days=work)


def backlog_clearance(team_id, now, values=None, *, multiplier=1.0, team_ids=None,
                      weeks=HISTORY_WEEKS):
    """How long the open requests (before delivery: ``counts``) take to deliver at the recent
    throughput, times ``multiplier`` (a what-if: 1.25 for a quarter more capacity).

    ``team_id``: that team only; None: every team of ``team_ids`` (None: all teams), each on
    its own, and together (``overall``: their throughput pooled against their pooled work,
    as if anyone could take any team's work). Teams shown: active ones, and inactive ones with
    open requests or deliveries. Two SQL statements (plus the settings when ``values`` is None).
    """
    values = values or settings.current()
    wanted = [team_id] if team_id is not None else team_ids
    teams = _open_work(wanted)
    histories = history_by_team(list(teams), now, weeks, values)
    today = localtime.local_today(now, values)
    hours = settings.business_hours(values)
    key = week_key(now, values)
    rows = []
    empty = History((0,) * weeks, (0.0,) * weeks)
    pooled, pooled_open, pooled_work = empty, 0, 0.0
    for tid, (name, is_active, found, work) in sorted(teams.items(),
                                                     key=lambda item: item[1][0]):
        history = histories.get(tid, empty)
        if not is_active and not found.open and not history.total:
            continue
        pooled = History(tuple(a + b for a, b in zip(pooled.deliveries, history.deliveries)),
                         tuple(a + b for a, b in zip(pooled.effort, history.effort)))
        pooled_open += found.open
        pooled_work += work
        scaled = history.scaled(multiplier)
        dates = _clearance_dates(work, scaled, today, hours, f"clearance:{tid}:{key}")
        rows.append(_clearance(tid, name, found.open, work, scaled, dates, name, multiplier))
    overall = None
    if team_id is None:
        scaled = pooled.scaled(multiplier)
        dates = _clearance_dates(pooled_work, scaled, today, hours, f"clearance:all:{key}")
        subject = "All teams together" if team_ids is None else "These teams together"
        overall = _clearance(None, "All teams" if team_ids is None else "Your teams",
                             pooled_open, pooled_work, scaled, dates, subject, multiplier)
    return ClearanceReport(teams=rows, overall=overall, multiplier=multiplier, weeks=weeks)


def _clearance_dates(work, history, today, hours, seed):
    simulation = simulate(work, history.effort, seed=seed)
    if simulation is None:
        return None
    return tuple(None if weeks is None else working_day_after(today, weeks, hours)
                 for weeks in simulation.weeks)
