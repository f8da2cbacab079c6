"""Replay a quarter of data-team demand under FIFO and under Datadesk's priority and limits.

    .venv/bin/python -m bench.simulate_policy [--seed N] [--seeds K] [--weeks 13] [--analysts 4]
                                              [--load 1.1]

A discrete-event simulation in simulated business time (1.0 = one business day, 09:00-17:00,
Monday to Friday, no holidays), starting on a Monday with an empty backlog. Both policies see
the same demand, drawn from ``random.Random(seed)``; ``--seeds K`` runs seeds N .. N+K-1 and
prints the mean and range of every figure.

Demand model
    Six teams of different weight (25/20/15/15/15/10 %) send requests as Poisson processes in
    business time. Kind: ad_hoc 50 %, project 25 %, data_issue 25 %. Size by kind (ad_hoc
    mostly S/M, project mostly L/XL, data_issue S-L); the true effort in work-days is
    lognormal around the size's guidance in models.SIZES (medians S 0.7, M 2.5, L 7, XL 15,
    sigma 0.3, so estimates are sometimes a size off). Business impact 1-5 with weights
    10/30/35/17/8 %; 10 % are exec sponsored; 60 % have a deadline, 30 % of those (10 % for
    projects) short-notice at 1-4 calendar days, the others 7-45 days out (14-75 for projects).
    The arrival rate follows from the capacity: ``analysts`` work-days per business day, and
    demand of ``load`` times that in work-days (default 1.1, so capacity is ~91 % of demand and
    a backlog forms). With the default size mix (~3.6 work-days per request) 4 analysts face
    ~6 requests a week; 25-35 requests a week needs about 20 analysts.

Policies (each analyst works one request at a time, to the end: a WIP limit of 1, no preemption)
    fifo      the free analyst takes the earliest-arrived request; no budget.
    datadesk  the free analyst takes the first of ``priority.rank(backlog, now)``. Ad-hoc budget:
              each team may admit ``ceil(its expected ad-hoc arrivals per week)`` (at least 1)
              ad-hoc requests to the backlog per ISO week; later ones are waitlisted. On Monday
              the waitlist is released in rank order into the new week's budget. An analyst
              with an empty backlog takes the top-ranked waitlisted request anyway (over budget,
              without using budget). Lead overrides and over-budget approvals are not modelled.

Metrics (days are calendar days, as in priority.py's ageing)
    cost of delay   sum over all requests of weight x days from arrival to delivery (to the end
                    of the horizon if undelivered), weight = priority.IMPACT_POINTS[impact]
                    + priority.SPONSOR_POINTS if sponsored. Urgency is left out of the weight:
                    deadlines are judged by the next line instead. The part "before the start"
                    (arrival -> start, or the end) is what ordering can change; the rest is work.
    hi-impact on time  share of impact >= 4 requests with a deadline delivered by that date.
    lead time       median and p85 (interpolated, tickets.reports.stats) of arrival -> delivery, delivered requests.
    longest wait    arrival -> start, over started requests; oldest unstarted: age at the end.
"""
import argparse
import heapq
import math
import random
import statistics
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from tickets import priority
from tickets.reports.stats import percentile

START = date(2025, 1, 6)  # a Monday
TEAMS = {"Marketing": 0.25, "Sales": 0.20, "Finance": 0.15, "Product": 0.15,
         "Operations": 0.15, "Customer Support": 0.10}
KINDS = {"ad_hoc": 0.50, "project": 0.25, "data_issue": 0.25}
SIZE_MIX = {"ad_hoc": {"S": 0.60, "M": 0.35, "L": 0.05},
            "project": {"M": 0.25, "L": 0.50, "XL": 0.25},
            "data_issue": {"S": 0.40, "M": 0.40, "L": 0.20}}
EFFORT_MEDIAN = {"S": 0.7, "M": 2.5, "L": 7.0, "XL": 15.0}  # work-days
EFFORT_SIGMA = 0.3
IMPACT_MIX = {1: 0.10, 2: 0.30, 3: 0.35, 4: 0.17, 5: 0.08}
SPONSORED, WITH_DEADLINE = 0.10, 0.60


@dataclass(frozen=True)
class Req:
    """One request: the attributes priority.py reads, plus what the simulation needs."""

    id: int
    team: str
    kind: str
    business_impact: int
    is_exec_sponsored: bool
    size: str
    effort: float  # work-days, unknown to the policies
    arrival: float  # business time
    created_at: datetime
    deadline: date | None

    @property
    def weight(self):
        """Cost-of-delay points per day of waiting (see the module docstring)."""
        return (priority.IMPACT_POINTS[self.business_impact]
                + (priority.SPONSOR_POINTS if self.is_exec_sponsored else 0))


def clock(t, closing=False):
    """Return business time ``t`` as an aware datetime; ``closing`` maps day boundaries to 17:00."""
    day = int(t)
    if closing and day == t and day > 0:
        day, hours = day - 1, 8.0
    else:
        hours = 8.0 * (t - day)
    d = START + timedelta(days=7 * (day // 5) + day % 5)
    return datetime.combine(d, time(9), tzinfo=UTC) + timedelta(hours=hours)


def _pick(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def mean_effort():
    """Expected effort of one request in work-days under the demand model."""
    lognormal = math.exp(EFFORT_SIGMA ** 2 / 2)
    return sum(kind_share * size_share * EFFORT_MEDIAN[size] * lognormal
               for kind, kind_share in KINDS.items()
               for size, size_share in SIZE_MIX[kind].items())


def demand(seed, weeks, analysts, load):
    """Draw the quarter's requests for ``seed``: a list of Req in arrival order."""
    rng = random.Random(seed)
    horizon, per_day = 5 * weeks, load * analysts / mean_effort()
    requests = []
    for team, share in TEAMS.items():
        t = rng.expovariate(per_day * share)
        while t < horizon:
            kind = _pick(rng, KINDS)
            size = _pick(rng, SIZE_MIX[kind])
            created = clock(t)
            deadline = None
            if rng.random() < WITH_DEADLINE:
                if rng.random() < (0.10 if kind == "project" else 0.30):
                    days = rng.randint(1, 4)
                else:
                    days = rng.randint(14, 75) if kind == "project" else rng.randint(7, 45)
                deadline = created.date() + timedelta(days=days)
            requests.append(Req(
                id=0, team=team, kind=kind, business_impact=_pick(rng, IMPACT_MIX),
                is_exec_sponsored=rng.random() < SPONSORED, size=size,
                effort=EFFORT_MEDIAN[size] * rng.lognormvariate(0, EFFORT_SIGMA),
                arrival=t, created_at=created, deadline=deadline))
            t += rng.expovariate(per_day * share)
    requests.sort(key=lambda r: r.arrival)
    return [replace(r, id=i + 1) for i, r in enumerate(requests)]


class Fifo:
    """Work requests in arrival order."""

    def __init__(self):
        self.queue = []

    def admit(self, req, t):
        """Put a new request in the queue."""
        self.queue.append(req)

    def new_week(self, week):
        """FIFO has no weekly limits."""

    def pick(self, t):
        """Return the earliest-arrived waiting request, or None."""
        return self.queue.pop(0) if self.queue else None


class Datadesk:
    """Rank by priority.rank at the current time, with a weekly ad-hoc budget per team."""

    def __init__(self, budgets):
        self.budgets, self.used = budgets, dict.fromkeys(budgets, 0)
        self.backlog, self.waitlist = [], []

    def admit(self, req, t):
        """Accept a new request, or waitlist it if it is ad-hoc and its team's budget is used."""
        if req.kind != "ad_hoc":
            self.backlog.append(req)
        elif self.used[req.team] < self.budgets[req.team]:
            self.used[req.team] += 1
            self.backlog.append(req)
        else:
            self.waitlist.append(req)

    def new_week(self, week):
        """Reset the budgets and release waitlisted requests into them, best-ranked first."""
        self.used = dict.fromkeys(self.budgets, 0)
        for req in priority.rank(self.waitlist, clock(5 * week)):
            if self.used[req.team] < self.budgets[req.team]:
                self.used[req.team] += 1
                self.waitlist.remove(req)
                self.backlog.append(req)

    def pick(self, t):
        """Return the top-ranked backlog request; the top waitlisted one if the backlog is empty."""
        pool = self.backlog or self.waitlist
        if not pool:
            return None
        best = priority.rank(pool, clock(t))[0]
        pool.remove(best)
        return best


def simulate(requests, policy, analysts, weeks):
    """Run ``policy`` over ``requests``; return ({id: start time}, {id: delivery time})."""
    horizon = 5 * weeks
    events = [(r.arrival, 1, r.id, "arrive", r) for r in requests]
    events += [(5.0 * w, 0, 0, "week", w) for w in range(1, weeks)]
    heapq.heapify(events)
    idle, started, done = analysts, {}, {}
    while events and events[0][0] < horizon:
        t, _, _, what, item = heapq.heappop(events)
        if what == "arrive":
            policy.admit(item, t)
        elif what == "week":
            policy.new_week(item)
        else:
            done[item.id], idle = t, idle + 1
        while idle and (req := policy.pick(t)) is not None:
            started[req.id], idle = t, idle - 1
            heapq.heappush(events, (t + req.effort, 2, req.id, "done", req))
    return started, done


def days_between(a, b, closing=False):
    """Calendar days from business time ``a`` to ``b``."""
    return (clock(b, closing) - clock(a)) / timedelta(days=1)


def measure(requests, started, done, weeks):
    """Return the report's figures for one run as a dict."""
    end = 5 * weeks
    cost = sum(r.weight * days_between(r.arrival, done.get(r.id, end), closing=True)
               for r in requests)
    urgent = [r for r in requests if r.business_impact >= 4 and r.deadline is not None]
    on_time = [r for r in urgent
               if r.id in done and clock(done[r.id], closing=True).date() <= r.deadline]
    leads = sorted(days_between(r.arrival, done[r.id], closing=True)
                   for r in requests if r.id in done)
    waits = [days_between(r.arrival, started[r.id]) for r in requests if r.id in started]
    unstarted = [days_between(r.arrival, end, closing=True)
                 for r in requests if r.id not in started]
    waiting = sum(r.weight * days_between(r.arrival, started.get(r.id, end),
                                          closing=r.id not in started)
                  for r in requests)
    return {
        "cost": cost,
        "waiting": waiting,
        "on_time": 100 * len(on_time) / len(urgent) if urgent else float("nan"),
        "median": percentile(leads, 0.5) if leads else float("nan"),
        "p85": percentile(leads, 0.85) if leads else float("nan"),
        "wait": max(waits, default=0.0),
        "oldest": max(unstarted, default=0.0),
        "delivered": len(done),
        "requests": len(requests),
    }


ROWS = [("cost", "weighted cost of delay (pt x days)", "{:.0f}"),
        ("waiting", "  of which before the start", "{:.0f}"),
        ("on_time", "impact>=4 with deadline, on time (%)", "{:.0f}"),
        ("median", "median lead time (days)", "{:.1f}"),
        ("p85", "p85 lead time (days)", "{:.1f}"),
        ("wait", "longest wait to start (days)", "{:.1f}"),
        ("oldest", "oldest unstarted at end (days)", "{:.1f}"),
        ("delivered", "delivered", "{:.0f}")]


def budgets_for(analysts, load):
    """Each team's weekly ad-hoc budget: its expected weekly ad-hoc arrivals, rounded up."""
    per_week = 5 * load * analysts / mean_effort() * KINDS["ad_hoc"]
    return {team: max(1, math.ceil(per_week * share)) for team, share in TEAMS.items()}


def cell(values, fmt):
    """One figure, or 'mean (min..max)' over several seeds."""
    if len(values) == 1:
        return fmt.format(values[0])
    return (f"{fmt.format(statistics.fmean(values))} "
            f"({fmt.format(min(values))}..{fmt.format(max(values))})")


def main(argv=None):
    """Parse the arguments, run both policies on each seed and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeds", type=int, default=1, help="run this many seeds from --seed")
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--analysts", type=int, default=4)
    parser.add_argument("--load", type=float, default=1.1, help="demand / capacity, work-days")
    args = parser.parse_args(argv)
    budgets = budgets_for(args.analysts, args.load)
    results = {"FIFO": [], "Datadesk": []}
    sizes, work = [], []
    for seed in range(args.seed, args.seed + args.seeds):
        requests = demand(seed, args.weeks, args.analysts, args.load)
        sizes.append(len(requests))
        work.append(sum(r.effort for r in requests))
        for name, policy in (("FIFO", Fifo()), ("Datadesk", Datadesk(budgets))):
            started, done = simulate(requests, policy, args.analysts, args.weeks)
            results[name].append(measure(requests, started, done, args.weeks))
    seeds = (f"seed {args.seed}" if args.seeds == 1
             else f"seeds {args.seed}..{args.seed + args.seeds - 1}, mean (min..max)")
    print(f"Policy simulation: {args.weeks} weeks, {args.analysts} analysts, {seeds}")
    capacity = 5 * args.weeks * args.analysts
    print(f"Demand: {statistics.fmean(sizes) / args.weeks:.1f} requests/week from {len(TEAMS)} "
          f"teams, {statistics.fmean(work):.0f} work-days vs {capacity} of capacity "
          f"({100 * capacity / statistics.fmean(work):.0f}%); ad-hoc budget/team/week "
          f"{min(budgets.values())}-{max(budgets.values())}; WIP 1 per analyst")
    print()
    width = max(len(label) for _, label, _ in ROWS) + 2
    print(f"{'':<{width}}{'FIFO':<22}Datadesk")
    for key, label, fmt in ROWS:
        print(f"{label:<{width}}{cell([m[key] for m in results['FIFO']], fmt):<22}"
              f"{cell([m[key] for m in results['Datadesk']], fmt)}")
    cuts = [100 * (1 - d["cost"] / f["cost"])
            for f, d in zip(results["FIFO"], results["Datadesk"])]
    spread = "" if len(cuts) == 1 else f" (range {min(cuts):.0f}%..{max(cuts):.0f}% over seeds)"
    verb = "cuts" if statistics.fmean(cuts) >= 0 else "raises"
    print(f"\nVerdict: Datadesk {verb} weighted cost of delay by "
          f"{abs(statistics.fmean(cuts)):.0f}% vs FIFO{spread}.")


if __name__ == "__main__":
    main()
