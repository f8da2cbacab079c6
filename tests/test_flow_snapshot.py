"""The flow snapshot (tickets/reports/snapshot.py): the event history summed per local day,
kept by a flush hook as events are written, rebuilt from the events on demand, and read by
cumulative flow and backlog by team instead of every event.

The specification is equivalence: for any history, range, filter, timezone and ``now``, the
charts read from the snapshot equal the charts read from the events. ``tests/test_reports.py``
checks the charts against figures computed by hand; ``test_reports_snapshot.py`` runs those
same tests with the snapshot kept by the hook.
"""
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.test_reports import Story, at
from tickets import reports, settings, triage
from tickets.extensions import db
from tickets.models import FlowDay, Request, Setting, User
from tickets.reports import backlog, flow, snapshot

SNAPSHOT_CHARTS = ("cumulative_flow", "backlog_by_team")


@pytest.fixture
def desk(make):
    from types import SimpleNamespace

    finance, marketing = make.team("Finance"), make.team("Marketing")
    return SimpleNamespace(
        finance=finance, marketing=marketing,
        requester=make.user("requester", teams=[finance], name="Rita Requester"),
        marketer=make.user("requester", teams=[marketing], name="Max Marketer"),
        analyst=make.user("analyst", teams=[finance], name="Ana Analyst"),
        analyst2=make.user("analyst", teams=[marketing], name="Bo Analyst"),
        lead=make.user("lead", name="Leo Lead"))


@pytest.fixture
def story(app, desk):
    return Story(app, desk)


def build_snapshot(app):
    with app.app_context():
        snapshot.rebuild()
        db.session.commit()


def snapshot_rows(app):
    with app.app_context():
        return sorted((row.day, row.team_id, row.kind, row.state, row.change)
                      for row in db.session.scalars(select(FlowDay)) if row.change)


def charts(app, key, filters, now, use_snapshot, monkeypatch):
    """Chart ``key`` as JSON, read from the snapshot or (``use_snapshot`` False) the events;
    asserts the snapshot really served it when asked to."""
    used = []
    real = snapshot.daily_changes

    def spy(*args, **kwargs):
        used.append(True)
        return real(*args, **kwargs)

    with monkeypatch.context() as patch:
        for module in (flow, backlog):
            patch.setattr(module, "daily_changes", spy)
            if not use_snapshot:
                patch.setattr(module, "serves", lambda *args: False)
        with app.app_context():
            found = reports.CHARTS[key](filters, now).as_json()
    if use_snapshot and filters.analyst_id is None and found["labels"]:
        assert used, "the snapshot did not serve the chart"
    return found


MOVES = {
    "submitted": ["accept", "ask", "decline", "cancel"],
    "needs_info": ["answer"],
    "accepted": ["claim", "ask", "cancel"],
    "in_progress": ["deliver", "block"],
    "blocked": ["unblock"],
    "delivered": ["confirm", "reopen"],
}


def random_history(app, story, desk, make, rng, start, days, requests=25):
    """``requests`` random requests over ``days`` days from ``start``: random teams, kinds,
    transitions at random minutes, and kind changes on the way."""
    make.wip_limit(desk.lead, 50)
    by_requester = ("answer", "cancel", "confirm", "reopen")
    for _ in range(requests):
        when = start + timedelta(minutes=rng.randrange(days * 1440))
        marketing = rng.random() < 0.4
        requester = desk.marketer if marketing else desk.requester
        request_id = story.submit(
            when, requester=requester,
            team=desk.marketing if marketing else desk.finance,
            kind=rng.choice(["ad_hoc", "project", "data_issue"]))
        state = "submitted"
        for _ in range(rng.randrange(8)):
            if state not in MOVES:
                break
            when += timedelta(minutes=rng.randrange(30, 72 * 60))
            if state == "submitted" and rng.random() < 0.25:
                with app.app_context():
                    request = db.session.get(Request, request_id)
                    kinds = [k for k in ("ad_hoc", "project", "data_issue") if k != request.kind]
                    triage.change_kind(request, db.session.get(User, desk.lead),
                                       rng.choice(kinds), when)
                    db.session.commit()
            name = rng.choice(MOVES[state])
            story.step(request_id, name, requester if name in by_requester else desk.lead, when)
            state = make.state(request_id)


def filter_sets(desk, start, days, rng):
    """Ranges and filters to compare: whole history, a window inside it, one day, each team,
    each kind, a reader of one team, a range reaching past today."""
    first = start.date()
    inside = first + timedelta(days=rng.randrange(1, days - 3))
    found = [reports.Filters(first - timedelta(days=3), first + timedelta(days=days + 5)),
             reports.Filters(inside, inside + timedelta(days=rng.randrange(1, 20))),
             reports.Filters(inside, inside)]
    for team in (desk.finance, desk.marketing):
        found.append(reports.Filters(first, first + timedelta(days=days), team_id=team))
    for kind in ("ad_hoc", "project"):
        found.append(reports.Filters(inside, first + timedelta(days=days), kind=kind))
    found.append(reports.Filters(inside, first + timedelta(days=days), team_ids=(desk.finance,)))
    found.append(reports.Filters(inside, first + timedelta(days=days), team_ids=()))
    return found


@pytest.mark.parametrize("seed,zone", [(1, "UTC"), (2, "Europe/Berlin"), (3, "America/New_York"),
                                       (4, "Asia/Kolkata"), (5, "Pacific/Chatham")])
def test_charts_from_the_snapshot_equal_charts_from_the_events_for_random_histories(
        app, story, desk, make, monkeypatch, seed, zone):
    """Random histories (around a DST change where the zone has one), the snapshot kept by the
    hook as they are written: every range and filter gives the same charts either way, at a
    ``now`` in the middle of a day and at one after the history."""
    with app.app_context():
        settings.update({"timezone": zone}, None, at(0))
        db.session.commit()
    build_snapshot(app)  # empty: from now on the hook keeps it
    rng = random.Random(seed)
    start, days = datetime(2026, 3, 18, tzinfo=UTC), 30
    random_history(app, story, desk, make, rng, start, days)
    kept = snapshot_rows(app)
    assert kept, "the hook kept nothing"
    build_snapshot(app)
    assert snapshot_rows(app) == kept  # the hook and a rebuild agree row for row
    for now in (start + timedelta(days=rng.randrange(5, days), minutes=rng.randrange(1440)),
                start + timedelta(days=days + 10)):
        for filters in filter_sets(desk, start, days, rng):
            for key in SNAPSHOT_CHARTS:
                assert (charts(app, key, filters, now, True, monkeypatch)
                        == charts(app, key, filters, now, False, monkeypatch)), (key, filters, now)


def test_a_snapshot_of_another_timezone_is_not_used_until_rebuilt(app, story, desk, monkeypatch):
    """Days of another zone would be wrong: the charts read the events until the snapshot is
    rebuilt for the settings' zone."""
    build_snapshot(app)
    story.submit(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, at(0))  # 00:30 on the 3rd there
        db.session.commit()
        values = settings.current()
        assert not snapshot.serves(reports.Filters(date(2026, 3, 1), date(2026, 3, 5)), values,
                                   snapshot.snapshot_zone())
    filters = reports.Filters(date(2026, 3, 1), date(2026, 3, 5))
    now = datetime(2026, 3, 10, tzinfo=UTC)
    with app.app_context():
        submitted = reports.CHARTS["cumulative_flow"](filters, now).as_json()["rows"]
    assert [row[1] for row in submitted] == [0, 0, 1, 1, 1]
    build_snapshot(app)
    assert charts(app, "cumulative_flow", filters, now, True, monkeypatch)["rows"] == submitted


def test_without_a_snapshot_the_hook_writes_nothing_and_charts_read_events(app, story, desk):
    story.submit(datetime(2026, 3, 2, 10, tzinfo=UTC))
    assert snapshot_rows(app) == []
    with app.app_context():
        assert snapshot.snapshot_zone() is None


def test_changing_a_requests_kind_moves_its_history_in_the_snapshot(app, story, desk):
    build_snapshot(app)
    request_id = story.submit(datetime(2026, 3, 2, 10, tzinfo=UTC), kind="ad_hoc")
    story.step(request_id, "ask", desk.lead, datetime(2026, 3, 3, 10, tzinfo=UTC))
    story.step(request_id, "answer", desk.requester, datetime(2026, 3, 4, 10, tzinfo=UTC))
    with app.app_context():
        request = db.session.get(Request, request_id)
        triage.change_kind(request, db.session.get(User, desk.lead), "project",
                           datetime(2026, 3, 5, 10, tzinfo=UTC))
        db.session.commit()
    rows = snapshot_rows(app)
    assert {row[2] for row in rows} == {"project"}
    build_snapshot(app)
    assert snapshot_rows(app) == rows


def test_deleting_a_request_takes_its_history_out_of_the_snapshot(app, story, desk):
    build_snapshot(app)
    kept = story.submit(datetime(2026, 3, 2, 10, tzinfo=UTC))
    gone = story.submit(datetime(2026, 3, 2, 11, tzinfo=UTC), team=desk.marketing,
                        requester=desk.marketer)
    story.step(gone, "accept", desk.lead, datetime(2026, 3, 3, 10, tzinfo=UTC))
    with app.app_context():
        db.session.delete(db.session.get(Request, gone))
        db.session.commit()
        assert db.session.get(Request, kept) is not None
    rows = snapshot_rows(app)
    assert [(row[1], row[3], row[4]) for row in rows] == [(desk.finance, "submitted", 1)]


def test_the_rebuild_command_and_the_nightly_job_rebuild_it(app, story, desk, runner):
    from tickets import scheduler

    story.submit(datetime(2026, 3, 2, 10, tzinfo=UTC))
    result = runner.invoke(args=["reports", "rebuild-snapshot"])
    assert "Flow snapshot rebuilt: 1 day row(s), timezone UTC." in result.output, result.output
    assert snapshot_rows(app) == [(20514, desk.finance, "ad_hoc", "submitted", 1)]
    job = next(job for job in scheduler.JOBS if job.name == "flow_snapshot")
    assert job.every == timedelta(days=1)
    with app.app_context():
        db.session.execute(db.delete(FlowDay))
        db.session.commit()
        run = scheduler.run_job(job, datetime(2026, 3, 3, 2, tzinfo=UTC))
        assert run.error is None and run.summary == "flow snapshot rebuilt: 1 day row(s)"
        assert db.session.get(Setting, snapshot.ZONE_KEY).value == "UTC"
    assert len(snapshot_rows(app)) == 1


def test_the_snapshot_is_not_used_for_an_analyst_filter(app, desk):
    with app.app_context():
        values = settings.current()
    assert snapshot.serves(reports.Filters(date(2026, 3, 1), date(2026, 3, 2)), values, "UTC")
    assert not snapshot.serves(reports.Filters(date(2026, 3, 1), date(2026, 3, 2),
                                               analyst_id=desk.analyst), values, "UTC")


def test_the_hook_keeps_the_demos_whole_history_as_a_rebuild_would(app, runner, monkeypatch):
    """The demo's stories (every transition, kind changes, central triage, reopenings) written
    with a snapshot present: the hook's rows are a rebuild's rows, and the charts agree."""
    from tickets.demo import seed_demo

    build_snapshot(app)
    with app.app_context():
        seed_demo()
        db.session.commit()
    today = datetime.now(UTC).date()
    kept = snapshot_rows(app)
    assert kept
    build_snapshot(app)
    assert snapshot_rows(app) == kept
    now = datetime.now(UTC)
    for filters in (reports.Filters(today - timedelta(days=120), today),
                    reports.Filters(today - timedelta(days=30), today, kind="ad_hoc")):
        for key in SNAPSHOT_CHARTS:
            assert (charts(app, key, filters, now, True, monkeypatch)
                    == charts(app, key, filters, now, False, monkeypatch)), key
    result = runner.invoke(args=["seed-demo"])  # already there: nothing added, nothing rebuilt
    assert "nothing added" in result.output
    assert snapshot_rows(app) == kept
