"""Time every page, the request page, every chart's JSON and the week's digests at a given size.

    .venv/bin/python -m bench.pages [--requests 100000] [--repeat 10] [--only PATTERN]
        [--reuse | --rebuild]

The database is the one in ``DATABASE_URL`` (PostgreSQL or SQLite; default a SQLite file
``/tmp/bench_pages/pages-N.db``, one per size). It holds, once built: 10 teams, 25 analysts, a
lead and 474 requesters (500 people who get a weekly digest), and N requests submitted over the
last five years with their histories (``bench.common.build_history``: about ten events a
request, so a million at 100,000), then, from a separate random stream: deadlines on a third of
the requests, some confidential or sponsored by an executive, 40 requests moved in the queue by
the lead, 2,000 catalogue assets linked to some deliveries, follow-ups on the last four months'
resolutions (scheduled, asked, reminded, answered), and notifications for everyone. Derived data
is then brought up to date by the app's own functions: SLA clocks (``sla_clocks.refresh_all``),
the search index (``search.rebuild``) and, when the app has it, ``flask reports
rebuild-snapshot``.

The data is reused when the database already holds this size, built by this BUILD_VERSION,
migrated to the migrations' head (a ``bench_build`` table beside the data says so); otherwise
it is wiped and built again (19 minutes at 100,000 on SQLite on a busy 2-core machine, most
of it ``search.rebuild``). ``--reuse`` uses whatever data is there (upgrading its schema first
when the migrations moved on); ``--rebuild`` always builds.

Then, through the real app (its test client, logged in through the log-in form as the lead, an
analyst and a requester of team 00), each page is requested once to warm up and ``--repeat``
times: every list (``/requests`` and its filters, ``/queue``, ``/backlog``, ``/triage``,
search, the catalogue, notifications, follow-ups, the admin lists), the report pages, the
request page (a request of the requester's with a long history), every chart's JSON over one
and five years, and ``digest.queue_due`` for the 500 people (one run, rolled back, so the data
stays reusable; its row's ``queued`` says how many digests). ``--only PATTERN`` keeps the pages whose name contains PATTERN.

For each it prints ``median_ms`` and ``p95_ms`` (wall time of the request), ``cpu_ms`` (median
process time: the app's own work and SQLite's, not PostgreSQL's server side, and not time spent
waiting for a machine shared with other work) and ``sql`` (the most statements one request
ran). The last line is one JSON object: {page: {median_ms, p95_ms, cpu_ms, sql, status}, ...,
"_meta": {requests, events, database, repeat, built_s, ...}}.
"""
import argparse
import gc
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, delete, func, insert, inspect, select, text, update

from bench.bench_digests import digest_moment_passed
from bench.common import PASSWORD, StatementCounter, build_history, pick, time_pages
from tickets import create_app, digest, reports, search, settings, tokens
from tickets.extensions import db
from tickets.models import (AccessToken, Asset, AssetLink, Event, FollowUp, Notification, OutboxMessage,
                            Request, User, utcnow)
from tickets.notifications import HEADLINES, REQUESTER_KINDS

BUILD_VERSION = 1
N_REQUESTERS = 474  # with 25 analysts and the lead: 500 people get a digest
N_ASSETS = 2000
LEAD, ANALYST = "lead@example.com", "a0@example.com"
ASSET_KINDS = ("dashboard", "dataset", "table", "report", "document")
TOPICS = ("churn", "revenue", "tickets", "signups", "retention", "campaigns", "pricing",
          "weekly active users", "support load", "conversion")
FOLLOW_UP_OUTCOMES = {"acted": 45, "decided_not_to_act": 15, "not_yet": 15, "not_used": 25}
NOT_USED_REASONS = ("too_late", "not_what_needed", "data_not_trusted", "priorities_changed")
QUICK_SEARCHES = ("weekly", "churn by region")


def default_url(n_requests):
    """The SQLite file of size ``n_requests`` under /tmp/bench_pages/."""
    folder = Path("/tmp/bench_pages")
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder}/pages-{n_requests}.db"


def migrations_head(app):
    """The head revision of the app's migrations."""
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return ScriptDirectory.from_config(config).get_current_head()


def stored_build(app):
    """What the database says was built in it ({requests, version, head, events, built_s}), or
    None when nothing was."""
    with app.app_context():
        if not inspect(db.engine).has_table("bench_build"):
            return None
        row = db.session.execute(text(
            "SELECT requests, version, events, built_s FROM bench_build")).first()
        head = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        if row is None:
            return None
        return {"requests": row[0], "version": row[1], "events": row[2], "built_s": row[3],
                "head": head}


def _follow_ups(rng, now):
    """Rows of follow-ups for the requests resolved in the last four months."""
    resolved = db.session.execute(
        select(Request.id, Request.requester_id, Request.closed_at)
        .where(Request.state == "resolved", Request.closed_at >= now - timedelta(days=120))
        .order_by(Request.id)).all()
    rows = []
    for request_id, requester_id, closed_at in resolved:
        due_at = closed_at + timedelta(days=30)
        row = {"request_id": request_id, "recipient_id": requester_id, "due_at": due_at,
               "status": "scheduled", "asked_at": None, "reminded_at": None, "outcome": None,
               "decision": "", "not_used_reason": None, "note": "", "answered_at": None,
               "answered_by_id": None, "created_at": closed_at}
        if due_at < now:
            row["asked_at"] = due_at
            status = pick(rng, {"asked": 35, "reminded": 20, "answered": 45})
            row["status"] = status
            if status == "reminded":
                row["reminded_at"] = min(now, due_at + timedelta(days=7))
            if status == "answered":
                outcome = pick(rng, FOLLOW_UP_OUTCOMES)
                row.update(outcome=outcome, answered_at=min(now, due_at + _days(rng, 0, 10)),
                           answered_by_id=requester_id)
                if outcome == "acted":
                    row["decision"] = "We moved the budget to the better channel."
                if outcome == "not_used":
                    row["not_used_reason"] = rng.choice(NOT_USED_REASONS)
        rows.append(row)
    return rows


def _days(rng, low, high):
    return timedelta(days=rng.uniform(low, high))


def add_extras(built, seed=23):
    """What the pages show beyond requests and events (see the module's docstring), from a
    random stream of its own so the histories stay those of ``build_history``."""
    rng = random.Random(seed)
    now = built["now"]
    lead = built["lead"]
    teams = built["teams"]
    requests = db.session.execute(select(Request.id, Request.created_at, Request.state)
                                  .order_by(Request.id)).all()
    deadlines = [{"rid": request_id, "deadline": (created + _days(rng, 3, 90)).date()}
                 for request_id, created, _ in requests if rng.random() < 0.35]
    table = Request.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("rid"))
                       .values(deadline=bindparam("deadline")), deadlines)
    db.session.execute(update(Request).where(Request.id % 31 == 5)
                       .values(is_confidential=True))
    db.session.execute(update(Request).where(Request.id % 19 == 3)
                       .values(is_exec_sponsored=True, exec_sponsor="The CFO"))
    # Everyone joined five years ago, so this week's digest is due for all.
    db.session.execute(update(User).values(created_at=now - timedelta(days=5 * 365)))

    waiting = db.session.scalars(select(Request).where(Request.state == "accepted")
                                 .order_by(Request.id)).all()
    for request in rng.sample(waiting, min(40, len(waiting))):
        position = rng.randint(1, 5)
        request.rank_override = position
        db.session.add(Event(request=request, actor_id=lead, kind="override",
                             text="Needed for the quarterly review.",
                             data={"position": [None, position]}, created_at=now))
    db.session.flush()

    assets = []
    for i in range(N_ASSETS):
        topic = rng.choice(TOPICS)
        created = now - _days(rng, 1, 5 * 365)
        assets.append({
            "title": f"{topic.capitalize()} {rng.choice(ASSET_KINDS)} {i}",
            "url": f"https://bi.example.com/assets/{i}", "kind": rng.choice(ASSET_KINDS),
            "team_id": rng.choice(teams),
            "description": f"The {topic} figures by week, region and plan.",
            "tags": f",{topic.replace(' ', '-')},{rng.choice(TOPICS).replace(' ', '-')},",
            "status": "deprecated" if rng.random() < 0.1 else "active",
            "last_verified_on": (now - _days(rng, 0, 400)).date(),
            "created_by_id": lead, "created_at": created, "updated_at": created, "version": 1})
    db.session.execute(insert(Asset), assets)
    asset_ids = db.session.scalars(select(Asset.id).order_by(Asset.id)).all()
    delivered = [request_id for request_id, _, state in requests
                 if state in ("delivered", "resolved")]
    links = [{"asset_id": rng.choice(asset_ids), "request_id": request_id,
              "how": "delivered", "linked_by_id": lead, "created_at": now}
             for request_id in rng.sample(delivered, len(delivered) // 20)]
    links = list({(row["asset_id"], row["request_id"]): row for row in links}.values())
    if links:
        db.session.execute(insert(AssetLink), links)

    follow_ups = _follow_ups(rng, now)
    if follow_ups:
        db.session.execute(insert(FollowUp), follow_ups)

    people = db.session.execute(select(User.id, User.role)).all()
    open_ids = [request_id for request_id, _, state in requests
                if state not in ("resolved", "declined", "cancelled", "duplicate")]
    notifications = []
    for user_id, role in people:
        kinds = list(HEADLINES) if role in ("analyst", "lead") else list(REQUESTER_KINDS)
        for _ in range(60 if role in ("analyst", "lead") else 12):
            at = now - _days(rng, 0, 60)
            notifications.append({
                "recipient_id": user_id, "request_id": rng.choice(open_ids or [requests[0][0]]),
                "kind": rng.choice(kinds), "actor_id": lead, "text": "Numbers per week.",
                "created_at": at, "read_at": at + timedelta(hours=3) if rng.random() < 0.7
                else None, "is_daily": False, "mailed_at": None, "once_key": None})
    for start in range(0, len(notifications), 5000):
        db.session.execute(insert(Notification), notifications[start:start + 5000])
    db.session.commit()
    return {"assets": len(assets), "follow_ups": len(follow_ups),
            "notifications": len(notifications), "deadlines": len(deadlines)}


def refresh_derived(app, with_search=True):
    """Bring derived data up to date through the app: the search index (unless
    ``with_search`` is false: a schema upgrade of reused data leaves it as it was), and the
    report snapshot when the app has a ``flask reports rebuild-snapshot`` command. (SLA clocks
    are refreshed by ``build_history``.) Return what was run."""
    done = []
    if with_search:
        with app.app_context():
            search.rebuild(db.session.connection())
            db.session.commit()
        done.append("search.rebuild")
    reports_group = app.cli.commands.get("reports")
    if reports_group is not None and "rebuild-snapshot" in getattr(reports_group, "commands",
                                                                   {}):
        result = app.test_cli_runner().invoke(args=["reports", "rebuild-snapshot"])
        if result.exit_code != 0:
            raise RuntimeError(f"flask reports rebuild-snapshot failed: {result.output}")
        done.append("flask reports rebuild-snapshot")
    return done


def analyse(app):
    """Fresh planner statistics and, on PostgreSQL, a vacuumed table (its visibility map set,
    so index-only scans need no heap reads), as autovacuum would leave a live database. (The
    benchmark machines' PostgreSQL runs without autovacuum: without this, every figure would
    be of a database nobody has vacuumed since the bulk load.)"""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))


def build(app, n_requests, n_requesters=N_REQUESTERS):
    """Wipe the database and build the data of size ``n_requests``; return what was built."""
    started = time.perf_counter()
    built = build_history(app, n_requests, n_requesters=n_requesters)
    with app.app_context():
        extras = add_extras(built)
    derived = refresh_derived(app)
    analyse(app)
    seconds = round(time.perf_counter() - started, 1)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE bench_build (requests INTEGER, "
                                    "version INTEGER, events INTEGER, built_s FLOAT)"))
            connection.execute(text("INSERT INTO bench_build VALUES (:n, :v, :e, :s)"),
                               {"n": n_requests, "v": BUILD_VERSION, "e": built["events"],
                                "s": seconds})
    return {**extras, "events": built["events"], "derived": derived, "built_s": seconds}


def ensure_data(app, n_requests, reuse=False, rebuild=False, log=print,
                n_requesters=N_REQUESTERS):
    """Reuse the database's data when it fits (see the module's docstring), else build it;
    return {"requests", "events", "built_s", "reused"}."""
    head = migrations_head(app)
    stored = None if rebuild else stored_build(app)
    fits = stored is not None and (stored["requests"], stored["version"], stored["head"]) == (
        n_requests, BUILD_VERSION, head)
    if stored is not None and (fits or reuse):
        if stored["head"] != head:
            log(f"upgrading the reused data from {stored['head']} to {head}")
            from flask_migrate import upgrade

            with app.app_context():
                upgrade()
            refresh_derived(app, with_search=False)
            analyse(app)
        return {**stored, "reused": True}
    if reuse:
        log("nothing to reuse: building")
    log(f"building {n_requests} requests ...")
    built = build(app, n_requests, n_requesters)
    log(f"built in {built['built_s']:.0f} s: {n_requests} requests, {built['events']} events, "
        f"{built['assets']} assets, {built['follow_ups']} follow-ups, "
        f"{built['notifications']} notifications; {', '.join(built['derived'])}")
    return {"requests": n_requests, "events": built["events"], "built_s": built["built_s"],
            "reused": False}


def targets(app):
    """What the pages need: team 00 (the analyst's), the request with the longest history among
    team 00's (not confidential), its requester's e-mail, an asset."""
    with app.app_context():
        analyst = db.session.scalar(select(User).where(User.email == ANALYST))
        team = analyst.team_ids[0]
        busy = db.session.execute(
            select(Event.request_id, Request.requester_id, func.count())
            .join(Request, Request.id == Event.request_id)
            .where(Request.team_id == team, Request.is_confidential.is_(False))
            .group_by(Event.request_id, Request.requester_id)
            .order_by(func.count().desc(), Event.request_id).limit(1)).first()
        requester = db.session.get(User, busy[1])
        asset = db.session.scalar(select(func.min(Asset.id)))
        # A request waiting for triage: its page ranks its neighbours (possible duplicates and
        # what already answers it) for those who triage it.
        waiting = db.session.scalar(
            select(func.min(Request.id)).where(Request.team_id == team,
                                               Request.state == "submitted",
                                               Request.is_confidential.is_(False)))
        return {"team": team, "request": busy[0], "request_events": busy[2], "asset": asset,
                "requester": requester.email, "open_request": waiting}


def pages(app):
    """{role: [path, ...]}: what each role's pages and charts are timed on."""
    found = targets(app)
    today = utcnow().date()
    year = f"start={today - timedelta(days=364)}&end={today}"
    five = f"start={today - timedelta(days=reports.MAX_DAYS - 1)}&end={today}"
    request_page = f"/requests/{found['request']}"
    open_page = [f"/requests/{found['open_request']}"] if found["open_request"] else []
    charts = [f"/reports/{key}.json?{span}" for key in reports.CHARTS for span in (year, five)]
    charts += [f"/reports/platform-gaps/{key}.json" for key in _gap_charts()]
    charts += ["/reports/impact/weeks.json", "/reports/impact.json",
               "/reports/deflection/weeks.json"]
    return {
        "lead": ["/requests/all", "/requests/all?state=any&sort=deadline&page=40",
                 "/requests/all?q=churn&kind=ad_hoc", "/backlog", f"/backlog?team={found['team']}",
                 "/backlog?sla=breached", "/queue", "/triage", f"/search?q={QUICK_SEARCHES[0]}",
                 "/catalogue", "/catalogue?q=churn", f"/catalogue/{found['asset']}",
                 "/notifications", "/follow-ups", request_page, *open_page, "/reports",
                 "/reports/forecast", "/reports/impact", "/reports/deflection",
                 "/reports/platform-gaps", "/admin/users", "/admin/teams", "/settings",
                 *charts],
        "analyst": ["/requests/team", "/requests/mine", "/queue", "/queue?sla=at_risk",
                    "/triage", request_page, *open_page, "/notifications", "/follow-ups",
                    f"/search?q={QUICK_SEARCHES[1].replace(' ', '+')}"],
        "requester": ["/requests/mine", "/requests/team", request_page, "/requests/new",
                      "/notifications", "/follow-ups",
                      f"/search?q={QUICK_SEARCHES[0]}"],
        # The REST API, with a token (issue 16).
        "lead api": ["/api/v1/requests?scope=all&limit=100",
                     "/api/v1/requests?scope=all&state=any&sort=deadline&limit=100",
                     f"/api/v1/requests/{found['request']}", "/api/v1/backlog?limit=100",
                     "/api/v1/catalogue?q=churn&limit=100",
                     "/api/v1/reports/throughput?" + year],
        "analyst api": ["/api/v1/queue?limit=100", "/api/v1/requests?scope=team&limit=100"],
    }, found


def api_headers(app, email):
    """The Authorization header of a read token of ``email`` made for this run (it expires in a
    day; earlier runs' tokens are removed first, so the bench never meets the token limit)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.execute(delete(AccessToken).where(AccessToken.user_id == user.id,
                                                     AccessToken.name == "bench.pages"))
        _, secret = tokens.create(user, "bench.pages", "read", 1, utcnow())
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _gap_charts():
    from tickets.reports.gaps import GAP_CHARTS

    return [key for key in GAP_CHARTS if key != "ranking"]


def time_digests(app):
    """Queue the week's digests of everyone (``digest.queue_due``) in one transaction, rolled
    back; return the row of the figures (one run: median = p95 = its time)."""
    with app.app_context():
        now = digest_moment_passed(settings.current())
        before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        db.session.rollback()
        counter = StatementCounter(db.engine)
        with counter:
            started, started_cpu = time.perf_counter(), time.process_time()
            queued = digest.queue_due(now)
            db.session.flush()
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - started_cpu) * 1000
        db.session.rollback()
        # On SQLite each digest's savepoint, taken outside a transaction (pysqlite begins none
        # for reads), commits when released: the rollback leaves them, so delete them.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > before,
                                                       OutboxMessage.kind == "digest"))
        db.session.commit()
    return {"median_ms": elapsed, "p95_ms": elapsed, "cpu_ms": cpu, "sql": counter.count,
            "status": 200 if queued else 0, "queued": queued}


def drop_build_marker(app):
    """Forget what was built (the ``bench_build`` table), so the database is the app's alone."""
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS bench_build"))


def run(app, n_requests, repeat=10, only=None, reuse=False, rebuild=False, log=print,
        n_requesters=N_REQUESTERS):
    """Build or reuse the data, time everything; return the figures (the JSON's object).
    ``n_requesters`` (and so the digests' people) is smaller only in the tests."""
    data = ensure_data(app, n_requests, reuse=reuse, rebuild=rebuild, log=log,
                       n_requesters=n_requesters)
    by_role, found = pages(app)
    # As a gunicorn worker runs the app (app.py): what exists before the first request is
    # frozen, so full collections do not walk it (here, also what building the data left).
    gc.collect()
    gc.freeze()
    emails = {"lead": LEAD, "analyst": ANALYST, "requester": found["requester"]}
    figures = {}
    for role, paths in by_role.items():
        paths = [path for path in paths if not only or only in f"{role} {path}"]
        if not paths:
            continue
        person, _, via_api = role.partition(" ")
        headers = api_headers(app, emails[person]) if via_api else None
        for path in paths:  # one at a time, so each row shows as soon as it is measured
            found_figures = time_pages(app, emails[person], PASSWORD, [path], repeat,
                                       headers=headers)[path]
            figures[f"{role} {path}"] = found_figures
            log(_row(f"{role} {path}", found_figures))
    name = "digests queue_due"
    if not only or only in name:
        figures[name] = time_digests(app)
        log(_row(name, figures[name]))
    with app.app_context():
        url = db.engine.url
        events = db.session.scalar(select(func.count()).select_from(Event))
        requests = db.session.scalar(select(func.count()).select_from(Request))
        db.session.remove()  # its connection back in the pool first, or dispose leaves it open
        db.engine.dispose()
    figures["_meta"] = {"requests": requests, "events": events, "database": url.get_backend_name(),
                        "url": url.render_as_string(hide_password=True), "repeat": repeat,
                        "built_s": data["built_s"], "reused": data["reused"],
                        "build_version": BUILD_VERSION, "request_page_events":
                        found["request_events"], "python": sys.version.split()[0],
                        "cpus": os.cpu_count(), "load_avg": os.getloadavg()[0],
                        "times": "median_ms/p95_ms wall, cpu_ms median process time"}
    return figures


def _row(name, figures):
    sql = "-" if figures["sql"] is None else figures["sql"]
    note = "" if figures["status"] == 200 else f"  HTTP {figures['status']}"
    return (f"{name[:70]:<70} {figures['median_ms']:>9.1f} {figures['p95_ms']:>9.1f} "
            f"{figures['cpu_ms']:>9.1f} {sql:>5}{note}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", help="time only the pages whose name contains this")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--reuse", action="store_true",
                        help="use the data in the database whatever its size or version")
    choice.add_argument("--rebuild", action="store_true", help="build even when data fits")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or default_url(args.requests)
    # Charts are timed as computed: kept figures (REPORT_CACHE_SECONDS) would time a lookup.
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url,
                                 "SQLALCHEMY_RECORD_QUERIES": True, "REPORT_CACHE_SECONDS": 0})
    print(f"{'page':<70} {'median ms':>9} {'p95 ms':>9} {'CPU ms':>9} {'SQL':>5}", flush=True)
    figures = run(app, args.requests, repeat=args.repeat, only=args.only, reuse=args.reuse,
                  rebuild=args.rebuild, log=lambda line: print(line, flush=True))
    meta = figures["_meta"]
    print(f"{meta['requests']} requests, {meta['events']} events on {meta['database']}; "
          f"{args.repeat} runs each; load average {meta['load_avg']:.1f} on {meta['cpus']} CPUs")
    print(json.dumps(rounded(figures)))


def rounded(figures):
    """``figures`` with times to a tenth of a millisecond, for the JSON line."""
    return {name: {key: round(value, 1) if isinstance(value, float) else value
                   for key, value in found.items()} for name, found in figures.items()}


if __name__ == "__main__":
    main()
