"""Outcomes at scale: follow-ups of 100,000 requests, the ledger, track records and sending.

    .venv/bin/python -m bench.bench_outcomes [--requests 100000] [--repeat 10]
        [--database-url URL] [--reuse] [--due 1000]

Builds the history of ``bench_reports`` (10 teams, 25 analysts, 150 requesters, N requests
over five years with about ten events each) in a fresh database (a SQLite file in /tmp by
default, or the given URL, which is wiped), then gives every resolved request its follow-up as
the app would have: due seven days after resolution; those due asked (an ``asked`` event), the
unanswered ones past the reminder's five days reminded, about 60% answered with an ``outcome`` event, each team with
its own habit (teams 00-02 use almost everything, 07-09 little), not-used answers with a
reason. ``--reuse`` skips the build.

Then it measures, each ``repeat`` times after a warm-up (median / p95 ms, SQL statements):
``outcomes.track_records`` for all teams; the pages /reports/impact (a lead: default range,
one year, five years, one team), /triage and /queue (an analyst), and /queue with the track
record in the priority switched on; a digest of each role; and ``outcomes.send_due`` over
``--due`` follow-ups made due at once (their mails rendered and queued, one savepoint each),
then again (nothing left to do). Pages that do not exist (a 404) are reported as such.

The last line printed is one JSON object with the figures.
"""
import argparse
import json
import random
import time
from datetime import timedelta

from sqlalchemy import insert, select, text, update

from bench.bench_reports import build
from bench.common import StatementCounter, measure, pick
from tickets import create_app, digest, outcomes, settings
from tickets.extensions import db
from tickets.models import (NOT_USED_REASONS, Event, FollowUp, OutboxMessage, Request, Team,
                            User, utcnow)
from tickets.reports.stats import percentile

PASSWORD = "bench-password"  # bench_reports' people
ANSWERED_SHARE = 0.6


def _habit(team_index):
    """{outcome: weight} of a team's answers: the first teams use what they ask, the last not."""
    used = 0.9 - 0.07 * team_index
    return {"acted": used * 0.7, "decided_not_to_act": used * 0.3, "not_yet": 0.08,
            "not_used": max(0.02, 0.92 - used)}


def add_follow_ups(app, seed=11):
    """Give every resolved request its follow-up and answers, in bulk; return counts."""
    rng = random.Random(seed)
    now = utcnow()
    with app.app_context():
        teams = {team_id: index for index, team_id in enumerate(db.session.scalars(
            select(Team.id).order_by(Team.name)))}
        rows = db.session.execute(select(Request.id, Request.team_id, Request.requester_id,
                                         Request.closed_at)
                                  .where(Request.state == "resolved")
                                  .order_by(Request.id)).all()
        follow_ups, events = [], []
        for request_id, team_id, requester_id, closed_at in rows:
            due_at = closed_at + timedelta(days=7)
            row = {"request_id": request_id, "recipient_id": requester_id, "status": "scheduled",
                   "know_by": None, "due_at": due_at, "asked_at": None, "reminded_at": None,
                   "link_nonce": f"n{request_id}", "outcome": None, "decision": "",
                   "not_used_reason": None, "note": "", "answered_at": None,
                   "answered_by_id": None, "created_at": closed_at}
            if due_at <= now:
                row.update(status="asked", asked_at=due_at)
                events.append({"request_id": request_id, "actor_id": None, "kind": "follow_up",
                               "action": None, "from_state": None, "to_state": None, "text": "",
                               "data": {"step": "asked"}, "created_at": due_at})
                answered_at = due_at + timedelta(hours=rng.uniform(1, 240))
                if rng.random() < ANSWERED_SHARE and answered_at <= now:
                    outcome = pick(rng, _habit(teams[team_id]))
                    reason = rng.choice(list(NOT_USED_REASONS)) if outcome == "not_used" else None
                    decision = "Moved budget to search." if outcome == "acted" else ""
                    row.update(status="answered", outcome=outcome, not_used_reason=reason,
                               decision=decision, answered_at=answered_at,
                               answered_by_id=requester_id)
                    data = {"outcome": outcome, "via": "mail"}
                    if reason:
                        data["reason"] = reason
                    events.append({"request_id": request_id, "actor_id": requester_id,
                                   "kind": "outcome", "action": None, "from_state": None,
                                   "to_state": None, "text": "", "data": data,
                                   "created_at": answered_at})
                elif due_at + timedelta(days=5) <= now:  # the daily job reminded it
                    row.update(status="reminded", reminded_at=due_at + timedelta(days=5))
            follow_ups.append(row)
        for start in range(0, len(follow_ups), 5000):
            db.session.execute(insert(FollowUp), follow_ups[start:start + 5000])
        for start in range(0, len(events), 5000):
            db.session.execute(insert(Event), events[start:start + 5000])
        db.session.commit()
        return {"follow_ups": len(follow_ups), "events": len(events)}


def timed(app, function, repeat):
    """(median ms, p95 ms, statements of one call) of ``function()`` in a fresh session."""
    timings, statements = [], 0
    for round_ in range(repeat + 1):
        with app.app_context():
            with StatementCounter(db.engine) as counted:
                started = time.perf_counter()
                function()
                elapsed = (time.perf_counter() - started) * 1000
            db.session.rollback()
        if round_:  # the first is the warm-up
            timings.append(elapsed)
            statements = counted.count
    timings.sort()
    return percentile(timings, 0.5), percentile(timings, 0.95), statements


def time_send(app, due_count):
    """Make ``due_count`` scheduled follow-ups due, send them; then send again (nothing due)."""
    now = utcnow()
    with app.app_context():
        ids = db.session.scalars(select(FollowUp.id).where(FollowUp.status == "scheduled")
                                 .order_by(FollowUp.id).limit(due_count)).all()
        if len(ids) < due_count:
            # Unanswered ones asked before, as if they had not been asked yet.
            extra = db.session.scalars(
                select(FollowUp.id).where(FollowUp.status.in_(("asked", "reminded")))
                .order_by(FollowUp.id.desc()).limit(due_count - len(ids))).all()
            db.session.execute(update(FollowUp).where(FollowUp.id.in_(extra))
                               .values(status="scheduled", asked_at=None, reminded_at=None))
            ids += extra
        db.session.execute(update(FollowUp).where(FollowUp.id.in_(ids))
                           .values(due_at=now - timedelta(hours=1)))
        db.session.commit()
    results = {}
    for label in ("first", "again"):
        with app.app_context():
            with StatementCounter(db.engine) as counted:
                started = time.perf_counter()
                sent = outcomes.send_due(now)
                db.session.commit()
                elapsed = time.perf_counter() - started
        results[label] = {"seconds": round(elapsed, 2), "asked": sent.asked,
                          "reminded": sent.reminded, "statements": counted.count}
    with app.app_context():
        results["queued"] = db.session.scalar(
            select(text("count(*)")).select_from(OutboxMessage)
            .where(OutboxMessage.kind == "follow_up"))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default="sqlite:////tmp/bench_outcomes.db")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": args.database_url,
                                 "SQLALCHEMY_RECORD_QUERIES": True})
    if not args.reuse:
        started = time.perf_counter()
        built = build(app, args.requests)
        added = add_follow_ups(app)
        print(f"built in {time.perf_counter() - started:.0f} s: {args.requests} requests, "
              f"{built['events'] + added['events']} events, {added['follow_ups']} follow-ups")
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        counts = {name: db.session.scalar(text(f"SELECT count(*) FROM {name}"))
                  for name in ("requests", "events", "follow_ups")}
        team_ids = db.session.scalars(select(Team.id).order_by(Team.id)).all()
        analyst = db.session.scalars(select(User).where(User.role == "analyst")
                                     .order_by(User.id)).first()
        people = {role: db.session.scalars(select(User.id).where(User.role == role)
                                           .order_by(User.id)).first()
                  for role in ("requester", "analyst", "lead")}
        analyst_email = analyst.email
    dialect = args.database_url.split(":")[0].split("+")[0]
    print(f"{counts['requests']} requests, {counts['events']} events, "
          f"{counts['follow_ups']} follow-ups, {dialect}; {args.repeat} runs each "
          "(median / p95 ms, SQL statements)")
    figures = {"database": dialect, **counts}
    now = utcnow()

    median, p95, statements = timed(app, lambda: outcomes.track_records(team_ids, now),
                                    args.repeat)
    print(f"{'track_records (10 teams)':<40} {median:>8.1f} {p95:>8.1f} {statements:>4}")
    figures["track_records_ms"] = round(median, 1)

    today = now.date()
    pages = {"/reports/impact": "lead@example.com",
             f"/reports/impact?start={today - timedelta(days=364)}&end={today}":
                 "lead@example.com",
             f"/reports/impact?start={today - timedelta(days=5 * 365 - 1)}&end={today}":
                 "lead@example.com",
             f"/reports/impact?team={team_ids[0]}": "lead@example.com",
             "/triage": analyst_email, "/queue": analyst_email}
    figures["pages"] = {}
    for path, email in pages.items():
        (median, p95, statements, status), = measure(app, email, PASSWORD, [path],
                                                     args.repeat).values()
        print(f"{path[:40]:<40} {median:>8.1f} {p95:>8.1f} {statements:>4}"
              + ("" if status == 200 else f"  (status {status})"))
        figures["pages"][path] = {"median_ms": round(median, 1), "p95_ms": round(p95, 1),
                                  "statements": statements, "status": status}
    with app.app_context():
        settings.update({"track_record_in_priority": True}, None, now)
        db.session.commit()
    (median, p95, statements, status), = measure(app, analyst_email, PASSWORD, ["/queue"],
                                                 args.repeat).values()
    print(f"{'/queue (track record on)':<40} {median:>8.1f} {p95:>8.1f} {statements:>4}")
    figures["pages"]["/queue track record on"] = {"median_ms": round(median, 1),
                                                  "statements": statements, "status": status}
    with app.app_context():
        settings.update({"track_record_in_priority": False}, None, now)
        db.session.commit()

    figures["digests"] = {}
    for role, user_id in people.items():
        def build_one(user_id=user_id):
            digest.build(db.session.get(User, user_id), now)
        median, p95, statements = timed(app, build_one, args.repeat)
        print(f"{'digest: ' + role:<40} {median:>8.1f} {p95:>8.1f} {statements:>4}")
        figures["digests"][role] = {"median_ms": round(median, 1), "statements": statements}

    sent = time_send(app, args.due)
    first = sent["first"]
    print(f"send_due: {first['asked']} asked, {first['reminded']} reminded in "
          f"{first['seconds']} s ({first['statements']} statements); again: "
          f"{sent['again']['asked'] + sent['again']['reminded']} in {sent['again']['seconds']} s; "
          f"{sent['queued']} follow-up mails in the outbox")
    figures["send_due"] = sent
    with app.app_context():
        db.engine.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
