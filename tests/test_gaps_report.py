"""The platform-gaps report (/reports/platform-gaps): figures for a known set of gaps (ranking
by hours and count, per team, per week), the filters, who sees what, CSV and JSON, bad input,
and a constant number of SQL statements."""
import csv
import io
from datetime import UTC, datetime

import pytest

from tests.test_gaps import default_taxonomy, record
from tickets.extensions import db
from tickets.models import GapCategory

# Three ISO weeks, Monday 7 to Sunday 27 September 2026 (the settings' timezone is UTC).
RANGE = "start=2026-09-07&end=2026-09-27"
REPORT = f"/reports/platform-gaps?{RANGE}"


def at(day, hour=10):
    return datetime(2026, 9, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def desk(make, app):
    """Marketing and Finance, a requester and an analyst of each, a lead, an admin, and the
    gaps of the known set:

    ===  =========  ======================  =====  ========  =====  ======================
    #    team       category                hours  context   day    note
    ===  =========  ======================  =====  ========  =====  ======================
    1    Marketing  No access               4      delivery  8 Sep  Needs Salesforce read
    2    Marketing  No access               16     delivery  15     Salesforce again
    3    Finance    No access               1      decline   16     (none)
    4    Finance    Does not know the tool  1      decline   9      Did not know Looker
    5    Finance    Does not know the tool  60     delivery  22     <script>... Looker
    6    Marketing  Data not trusted        2.5    decline   23     Numbers differ
    -    Marketing  Other                   100    delivery  20 Aug  (before the range)
    ===  =========  ======================  =====  ========  =====  ======================
    """
    default_taxonomy(app)
    marketing, finance = make.team("Marketing"), make.team("Finance")
    d = {
        "marketing": marketing, "finance": finance,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "fred": make.user("requester", teams=[finance], name="Fred Finance"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "fay": make.user("analyst", teams=[finance], name="Fay Finance"),
        "lead": make.user("lead", name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }
    m_request = make.request(d["requester"], marketing, title="Pipeline by stage")
    f_request = make.request(d["fred"], finance, title="Invoices by month")
    for request_id, category, hours, context, when, note in (
            (m_request, "No access", 4, "delivery", at(8), "Needs Salesforce read access"),
            (m_request, "No access", 16, "delivery", at(15), "Salesforce again"),
            (f_request, "No access", 1, "decline", at(16), ""),
            (f_request, "Does not know the tool", 1, "decline", at(9),
             "Did not know Looker filters"),
            (f_request, "Does not know the tool", 60, "delivery", at(22),
             "<script>alert(1)</script> Looker training"),
            (m_request, "Data not trusted", 2.5, "decline", at(23), "Numbers differ"),
            (m_request, "Other", 100, "delivery", datetime(2026, 8, 20, tzinfo=UTC), "Old")):
        record(app, request_id, d["lead"], category, note, hours, context, when)
    d["m_request"], d["f_request"] = m_request, f_request
    return d


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def chart(client, key, query=RANGE):
    response = client.get(f"/reports/platform-gaps/{key}.json?{query}")
    assert response.status_code == 200
    return response.get_json()


# --- The figures --------------------------------------------------------------------------------

def test_the_ranking_orders_categories_by_hours_with_counts_shares_teams_and_notes(
        client, auth, desk):
    auth.login(desk["lead"])
    data = chart(client, "ranking")
    assert data["columns"] == ["Category", "Gaps", "Analyst hours", "Share of hours",
                               "Teams most affected", "Latest notes"]
    assert data["rows"] == [
        ["Does not know the tool", 2, 61, 0.722, "Finance (61 h)",
         "<script>alert(1)</script> Looker training | Did not know Looker filters"],
        ["No access", 3, 21, 0.249, "Marketing (20 h), Finance (1 h)",
         "Salesforce again | Needs Salesforce read access"],
        ["Data not trusted", 1, 2.5, 0.03, "Marketing (2.5 h)", "Numbers differ"],
    ]
    assert data["labels"] == ["Does not know the tool", "No access", "Data not trusted"]
    assert data["series"] == [{"name": "Analyst hours", "data": [61, 21, 2.5]}]
    assert data["notes"] == {"gaps": 6, "hours": 84.5}


def test_the_page_shows_the_ranking_with_notes_escaped(client, auth, desk):
    auth.login(desk["lead"])
    response = client.get(REPORT)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "6</span> gaps cost" in html and "84.5</span> analyst hours" in html
    table = html.split('class="table table-sm align-middle mb-0 gaps-ranking"')[1]
    assert (table.index("Does not know the tool") < table.index("No access")
            < table.index("Data not trusted"))
    assert "72%" in table and "25%" in table and "3%" in table
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Looker training" in html
    assert "Other" not in table  # recorded before the range


def test_a_note_written_twice_is_quoted_once(client, auth, desk, app):
    record(app, desk["m_request"], desk["lead"], "Data not trusted", "Numbers differ", 1,
           "decline", at(24))
    auth.login(desk["lead"])
    assert chart(client, "ranking")["rows"][-1][-1] == "Numbers differ"


def test_per_team_stacks_each_teams_hours_by_category(client, auth, desk):
    auth.login(desk["lead"])
    data = chart(client, "by_team")
    assert data["type"] == "stacked_bar"
    assert data["labels"] == ["Finance", "Marketing"]  # 62 hours, then 22.5
    assert [(s["name"], s["data"]) for s in data["series"]] == [
        ("Does not know the tool", [61, 0]), ("No access", [1, 20]),
        ("Data not trusted", [0, 2.5])]
    assert data["rows"] == [["Finance", "Does not know the tool", 2, 61],
                            ["Finance", "No access", 1, 1],
                            ["Marketing", "No access", 2, 20],
                            ["Marketing", "Data not trusted", 1, 2.5]]


def test_per_week_stacks_each_weeks_hours_by_category(client, auth, desk):
    auth.login(desk["lead"])
    data = chart(client, "by_week")
    assert data["labels"] == ["2026-09-07", "2026-09-14", "2026-09-21"]
    assert [(s["name"], s["data"]) for s in data["series"]] == [
        ("Does not know the tool", [1, 0, 60]), ("No access", [4, 17, 0]),
        ("Data not trusted", [0, 0, 2.5])]
    assert data["rows"] == [["2026-09-07", "Does not know the tool", 1, 1],
                            ["2026-09-07", "No access", 1, 4],
                            ["2026-09-14", "No access", 2, 17],
                            ["2026-09-21", "Does not know the tool", 1, 60],
                            ["2026-09-21", "Data not trusted", 1, 2.5]]


def test_the_context_filter_keeps_declines_or_deliveries(client, auth, desk):
    auth.login(desk["lead"])
    declines = chart(client, "ranking", f"{RANGE}&context=decline")
    # 2.5 hours first; No access and the tool tie at 1 hour and 1 gap: the taxonomy's order.
    assert [row[:3] for row in declines["rows"]] == [
        ["Data not trusted", 1, 2.5], ["No access", 1, 1], ["Does not know the tool", 1, 1]]
    deliveries = chart(client, "ranking", f"{RANGE}&context=delivery")
    assert [row[:3] for row in deliveries["rows"]] == [
        ["Does not know the tool", 1, 60], ["No access", 2, 20]]


def test_the_team_filter_narrows_to_one_team(client, auth, desk):
    auth.login(desk["lead"])
    data = chart(client, "ranking", f"{RANGE}&team={desk['finance']}")
    assert [row[:3] for row in data["rows"]] == [["Does not know the tool", 2, 61],
                                                 ["No access", 1, 1]]


def test_a_retired_category_keeps_its_history_in_the_report(client, auth, desk, app):
    auth.login(desk["lead"])
    with app.app_context():
        trusted = db.session.scalar(db.select(GapCategory.id)
                                    .where(GapCategory.name == "Data not trusted"))
    auth.post(f"/settings/platform-gaps/{trusted}/retire")
    data = chart(client, "ranking")
    assert data["rows"][-1][:3] == ["Data not trusted (retired)", 1, 2.5]
    assert "Data not trusted (retired)" in client.get(REPORT).get_data(as_text=True)


def test_a_range_without_gaps_shows_the_empty_state(client, auth, desk):
    auth.login(desk["lead"])
    html = client.get("/reports/platform-gaps?start=2026-10-05&end=2026-10-11").get_data(
        as_text=True)
    assert "No platform gap was recorded for these filters." in html
    assert "chart.umd.js" not in html
    data = chart(client, "by_week", "start=2026-10-05&end=2026-10-11")
    assert data["rows"] == [] and data["series"] == []


# --- Who sees what -------------------------------------------------------------------------------

PATHS = ["/reports/platform-gaps", "/reports/platform-gaps/ranking.json",
         "/reports/platform-gaps/by_team.csv", "/reports/platform-gaps/by_week/table"]


@pytest.mark.parametrize("path", PATHS)
def test_requesters_may_not_see_the_report(client, auth, desk, path):
    auth.login(desk["requester"])
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.location.startswith("/login")


def test_an_analyst_sees_only_the_gaps_of_the_teams_they_serve(client, auth, desk, errors):
    auth.login(desk["analyst"])  # serves Marketing
    data = chart(client, "ranking")
    assert [row[:3] for row in data["rows"]] == [["No access", 2, 20], ["Data not trusted", 1, 2.5]]
    assert "Finance" not in str(data)
    assert "Looker" not in client.get(REPORT).get_data(as_text=True)
    assert [row[0] for row in csv_rows(client.get(
        f"/reports/platform-gaps/by_team.csv?{RANGE}"))[1:]] == ["Marketing", "Marketing"]
    # Asking for Finance shows their own teams, and says so.
    response = client.get(f"{REPORT}&team={desk['finance']}")
    assert errors(response)["team"] == ("You see the gaps of your own teams only: showing all "
                                        "of them.")
    assert chart(client, "by_team", f"{RANGE}&team={desk['finance']}")["labels"] == ["Marketing"]


def test_an_admin_sees_every_team(client, auth, desk):
    auth.login(desk["admin"])
    assert chart(client, "by_team")["labels"] == ["Finance", "Marketing"]


def test_notes_of_confidential_requests_are_quoted_only_to_who_may_see_them(
        client, auth, desk, make, app):
    secret = make.request(desk["requester"], desk["marketing"], title="Merger",
                          is_confidential=True)
    record(app, secret, desk["lead"], "No access", "Merger data room", 3, "delivery", at(25))
    auth.login(desk["analyst"])
    data = chart(client, "ranking")
    assert data["rows"][0][:3] == ["No access", 3, 23]  # counted with the team's
    assert "Merger" not in str(data)
    auth.logout()
    auth.login(desk["lead"])
    assert "Merger data room" in str(chart(client, "ranking"))


def test_the_reports_page_links_to_the_gaps_report(client, auth, desk):
    auth.login(desk["analyst"])
    html = client.get(f"/reports?{RANGE}").get_data(as_text=True)
    assert f'href="/reports/platform-gaps?{RANGE}"' in html.replace("&amp;", "&")


# --- Exports -------------------------------------------------------------------------------------

def test_csv_exports_are_named_after_the_chart_and_range_and_neutralise_formulas(
        client, auth, desk, app):
    record(app, desk["m_request"], desk["lead"], "Other", "=HYPERLINK(\"http://x\")", 1,
           "decline", at(24))
    auth.login(desk["lead"])
    response = client.get(f"/reports/platform-gaps/ranking.csv?{RANGE}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert ("platform_gaps_ranking_2026-09-07_2026-09-27.csv"
            in response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0] == ["Category", "Gaps", "Analyst hours", "Share of hours",
                       "Teams most affected", "Latest notes"]
    assert rows[1] == ["Does not know the tool", "2", "61", "0.713", "Finance (61 h)",
                       "<script>alert(1)</script> Looker training | Did not know Looker filters"]
    assert rows[-1][0] == "Other" and rows[-1][-1] == "'=HYPERLINK(\"http://x\")"


def test_each_chart_has_a_table_page_and_fragment(client, auth, desk):
    auth.login(desk["lead"])
    page = client.get(f"/reports/platform-gaps/by_week/table?{RANGE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1" in html and "2026-09-14" in html
    fragment = client.get(f"/reports/platform-gaps/by_week/table?{RANGE}&fragment=1")
    assert "<h1" not in fragment.get_data(as_text=True)


def test_the_page_draws_its_charts_with_the_reports_script(client, auth, desk):
    auth.login(desk["lead"])
    html = client.get(REPORT).get_data(as_text=True)
    assert '<script src="/static/js/reports.js"' in html
    for key in ("by_team", "by_week"):
        assert (f'data-chart-url="/reports/platform-gaps/{key}.json?start=2026-09-07&amp;'
                f'end=2026-09-27"') in html


# --- Bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "start=not-a-date", "start=2026-13-45&end=0000-00-00", "end=9999-12-31",
    "start=2026-09-27&end=2026-09-07", "start=1900-01-01", "team=abc", "team=-1",
    "team=99999999999999999999", "team=999", "context=bogus", "context=", "start=%00",
    "team=1&team=2", "context=decline&context=delivery", "start=" + "9" * 500,
])
def test_bad_filters_never_fail(client, auth, desk, query):
    auth.login(desk["lead"])
    for path in ("/reports/platform-gaps", "/reports/platform-gaps/ranking.json",
                 "/reports/platform-gaps/by_team.csv", "/reports/platform-gaps/by_week.json",
                 "/reports/platform-gaps/by_week/table"):
        assert client.get(f"{path}?{query}").status_code == 200, (path, query)


def test_a_reversed_range_is_turned_round_and_said_so(client, auth, desk, errors):
    auth.login(desk["lead"])
    response = client.get("/reports/platform-gaps?start=2026-09-27&end=2026-09-07")
    assert "The report uses 2026-09-07" in errors(response)["start"]
    assert chart(client, "ranking", "start=2026-09-27&end=2026-09-07")["notes"]["gaps"] == 6


@pytest.mark.parametrize("path", ["/reports/platform-gaps/nope.json",
                                  "/reports/platform-gaps/nope.csv",
                                  "/reports/platform-gaps/nope/table"])
def test_an_unknown_chart_is_not_found(client, auth, desk, path):
    auth.login(desk["lead"])
    assert client.get(path).status_code == 404


# --- Cost ----------------------------------------------------------------------------------------

def test_the_page_and_exports_cost_the_same_statements_for_few_and_many_gaps(
        client, auth, desk, app, make, statements):
    paths = [REPORT, *(f"/reports/platform-gaps/{key}.{kind}?{RANGE}"
                       for key in ("ranking", "by_team", "by_week") for kind in ("json", "csv")),
             f"/reports/platform-gaps/by_week/table?{RANGE}&fragment=1"]

    def run():
        statements.clear()
        for path in paths:
            assert client.get(path).status_code == 200
        return list(statements)

    auth.login(desk["analyst"])
    few = run()
    team = make.team("Sales")
    more = make.request(desk["requester"], desk["marketing"], title="More")
    elsewhere = make.request(desk["requester"], team, title="Elsewhere")
    for n in range(25):
        record(app, more if n % 2 else elsewhere, desk["lead"],
               ["No access", "Other", "Documentation missing"][n % 3], f"note {n}", n,
               "delivery", at(7 + n % 20, 8))
    assert run() == few
