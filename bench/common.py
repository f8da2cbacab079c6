"""What the benchmarks share: weighted picks, a clean database, timing pages."""
import time
from pathlib import Path

from flask import request_finished
from flask_migrate import upgrade
from flask_sqlalchemy.record_queries import get_recorded_queries
from sqlalchemy import event, text

from tickets.extensions import db
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


def measure(app, email, password, paths, repeat):
    """Return {path: (median ms, p95 ms, SQL statements, status)} of GETting each of ``paths``
    ``repeat`` times, logged in as ``email`` (after one warm-up request each); status is the
    first non-200 answer, or 200."""
    counts = []

    def on_finished(sender, **extra):
        counts.append(len(get_recorded_queries()))

    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    results = {}
    request_finished.connect(on_finished, app)
    try:
        for path in paths:
            client.get(path)  # warm up
            timings = []
            counts.clear()
            status = 200
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                status = response.status_code if response.status_code != 200 else status
            timings.sort()
            results[path] = (percentile(timings, 0.5), percentile(timings, 0.95), max(counts),
                             status)
    finally:
        request_finished.disconnect(on_finished, app)
    return results
