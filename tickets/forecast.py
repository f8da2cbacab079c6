"""Delivery forecasts: when a request is likely delivered, and how long a backlog takes to clear.

A forecast is a Monte Carlo simulation over the team's recent **throughput** (deliveries per
ISO week over the last ``HISTORY_WEEKS`` full weeks, zero weeks included): each trial draws
weekly throughputs at random from those weeks until enough deliveries have happened, and counts
the weeks it took; the 50th, 85th and 95th percentiles of the trials, in whole weeks, give three
dates. The 85% one is the forecast in words, "likely by 12 Dec (85% confidence)": the request
page leads with it (then lists all three), the requester's digest gives it alone.

**What has to be delivered first** (the simulated ``position``): the request itself plus the
work ahead of it in its team, which is

- accepted: the team's requests being worked (in progress or blocked: they hold analysts now
  and are finished first) and the accepted requests above it in the team's queue (the order of
  ``queues.positions``, leads' overrides included);
- submitted: the team's whole backlog (being worked and accepted), as if it joined the back of
  the queue once triaged: a cautious guess, since its score may place it higher;
- in progress or blocked: nothing (it is being worked; blocked may take longer than it says).

Other states have no forecast: a request waiting for the requester's answer (needs info) or for
budget (waitlisted) waits on something throughput does not measure, and a delivered one is done.
A team that delivered nothing over the history gets no forecast ("not enough history"); a
simulation that needs more than ``MAX_WEEKS`` weeks says "more than 2 years".

A week counted from today ends 7 days later; the date shown is the last working day (the
settings' working days) of the calendar week that day falls in, in the settings' timezone: on a
Monday, one week means this Friday. Seeds derive from the request (or team) and the ISO week,
so a page shows the same forecast on every reload, and the digest the same as the page.

Figures come from grouped SQL statements (throughput per team and week, backlog per team and
state), so forecasting any number of requests costs the same statements; the simulation itself
is pure Python (``simulate``).
"""
import functools
import math
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import time, timedelta
from itertools import accumulate

from sqlalchemy import and_, case, func

from . import localtime, queues, settings
from .extensions import db
from .models import COMMITTED_STATES, IN_WORK_STATES, OPEN_STATES, Request, Team
from .reports.stats import percentile

HISTORY_WEEKS = 8
TRIALS = 2000
MAX_WEEKS = 104  # two years: beyond this a forecast says "more than 2 years"
PERCENTILES = (0.50, 0.85, 0.95)
FORECAST_STATES = COMMITTED_STATES | {"submitted"}
MULTIPLIER_RANGE = (10, 1000)  # the what-if's throughput, in percent of the recent one


# --- The pure core ------------------------------------------------------------------------

@dataclass(frozen=True)
class Simulation:
    """``simulate``'s answer: weeks needed at 50, 85 and 95% confidence (None: more than
    ``max_weeks``)."""

    p50: int | None
    p85: int | None
    p95: int | None
    trials: int
    max_weeks: int

    @property
    def weeks(self):
        return (self.p50, self.p85, self.p95)


def simulate(position, throughput_samples, trials=TRIALS, seed=0, max_weeks=MAX_WEEKS):
    """Return ``_simulate`` of these inputs, remembered: it is a pure function, and a digest run
    asks the same question (a team's samples, a position, this week's seed) many times."""
    return _simulate(position, tuple(throughput_samples), trials, seed, max_weeks)


@functools.lru_cache(maxsize=4096)
def _simulate(position, throughput_samples, trials, seed, max_weeks):
    """Simulate how many weeks ``position`` deliveries take at the throughputs sampled.

    Each of ``trials`` trials draws weekly throughputs from ``throughput_samples`` (with
    replacement) until their sum reaches ``position``, and records the number of weeks; the
    answer holds the 50/85/95th percentiles of those counts (``reports.stats.percentile``),
    rounded up to whole weeks. Returns None when
    the samples hold no throughput at all (no forecast is possible). Trials still short after
    ``max_weeks`` count as more than ``max_weeks`` (None in the answer). Deterministic for a
    given ``seed``. Samples may be fractional (a what-if multiplier).
    """
    samples = list(throughput_samples)
    if not samples or max(samples) <= 0:
        return None
    if position <= 0:
        return Simulation(0, 0, 0, trials, max_weeks)
    rng = random.Random(seed)
    mean = sum(samples) / len(samples)
    # Draw about twice the expected weeks at once, then extend: fast, and a pure function of
    # the inputs, so a seed always gives the same answer.
    chunk = max(4, min(max_weeks, math.ceil(2 * position / mean)))
    beyond = max_weeks + 1
    results = []
    for _ in range(trials):
        done, weeks, needed = 0, 0, beyond
        while weeks < max_weeks:
            sums = list(accumulate(rng.choices(samples, k=min(chunk, max_weeks - weeks)),
                                   initial=done))[1:]
            index = bisect_left(sums, position)
            if index < len(sums):
                needed = weeks + index + 1
                break
            done, weeks = sums[-1], weeks + len(sums)
        results.append(needed)
    results.sort()
    # Whole weeks: a backlog cleared 2.2 weeks in is cleared in the third week.
    picked = [math.ceil(percentile(results, share)) for share in PERCENTILES]
    return Simulation(*(None if weeks > max_weeks else weeks for weeks in picked),
                      trials=trials, max_weeks=max_weeks)


def week_end(today, weeks, working_days):
    """The date ``weeks`` weeks counted from ``today`` end: the last working day (weekday
    numbers ``working_days``, Monday 0) of the calendar week their last day falls in."""
    if weeks <= 0:
        return today
    last_day = today + timedelta(days=7 * weeks - 1)
    monday = last_day - timedelta(days=last_day.weekday())
    return monday + timedelta(days=max(working_days))


def format_day(day, today, weekday=False):
    """'12 Dec' (or 'Fri 12 Dec'), with the year when it is not ``today``'s."""
    shown = f"{day:%a %-d %b}" if weekday else f"{day:%-d %b}"
    return shown if day.year == today.year else f"{shown} {day.year}"


def _plural(count, word):
    count_text = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{count_text} {word}" if count == 1 else f"{count_text} {word}s"


def throughput_phrase(samples):
    """'1 to 6 requests a week' (or '3 requests a week' when every week was the same)."""
    low, high = min(samples), max(samples)
    if low == high:
        return f"{_plural(_tidy(low), 'request')} a week"
    return f"{_tidy(low):g} to {_plural(_tidy(high), 'request')} a week"


def _tidy(number):
    """A throughput as shown: whole numbers as ints, scaled ones to one decimal."""
    rounded = round(number, 1)
    return int(rounded) if float(rounded).is_integer() else rounded


# --- Forecasts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Forecast:
    """Dates by which the work is done at 50, 85 and 95% confidence (None: more than 2 years
    away), the 85% one in words (``text``) and how it was computed in one sentence."""

    p50_date: object
    p85_date: object
    p95_date: object
    text: str
    explanation: str
    weeks: tuple = (None, None, None)
    position: int = 1  # deliveries simulated: the work ahead plus itself
    day_texts: tuple = ("", "", "")  # the three dates as shown: 'Fri 12 Dec'

    @property
    def dates(self):
        """(label, date or None) for the three confidences."""
        return list(zip(("50%", "85%", "95%"), (self.p50_date, self.p85_date, self.p95_date)))

    @property
    def range(self):
        """(label, date or None, text) for the three confidences."""
        return [(label, day, text) for (label, day), text in zip(self.dates, self.day_texts)]


def _build(simulation, today, working_days, explanation, position):
    dates = [None if weeks is None else week_end(today, weeks, working_days)
             for weeks in simulation.weeks]
    likely = dates[1]
    text = (f"likely by {format_day(likely, today)} (85% confidence)" if likely is not None
            else f"more than {MAX_WEEKS // 52} years away (85% confidence)")
    day_texts = tuple(f"more than {MAX_WEEKS // 52} years" if day is None
                      else format_day(day, today, weekday=True) for day in dates)
    return Forecast(*dates, text=text, explanation=explanation, weeks=simulation.weeks,
                    position=position, day_texts=day_texts)


def week_key(now, values):
    """The ISO week of ``now`` in the settings' timezone, e.g. '2026-W48' (seeds use it)."""
    year, number, _ = localtime.local_today(now, values).isocalendar()
    return f"{year}-W{number:02d}"


def _week_bounds(now, values, weeks):
    """Monday 00:00 (local) of each of the last ``weeks`` full weeks and of this week, oldest
    first: ``weeks + 1`` aware instants, so DST changes fall where the calendar puts them."""
    today = localtime.local_today(now, values)
    monday = today - timedelta(days=today.weekday())
    return [localtime.at(monday - timedelta(weeks=n), time(0), values)
            for n in range(weeks, -1, -1)]


def throughput_by_team(team_ids, now, weeks=HISTORY_WEEKS, values=None):
    """Return {team id: [deliveries per week, oldest first]} over the last ``weeks`` full ISO
    weeks (``Request.delivered_at``; weeks without a delivery count 0). ``team_ids`` None: every
    team that delivered anything. One grouped SQL statement."""
    values = values or settings.current()
    bounds = _week_bounds(now, values, weeks)
    # One summed column per week, grouped by team only: plain SQL on every database.
    columns = [func.sum(case((and_(Request.delivered_at >= start, Request.delivered_at < end),
                              1), else_=0))
               for start, end in zip(bounds, bounds[1:])]
    query = (db.select(Request.team_id, *columns)
             .where(Request.delivered_at >= bounds[0], Request.delivered_at < bounds[-1])
             .group_by(Request.team_id))
    found = {}
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return {}
        query = query.where(Request.team_id.in_(team_ids))
        found = {team_id: [0] * weeks for team_id in team_ids}
    for team_id, *counts in db.session.execute(query):
        found[team_id] = [int(count or 0) for count in counts]
    return found


def _team_counts(team_ids, states):
    """{team id: (name, is_active, {state: count})} of the requests in ``states``; every team
    when ``team_ids`` is None. One grouped SQL statement (teams without requests included)."""
    query = (db.select(Team.id, Team.name, Team.is_active, Request.state, func.count(Request.id))
             .select_from(Team)
             .outerjoin(Request, and_(Request.team_id == Team.id, Request.state.in_(states)))
             .group_by(Team.id, Team.name, Team.is_active, Request.state))
    if team_ids is not None:
        team_ids = list(team_ids)
        if not team_ids:
            return {}
        query = query.where(Team.id.in_(team_ids))
    found = {}
    for team_id, name, is_active, state, count in db.session.execute(query):
        counts = found.setdefault(team_id, (name, is_active, {}))[2]
        if state is not None:
            counts[state] = count
    return found


def _history_phrase(name, samples):
    return (f"Based on {name} delivering {throughput_phrase(samples)} over the last "
            f"{_plural(len(samples), 'week')}")


def _ahead(request, counts, places):
    """(work ahead of ``request``, the sentence's ending saying what it is)."""
    working = sum(counts.get(state, 0) for state in IN_WORK_STATES)
    if request.state in IN_WORK_STATES:
        ending = ("; it is being worked on now." if request.state == "in_progress"
                  else "; it is being worked on but blocked, which may delay it.")
        return 0, ending
    place = places.get(request.id) if request.state == "accepted" else None
    if place is not None:
        higher = place[0] - 1
        ahead = working + higher
        if not ahead:
            return 0, " and nothing ahead of this one in its queue."
        parts = [f"{working} being worked on" if working else "",
                 f"{higher} higher in the queue" if higher else ""]
        return ahead, (f" and {_plural(ahead, 'request')} ahead of this one in its queue "
                       f"({', '.join(part for part in parts if part)}).")
    ahead = working + counts.get("accepted", 0)
    return ahead, (f" and {_plural(ahead, 'request')} ahead of it once triaged (assuming it "
                   "joins the back of the team's queue).")


def for_requests(requests, now, values=None, places=None):
    """Return {request id: Forecast} for those of ``requests`` that have one (see the module's
    docstring): submitted, accepted, in progress or blocked, of a team that delivered something
    in the last ``HISTORY_WEEKS`` weeks. A constant number of SQL statements whatever the number
    of requests: the grouped throughput, the grouped backlog, and the queue positions (pass
    ``places``, from ``queues.positions``, when the caller has them already)."""
    candidates = [req for req in requests if req.state in FORECAST_STATES]
    if not candidates:
        return {}
    values = values or settings.current()
    team_ids = {req.team_id for req in candidates}
    throughput = throughput_by_team(team_ids, now, HISTORY_WEEKS, values)
    teams = _team_counts(team_ids, COMMITTED_STATES)
    if places is None:
        places = queues.positions(candidates, now, values)
    today = localtime.local_today(now, values)
    working_days = settings.business_hours(values).weekdays
    key = week_key(now, values)
    found = {}
    for req in candidates:
        samples = throughput.get(req.team_id) or []
        name, _, counts = teams.get(req.team_id, ("its team", True, {}))
        ahead, ending = _ahead(req, counts, places)
        # Seeded by team and week, not request: the same place in the same queue gets the same
        # answer, so a week's pages and digests share one simulation per team and position.
        simulation = simulate(ahead + 1, samples, seed=f"team:{req.team_id}:{key}")
        if simulation is None:
            continue
        found[req.id] = _build(simulation, today, working_days,
                               _history_phrase(name, samples) + ending, ahead + 1)
    return found


def for_request(request, now, values=None, places=None):
    """The Forecast of one request, or None when it has none (see ``for_requests``)."""
    return for_requests([request], now, values, places).get(request.id)


def detail_context(request, user, now, values=None, place=None):
    """Extra template values for the request page: its forecast, or why a request that could
    have one has none yet. No SQL for requests in states without forecasts. ``place`` is the
    request's ``queues.Place`` when the page has it already (None: not accepted, or not
    looked up yet)."""
    if request.state not in FORECAST_STATES:
        return {"forecast": None, "forecast_note": ""}
    places = None
    if place is not None or request.state != "accepted":
        # Only accepted requests have a place in a queue (queues.positions).
        places = {request.id: (place.position, place.total)} if place is not None else {}
    found = for_request(request, now, values, places)
    note = "" if found else (
        f"No forecast yet: {request.team.name} has delivered nothing in the last "
        f"{HISTORY_WEEKS} weeks, so there is not enough history.")
    return {"forecast": found, "forecast_note": note}


# --- Backlog clearance (/reports/forecast) --------------------------------------------------

@dataclass(frozen=True)
class Clearance:
    """How long one team's (``team_id`` None: several teams') open backlog takes to clear."""

    team_id: int | None
    name: str
    backlog: int
    samples: list  # weekly throughput used (scaled by the what-if), oldest first
    forecast: Forecast | None
    note: str = ""  # why there is no forecast

    @property
    def weekly(self):
        """The weekly throughputs as shown (scaled ones to one decimal), oldest first."""
        return [_tidy(count) for count in self.samples]

    @property
    def low(self):
        return _tidy(min(self.samples)) if self.samples else 0

    @property
    def high(self):
        return _tidy(max(self.samples)) if self.samples else 0


@dataclass(frozen=True)
class ClearanceReport:
    """``backlog_clearance``'s answer: a row per team and the teams together."""

    teams: list
    overall: Clearance | None
    multiplier: float
    weeks: int


def _clearance(team_id, name, backlog, samples, simulation, today, working_days, subject,
               multiplier):
    scaled = "" if multiplier == 1 else f", scaled to {multiplier * 100:g}%"
    if not backlog:
        return Clearance(team_id, name, 0, samples, None, "Nothing to clear.")
    if simulation is None:
        return Clearance(team_id, name, backlog, samples, None,
                         f"Not enough history: nothing delivered in the last "
                         f"{_plural(len(samples), 'week')}.")
    explanation = (f"Based on {subject} delivering {throughput_phrase(samples)} over the last "
                   f"{_plural(len(samples), 'week')}{scaled}, and "
                   f"{_plural(backlog, 'open request')} not delivered yet.")
    return Clearance(team_id, name, backlog, samples,
                     _build(simulation, today, working_days, explanation, backlog))


def backlog_clearance(team_id, now, values=None, *, multiplier=1.0, team_ids=None,
                      weeks=HISTORY_WEEKS):
    """How long the current backlog (open requests not delivered yet) takes to clear at recent
    throughput, times ``multiplier`` (a what-if: 1.25 for a quarter more capacity).

    ``team_id``: that team only; None: every team of ``team_ids`` (None: all teams), each on
    its own, and together (``overall``: their deliveries pooled against their pooled backlog,
    as if anyone could take any team's work). Teams shown: active ones, and inactive ones with
    a backlog or deliveries. Two SQL statements (plus the settings when ``values`` is None).
    """
    values = values or settings.current()
    wanted = [team_id] if team_id is not None else team_ids
    teams = _team_counts(wanted, OPEN_STATES)
    throughput = throughput_by_team(list(teams), now, weeks, values)
    today = localtime.local_today(now, values)
    working_days = settings.business_hours(values).weekdays
    key = week_key(now, values)
    rows = []
    pooled_samples, pooled_backlog = [0] * weeks, 0
    for tid, (name, is_active, counts) in sorted(teams.items(), key=lambda item: item[1][0]):
        history = throughput.get(tid, [0] * weeks)
        backlog = sum(counts.values())
        if not is_active and not backlog and not any(history):
            continue
        pooled_samples = [a + b for a, b in zip(pooled_samples, history)]
        pooled_backlog += backlog
        samples = [count * multiplier for count in history]
        simulation = simulate(backlog, samples, seed=f"clearance:{tid}:{key}")
        rows.append(_clearance(tid, name, backlog, samples, simulation, today, working_days,
                               name, multiplier))
    overall = None
    if team_id is None:
        samples = [count * multiplier for count in pooled_samples]
        simulation = simulate(pooled_backlog, samples, seed=f"clearance:all:{key}")
        subject = "all teams together" if team_ids is None else "these teams together"
        overall = _clearance(None, "All teams" if team_ids is None else "Your teams",
                             pooled_backlog, samples, simulation, today, working_days, subject,
                             multiplier)
    return ClearanceReport(teams=rows, overall=overall, multiplier=multiplier, weeks=weeks)
