"""Time /triage and the request page over a big requests table, wall and CPU, with SQL counts.

    .venv/bin/python -m bench.bench_triage [--requests 100000] [--database-url URL]
        [--repeat 30] [--reuse]

Builds (or with --reuse, keeps and only migrates) a database of N requests with
bench_lists.build, plus one request with a long history (400 events), then GETs each page
``repeat`` times after a warm-up, as an analyst and as a lead (on PostgreSQL after a VACUUM
ANALYZE, as autovacuum would have done). For each page it prints median
and p95 wall time, median and p95 CPU time of this process (time.process_time: the server's
own work, whatever else loads the machine), SQL statements and page size. The last line is
one JSON object {path: {median_ms, p95_ms, cpu_median_ms, cpu_p95_ms, sql, kb}}.
"""
import argparse
import json
import os
import time
from datetime import timedelta

from flask import request_finished
from flask_migrate import upgrade
from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import func, insert, text

from bench.bench_lists import PASSWORD, build
from tickets import create_app
from tickets.extensions import db
from tickets.models import Event, Request, User
from tickets.reports.stats import percentile

LONG_HISTORY = 400


def add_long_history(app):
    """Give the oldest submitted request ``LONG_HISTORY`` comments; return its id."""
    with app.app_context():
        request_id = db.session.scalar(db.select(func.min(Request.id))
                                       .where(Request.state == "submitted"))
        req = db.session.get(Request, request_id)
        have = db.session.scalar(db.select(func.count()).select_from(Event)
                                 .where(Event.request_id == request_id))
        if have < LONG_HISTORY:
            db.session.execute(insert(Event), [
                {"request_id": request_id, "actor_id": req.requester_id, "kind": "comment",
                 "text": f"Comment {n}: which weeks, which regions?", "data": {},
                 "created_at": req.created_at + timedelta(minutes=n + 1)}
                for n in range(LONG_HISTORY - have)])
            db.session.commit()
        return request_id


def login(app, email):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    return client


def measure(app, client, paths, repeat):
    """{path: figures} of GETting each path ``repeat`` times after one warm-up."""
    counts = []

    def on_finished(sender, **extra):
        counts.append(len(get_recorded_queries()))

    results = {}
    request_finished.connect(on_finished, app)
    try:
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                results[path] = {"status": response.status_code}
                continue
            walls, cpus = [], []
            counts.clear()
            for _ in range(repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                cpus.append((time.process_time() - cpu) * 1000)
                walls.append((time.perf_counter() - wall) * 1000)
            walls.sort()
            cpus.sort()
            results[path] = {
                "median_ms": round(percentile(walls, 0.5), 1),
                "p95_ms": round(percentile(walls, 0.95), 1),
                "cpu_median_ms": round(percentile(cpus, 0.5), 1),
                "cpu_p95_ms": round(percentile(cpus, 0.95), 1),
                "sql": max(counts), "kb": round(len(response.data) / 1024, 1)}
    finally:
        request_finished.disconnect(on_finished, app)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database when it holds requests (only migrate it)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:////tmp/triage/bench_{args.requests}.db"
    if url.startswith("sqlite:////"):
        os.makedirs(os.path.dirname(url[len("sqlite:///"):]), exist_ok=True)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                 "SQLALCHEMY_RECORD_QUERIES": True})
    built = False
    if args.reuse:
        with app.app_context():
            try:
                built = bool(db.session.scalar(db.select(func.count()).select_from(Request)))
            except Exception:  # no table yet
                db.session.rollback()
            if built:
                upgrade()
    if not built:
        started = time.perf_counter()
        build(app, args.requests)
        print(f"built {args.requests} requests in {time.perf_counter() - started:.0f} s")
    long_id = add_long_history(app)
    if url.startswith("postgresql"):
        # Fresh bulk inserts have no statistics yet (autovacuum comes later): without them the
        # planner guesses, and a production database has them.
        with app.app_context(), db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE"))
    with app.app_context():
        waiting = db.session.scalar(db.select(Request.id).where(Request.state == "submitted")
                                    .order_by(Request.id.desc()).limit(1))
        assert db.session.scalar(db.select(User.id).where(User.email == "a0@example.com"))
    pages = {
        "a0@example.com": ["/triage", "/triage?page=3", "/triage?kind=ad_hoc"],
        "lead@example.com": ["/triage", "/triage?section=waitlisted", f"/triage/{waiting}",
                             f"/requests/{waiting}", f"/requests/{long_id}"],
    }
    results = {}
    for email, paths in pages.items():
        client = login(app, email)
        for path, figures in measure(app, client, paths, args.repeat).items():
            key = f"{email.split('@')[0]} {path}"
            results[key] = figures
            if "status" in figures:
                print(f"{args.requests:>7} {key:<40} status {figures['status']}")
                continue
            print(f"{args.requests:>7} {key:<40} wall {figures['median_ms']:>7.1f} / "
                  f"{figures['p95_ms']:>7.1f}  cpu {figures['cpu_median_ms']:>7.1f} / "
                  f"{figures['cpu_p95_ms']:>7.1f}  sql {figures['sql']:>3}  "
                  f"{figures['kb']:>6.1f} KB")
    with app.app_context():
        db.engine.dispose()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
