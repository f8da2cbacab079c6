"""Deflections counted honestly (tickets/deflections.py) and the lead's deflection report
(tickets/reports/deflection.py, /reports/deflection).

A deflection is true unless the same person submits a similar request within 7 days:
"similar" is at least half of the deflection's words (search.terms) in the new request's title
and data needed. Both sides of both thresholds are checked here.

The calendar is the default one (UTC) unless a test changes it. Day 0 is Monday 2 March 2026.
"""
import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import MultiDict

from tests.conftest import count_sql, intake_fields
from tickets import deflections, intake, lifecycle, reports, settings
from tickets.extensions import db
from tickets.models import Asset, AssetLink, Deflection, Request, SearchMiss, User
from tickets.reports import deflection as report

DAY0 = date(2026, 3, 2)  # a Monday


def at(day, hour=0, minute=0):
    """An instant of March 2026 in UTC: at(0, 10) is Monday 2 March, 10:00."""
    return datetime.combine(DAY0 + timedelta(days=day), time(hour, minute), tzinfo=UTC)


@pytest.fixture
def desk(make):
    """Finance and Marketing, a requester in each, an analyst in each, and a lead."""
    finance = make.team("Finance")
    marketing = make.team("Marketing")
    return SimpleNamespace(
        finance=finance, marketing=marketing,
        rita=make.user("requester", teams=[finance], name="Rita Requester"),
        max=make.user("requester", teams=[marketing], name="Max Marketer"),
        analyst=make.user("analyst", teams=[finance], name="Ana Analyst"),
        marketing_analyst=make.user("analyst", teams=[marketing], name="Bo Analyst"),
        lead=make.user("lead", name="Leo Lead"),
    )


def submit(app, requester, team, when, title, data_needed="Per week."):
    """A request submitted at ``when``; its id."""
    with app.app_context():
        created = intake.submit_request(
            db.session.get(User, requester),
            intake_fields(team, title=title, data_needed=data_needed, deadline=None),
            now=when, today=when.date())
        db.session.commit()
        return created.id


def asset(app, team, title="Churn dashboard", linked_to=None):
    with app.app_context():
        row = Asset(title=title, url="https://bi.example.com/a", kind="dashboard", team_id=team)
        db.session.add(row)
        db.session.flush()
        if linked_to is not None:
            db.session.add(AssetLink(asset_id=row.id, request_id=linked_to))
        db.session.commit()
        return row.id


def deflect(app, user, asset_id, when, text="Weekly churn by region dashboard", team=None):
    """``user`` says asset ``asset_id`` answers ``text`` at ``when`` (deflections.record)."""
    with app.app_context():
        found = deflections.record(db.session.get(User, user), "asset", asset_id,
                                   team_id=team, text=text, now=when)
        db.session.commit()
        return found.id


def resubmitted(app, deflection_id):
    with app.app_context():
        return db.session.get(Deflection, deflection_id).resubmitted_request_id


# --- What counts as asking again ------------------------------------------------------------

@pytest.mark.parametrize("request_text, is_reasked", [
    # The deflection's words: weekly, churn, region, dashboard.
    ("Churn per region", True),  # 2 of 4: half
    ("Weekly churn by region, as a dashboard", True),  # all 4
    ("CHURN! Weekly.", True),  # case and punctuation do not matter
    ("Churn of the enterprise accounts", False),  # 1 of 4
    ("Revenue per product", False),  # none
])
def test_a_request_asks_a_deflection_again_when_it_repeats_half_its_words(request_text,
                                                                          is_reasked):
    assert deflections.is_reasked("Weekly churn by region dashboard", request_text) is is_reasked


def test_a_deflection_of_only_common_words_is_asked_again_only_by_the_same_words():
    assert deflections.is_reasked("I need the data", "i need the data!")
    assert not deflections.is_reasked("I need the data", "I need the churn data")


def test_words_far_down_the_new_requests_text_count():
    long_text = " ".join(f"word{n}" for n in range(200)) + " churn region"
    assert deflections.is_reasked("churn region", long_text)


# --- Undoing at submission ---------------------------------------------------------------------

@pytest.mark.parametrize("before, undone", [
    (timedelta(minutes=5), True),
    (timedelta(days=6, hours=23, minutes=59), True),
    (timedelta(days=7), True),
    (timedelta(days=7, minutes=1), False),
    (timedelta(days=30), False),
])
def test_a_similar_request_within_7_days_undoes_the_deflection(app, desk, before, undone):
    board = asset(app, desk.finance)
    submitted_at = at(10, 12)
    deflection = deflect(app, desk.rita, board, submitted_at - before)
    request_id = submit(app, desk.rita, desk.finance, submitted_at, "Churn per region")
    assert resubmitted(app, deflection) == (request_id if undone else None)


def test_a_different_request_within_7_days_leaves_the_deflection_true(app, desk):
    board = asset(app, desk.finance)
    deflection = deflect(app, desk.rita, board, at(0))
    submit(app, desk.rita, desk.finance, at(1), "Revenue per product",
           data_needed="Monthly revenue of each product line.")
    assert resubmitted(app, deflection) is None


def test_someone_elses_similar_request_leaves_the_deflection_true(app, desk):
    board = asset(app, desk.finance)
    deflection = deflect(app, desk.rita, board, at(0))
    submit(app, desk.max, desk.marketing, at(1), "Weekly churn by region dashboard")
    assert resubmitted(app, deflection) is None


def test_the_first_request_asking_again_is_the_one_recorded(app, desk):
    board = asset(app, desk.finance)
    deflection = deflect(app, desk.rita, board, at(0))
    first = submit(app, desk.rita, desk.finance, at(1), "Churn per region")
    submit(app, desk.rita, desk.finance, at(2), "Churn per region, weekly")
    assert resubmitted(app, deflection) == first


def test_submitting_through_the_intake_form_undoes_a_recent_deflection(app, desk, auth):
    board = asset(app, desk.finance)
    deflection = deflect(app, desk.rita, board, datetime.now(UTC) - timedelta(days=2))
    auth.login(desk.rita)
    response = auth.post("/requests/new", {
        "title": "Churn by region, every week", "team_id": str(desk.finance),
        "data_needed": "Churned accounts.", "format": "spreadsheet", "usage": "Monday meeting.",
        "lever_result": "Retention.", "lever_expected_shape": "3%.",
        "lever_extraction": "Compare.", "lever_decision": "Budget.", "no_deadline": "y",
        "kind": "ad_hoc", "business_impact": "3",
        # The requester saw the suggestions (the dashboard) and submits anyway.
        "suggestions_seen": deflections.draft_key("Churn by region, every week",
                                                  "Churned accounts.")})
    assert response.status_code == 302
    request_id = int(response.location.rsplit("/", 1)[1])
    assert resubmitted(app, deflection) == request_id


# --- Recording -------------------------------------------------------------------------------

def test_a_deflection_keeps_who_which_team_what_and_when(app, desk):
    board = asset(app, desk.finance)
    deflection_id = deflect(app, desk.max, board, at(3, 9), text="x" * 6000, team=desk.finance)
    with app.app_context():
        found = db.session.get(Deflection, deflection_id)
        assert (found.user_id, found.team_id, found.asset_id, found.created_at) == (
            desk.max, desk.finance, board, at(3, 9))
        assert len(found.text) == deflections.MAX_TEXT and found.is_true


def test_an_inactive_team_on_the_form_counts_for_the_persons_first_team(app, desk, make):
    closed = make.team("Closed", is_active=False)
    deflection_id = deflect(app, desk.max, asset(app, desk.finance), at(0), team=closed)
    assert make.get(Deflection, deflection_id).team_id == desk.marketing


def test_recording_refuses_an_unknown_kind(app, desk):
    with app.app_context(), pytest.raises(deflections.NotAnAnswer):
        deflections.record(db.session.get(User, desk.rita), "table", 1, team_id=None, text="")


def test_suggestion_calls_record_no_miss_keystroke_by_keystroke(app, desk, auth):
    auth.login(desk.rita)
    for typed in ("q", "qu", "quarterly", "quarterly zorblax"):
        auth.client.get("/requests/similar.json", query_string={"title": typed})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(SearchMiss.id))) == 0


# --- The report ----------------------------------------------------------------------------------

def filters(start=DAY0, end=DAY0 + timedelta(days=13), team_ids=None, **args):
    return reports.parse_filters(MultiDict({"start": start.isoformat(), "end": end.isoformat(),
                                            **args}), end, team_ids)


@pytest.fixture
def history(app, desk):
    """Two weeks: week 0 has 3 Finance and 1 Marketing requests received, 2 Finance
    deflections (one asked again the next day) and 1 Marketing one; week 1 has 1 Finance
    request and 1 true Finance deflection (by a delivered request)."""
    board = asset(app, desk.finance, "Churn dashboard")
    cube = asset(app, desk.marketing, "Pipeline cube")
    answered = submit(app, desk.rita, desk.finance, at(-20), "Revenue per product line")
    with app.app_context():
        req = db.session.get(Request, answered)
        lifecycle.transition(req, "accept", db.session.get(User, desk.analyst), at(-19), size="S")
        lifecycle.transition(req, "claim", db.session.get(User, desk.analyst), at(-19))
        lifecycle.transition(req, "deliver", db.session.get(User, desk.analyst), at(-18),
                             url="https://bi.example.com/r", note="Here.")
        db.session.commit()
    deflect(app, desk.rita, board, at(0, 9), text="Weekly churn by region")
    deflect(app, desk.rita, board, at(2, 9), text="Churn of enterprise accounts by region")
    submit(app, desk.rita, desk.finance, at(3, 10), "Enterprise accounts churn")  # re-asks one
    submit(app, desk.rita, desk.finance, at(1, 10), "Headcount per office")
    submit(app, desk.rita, desk.finance, at(4, 10), "Invoices overdue")
    submit(app, desk.max, desk.marketing, at(4, 11), "Leads per campaign")
    deflect(app, desk.max, cube, at(5, 16), text="Pipeline by stage")
    submit(app, desk.rita, desk.finance, at(8, 10), "Cash position")
    with app.app_context():
        deflections.record(db.session.get(User, desk.rita), "request", answered,
                           team_id=desk.finance, text="Revenue by product", now=at(9, 9))
        db.session.commit()
    return SimpleNamespace(board=board, cube=cube, answered=answered)


def test_weeks_count_requests_raw_and_true_deflections_and_the_rate(app, desk, history):
    with app.app_context():
        chart = report.weeks(filters(), at(14))
    assert chart.labels == ["2026-03-02", "2026-03-09"]
    assert chart.rows == [
        ["2026-03-02", 4, 3, 2, 1, round(2 / 6, 3)],
        ["2026-03-09", 1, 1, 1, 0, 0.5],
    ]
    assert {key: chart.notes[key] for key in ("received", "raw", "true", "reasked", "rate")} == {
        "received": 5, "raw": 4, "true": 3, "reasked": 1, "rate": 0.375}
    assert [series.name for series in chart.series] == [
        "Requests received", "Deflections (raw)", "True deflections"]


def test_weeks_of_one_team(app, desk, history):
    with app.app_context():
        chart = report.weeks(filters(team=str(desk.finance)), at(14))
    assert chart.rows == [["2026-03-02", 3, 2, 1, 1, 0.25], ["2026-03-09", 1, 1, 1, 0, 0.5]]


def test_an_analyst_counts_the_teams_they_serve(app, desk, history):
    with app.app_context():
        chart = report.weeks(filters(team_ids=[desk.marketing]), at(14))
    assert chart.rows == [["2026-03-02", 1, 1, 1, 0, 0.5], ["2026-03-09", 0, 0, 0, 0, None]]


def test_weeks_are_local_iso_weeks_of_the_settings_timezone(app, desk):
    board = asset(app, desk.finance)
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin"}, None, at(0))
        db.session.commit()
    # Sunday 8 March 23:30 UTC is Monday 9 March 00:30 in Berlin: the second week.
    deflect(app, desk.rita, board, at(6, 23, 30))
    with app.app_context():
        chart = report.weeks(filters(), at(14))
    assert [row[2] for row in chart.rows] == [0, 1]


def test_what_deflects_most(app, desk, history):
    with app.app_context():
        chart = report.answers(filters(), at(14), db.session.get(User, desk.lead))
    assert [row[:5] for row in chart.rows] == [
        ["Dashboard", "Churn dashboard", "Finance", 2, 1],
        ["Dashboard", "Pipeline cube", "Marketing", 1, 1],
        ["Delivered request", f"#{history.answered} Revenue per product line", "Finance", 1, 1],
    ]


def test_what_deflects_most_leaves_out_what_the_reader_may_not_see(app, desk, make):
    secret = make.request(desk.max, desk.marketing, title="Board pack")
    with app.app_context():
        req = db.session.get(Request, secret)
        intake.edit_request(req, db.session.get(User, desk.lead), {"is_confidential": True})
        db.session.commit()
    board = asset(app, desk.marketing, "Board pack dashboard", linked_to=secret)
    deflect(app, desk.max, board, at(1))
    with app.app_context():
        analyst = db.session.get(User, desk.marketing_analyst)
        lead = db.session.get(User, desk.lead)
        assert report.answers(filters(team_ids=[desk.marketing]), at(14), analyst).rows == []
        assert [row[1] for row in report.answers(filters(), at(14), lead).rows] == [
            "Board pack dashboard"]


def add_miss(app, user, text, source, when):
    with app.app_context():
        db.session.add(SearchMiss(user_id=user, team_id=None, query=text, source=source,
                                  query_key=" ".join(text.lower().replace("!", "").split()),
                                  created_at=when))
        db.session.commit()


def test_searches_that_found_nothing_are_grouped_by_what_was_looked_for(app, desk):
    add_miss(app, desk.rita, "churn by region", "search", at(1, 9))
    add_miss(app, desk.max, "Churn by Region!", "intake", at(3, 9))
    add_miss(app, desk.rita, "churn by region", "search", at(2, 9))
    add_miss(app, desk.rita, "nps by store", "search", at(4, 9))
    add_miss(app, desk.rita, "before the range", "search", at(-1, 9))
    with app.app_context():
        chart = report.misses(filters(), at(14))
    assert chart.rows == [["churn by region", 3, 2, 2, 1, "2026-03-05"],
                          ["nps by store", 1, 1, 1, 0, "2026-03-06"]]


# --- The page and its exports ---------------------------------------------------------------------

def page_args(**more):
    return {"start": DAY0.isoformat(), "end": (DAY0 + timedelta(days=13)).isoformat(), **more}


def test_the_lead_reads_the_figures_and_how_they_are_counted(client, auth, desk, history):
    auth.login(desk.lead)
    response = client.get("/reports/deflection", query_string=page_args())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-figure="received">5<' in html and 'data-figure="true">3<' in html
    assert 'data-figure="raw">4<' in html and 'data-figure="rate">37.5 %<' in html
    assert "true deflections \u00f7 (true deflections + requests received)" in html
    assert "18 %" in html and "40\u201355 %" in html and "within 7 days" in html
    assert "Churn dashboard" in html and "Searches that found nothing" in html
    assert "/reports/deflection/weeks.json" in html


def test_reports_links_to_the_deflection_page(client, auth, desk):
    auth.login(desk.lead)
    assert "/reports/deflection" in client.get("/reports").get_data(as_text=True)


def test_requesters_may_not_read_the_report(client, auth, desk):
    auth.login(desk.rita)
    assert client.get("/reports/deflection").status_code == 403
    assert client.get("/reports/deflection/weeks.csv").status_code == 403


def test_an_analyst_reads_the_teams_they_serve(client, auth, desk, history):
    auth.login(desk.marketing_analyst)
    html = client.get("/reports/deflection", query_string=page_args()).get_data(as_text=True)
    assert 'data-figure="received">1<' in html and "Churn dashboard" not in html
    # Naming another team shows their own.
    html = client.get("/reports/deflection",
                      query_string=page_args(team=desk.finance)).get_data(as_text=True)
    assert 'data-figure="received">1<' in html


def test_weeks_json_is_the_table_and_the_chart(client, auth, desk, history):
    auth.login(desk.lead)
    data = client.get("/reports/deflection/weeks.json", query_string=page_args()).get_json()
    assert data["rows"][0] == ["2026-03-02", 4, 3, 2, 1, 0.333]
    assert data["notes"]["rate"] == 0.375 and data["type"] == "bar"


def test_weeks_and_answers_csv(client, auth, desk, history):
    auth.login(desk.lead)
    response = client.get("/reports/deflection/weeks.csv", query_string=page_args())
    assert response.mimetype == "text/csv"
    assert "deflection-weeks_2026-03-02_2026-03-15.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["Week of", "Requests received", "Deflections (raw)",
                           "True deflections"]
    assert rows[1] == ["2026-03-02", "4", "3", "2", "1", "0.333"]
    rows = list(csv.reader(io.StringIO(client.get(
        "/reports/deflection/answers.csv", query_string=page_args()).get_data(as_text=True))))
    assert rows[1][:5] == ["Dashboard", "Churn dashboard", "Finance", "2", "1"]


def test_csv_cells_cannot_run_as_formulas(client, auth, desk):
    add_miss(app=client.application, user=desk.rita, text="=HYPERLINK(\"http://x\")",
             source="search", when=datetime.now(UTC) - timedelta(days=1))
    auth.login(desk.lead)
    body = client.get("/reports/deflection/misses.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in body


@pytest.mark.parametrize("path", ["/reports/deflection/other.csv", "/reports/deflection/weeks.xml",
                                  "/reports/deflection?start=garbage&end=2026-99-99&team=abc"])
def test_bad_urls_are_404_or_a_default_view(client, auth, desk, path):
    auth.login(desk.lead)
    assert client.get(path).status_code in (200, 404)


def test_the_page_costs_the_same_statements_for_few_and_many_deflections(app, client, auth,
                                                                        desk, statements):
    board = asset(app, desk.finance)
    auth.login(desk.lead)
    deflect(app, desk.rita, board, datetime.now(UTC) - timedelta(days=1))
    client.get("/reports/deflection")
    few = statements[-1]
    for n in range(12):
        other = asset(app, desk.marketing, f"Asset {n}")
        deflect(app, desk.max, other, datetime.now(UTC) - timedelta(days=n % 5 + 1))
        add_miss(app, desk.max, f"query {n}", "search", datetime.now(UTC) - timedelta(days=2))
    client.get("/reports/deflection")
    assert statements[-1] == few


def test_weeks_cost_a_constant_number_of_statements(app, desk, history):
    def compute():
        return report.weeks(filters(), at(14))

    assert count_sql(app, compute)[0] <= 4
