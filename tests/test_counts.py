"""'Open' means one thing (issue 14): the counting words of tickets/counts.py, and one team with a
request in every state whose counts agree on every page, digest, report, export and forecast
that shows them (the digest once said 36 open, the backlog 15 and the forecast 33)."""
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tickets import counts, digest, forecast, reports, settings
from tickets.extensions import db
from tickets.models import STATES, Request, Team, User, utcnow


@pytest.fixture
def every_state(app, make):
    """Marketing with one request in each of the eleven states, all reached by transitions.

    The budget is 0 so the one ad-hoc request is waitlisted; the others are projects."""
    marketing = make.team("Marketing")
    make.team("Finance")  # another team, with nothing
    rita = make.user("requester", teams=[marketing], name="Rita Requester")
    ana = make.user("analyst", teams=[marketing], name="Ana Analyst")
    lead = make.user("lead", name="Leo Lead")
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, marketing), 0, None, utcnow())
        db.session.commit()

    def new(**fields):
        return make.request(rita, marketing, kind="project", **fields)

    def accepted():
        request_id = new()
        make.act(request_id, "accept", ana, size="M")
        return request_id

    def working():
        request_id = accepted()
        make.act(request_id, "claim", ana)
        return request_id

    ids = {"submitted": new(), "waitlisted": make.request(rita, marketing, kind="ad_hoc")}
    ids["needs_info"] = new()
    make.act(ids["needs_info"], "ask", ana, note="Which regions?")
    ids["accepted"] = accepted()
    ids["in_progress"] = working()
    ids["blocked"] = working()
    make.act(ids["blocked"], "block", ana, note="Waiting for the warehouse")
    ids["delivered"] = working()
    make.act(ids["delivered"], "deliver", ana, url="https://bi.example.com/d", note="Done")
    ids["resolved"] = working()
    make.act(ids["resolved"], "deliver", ana, url="https://bi.example.com/r", note="Done")
    make.act(ids["resolved"], "confirm", rita)
    ids["declined"] = new()
    make.act(ids["declined"], "decline", ana, reason="low_value", note="Not worth it")
    ids["duplicate"] = new()
    make.act(ids["duplicate"], "mark_duplicate", ana, original=ids["submitted"], note="Same")
    ids["cancelled"] = new()
    make.act(ids["cancelled"], "cancel", rita, note="No longer needed")
    with app.app_context():
        states = {state: db.session.get(Request, request_id).state
                  for state, request_id in ids.items()}
    assert states == {state: state for state in STATES}
    return SimpleNamespace(marketing=marketing, rita=rita, ana=ana, lead=lead, ids=ids)


# The numbers every place must show for Marketing.
EXPECTED = {"open": 6, "backlog": 4, "queue": 1, "in_work": 2, "waiting_on_requester": 2,
            "delivered": 1, "closed": 4}


def test_each_counting_word_counts_the_states_design_md_gives_it(app, every_state):
    with app.app_context():
        found = counts.by_team([every_state.marketing])[every_state.marketing]
        total = counts.total()
    assert {word: found[word] for word in EXPECTED} == EXPECTED
    assert {word: total[word] for word in EXPECTED} == EXPECTED
    assert found.open == found.backlog + found.in_work
    assert found.phrase("open") == "6 open (before delivery)"
    assert counts.phrase(1, "delivered") == "1 delivered (to confirm)"


def test_the_count_strips_counts_leave_only_the_closed_requests_out(app, every_state):
    with app.app_context():
        unclosed = counts.unclosed_by_team()[every_state.marketing]
        every = counts.by_team()[every_state.marketing]
    assert unclosed.closed == 0
    assert {word: unclosed[word] for word in EXPECTED if word != "closed"} == {
        word: every[word] for word in EXPECTED if word != "closed"}


def test_counting_by_the_events_at_a_moment_gives_the_current_counts_now(app, every_state):
    with app.app_context():
        now_by_state = counts.by_team()
        now_by_events = counts.at(utcnow())
        before_anything = counts.at(utcnow() - timedelta(days=1))
    assert now_by_events == now_by_state
    assert before_anything == {}


def test_teams_without_requests_count_zero(app, every_state):
    with app.app_context():
        finance = db.session.scalar(db.select(Team.id).where(Team.name == "Finance"))
        assert counts.by_team([finance])[finance].open == 0


def test_every_page_digest_report_and_forecast_agrees_on_open(app, every_state, auth):
    team = every_state.marketing
    with app.app_context():
        lead_digest = digest.lead_context(db.session.get(User, every_state.lead), utcnow(),
                                          settings.current())
        requester_digest = digest.requester_context(
            db.session.get(User, every_state.rita), utcnow(), settings.current())
        clearance = forecast.backlog_clearance(team, utcnow())
        today = utcnow().date()
        chart = reports.CHARTS["backlog_by_team"](
            reports.Filters(start=today - timedelta(days=13), end=today), utcnow())

    # The lead's digest: open now, its parts, and the oldest open list without delivered ones.
    assert lead_digest["open"] == EXPECTED["open"]
    assert lead_digest["counts"].delivered == EXPECTED["delivered"]
    oldest_states = {row["req"].state for row in lead_digest["oldest"]}
    assert oldest_states <= counts.WORDS["open"].states and len(lead_digest["oldest"]) == 5
    # The requester's digest: their teams' open requests.
    assert requester_digest["open_total"] == EXPECTED["open"]
    # The backlog forecast.
    [row] = clearance.teams
    assert row.backlog == EXPECTED["open"]
    # The report's backlog line at the end of this week.
    [line] = chart.series
    assert line.data[-1] == EXPECTED["open"]

    auth.login(every_state.lead)
    # The admin's teams page.
    teams_page = auth.client.get("/admin/teams").get_data(as_text=True)
    marketing_row = teams_page.split("Marketing</span>")[1].split("</tr>")[0]
    assert re.search(r'team-open-count">6<', marketing_row)
    assert re.search(r'team-delivered-count">1<', marketing_row)
    assert "Open (before delivery)" in teams_page
    # The leads' backlog page: the strip, and the rows it lists (the queue and the work).
    backlog_page = auth.client.get(f"/backlog?team={team}").get_data(as_text=True)
    assert "Marketing: <span class=\"count-open\">6 open (before delivery)</span>" in backlog_page
    assert "4 in the backlog (not started)" in backlog_page
    assert "1 in the queue (accepted, not started)" in backlog_page
    assert "2 in work (in progress or blocked)" in backlog_page
    assert "1 delivered (to confirm)" in backlog_page
    listed = re.findall(r'href="/requests/(\d+)"', backlog_page.split("backlog-table")[1])
    assert len(set(listed)) == EXPECTED["queue"] + EXPECTED["in_work"]
    # The backlog export lists the same rows.
    export = auth.client.get(f"/backlog?team={team}&format=csv").get_data(as_text=True)
    assert len(export.strip().splitlines()) - 1 == EXPECTED["queue"] + EXPECTED["in_work"]
    # The list of all requests, filtered to open ones, and its export.
    listing = auth.client.get("/requests/all?state=open").get_data(as_text=True)
    assert "Open (before delivery)" in listing
    open_export = auth.client.get("/requests/all?state=open&format=csv").get_data(as_text=True)
    assert len(open_export.strip().splitlines()) - 1 == EXPECTED["open"]
    # The backlog forecast page.
    forecast_page = auth.client.get(f"/reports/forecast?team={team}").get_data(as_text=True)
    assert re.search(r'<td class="text-end">6</td>', forecast_page)
