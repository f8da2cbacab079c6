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
import time
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import delete, event, text

from bench.common import PASSWORD, build_history
from tickets import create_app, reports
from tickets.extensions import db
from tickets.models import FlowDay, Setting, utcnow
from tickets.reports import snapshot
from tickets.reports.stats import percentile

__all__ = ["PASSWORD", "build"]


def build(app, n_requests, seed=7):
    """Insert the people and ``n_requests`` requests with their histories; return counts
    (``bench.common.build_history`` with 150 requesters)."""
    built = build_history(app, n_requests, seed=seed)
    return {"events": built["events"], "team": built["teams"][0]}



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
