"""Time the queue pages (/queue, /backlog, /triage) over a realistic history and count their SQL.

    .venv/bin/python -m bench.bench_queues [--requests 50000] [--repeat 20] [--database-url URL]

Builds a fresh database (a SQLite file by default, or the given URL, which is wiped) with 10
teams (one without an embedded analyst, so its requests go to the central queue), 25 analysts,
2 leads, 150 requesters and N requests with their event histories: most closed, a few thousand
accepted and waiting, about 75 in progress or blocked (within the analysts' WIP limits), some
waiting for triage, and a few dozen moved by a lead. SLA fields are computed by
``sla_clocks.refresh_all`` as the app would. Then it requests each page repeatedly through the app
and prints the median and p95 server time and the SQL statements per page, at a tenth of N and
at N, so any growth of the statement count with the data shows.
"""
import argparse
import json
import random
import tempfile
import time
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import insert, text

from bench.common import pick, time_pages, wipe
from tickets import create_app, people, sla_clocks
from tickets.extensions import db
from tickets.models import FORMATS, Event, Request, Team, User, utcnow

PASSWORD = "bench-password"
N_TEAMS = 10
N_ANALYSTS = 25
IN_PROGRESS, BLOCKED = 60, 15  # about 3 each for 25 analysts, the default WIP limit
# Shares of the other requests by state: mostly done, some waiting in queues or for triage.
STATE_WEIGHTS = {
    "resolved": 76, "declined": 5, "cancelled": 3, "duplicate": 2, "delivered": 1,
    "submitted": 1.5, "needs_info": 0.5, "waitlisted": 0.5, "accepted": 7,
}
# The transitions that lead to each state, after 'created'.
PATHS = {
    "submitted": [], "needs_info": ["ask"], "waitlisted": ["waitlist"], "accepted": ["accept"],
    "in_progress": ["accept", "claim"], "blocked": ["accept", "claim", "block"],
    "delivered": ["accept", "claim", "deliver"],
    "resolved": ["accept", "claim", "deliver", "confirm"],
    "declined": ["decline"], "cancelled": ["cancel"], "duplicate": ["mark_duplicate"],
}
TARGET = {"ask": "needs_info", "waitlist": "waitlisted", "accept": "accepted",
          "claim": "in_progress", "block": "blocked", "deliver": "delivered",
          "confirm": "resolved", "decline": "declined", "cancel": "cancelled",
          "mark_duplicate": "duplicate"}
OPEN = {"submitted", "needs_info", "waitlisted", "accepted", "in_progress", "blocked",
        "delivered"}
KIND_WEIGHTS = {"ad_hoc": 60, "project": 25, "data_issue": 15}
SIZE_WEIGHTS = {"S": 35, "M": 40, "L": 20, "XL": 5}
IMPACT_WEIGHTS = {1: 10, 2: 25, 3: 35, 4: 20, 5: 10}


def build(app, n_requests, seed=11, n_requesters=150):
    """Insert the people and ``n_requests`` requests with histories, in bulk; return log-ins."""
    rng = random.Random(seed)
    wipe(app)
    with app.app_context():
        teams = [people.save_team(None, name=f"Team {i:02d}") for i in range(N_TEAMS)]
        served = teams[:-1]  # the last team has no embedded analyst: its requests are central
        requesters = [people.save_user(None, name=f"Requester {i}", email=f"r{i}@example.com",
                                       role="requester", team_ids=[teams[i % N_TEAMS].id],
                                       password=PASSWORD) for i in range(n_requesters)]
        analysts = [people.save_user(
            None, name=f"Analyst {i}", email=f"a{i}@example.com", role="analyst",
            team_ids=sorted({served[i % len(served)].id,
                             served[(i * 7 + 3) % len(served)].id}),
            password=PASSWORD) for i in range(N_ANALYSTS)]
        leads = [people.save_user(None, name=f"Lead {i}", email=f"lead{i}@example.com",
                                  role="lead", password=PASSWORD) for i in range(2)]
        db.session.commit()
        by_team = {team.id: [a for a in analysts if team.id in a.team_ids] or analysts
                   for team in teams}
        now = utcnow()

        states = ["in_progress"] * IN_PROGRESS + ["blocked"] * BLOCKED
        states += [pick(rng, STATE_WEIGHTS) for _ in range(n_requests - len(states))]
        rng.shuffle(states)
        wip = {analyst.id: 0 for analyst in analysts}
        rows, histories = [], []
        for i, state in enumerate(states):
            requester = rng.choice(requesters)
            team = requester.teams[0]
            # Open requests are recent; closed ones spread over two years.
            age_days = rng.uniform(0, 60) if state in OPEN else rng.uniform(20, 730)
            created = now - timedelta(days=age_days)
            path = PATHS[state]
            worker = None
            if "claim" in path:
                candidates = by_team[team.id]
                if state in ("in_progress", "blocked"):
                    candidates = [a for a in candidates if wip[a.id] < 3] or candidates
                worker = rng.choice(candidates)
                if state in ("in_progress", "blocked"):
                    wip[worker.id] += 1
            steps, at = [], created
            for action in path:
                # Each step after the one before, squeezed into the request's age.
                at = min(now - timedelta(minutes=1),
                         at + timedelta(hours=rng.uniform(2, 24 * min(10, age_days / 4 + 0.1))))
                actor = {"ask": rng.choice(by_team[team.id]).id, "waitlist": None,
                         "accept": rng.choice(by_team[team.id]).id,
                         "claim": worker.id if worker else None,
                         "block": worker.id if worker else None,
                         "deliver": worker.id if worker else None,
                         "confirm": requester.id, "decline": rng.choice(by_team[team.id]).id,
                         "cancel": requester.id,
                         "mark_duplicate": rng.choice(by_team[team.id]).id}[action]
                steps.append((action, actor, at))
            has_deadline = rng.random() < 0.6
            rows.append({
                "title": f"Request {i}: {rng.choice(['churn', 'revenue', 'tickets', 'signups'])} "
                         f"by {rng.choice(['region', 'channel', 'plan', 'week'])}",
                "team_id": team.id, "requester_id": requester.id,
                "data_needed": "Numbers per week.", "format": rng.choice(list(FORMATS)),
                "usage": "Weekly review.", "lever_result": "Retention.",
                "lever_expected_shape": "A trend.", "lever_extraction": "Compare weeks.",
                "lever_decision": "Move budget.",
                "deadline": (created + timedelta(days=rng.randint(3, 60))).date()
                if has_deadline else None,
                "kind": pick(rng, KIND_WEIGHTS), "business_impact": pick(rng, IMPACT_WEIGHTS),
                "is_exec_sponsored": rng.random() < 0.05, "exec_sponsor": "",
                "is_confidential": rng.random() < 0.03, "state": state,
                "is_central": team.id == teams[-1].id,
                "size": pick(rng, SIZE_WEIGHTS) if "accept" in path else None,
                "assignee_id": worker.id if worker else None,
                "resume_state": "submitted" if state == "needs_info" else None,
                "created_at": created, "updated_at": steps[-1][2] if steps else created,
                "closed_at": steps[-1][2] if state not in OPEN else None, "version": 1,
            })
            histories.append((requester.id, created, steps))
        batch = 5000
        for start in range(0, len(rows), batch):
            db.session.execute(insert(Request), rows[start:start + batch])
        db.session.commit()
        ids = db.session.scalars(db.select(Request.id).order_by(Request.id)).all()
        events = []
        for request_id, (requester_id, created, steps) in zip(ids, histories):
            events.append({"request_id": request_id, "actor_id": requester_id,
                           "kind": "created", "to_state": "submitted", "text": "",
                           "data": {}, "created_at": created})
            state = "submitted"
            for action, actor, at in steps:
                events.append({"request_id": request_id, "actor_id": actor,
                               "kind": "transition", "action": action, "from_state": state,
                               "to_state": TARGET[action], "text": "", "data": {},
                               "created_at": at})
                state = TARGET[action]
            if rng.random() < 0.3:
                events.append({"request_id": request_id, "actor_id": requester_id,
                               "kind": "comment", "text": "Any news?", "data": {},
                               "created_at": created + timedelta(hours=1)})
        for start in range(0, len(events), batch):
            db.session.execute(insert(Event), events[start:start + batch])
        db.session.commit()
        # A few dozen requests moved by a lead, with their override events.
        waiting = db.session.scalars(db.select(Request).where(Request.state == "accepted")
                                     .order_by(Request.id)).all()
        for req in rng.sample(waiting, min(40, len(waiting))):
            position = rng.randint(1, 5)
            req.rank_override = position
            db.session.add(Event(request=req, actor_id=leads[0].id, kind="override",
                                 text="Needed for the quarterly review.",
                                 data={"position": [None, position]}, created_at=now))
        db.session.commit()
        sla_clocks.refresh_all(now)
        db.session.commit()
        # A requester with a request waiting in a queue, so My requests shows positions.
        requester = db.session.scalar(
            db.select(User.email).join(Request, Request.requester_id == User.id)
            .where(Request.state == "accepted").limit(1))
        team_00 = db.session.scalar(db.select(Team.id).where(Team.name == "Team 00"))
        return {"analyst": "a0@example.com", "lead": "lead0@example.com",
                "requester": requester or "r0@example.com", "team": team_00,
                "events": len(events)}


def who_of(app):
    """The log-ins ``build`` returned, read back from a database it built earlier."""
    with app.app_context():
        requester = db.session.scalar(
            db.select(User.email).join(Request, Request.requester_id == User.id)
            .where(Request.state == "accepted").limit(1))
        team_00 = db.session.scalar(db.select(Team.id).where(Team.name == "Team 00"))
        events = db.session.scalar(db.select(db.func.count()).select_from(Event))
        return {"analyst": "a0@example.com", "lead": "lead0@example.com",
                "requester": requester or "r0@example.com", "team": team_00,
                "events": events}


def open_bench_app(size, url_template=None, directory=None, reuse=False, n_requesters=150):
    """An app on the bench database of ``size`` requests, and its log-ins.

    With ``reuse``, a database already holding ``size`` requests (a SQLite file
    ``DIRECTORY/bench_SIZE.db``, or ``url_template`` with ``{size}`` filled) is kept and only
    migrated to the head (new indexes apply); otherwise it is built afresh.
    """
    if url_template:
        url = url_template.format(size=size)
    else:
        url = f"sqlite:///{directory}/bench_{size}.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                 "SQLALCHEMY_RECORD_QUERIES": True})
    if reuse:
        with app.app_context():
            try:
                existing = db.session.scalar(db.select(db.func.count()).select_from(Request))
                people = db.session.scalar(db.select(db.func.count()).select_from(User)
                                           .where(User.role == "requester"))
                # The last steps of ``build``: a database it did not finish is built again.
                finished = db.session.scalar(
                    db.select(db.func.count()).select_from(Request)
                    .where(Request.sla_due_at.is_not(None))) and db.session.scalar(
                    db.select(db.func.count()).select_from(Event)
                    .where(Event.kind == "override"))
                if not finished:
                    people = None
            except Exception:  # no tables yet
                db.session.rollback()
                existing = people = None
            if existing == size and people == n_requesters:
                upgrade()
                settle(app)
                return app, who_of(app), 0.0, url
            db.session.rollback()
    started = time.perf_counter()
    who = build(app, size, n_requesters=n_requesters)
    settle(app)
    return app, who, time.perf_counter() - started, url


def settle(app):
    """On PostgreSQL, VACUUM ANALYZE as autovacuum would after a bulk load: fresh statistics,
    and the visibility map an index-only scan needs."""
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE"))


def measure_cpu(app, email, paths, repeat):
    """{path: (median ms, p95 ms, median CPU ms, SQL statements, status)} of GETting each path
    ``repeat`` times logged in as ``email`` (``bench.common.time_pages``): wall time and this
    process's CPU time (the test client runs the app in this process, so CPU time is the
    server's work, whatever else loads the machine)."""
    return {path: (found["median_ms"], found["p95_ms"], found["cpu_ms"], found["sql"],
                   found["status"])
            for path, found in time_pages(app, email, PASSWORD, paths, repeat).items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50000)
    parser.add_argument("--sizes", help="comma-separated sizes (default: a tenth of N, and N)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url",
                        help="a URL (wiped), or with {size} one database per size")
    parser.add_argument("--directory", help="keep SQLite files here (default: a temporary one)")
    parser.add_argument("--requesters", type=int, default=150,
                        help="473 makes 500 people: the digest bench's data, to share it")
    parser.add_argument("--reuse", action="store_true",
                        help="keep a database that already holds the size's data")
    args = parser.parse_args()
    sizes = ([int(size) for size in args.sizes.split(",")] if args.sizes
             else [max(1000, args.requests // 10), args.requests])
    header = (f"{'requests':>8} {'who':<9} {'page':<40} {'median ms':>9} {'p95 ms':>8} "
              f"{'CPU ms':>7} {'SQL':>4}")
    print(header)
    print("-" * len(header))
    summary = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            app, who, built, url = open_bench_app(size, args.database_url,
                                                  args.directory or tmp, args.reuse,
                                                  args.requesters)
            with app.app_context():
                accepted = db.session.scalar(db.select(db.func.count()).select_from(Request)
                                             .where(Request.state == "accepted"))
            pages = {
                "analyst": ["/queue", "/queue?sla=at_risk", "/triage"],
                "lead": ["/backlog", f"/backlog?team={who['team']}", "/backlog?sla=breached",
                         "/backlog?sla=on_track&kind=ad_hoc", "/backlog?page=3", "/queue",
                         "/triage"],
                "requester": ["/requests/mine"],
            }
            for role, paths in pages.items():
                for path, (median, p95, cpu, statements, status) in measure_cpu(
                        app, who[role], paths, args.repeat).items():
                    note = "" if status == 200 else f"  (HTTP {status})"
                    print(f"{size:>8} {role:<9} {path:<40} {median:>9.1f} {p95:>8.1f} "
                          f"{cpu:>7.1f} {statements:>4}{note}", flush=True)
                    summary[f"{size} {role} {path}"] = {
                        "median_ms": round(median, 1), "p95_ms": round(p95, 1),
                        "cpu_ms": round(cpu, 1), "sql": statements}
            print(f"{'':>8} built in {built:.0f} s: {size} requests, {who['events']} events, "
                  f"{accepted} accepted ({url.split(':')[0]})")
            with app.app_context():
                db.engine.dispose()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
