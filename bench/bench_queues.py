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
import random
import tempfile
import time
from datetime import timedelta

from sqlalchemy import insert

from bench.common import measure, pick, wipe
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    header = (f"{'requests':>8} {'who':<9} {'page':<44} {'median ms':>9} {'p95 ms':>8} "
              f"{'SQL':>4}")
    print(header)
    print("-" * len(header))
    for size in (max(1000, args.requests // 10), args.requests):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{tmp}/bench.db"
            app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                         "SQLALCHEMY_RECORD_QUERIES": True})
            started = time.perf_counter()
            who = build(app, size)
            built = time.perf_counter() - started
            with app.app_context():
                accepted = db.session.scalar(db.select(db.func.count()).select_from(Request)
                                             .where(Request.state == "accepted"))
            pages = {
                "analyst": ["/queue", "/queue?sla=at_risk", "/triage"],
                "lead": ["/backlog", f"/backlog?team={who['team']}", "/backlog?sla=breached",
                         "/backlog?sla=on_track&kind=ad_hoc", "/queue", "/triage"],
                "requester": ["/requests/mine"],
            }
            for role, paths in pages.items():
                for path, (median, p95, statements, status) in measure(
                        app, who[role], PASSWORD, paths, args.repeat).items():
                    note = "" if status == 200 else f"  (HTTP {status})"
                    print(f"{size:>8} {role:<9} {path:<44} {median:>9.1f} {p95:>8.1f} "
                          f"{statements:>4}{note}")
            print(f"{'':>8} built in {built:.0f} s: {size} requests, {who['events']} events, "
                  f"{accepted} accepted ({url.split(':')[0]})")
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
