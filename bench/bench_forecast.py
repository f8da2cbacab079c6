"""Back-test of the delivery forecast on a simulated quarter: is the 85% date met by 85 in 100?

A team of analysts works a priority queue day by day (``simulate_team``): requests arrive at
random (sizes S, M, L and XL), are triaged within a day, wait in score order (impact over size,
plus ageing, so later urgent requests overtake), and each analyst works one at a time; the
effort a request really takes varies around its size's days (estimates are rough). After a
warm-up that builds the history the forecast needs, every request accepted during 13 weeks is
forecast **at acceptance** by the real forecast core (``forecast.plan``), from what was known
then: the deliveries of the 8 full weeks before, the accepted requests above it, the work in
progress. It is then followed to its delivery.

Prints the share of requests delivered by their 85% date (the forecast's promise: at least
80%), by their 50% date, how wide the ranges were, for a few team shapes; the last line is one
JSON object. ``python -m bench.bench_forecast [--seed N]``.
"""
import argparse
import json
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from tickets import forecast
from tickets.business_hours import BusinessHours

HOURS = BusinessHours(timezone="UTC")
SIZE_SHARES = {"S": 0.40, "M": 0.35, "L": 0.20, "XL": 0.05}
WARM_UP_WEEKS = 10
QUARTER_WEEKS = 13
TAIL_WEEKS = 30  # requests of the quarter are followed until delivered
START = date(2026, 1, 5)  # a Monday
# Team shapes: analysts, and the share of their capacity that arrivals ask for.
SHAPES = {
    "steady team (3 analysts, 80% busy)": (3, 0.80),
    "small team (1 analyst, 70% busy)": (1, 0.70),
    "busy team (4 analysts, 95% busy)": (4, 0.95),
}


@dataclass
class Job:
    """One simulated request."""

    id: int
    size: str
    impact: int
    arrived: date
    effort: float  # days it really takes
    accepted: date | None = None
    started: date | None = None
    delivered: date | None = None
    left: float = 0.0
    forecast_dates: tuple | None = None
    in_quarter: bool = False
    extra: dict = field(default_factory=dict)

    def score(self, today):
        """Impact over size, plus ageing: what the queue is ordered by (highest first)."""
        return (3 * self.impact / forecast.SIZE_DAYS[self.size]
                + 0.15 * (today - self.arrived).days)


def _working_days(start, weeks):
    day = start
    for _ in range(weeks * 7):
        if day.weekday() in HOURS.weekdays:
            yield day
        day += timedelta(days=1)


def _instant(day):
    return datetime.combine(day, time(12), tzinfo=timezone.utc)


def _history(jobs_delivered, today):
    monday = today - timedelta(days=today.weekday())
    bounds = [_instant(monday - timedelta(weeks=n)) - timedelta(hours=12)
              for n in range(forecast.HISTORY_WEEKS, -1, -1)]
    return forecast.history_of(((_instant(job.delivered), job.size) for job in jobs_delivered),
                               bounds)


def simulate_team(analysts, load, seed):
    """Play a team for the warm-up, the quarter and the tail; return the quarter's jobs, each
    with the forecast made at its acceptance (None: not enough history then)."""
    rng = random.Random(seed)
    mean_effort = sum(share * forecast.SIZE_DAYS[size] for size, share in SIZE_SHARES.items())
    arrivals_per_day = load * analysts / mean_effort
    quarter_from = START + timedelta(weeks=WARM_UP_WEEKS)
    quarter_to = quarter_from + timedelta(weeks=QUARTER_WEEKS)
    jobs, waiting, triage, delivered = [], [], [], []
    working = [None] * analysts
    next_id = 1
    for today in _working_days(START, WARM_UP_WEEKS + QUARTER_WEEKS + TAIL_WEEKS):
        arriving = today < quarter_to + timedelta(weeks=TAIL_WEEKS // 2)
        for _ in range(_poisson(rng, arrivals_per_day) if arriving else 0):
            size = rng.choices(list(SIZE_SHARES), weights=list(SIZE_SHARES.values()))[0]
            job = Job(next_id, size, rng.randint(1, 5), today,
                      forecast.SIZE_DAYS[size] * rng.lognormvariate(0, 0.45))
            job.left = job.effort
            next_id += 1
            jobs.append(job)
            triage.append(job)
        # Triage: about half the arrivals are accepted the same day, the rest the next.
        accepted_now = [job for job in triage if job.arrived < today or rng.random() < 0.5]
        for job in accepted_now:
            triage.remove(job)
            job.accepted = today
            job.in_quarter = quarter_from <= today < quarter_to
            order = sorted(waiting, key=lambda other: -other.score(today))
            above = [other.size for other in order if other.score(today) > job.score(today)]
            ahead = forecast.Ahead(queue=tuple(above),
                                   in_work=tuple(j.size for j in working if j is not None),
                                   own=job.size, behind=len(order) - len(above))
            history = _history(delivered, today)
            if history.is_enough:
                job.forecast_dates = forecast.plan(ahead, history, today, HOURS,
                                                   seed=f"bench:{job.id}", trials=400)
            waiting.append(job)
        # Free analysts take the top of the queue, then everyone works a day (some of it on
        # meetings and support: 60 to 100% of a day goes to requests).
        waiting.sort(key=lambda job: -job.score(today))
        for index, job in enumerate(working):
            if job is None and waiting:
                working[index] = job = waiting.pop(0)
                job.started = today
        for index, job in enumerate(working):
            if job is None:
                continue
            job.left -= rng.uniform(0.6, 1.0)
            if job.left <= 0:
                job.delivered = today
                delivered.append(job)
                working[index] = None
    return [job for job in jobs if job.in_quarter]


def _poisson(rng, mean):
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def calibration(jobs):
    """Figures of the forecasts of ``jobs``: how many were forecast, the share delivered by
    the 50% and the 85% date, the median range width in working days."""
    forecast_jobs = [job for job in jobs if job.forecast_dates is not None]
    if not forecast_jobs:
        return {"requests": len(jobs), "forecast": 0}

    def met(index):
        return sum(1 for job in forecast_jobs if job.delivered is not None
                   and job.forecast_dates[index] is not None
                   and job.delivered <= job.forecast_dates[index]) / len(forecast_jobs)

    widths = sorted(_working_days_between(job.forecast_dates[0], job.forecast_dates[1])
                    for job in forecast_jobs if None not in job.forecast_dates[:2])
    lead = sorted(_working_days_between(job.accepted, job.delivered) for job in forecast_jobs
                  if job.delivered is not None)
    return {"requests": len(jobs), "forecast": len(forecast_jobs),
            "met_p85": round(met(1), 3), "met_p50": round(met(0), 3),
            "median_range_days": widths[len(widths) // 2] if widths else None,
            "median_lead_days": lead[len(lead) // 2] if lead else None}


def _working_days_between(first, last):
    return sum(1 for n in range(1, (last - first).days + 1)
               if (first + timedelta(days=n)).weekday() in HOURS.weekdays)


def main():
    """Run every team shape and print its calibration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="quarters per team shape")
    args = parser.parse_args()
    figures = {"teams": {}}
    print(f"{'team':<40} {'forecast':>8} {'met 85%':>8} {'met 50%':>8} {'range':>6} {'lead':>6}")
    all_jobs = []
    for name, (analysts, load) in SHAPES.items():
        jobs = []
        for run in range(args.runs):
            jobs += simulate_team(analysts, load, seed=f"{args.seed}:{name}:{run}")
        all_jobs += jobs
        found = calibration(jobs)
        figures["teams"][name] = found
        print(f"{name:<40} {found['forecast']:>8} {found['met_p85']:>8.1%} "
              f"{found['met_p50']:>8.1%} {found['median_range_days']:>6} "
              f"{found['median_lead_days']:>6}")
    figures["overall"] = calibration(all_jobs)
    figures["promise_kept"] = figures["overall"]["met_p85"] >= 0.80
    print(f"overall: {figures['overall']['met_p85']:.1%} delivered by the 85% date "
          f"(the promise: at least 80%), {figures['overall']['met_p50']:.1%} by the 50% date")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
