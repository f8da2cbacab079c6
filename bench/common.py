"""What the benchmarks share: weighted picks, a clean database, timing pages, and five years
of request histories (``build_history``, used by bench_reports and bench.pages)."""
import math
import random
import time
from datetime import timedelta
from pathlib import Path

from flask import request_finished
from flask_migrate import upgrade
from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import event, insert, text

from tickets import people, sla_clocks
from tickets.extensions import db
from tickets.models import FORMATS, Event, Request, utcnow
from tickets.reports.stats import percentile


class StatementCounter:
    """Count the SQL statements sent on an engine while attached."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _count(self, *args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def pick(rng, weights):
    """One key of ``weights`` ({key: weight}), drawn by weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def wipe(app):
    """Empty the bench database whatever it holds, then build it by the real migrations.

    A SQLite file is deleted rather than emptied: dropping tables of a million rows with
    foreign keys on takes SQLite many minutes.
    """
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        elif engine.url.database and engine.url.database != ":memory:":
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(engine.url.database + suffix).unlink(missing_ok=True)
        else:
            db.drop_all()
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def log_in(client, email, password):
    """Log ``client`` (a test client) in as ``email`` through the real log-in form."""
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def time_pages(app, email, password, paths, repeat, headers=None):
    """GET each of ``paths`` ``repeat`` times logged in as ``email`` (after one warm-up
    request each); return {path: {"median_ms", "p95_ms", "cpu_ms", "sql", "status"}}.
    With ``headers`` (an API token's), each GET sends them instead of logging in.

    ``median_ms``/``p95_ms`` are wall time, ``cpu_ms`` the median process (CPU) time of one
    request, which the test client spends in this process (with SQLite's work; PostgreSQL's
    server work is not in it); ``sql`` the most statements one request ran (recorded queries:
    the app needs SQLALCHEMY_RECORD_QUERIES); ``status`` the first non-200 answer, or 200.
    """
    counts = []

    def on_finished(sender, **extra):
        counts.append(len(get_recorded_queries()))

    client = app.test_client()
    if headers is None:
        log_in(client, email, password)
    results = {}
    request_finished.connect(on_finished, app)
    try:
        for path in paths:
            client.get(path, headers=headers)  # warm up
            timings, cpu = [], []
            counts.clear()
            status = 200
            for _ in range(repeat):
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                status = response.status_code if response.status_code != 200 else status
            timings.sort()
            cpu.sort()
            results[path] = {"median_ms": percentile(timings, 0.5),
                             "p95_ms": percentile(timings, 0.95),
                             "cpu_ms": percentile(cpu, 0.5),
                             "sql": max(counts) if counts else None, "status": status}
    finally:
        request_finished.disconnect(on_finished, app)
    return results


def measure(app, email, password, paths, repeat):
    """Return {path: (median ms, p95 ms, SQL statements, status)} of GETting each of ``paths``
    ``repeat`` times, logged in as ``email`` (after one warm-up request each); status is the
    first non-200 answer, or 200."""
    return {path: (found["median_ms"], found["p95_ms"], found["sql"], found["status"])
            for path, found in time_pages(app, email, password, paths, repeat).items()}

# --- Five years of request histories --------------------------------------------------------

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


def build_history(app, n_requests, *, n_requesters=N_REQUESTERS, seed=7):
    """Wipe the database, then insert 10 teams, 25 analysts, a lead, ``n_requesters``
    requesters and ``n_requests`` requests submitted over the last five years, each with its
    history of events (``_story``, plus comments), in bulk with Core; fill the SLA fields as
    the app would. Return {"events", "teams", "analysts", "requesters", "lead", "now"} (ids)."""
    rng = random.Random(seed)
    wipe(app)
    with app.app_context():
        teams = [people.save_team(None, name=f"Team {i:02d}") for i in range(N_TEAMS)]
        for team in teams[:4]:
            team.weekly_ad_hoc_budget = 5
        requesters = [people.save_user(None, name=f"Requester {i}", email=f"r{i}@example.com",
                                       role="requester", team_ids=[teams[i % N_TEAMS].id],
                                       password=PASSWORD) for i in range(n_requesters)]
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
            starts = [s[4] for s in steps if s[0] in ("claim", "assign")]
            if starts:
                row["started_at"] = starts[0]
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
        return {"events": count, "teams": [team.id for team in teams],
                "analysts": [analyst.id for analyst in analysts],
                "requesters": [requester.id for requester in requesters], "lead": lead.id,
                "now": now}
