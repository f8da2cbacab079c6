"""Time every user's weekly digest over a realistic history and count its SQL statements.

    .venv/bin/python -m bench.bench_digests [--requests 50000] [--database-url URL]

Builds the data of ``bench_queues`` (10 teams, 25 analysts, 2 leads, N requests with their
histories and SLA clocks) with 473 requesters, so that 500 people get a digest, in a fresh
database (a SQLite file by default, or the given URL, which is wiped). Then, at a tenth of N and
at N, it builds each person's digest with ``digest.build(user, now)`` in a fresh session,
counting its SQL statements with a ``before_cursor_execute`` listener, and runs
``digest.queue_due(now)``, which queues them all into the outbox, in one transaction. It prints
per role: how many people, how many open requests their digests draw from, the median and p95
time of one digest and the fewest and most statements one took. The statement count must not
grow with the data: every list in a digest is capped.
"""
import argparse
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from datetime import time as clock_time
from datetime import timedelta

from sqlalchemy import and_, delete, func, or_, select, true, update

from bench.bench_queues import open_bench_app
from bench.common import StatementCounter
from tickets import digest, queues, settings, triage
from tickets.policy import visible_requests
from tickets.extensions import db
from tickets.models import OPEN_STATES, OutboxMessage, Request, User, utcnow
from tickets.reports.stats import percentile

N_REQUESTERS = 473  # with 25 analysts and 2 leads: 500 people


def digest_moment_passed(values):
    """Now, or this week's digest moment when now is earlier, so that every digest is due."""
    now = utcnow()
    week = digest.week_of(now, values)
    first = datetime.combine(week.monday, clock_time.fromisoformat(values["digest_time"]),
                             tzinfo=week.starts_at.tzinfo)
    first += timedelta(days=values["digest_weekday"])
    return max(now, first.astimezone(UTC) + timedelta(minutes=1))


def open_in_view(user):
    """How many open requests ``user``'s digest draws its lists from (the scale it must not
    grow with): a requester's own and their teams', an analyst's queue and triage, all for
    leads."""
    is_open = Request.state.in_(OPEN_STATES)
    if user.role == "requester":
        scope = or_(Request.requester_id == user.id,
                    and_(Request.team_id.in_(user.team_ids), visible_requests(user)))
    elif user.role == "analyst":
        scope = or_(Request.assignee_id == user.id, queues.queue_condition(user),
                    triage.pending_condition(user))
    else:
        scope = true()
    return db.session.scalar(select(func.count()).select_from(Request).where(is_open, scope))


def measure(app, now):
    """Build every digest once; return {role: [(ms, statements, open in view), ...]}."""
    results = defaultdict(list)
    with app.app_context():
        people = db.session.execute(select(User.id, User.role).where(User.is_active)
                                    .order_by(User.id)).all()
        counter = StatementCounter(db.engine)
        for user_id, role in people:
            user = db.session.scalars(select(User).where(User.id == user_id)
                                      .options(db.selectinload(User.teams))).one()
            scale = open_in_view(user)
            with counter:
                counter.count = 0
                started = time.perf_counter()
                digest.build(user, now)
                elapsed = (time.perf_counter() - started) * 1000
            results[role].append((elapsed, counter.count, scale))
            # A fresh session each time, so no digest reuses objects an earlier one loaded.
            db.session.remove()
    return results


def run_queue_due(app, now):
    """Run ``queue_due`` in one transaction; return (queued, seconds, statements, again)."""
    with app.app_context():
        counter = StatementCounter(db.engine)
        with counter:
            started, cpu = time.perf_counter(), time.process_time()
            queued = digest.queue_due(now)
            db.session.commit()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
        in_outbox = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.kind == "digest"))
        assert in_outbox == queued, (in_outbox, queued)
        again = digest.queue_due(now)  # the same week again: nothing more to queue
        db.session.rollback()
        # Leave the bench database as it was, so a reused one can be measured again.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.kind == "digest"))
        db.session.commit()
        return queued, elapsed, cpu, counter.count, again


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50000)
    parser.add_argument("--sizes", help="comma-separated sizes (default: a tenth of N, and N)")
    parser.add_argument("--database-url",
                        help="a URL (wiped), or with {size} one database per size")
    parser.add_argument("--directory", help="keep SQLite files here (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep a database that already holds the size's data")
    parser.add_argument("--skip-each", action="store_true",
                        help="time only queue_due, not each digest on its own")
    args = parser.parse_args()
    sizes = ([int(size) for size in args.sizes.split(",")] if args.sizes
             else [max(1000, args.requests // 10), args.requests])
    header = (f"{'requests':>8} {'role':<10} {'users':>5} {'open in view':>13} "
              f"{'median ms':>9} {'p95 ms':>7} {'SQL min':>7} {'SQL max':>7}")
    print(header)
    print("-" * len(header))
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            app, who, built, url = open_bench_app(size, args.database_url, args.directory or tmp,
                                                  args.reuse, N_REQUESTERS)
            app.config["SQLALCHEMY_RECORD_QUERIES"] = False
            with app.app_context():
                now = digest_moment_passed(settings.current())
                # Everyone joined long ago: people who joined after this week's moment are not
                # due until next week.
                db.session.execute(update(User).values(created_at=now - timedelta(days=90)))
                db.session.commit()
            results = {} if args.skip_each else measure(app, now)
            for role in ("requester", "analyst", "lead", "admin"):
                if role not in results:
                    continue
                rows = results[role]
                timings = sorted(ms for ms, _, _ in rows)
                counts = [statements for _, statements, _ in rows]
                scales = [scale for _, _, scale in rows]
                print(f"{size:>8} {role:<10} {len(rows):>5} "
                      f"{f'{min(scales)}-{max(scales)}':>13} "
                      f"{percentile(timings, 0.5):>9.1f} {percentile(timings, 0.95):>7.1f} "
                      f"{min(counts):>7} {max(counts):>7}")
            total = sum(ms for rows in results.values() for ms, _, _ in rows) / 1000
            users = sum(len(rows) for rows in results.values())
            queued, seconds, cpu, statements, again = run_queue_due(app, now)
            print(f"{'':>8} build: {users} digests in {total:.1f} s; queue_due: {queued} "
                  f"queued in {seconds:.1f} s wall, {cpu:.1f} s CPU, {statements} statements "
                  f"({statements / max(queued, 1):.1f} per digest), a second run queued "
                  f"{again}")
            print(f"{'':>8} data built in {built:.0f} s: {size} requests, {who['events']} "
                  f"events ({url.split(':')[0]})")
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
