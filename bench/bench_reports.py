"""Time every chart of /reports over five years of history and count its SQL statements.

    .venv/bin/python -m bench.bench_reports [--requests 100000] [--repeat 10]
        [--database-url URL] [--reuse] [--explain KEY] [--charts KEY,...] [--no-snapshot]

Builds a fresh database (a SQLite file in /tmp by default, or the given URL, which is wiped)
with 10 teams, 25 analysts, 2 leads, 150 requesters and N requests submitted over the last five
years, each with its history of events (about ten per request: creation, triage, questions and
answers, claims, blocks, deliveries, reopens, closure, comments), inserted in bulk with Core.
The stored SLA fields of delivered requests (first response and resolution) are filled as the
app would from those histories (business seconds approximated as a quarter of wall time, the
share of a week that is working time); open requests get their clocks from
``sla_clocks.refresh_all``. ``--reuse`` skips the build and uses the database as it is (after
running any newer migration). The flow snapshot is then rebuilt from the events, as
``flask reports rebuild-snapshot`` does after a bulk import (timed); ``--no-snapshot`` drops
it instead, so cumulative flow and backlog by team read the events.

Then it calls each chart function ``repeat`` times in a fresh session for a one-year and a
five-year range ending today, for a lead (no filter) and for one team, and prints the median
and p95 time, the median CPU time of this process and the SQL statements of one call
(counted with a ``before_cursor_execute`` listener). ``--explain KEY`` prints the query plans
of chart KEY's statements instead.
"""
import argparse
import math
import random
import time
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import delete, event, insert, text

from bench.common import pick, wipe
from tickets import create_app, people, reports, sla_clocks
from tickets.extensions import db
from tickets.models import FORMATS, Event, FlowDay, Request, Setting, utcnow
from tickets.reports import snapshot
from tickets.reports.stats import percentile

PASSWORD = "bench-password"
N_TEAMS, N_ANALYSTS, N_REQUESTERS = 10, 25, 150
YEARS = 5
KIND_WEIGHTS = {"ad_hoc": 60, "project": 25, "data_issue": 15}
SIZE_WEIGHTS = {"S": 35, "M": 40, "L": 20, "XL": 5}
CLASS_WEIGHTS = {"high": 15, "standard": 60, "low": 25}
# How a request's story ends, for those old enough to be finished.
ENDINGS = {"resolved": 78, "declined": 9, "cancelled": 4, "duplicate": 3, "open": 6}
BUSINESS_SHARE = 40 / 168  # working hours in a week: wall time to business time, roughly


def _hours(rng, low, high):
    """A wait of ``low`` to ``high`` hours, mostly short (log-uniform)."""
    return timedelta(hours=math.exp(rng.uniform(math.log(low), math.log(high))))


def _story(rng, created, now, requester, analyst, other):
    """One request's transitions: ([(action, actor, from state, to state, at)], last state)."""
    steps = []
    state = "submitted"
    resume = None
    at = created
    ending = pick(rng, ENDINGS)
    recent = now - created < timedelta(days=45)
    if recent:
        ending = rng.choice(["open", "open", "resolved"])
    stop_after = rng.randint(0, 9) if ending == "open" else None

    def go(action, actor, to, low=1, high=72):
        nonlocal state, at, resume
        if stop_after is not None and len(steps) >= stop_after:
            return False
        following = at + _hours(rng, low, high)
        if following >= now:
            return False
        at = following
        if action == "ask":
            resume = state
        to = to or resume
        steps.append((action, actor, state, to, at))
        state = to
        return True

    def questions():
        while rng.random() < 0.3:
            if not (go("ask", analyst, "needs_info", 1, 24) and go("answer", requester, None)):
                return False
        return True

    if not questions():
        return steps, state
    if ending in ("declined", "cancelled", "duplicate") and rng.random() < 0.7:
        action = {"declined": "decline", "cancelled": "cancel",
                  "duplicate": "mark_duplicate"}[ending]
        go(action, requester if ending == "cancelled" else analyst, ending)
        return steps, state
    if not (go("accept", analyst, "accepted") and questions()):
        return steps, state
    if ending in ("declined", "cancelled", "duplicate"):
        action = {"declined": "decline", "cancelled": "cancel",
                  "duplicate": "mark_duplicate"}[ending]
        go(action, requester if ending == "cancelled" else analyst, ending, 24, 400)
        return steps, state
    start = rng.choice(["claim", "claim", "assign"])
    if not go(start, analyst if start == "claim" else other, "in_progress", 2, 300):
        return steps, state
    while True:
        while rng.random() < 0.25:
            if not (go("block", analyst, "blocked", 2, 72)
                    and go("unblock", analyst, "in_progress", 2, 120)):
                return steps, state
        if not go("deliver", analyst, "delivered", 4, 400):
            return steps, state
        if rng.random() < 0.1:
            if not go("reopen", requester, "in_progress", 2, 96):
                return steps, state
            continue
        break
    action = "confirm" if rng.random() < 0.8 else "auto_resolve"
    go(action, requester if action == "confirm" else None, "resolved", 2, 168)
    return steps, state


def build(app, n_requests, seed=7):
    """Insert the people and ``n_requests`` requests with their histories; return counts."""
    rng = random.Random(seed)
    wipe(app)
    with app.app_context():
        teams = [people.save_team(None, name=f"Team {i:02d}") for i in range(N_TEAMS)]
        for team in teams[:4]:
            team.weekly_ad_hoc_budget = 5
        requesters = [people.save_user(None, name=f"Requester {i}", email=f"r{i}@example.com",
                                       role="requester", team_ids=[teams[i % N_TEAMS].id],
                                       password=PASSWORD) for i in range(N_REQUESTERS)]
        analysts = [people.save_user(None, name=f"Analyst {i}", email=f"a{i}@example.com",
                                     role="analyst", team_ids=[teams[i % N_TEAMS].id],
                                     password=PASSWORD) for i in range(N_ANALYSTS)]
        lead = people.save_user(None, name="Lead", email="lead@example.com", role="lead",
                                password=PASSWORD)
        db.session.commit()
        by_team = {team.id: [a.id for a in analysts if team.id in a.team_ids]
                   for team in teams}
        now = utcnow()
        span = timedelta(days=365 * YEARS)
        rows, histories = [], []
        for i in range(n_requests):
            requester = rng.choice(requesters)
            team_id = requester.teams[0].id
            # Demand grows over the years: more requests recently (density rising linearly).
            created = now - span * (1 - math.sqrt(rng.random()))
            analyst = rng.choice(by_team[team_id])
            steps, state = _story(rng, created, now, requester.id, analyst, lead.id)
            row = {
                "title": f"Request {i}", "team_id": team_id, "requester_id": requester.id,
                "data_needed": "Numbers per week.", "format": rng.choice(list(FORMATS)),
                "usage": "Weekly review.", "lever_result": "Retention.",
                "lever_expected_shape": "A trend.", "lever_extraction": "Compare weeks.",
                "lever_decision": "Move budget.", "deadline": None,
                "kind": pick(rng, KIND_WEIGHTS), "business_impact": rng.randint(1, 5),
                "is_exec_sponsored": False, "exec_sponsor": "", "is_confidential": False,
                "state": state, "sla_class": pick(rng, CLASS_WEIGHTS),
                "size": pick(rng, SIZE_WEIGHTS) if any(s[0] == "accept" for s in steps)
                else None,
                "assignee_id": analyst if any(s[0] in ("claim", "assign") for s in steps)
                else None,
                "resume_state": None, "decline_reason": None,
                "created_at": created, "updated_at": steps[-1][4] if steps else created,
                "closed_at": steps[-1][4] if state in ("resolved", "declined", "cancelled",
                                                       "duplicate") else None,
                "version": 1,
            }
            if state == "needs_info":
                row["resume_state"] = next(s[2] for s in reversed(steps) if s[0] == "ask")
            if state == "declined":
                row["decline_reason"] = pick(rng, {"self_serve": 30, "out_of_scope": 25,
                                                    "low_value": 20, "no_data": 10,
                                                    "no_capacity": 10, "other": 5})
            responses = [s[4] for s in steps if s[1] != requester.id]
            if responses:
                row["first_response_at"] = responses[0]
                row["first_response_seconds"] = (
                    (responses[0] - created).total_seconds() * BUSINESS_SHARE)
            deliveries = [s[4] for s in steps if s[0] == "deliver"]
            if deliveries:
                paused = sum(((b[4] - a[4]).total_seconds() for a, b in zip(steps, steps[1:])
                              if a[3] == "needs_info" and b[4] <= deliveries[-1]), 0.0)
                row["delivered_at"] = deliveries[-1]
                row["resolution_seconds"] = (
                    ((deliveries[-1] - created).total_seconds() - paused) * BUSINESS_SHARE)
            rows.append(row)
            histories.append((requester.id, created, steps,
                              steps[-1][4] if steps else min(now, created + timedelta(days=9))))
        columns = sorted({name for row in rows for name in row})
        rows = [{name: row.get(name) for name in columns} for row in rows]
        batch = 5000
        for start in range(0, len(rows), batch):
            db.session.execute(insert(Request), rows[start:start + batch])
        db.session.commit()
        ids = db.session.scalars(db.select(Request.id).order_by(Request.id)).all()
        events, count = [], 0

        def flush():
            nonlocal events, count
            if events:
                db.session.execute(insert(Event), events)
                count += len(events)
                events = []

        for request_id, (requester_id, created, steps, last_at) in zip(ids, histories):
            events.append({"request_id": request_id, "actor_id": requester_id,
                           "kind": "created", "action": None, "from_state": None,
                           "to_state": "submitted", "text": "", "data": {},
                           "created_at": created})
            for action, actor, from_state, to_state, at in steps:
                events.append({"request_id": request_id, "actor_id": actor,
                               "kind": "transition", "action": action,
                               "from_state": from_state, "to_state": to_state, "text": "",
                               "data": {}, "created_at": at})
            for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 6))):
                at = created + (last_at - created) * rng.random()
                events.append({"request_id": request_id,
                               "actor_id": rng.choice((requester_id, analysts[0].id)),
                               "kind": "comment", "action": None, "from_state": None,
                               "to_state": None, "text": "Any news?", "data": {},
                               "created_at": at})
            if len(events) >= batch:
                flush()
        flush()
        db.session.commit()
        sla_clocks.refresh_all(now)
        db.session.commit()
        return {"events": count, "team": teams[0].id}


def time_chart(app, key, filters, now, repeat):
    """(median ms, p95 ms, median CPU ms, statements) of chart ``key``, each call in a fresh
    session. CPU is this process's (all of SQLite's work; PostgreSQL's server work is not in
    it, so there the wall time is the figure)."""
    timings, cpu, statements = [], [], []
    for _ in range(repeat + 1):  # the first call warms the caches up and is not counted
        count = [0]

        def on_execute(*args, **kwargs):
            count[0] += 1

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", on_execute)
            started, started_cpu = time.perf_counter(), time.process_time()
            try:
                reports.CHARTS[key](filters, now)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                elapsed_cpu = (time.process_time() - started_cpu) * 1000
                event.remove(db.engine, "before_cursor_execute", on_execute)
        timings.append(elapsed)
        cpu.append(elapsed_cpu)
        statements.append(count[0])
    timings = sorted(timings[1:])
    return (percentile(timings, 0.5), percentile(timings, 0.95),
            percentile(sorted(cpu[1:]), 0.5), max(statements))


def explain(app, key, filters, now):
    """Print the query plan of every statement chart ``key`` runs."""
    captured = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", on_execute)
        reports.CHARTS[key](filters, now)
        event.remove(db.engine, "before_cursor_execute", on_execute)
        postgresql = db.engine.dialect.name == "postgresql"
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in captured:
                print("--", statement.replace("\n", " ")[:300])
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
                cursor.execute(prefix + statement, parameters)
                for row in cursor.fetchall():
                    print("  ", row if not postgresql else row[0])
        finally:
            raw.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default="sqlite:////tmp/bench_reports.db")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--explain")
    parser.add_argument("--charts", help="comma-separated chart keys (default: all)")
    parser.add_argument("--no-snapshot", action="store_true",
                        help="drop the flow snapshot: charts read the events")
    args = parser.parse_args()
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": args.database_url})
    if not args.reuse:
        started = time.perf_counter()
        built = build(app, args.requests)
        print(f"built in {time.perf_counter() - started:.0f} s: {args.requests} requests, "
              f"{built['events']} events")
    else:
        with app.app_context():
            upgrade()  # a database built before the latest migrations
    with app.app_context():
        # Bulk inserts bypass the snapshot's hook: rebuilt as `flask reports rebuild-snapshot`.
        started, started_cpu = time.perf_counter(), time.process_time()
        if args.no_snapshot:
            db.session.execute(delete(FlowDay))
            db.session.execute(delete(Setting).where(Setting.key == snapshot.ZONE_KEY))
            print("no flow snapshot: charts read the events")
        else:
            rows = snapshot.rebuild()
            print(f"flow snapshot rebuilt in {time.perf_counter() - started:.1f} s "
                  f"({time.process_time() - started_cpu:.1f} s CPU): {rows} day rows")
        db.session.commit()
    with app.app_context():
        requests_count = db.session.scalar(text("SELECT count(*) FROM requests"))
        events_count = db.session.scalar(text("SELECT count(*) FROM events"))
        team = db.session.scalar(text("SELECT min(id) FROM teams"))
        # Fresh statistics and (PostgreSQL) visibility maps, as autovacuum would give: without
        # them PostgreSQL cannot use index-only scans on a table just filled.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql"
                                    else "ANALYZE"))
    now = utcnow()
    today = now.date()
    ranges = {"1 year": reports.Filters(start=today - timedelta(days=364), end=today),
              "5 years": reports.Filters(start=today - timedelta(days=reports.MAX_DAYS - 1),
                                         end=today)}
    keys = args.charts.split(",") if args.charts else list(reports.CHARTS)
    if args.explain:
        explain(app, args.explain, ranges["5 years"], now)
        return
    dialect = args.database_url.split(":")[0].split("+")[0]
    print(f"{requests_count} requests, {events_count} events, {dialect}; "
          f"{args.repeat} runs each (median / p95 ms, SQL statements)")
    header = (f"{'chart':<18} {'range':<8} {'who':<5} {'median':>8} {'p95':>8} {'CPU':>8} "
              f"{'SQL':>4}")
    print(header)
    print("-" * len(header))
    for key in keys:
        for label, filters in ranges.items():
            for who, narrowed in (("all", filters),
                                  ("team", reports.Filters(filters.start, filters.end,
                                                           team_id=team))):
                median, p95, cpu, statements = time_chart(app, key, narrowed, now,
                                                          args.repeat)
                print(f"{key:<18} {label:<8} {who:<5} {median:>8.1f} {p95:>8.1f} {cpu:>8.1f} "
                      f"{statements:>4}", flush=True)
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
