"""Time the request list pages over realistic data and count their SQL statements.

    .venv/bin/python -m bench.bench_lists [--requests 20000] [--database-url URL]

Builds a fresh database (SQLite file by default, or the given URL, which is wiped) with teams,
people and N requests with histories, then requests each list page repeatedly through the app
and prints median and p95 server time and SQL statements per page, at two data sizes, so any
growth of the statement count with the data is visible.
"""
import argparse
import random
import tempfile
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import insert, text

from bench.common import measure
from tickets import create_app, people
from tickets.extensions import db
from tickets.models import FORMATS, KINDS, Event, Request, utcnow

STATES = ["submitted", "needs_info", "accepted", "in_progress", "blocked", "delivered",
          "resolved", "declined", "cancelled", "duplicate", "waitlisted"]
PASSWORD = "bench-password"


def build(app, n_requests, n_teams=12, seed=7):
    """Insert teams, people and ``n_requests`` requests with a few events each, in bulk."""
    rng = random.Random(seed)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        teams = [people.save_team(None, name=f"Team {i:02d}") for i in range(n_teams)]
        requesters = [people.save_user(None, name=f"Requester {i}", email=f"r{i}@example.com",
                                       role="requester", team_ids=[teams[i % n_teams].id],
                                       password=PASSWORD) for i in range(60)]
        analysts = [people.save_user(None, name=f"Analyst {i}", email=f"a{i}@example.com",
                                     role="analyst", team_ids=[teams[i % n_teams].id,
                                                               teams[(i + 1) % n_teams].id],
                                     password=PASSWORD) for i in range(15)]
        people.save_user(None, name="Lead", email="lead@example.com", role="lead",
                         password=PASSWORD)
        db.session.commit()
        now = utcnow()
        rows, events = [], []
        for i in range(n_requests):
            requester = rng.choice(requesters)
            state = rng.choice(STATES)
            created = now - timedelta(days=rng.uniform(0, 365))
            assignee = rng.choice(analysts).id if state in ("in_progress", "blocked",
                                                             "delivered", "resolved") else None
            rows.append({
                "title": f"Request {i}: {rng.choice(['churn', 'revenue', 'tickets', 'signups'])} "
                         f"by {rng.choice(['region', 'channel', 'plan', 'week'])}",
                "team_id": requester.teams[0].id, "requester_id": requester.id,
                "data_needed": "Numbers per week.", "format": rng.choice(list(FORMATS)),
                "usage": "Weekly review.", "lever_result": "Retention.",
                "lever_expected_shape": "A trend.", "lever_extraction": "Compare weeks.",
                "lever_decision": "Move budget.", "deadline": (created + timedelta(days=30)).date(),
                "kind": rng.choice(list(KINDS)), "business_impact": rng.randint(1, 5),
                "is_exec_sponsored": rng.random() < 0.1, "exec_sponsor": "",
                "is_confidential": rng.random() < 0.05, "state": state, "assignee_id": assignee,
                "created_at": created, "updated_at": created, "version": 1,
            })
        batch = 5000
        for start in range(0, len(rows), batch):
            db.session.execute(insert(Request), rows[start:start + batch])
        db.session.commit()
        ids = db.session.execute(db.select(Request.id, Request.requester_id, Request.created_at,
                                           Request.state)).all()
        for request_id, requester_id, created, state in ids:
            events.append({"request_id": request_id, "actor_id": requester_id, "kind": "created",
                           "to_state": "submitted", "text": "", "data": {},
                           "created_at": created})
            if state != "submitted":
                events.append({"request_id": request_id, "actor_id": None, "kind": "transition",
                               "action": "bench", "from_state": "submitted", "to_state": state,
                               "text": "", "data": {}, "created_at": created + timedelta(hours=5)})
        for start in range(0, len(events), batch):
            db.session.execute(insert(Event), events[start:start + batch])
        db.session.commit()
        return {
            "lead": "lead@example.com",
            "analyst": "a0@example.com",
            "requester": "r0@example.com",
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    pages = {
        "lead": ["/requests/all", "/requests/all?state=any&sort=deadline&page=40",
                 "/requests/all?q=churn&kind=ad_hoc", "/admin/users"],
        "analyst": ["/requests/team", "/requests/team?state=closed&sort=impact"],
        "requester": ["/requests/mine", "/requests/team"],
    }
    print(f"{'size':>7} {'who':<10} {'page':<46} {'median ms':>9} {'p95 ms':>8} {'SQL':>4}")
    for size in (max(1, args.requests // 10), args.requests):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{tmp}/bench.db"
            app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                         "SQLALCHEMY_RECORD_QUERIES": True})
            who = build(app, size)
            for role, paths in pages.items():
                for path, (median, p95, statements, status) in measure(
                        app, who[role], PASSWORD, paths, args.repeat).items():
                    assert status == 200, (path, status)
                    print(f"{size:>7} {role:<10} {path:<46} {median:>9.1f} {p95:>8.1f} "
                          f"{statements:>4}")
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
