"""Time importing past requests from a spreadsheet (tickets/imports.py), then importing it again.

    .venv/bin/python -m bench.import [--rows 50000] [--new-people 50]

The database is the one in ``DATABASE_URL`` (PostgreSQL or SQLite; default a SQLite file
``/tmp/bench_import/import.db``), wiped and migrated first (``bench.common.wipe``). It gets
10 teams, 5 analysts and 200 requesters; the CSV file (built in memory, as a data team's
spreadsheet of five years of requests: every state, created, delivered and resolved dates,
deadlines on a third, an assignee on those started) names those people, ``--new-people`` more
who do not exist yet and one team that does not (created on confirmation, as
``--create-missing`` does), and has one bad row in a thousand (a date that is not one).

It prints the time of each step: building the file, reading it, checking every row (the
preview's work), writing (creating people, the bulk inserts, the search index of the new
requests, the SLA clocks of the open ones, the flow snapshot) and the commit; then the same
file imported again (every row already there, nothing written). The last line is one JSON
object of those figures.

Measured on two shared cores (load about 2): SQLite 10.9 s (2.6 s again), PostgreSQL 18.0 s
(4.6 s again).
"""
import argparse
import csv
import io
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.common import wipe
from tickets import create_app, imports, people
from tickets.extensions import db
from tickets.models import Event, Request, utcnow

TEAMS = [f"Team {n:02}" for n in range(10)]
STATES = {"New": 8, "Accepted": 6, "In progress": 6, "Blocked": 1, "Delivered": 4,
          "Resolved": 60, "Declined": 8, "Cancelled": 5, "Needs info": 2}
HEADER = ["ID", "Title", "Team", "Requester e-mail", "Description", "Usage", "Format",
          "Status", "Created", "Delivered", "Resolved", "Assignee", "Priority", "Deadline",
          "Link"]


def build_file(rows, new_people, seed=7):
    """The CSV file (bytes) of ``rows`` requests, as described in the module's docstring."""
    rng = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    states, weights = list(STATES), list(STATES.values())
    for number in range(1, rows + 1):
        created = start + timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
        state = rng.choices(states, weights)[0]
        delivered = resolved = assignee = link = ""
        if state in ("In progress", "Blocked", "Delivered", "Resolved"):
            assignee = f"a{rng.randrange(5)}@example.com"
        if state in ("Delivered", "Resolved"):
            at = created + timedelta(hours=rng.randrange(2, 600))
            delivered, link = at.strftime("%Y-%m-%d %H:%M"), f"https://bi.example.com/{number}"
            if state == "Resolved":
                resolved = (at + timedelta(hours=rng.randrange(1, 100))).strftime("%d/%m/%Y %H:%M")
        elif state in ("Declined", "Cancelled"):
            resolved = (created + timedelta(days=rng.randrange(1, 20))).strftime("%Y-%m-%d")
        if rng.random() < new_people / 250:
            requester = f"new{rng.randrange(new_people)}@example.com"
        else:
            requester = f"r{rng.randrange(200)}@example.com"
        team = "Imported team" if number % 997 == 0 else rng.choice(TEAMS)
        deadline = ((created + timedelta(days=rng.randrange(3, 60))).strftime("%d/%m/%Y")
                    if rng.random() < 0.33 else "")
        if number % 1000 == 500:
            deadline = "31/02/2024"  # a bad row
        writer.writerow([f"REQ-{number}", f"Weekly {rng.choice(['churn', 'revenue', 'signups'])}"
                         f" by region #{number}", team, requester,
                         "Accounts per region per week since January, with their plan.",
                         "Reviewed in the Monday meeting.", rng.choice(["Excel", "Dashboard",
                                                                        "analysis"]),
                         state, created.strftime("%Y-%m-%d %H:%M"), delivered, resolved,
                         assignee, rng.choice(["Low", "Medium", "High", "P1", "3"]), deadline,
                         link])
    return buffer.getvalue().encode("utf-8")


def seed_people(app):
    """The teams, analysts and requesters the file names (but the new ones)."""
    with app.app_context():
        team_ids = [people.save_team(None, name=name).id for name in TEAMS]
        for n in range(5):
            people.save_user(None, name=f"Analyst {n}", email=f"a{n}@example.com",
                             role="analyst", team_ids=[team_ids[n], team_ids[n + 5]])
        for n in range(200):
            people.save_user(None, name=f"Requester {n}", email=f"r{n}@example.com",
                             role="requester", team_ids=[team_ids[n % 10]])
        db.session.commit()


def timed(figures, name, function, *args, **kwargs):
    """Run ``function`` and add its wall time in seconds to ``figures[name]``."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    figures[name] = round(figures.get(name, 0) + time.perf_counter() - started, 2)
    return result


def import_once(app, data, figures, prefix):
    """Read, check and import ``data`` once, timing each step under ``prefix``."""
    real_reindex, real_rebuild = imports.search.reindex, imports.snapshot.rebuild
    real_refresh = imports.sla_clocks.refresh_all
    imports.search.reindex = lambda *a: timed(figures, f"{prefix}search_s", real_reindex, *a)
    imports.snapshot.rebuild = lambda *a: timed(figures, f"{prefix}snapshot_s", real_rebuild, *a)
    imports.sla_clocks.refresh_all = lambda *a, **k: timed(figures, f"{prefix}sla_s",
                                                           real_refresh, *a, **k)
    try:
        with app.app_context():
            now = utcnow()
            sheet = timed(figures, f"{prefix}read_s", imports.read_file, "requests.csv", data)
            plan = timed(figures, f"{prefix}check_s", imports.check, sheet,
                         imports.guess_mapping(sheet.headers), now, create_missing=True)
            timed(figures, f"{prefix}write_s", imports.run, plan, None, now)
            timed(figures, f"{prefix}commit_s", db.session.commit)
            return plan
    finally:
        imports.search.reindex, imports.snapshot.rebuild = real_reindex, real_rebuild
        imports.sla_clocks.refresh_all = real_refresh


def main():
    """Build the data and the file, import it twice and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--new-people", type=int, default=50)
    args = parser.parse_args()
    folder = Path("/tmp/bench_import")
    folder.mkdir(exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/import.db"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    wipe(app)
    seed_people(app)
    figures = {}
    data = timed(figures, "build_file_s", build_file, args.rows, args.new_people)
    started = time.perf_counter()
    plan = import_once(app, data, figures, "")
    figures["total_s"] = round(time.perf_counter() - started, 2)
    print(f"imported {plan.imported} of {args.rows} rows ({len(data) / 1e6:.1f} MB) in "
          f"{figures['total_s']} s: {len(plan.refused_rows)} refused, created "
          f"{len(plan.missing_people)} people and {len(plan.missing_teams)} team(s)")
    started = time.perf_counter()
    again = import_once(app, data, figures, "again_")
    figures["again_total_s"] = round(time.perf_counter() - started, 2)
    print(f"the same file again: {again.imported} imported, {again.already} already imported, "
          f"in {figures['again_total_s']} s")
    with app.app_context():
        figures.update(
            rows=args.rows, imported=plan.imported, refused=len(plan.refused_rows),
            already_on_reimport=again.already,
            requests=db.session.scalar(select(func.count()).select_from(Request)),
            events=db.session.scalar(select(func.count()).select_from(Event)),
            database=db.engine.dialect.name, cpus=os.cpu_count(),
            load_avg=round(os.getloadavg()[0], 1))
    for name, value in figures.items():
        print(f"{name:<22} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
