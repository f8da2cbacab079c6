"""The /reports page, its JSON, table and CSV endpoints, and the CSV exports of the lists
(tests/test_app_setup.py tests the set-up step that installs Chart.js).

The page and endpoints are tested against fake charts registered in place of the real ones
(tests/test_reports.py tests the figures), so these tests say what the page does with any chart.
"""
import csv
import html as html_module
import io
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import AuthActions, counting_sql
from tickets import localtime, reports
from tickets.extensions import cache
from tickets.models import STATES, utcnow


# --- Fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def desk(make):
    """Marketing and Finance, a requester of each, an analyst serving Marketing, a lead, an admin."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return {
        "marketing": marketing, "finance": finance,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "finance requester": make.user("requester", teams=[finance], name="Fred Finance"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "lead": make.user("lead", name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }


@pytest.fixture
def charts(monkeypatch):
    """Two fake charts in place of the real ones; ``charts.calls`` holds the Filters each got."""

    class Fake:
        calls = []

    @reports.chart("throughput", "Requests delivered", "Each bar is a week's deliveries.")
    def throughput(spec, filters, now):
        Fake.calls.append(filters)
        return reports.Chart(
            key="throughput", title="Requests delivered", type="bar",
            how_to_read="Each bar is a week's deliveries.",
            labels=["2026-11-09", "2026-11-16"],
            series=[reports.Series("Marketing", [2, 3]), reports.Series("Finance", [0, 1])],
            columns=["Week of", "Team", "Delivered"],
            rows=[["2026-11-09", "Marketing", 2], ["2026-11-16", "=HYPERLINK(\"x\")", -1]],
            x_label="Week of", y_label="Requests", notes={"p50": 2.5})

    @reports.chart("ageing", "Ageing", "Dots are open requests.")
    def ageing(spec, filters, now):
        Fake.calls.append(filters)
        return reports.Chart(
            key="ageing", title="Ageing", how_to_read="Dots are open requests.", type="scatter",
            labels=["Accepted"], series=[reports.Series("On track", [{"x": 0.1, "y": 4}],
                                                       {"status": "on_track"})],
            columns=["Request", "Age"], rows=[[7, 4]])

    monkeypatch.setattr(reports, "CHARTS", {"throughput": throughput, "ageing": ageing})
    Fake.calls = []
    return Fake


def today(app):
    with app.app_context():
        return localtime.local_today(utcnow())


def field_value(html, name):
    """The value a GET form's input or select shows for ``name``."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    if found:
        return found.group(1)
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    chosen = re.search(r'<option selected value="([^"]*)"', select.group(1))
    return chosen.group(1) if chosen else ""


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- Who may see reports ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/reports", "/reports/throughput.json",
                                  "/reports/throughput.csv", "/reports/throughput/table"])
def test_anonymous_visitors_are_sent_to_log_in(client, charts, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize("path", ["/reports", "/reports/throughput.json",
                                  "/reports/throughput.csv", "/reports/throughput/table"])
def test_requesters_may_not_see_reports(client, auth, desk, charts, path):
    auth.login(desk["requester"])
    assert client.get(path).status_code == 403
    assert charts.calls == []


@pytest.mark.parametrize("role", ["lead", "admin"])
def test_leads_and_admins_see_every_team(client, auth, desk, charts, role):
    auth.login(desk[role])
    response = client.get(f"/reports?team={desk['finance']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'value="">All teams</option>' in html
    assert field_value(html, "team") == str(desk["finance"])
    client.get(f"/reports/throughput.json?team={desk['finance']}")
    assert charts.calls[-1].team_id == desk["finance"]
    assert charts.calls[-1].team_ids is None


def test_analysts_see_the_teams_they_serve(client, auth, desk, charts):
    auth.login(desk["analyst"])
    html = client.get("/reports").get_data(as_text=True)
    assert "All my teams" in html and ">Marketing</option>" in html
    assert ">Finance</option>" not in html
    client.get("/reports/throughput.json")
    assert charts.calls[-1].team_ids == (desk["marketing"],)


def test_an_analyst_asking_for_another_team_gets_their_own(client, auth, desk, charts, errors):
    auth.login(desk["analyst"])
    response = client.get(f"/reports?team={desk['finance']}")
    assert response.status_code == 200
    assert errors(response)["team"] == ("You see the reports of your own teams only: showing all "
                                        "of them.")
    for path in ("throughput.json", "throughput.csv", "throughput/table"):
        assert client.get(f"/reports/{path}?team={desk['finance']}").status_code == 200
    assert {(f.team_id, f.team_ids) for f in charts.calls} == {(None, (desk["marketing"],))}


def test_the_navigation_shows_reports_to_analysts_leads_and_admins(client, auth, desk):
    link = re.compile(r'<a class="nav-link"\s+href="/reports">Reports</a>')
    for role, shown in [("requester", False), ("analyst", True), ("lead", True), ("admin", True)]:
        auth.login(desk[role])
        assert bool(link.search(client.get("/requests/mine").get_data(as_text=True))) is shown, role
        auth.logout()


# --- The page -------------------------------------------------------------------------------------

def test_the_page_shows_a_card_per_chart_in_registry_order(client, auth, desk, charts):
    auth.login(desk["lead"])
    html = client.get("/reports").get_data(as_text=True)
    assert re.findall(r'data-chart-card="(\w+)"', html) == ["throughput", "ageing"]
    assert 'href="/reports/forecast"' in html
    assert charts.calls == [], "the page draws nothing itself: each chart's JSON is fetched"


def test_without_javascript_each_card_shows_its_charts_title_and_how_to_read_it(
        app, client, auth, desk):
    auth.login(desk["lead"])
    html = client.get("/reports").get_data(as_text=True)
    titles = dict(re.findall(r'id="report-(\w+)-title" data-chart-title>([^<]*)</h2>', html))
    hows = re.findall(r'<p class="[^"]*" data-chart-how>([^<]*)</p>', html)
    assert titles == {"cumulative_flow": "Cumulative flow", "backlog_by_team": "Backlog by team",
                      "demand_by_team": "Demand by team",
                      "ageing_wip": "Ageing work in progress", "throughput": "Throughput",
                      "lead_time": "Lead and cycle time", "sla_attainment": "SLA attainment",
                      "ad_hoc_vs_planned": "Ad-hoc and planned work",
                      "closures": "How requests closed"}
    with app.app_context():
        drawn = [reports.CHARTS[key](reports.Filters.default(today(app)), utcnow())
                 for key in titles]
    assert [chart.title for chart in drawn] == list(titles.values()), "the same as the JSON's"
    assert [html_module.unescape(how) for how in hows] == [chart.how_to_read for chart in drawn]


def test_each_card_fetches_its_json_and_links_table_csv_and_json_with_the_same_filters(
        app, client, auth, desk, charts):
    auth.login(desk["lead"])
    query = f"start=2026-01-05&end=2026-03-29&team={desk['marketing']}&kind=project"
    html = client.get(f"/reports?{query}").get_data(as_text=True).replace("&amp;", "&")
    card = html[html.index('data-chart-card="throughput"'):html.index('data-chart-card="ageing"')]
    assert f'data-chart-url="/reports/throughput.json?{query}"' in card
    assert f'href="/reports/throughput/table?{query}"' in card
    assert f'href="/reports/throughput.csv?{query}"' in card
    assert f'href="/reports/throughput.json?{query}"' in card
    assert f'data-table-url="/reports/throughput/table?fragment=1&{query}"' in card


def test_filters_round_trip_through_the_url(client, auth, desk, charts):
    auth.login(desk["lead"])
    query = (f"start=2026-01-05&end=2026-03-29&team={desk['finance']}"
             f"&analyst={desk['analyst']}&kind=data_issue")
    html = client.get(f"/reports?{query}").get_data(as_text=True)
    assert [field_value(html, name) for name in ("start", "end", "team", "analyst", "kind")] == [
        "2026-01-05", "2026-03-29", str(desk["finance"]), str(desk["analyst"]), "data_issue"]
    assert "Finance · Ana Analyst · Data issue · 5 Jan 2026 – 29 Mar 2026" in html
    client.get(f"/reports/throughput.json?{query}")
    assert charts.calls[-1] == reports.Filters(
        start=date(2026, 1, 5), end=date(2026, 3, 29), team_id=desk["finance"],
        analyst_id=desk["analyst"], kind="data_issue")


def test_without_filters_the_page_shows_the_last_twelve_weeks(app, client, auth, desk, charts):
    auth.login(desk["lead"])
    html = client.get("/reports").get_data(as_text=True)
    end = today(app)
    assert field_value(html, "end") == end.isoformat()
    assert field_value(html, "start") == (end - timedelta(weeks=12, days=-1)).isoformat()
    assert 'aria-current="true" data-quick-range="12w"' in html


def test_quick_ranges_set_the_dates_and_keep_the_other_filters(app, client, auth, desk, charts):
    auth.login(desk["lead"])
    html = client.get(f"/reports?team={desk['marketing']}&kind=ad_hoc").get_data(as_text=True)
    end = today(app)
    links = dict((code, href.replace("&amp;", "&")) for href, code in re.findall(
        r'href="([^"]*)"[^>]*data-quick-range="(\w+)"', html))
    for code, weeks in [("4w", 4), ("12w", 12), ("1y", 52), ("5y", 260)]:
        start = end - timedelta(weeks=weeks) + timedelta(days=1)
        assert f"start={start.isoformat()}" in links[code]
        assert f"end={end.isoformat()}" in links[code]
        assert f"team={desk['marketing']}" in links[code] and "kind=ad_hoc" in links[code]


@pytest.mark.parametrize("query, field, message", [
    ("start=23/11/2026", "start", "Enter a date as YYYY-MM-DD"),
    ("start=2026-03-01&end=2026-01-01", "start", "a range runs forwards"),
    ("start=2010-01-01&end=2026-01-01", "start", "covers at most 5 years"),
    ("end=2199-01-01", "end", "Days after today"),
    ("team=abc", "team", "There is no such team"),
    ("team=99999", "team", "There is no such team"),
    ("team=99999999999999999999", "team", "There is no such team"),
    ("analyst=424242", "analyst", "There is no such analyst"),
    ("kind=sql", "kind", "Choose a kind from the list"),
])
def test_bad_filters_are_explained_next_to_their_field(client, auth, desk, charts, errors, query,
                                                       field, message):
    auth.login(desk["lead"])
    response = client.get(f"/reports?{query}")
    assert response.status_code == 200
    assert message in errors(response)[field]
    for path in ("throughput.json", "throughput.csv", "throughput/table"):
        assert client.get(f"/reports/{path}?{query}").status_code == 200


def test_the_page_loads_chartjs_and_its_script_from_our_own_static_files(client, auth, desk, charts):
    auth.login(desk["lead"])
    html = client.get("/reports").get_data(as_text=True)
    assert '<script src="/static/vendor/chartjs/chart.umd.js"></script>' in html
    assert '<script src="/static/js/reports.js"></script>' in html
    assert "<script>" not in html and " style=" not in html


def test_charts_and_state_badges_take_their_colours_from_the_one_palette(app):
    static = Path(app.static_folder)
    css = (static / "css" / "app.css").read_text()
    script = (static / "js" / "reports.js").read_text()
    defined = re.findall(r"--dd-([\w-]+):\s*(#[0-9a-f]{6})", css)
    names = [name for name, _ in defined]
    assert len(names) == len(set(names)), "each colour is defined once"
    for state in STATES:
        assert f"state-{state}" in names, state
        assert f".state-{state} {{ background: var(--dd-state-{state}); }}" in css
    for status in ("on_track", "at_risk", "breached", "paused", "stopped"):
        assert f"sla-{status}" in names, status
    assert "series-1" in names
    # The chart script names no colour of its own: it reads the palette (--dd-*) for the
    # datasets, and its legend takes each dataset's colours.
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgba?\(\s*\d", script)
    assert '"--dd-" + name' in script


# --- JSON, table and CSV --------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".json", ".csv", "/table"])
def test_an_unknown_chart_is_not_found(client, auth, desk, charts, suffix):
    auth.login(desk["lead"])
    assert client.get(f"/reports/nonsense{suffix}").status_code == 404


def test_json_gives_the_chart_as_the_page_draws_it(client, auth, desk, charts):
    auth.login(desk["lead"])
    response = client.get("/reports/throughput.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert set(data) == {"key", "title", "how_to_read", "type", "labels", "series", "columns",
                         "rows", "x_label", "y_label", "notes", "as_of"}
    assert abs(datetime.fromisoformat(data["as_of"]) - utcnow()) < timedelta(minutes=1)
    assert data["type"] == "bar" and data["labels"] == ["2026-11-09", "2026-11-16"]
    assert data["series"][0] == {"name": "Marketing", "data": [2, 3]}
    assert data["notes"] == {"p50": 2.5}
    scatter = client.get("/reports/ageing.json").get_json()
    assert scatter["series"] == [{"name": "On track", "data": [{"x": 0.1, "y": 4}],
                                  "status": "on_track"}]


def test_csv_is_a_utf8_download_named_after_the_chart_and_range(client, auth, desk, charts):
    auth.login(desk["lead"])
    response = client.get("/reports/throughput.csv?start=2026-01-05&end=2026-03-29")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=throughput_2026-01-05_2026-03-29.csv")
    assert csv_rows(response)[0] == ["Week of", "Team", "Delivered"]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client, auth, desk, charts):
    auth.login(desk["lead"])
    rows = csv_rows(client.get("/reports/throughput.csv"))
    assert rows[2] == ["2026-11-16", "'=HYPERLINK(\"x\")", "-1"], "numbers stay numbers"


@pytest.mark.parametrize("value, cell", [
    ("=1+2", "'=1+2"), ("+33 1 23", "'+33 1 23"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("Zoë's team, Paris", "Zoë's team, Paris"), ("a=b", "a=b"), (-5, -5),
    (2.5, 2.5), (None, ""), (True, "yes"), (date(2026, 1, 2), "2026-01-02"),
])
def test_spreadsheet_safe_neutralises_formulas_only(value, cell):
    from tickets.views.reports import spreadsheet_safe

    assert spreadsheet_safe(value) == cell


def test_table_is_rendered_on_the_server_as_a_page_and_as_a_fragment(client, auth, desk, charts):
    auth.login(desk["lead"])
    page = client.get("/reports/throughput/table?start=2026-01-05&end=2026-03-29")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1 class=\"h3 mb-0\">Requests delivered</h1>" in html
    assert "Each bar is a week&#39;s deliveries." in html
    assert re.findall(r"<th scope=\"col\">([^<]*)</th>", html) == ["Week of", "Team", "Delivered"]
    assert '<td class="text-end">-1</td>' in html and "=HYPERLINK(&#34;x&#34;)" in html
    fragment = client.get("/reports/throughput/table?fragment=1").get_data(as_text=True)
    assert "<html" not in fragment and "<table" in fragment and "Marketing" in fragment


# --- SQL cost ---------------------------------------------------------------------------------------

def test_the_page_and_endpoints_cost_the_same_statements_for_little_and_much_data(
        make, client, auth, desk, charts, statements):
    auth.login(desk["lead"])
    paths = ["/reports", "/reports/throughput.json", "/reports/throughput.csv",
             "/reports/throughput/table?fragment=1"]
    statements.clear()
    for path in paths:
        client.get(path).get_data()
    small = list(statements)
    for n in range(12):
        team = make.team(f"Team {n}")
        make.user("analyst", teams=[team])
        make.request(desk["requester"], team)
    statements.clear()
    for path in paths:
        client.get(path).get_data()
    assert statements == small
    assert max(small) <= 7  # the page's: one of them the bell's unread notifications


# --- List exports ---------------------------------------------------------------------------------

@pytest.fixture
def count_all_statements(app):
    """Count every SQL statement, streamed responses included (request_finished fires before a
    streamed body is read, so the ``statements`` fixture would miss them)."""
    with counting_sql(app) as counted:
        yield counted


def test_list_csv_holds_every_matching_request_not_just_a_page(client, auth, make, desk, app):
    for n in range(30):
        make.request(desk["requester"], desk["marketing"], title=f"Report {n:02}",
                     kind="project" if n % 3 == 0 else "ad_hoc")
    make.request(desk["finance requester"], desk["finance"], title="Finance only")
    auth.login(desk["lead"])
    response = client.get(f"/requests/all?team={desk['marketing']}&kind=ad_hoc&sort=oldest"
                          "&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r"attachment; filename=requests-all_\d{4}-\d\d-\d\d\.csv",
                        response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0][:5] == ["ID", "Title", "State", "Kind", "Team"]
    titles = [row[1] for row in rows[1:]]
    assert titles == [f"Report {n:02}" for n in range(30) if n % 3], "filtered, sorted, all pages"
    assert {row[3] for row in rows[1:]} == {"Ad-hoc"} and {row[4] for row in rows[1:]} == {"Marketing"}
    assert rows[1][5] == "Rita Requester" and rows[1][13].endswith(f"/requests/{rows[1][0]}")


def test_list_csv_never_includes_what_the_user_may_not_see(client, auth, make, desk):
    own = make.request(desk["requester"], desk["marketing"], title="Mine")
    teammate = make.user("requester", teams=[desk["marketing"]])
    make.request(teammate, desk["marketing"], title="Teammate's open one")
    make.request(teammate, desk["marketing"], title="Teammate's secret", is_confidential=True)
    make.request(desk["finance requester"], desk["finance"], title="Finance secret",
                 is_confidential=True)
    make.request(desk["finance requester"], desk["finance"], title="Finance open")
    auth.login(desk["requester"])
    for scope in ("mine", "team"):
        titles = {row[1] for row in csv_rows(client.get(f"/requests/{scope}?format=csv"))[1:]}
        assert "Teammate's secret" not in titles and "Finance secret" not in titles
        assert "Finance open" not in titles
    assert {row[1] for row in csv_rows(client.get("/requests/team?format=csv"))[1:]} == {
        "Mine", "Teammate's open one"}
    assert client.get("/requests/all?format=csv").status_code == 403
    assert own


def test_list_csv_neutralises_formulas_in_titles(client, auth, make, desk):
    make.request(desk["requester"], desk["marketing"], title="=cmd|' /C calc'!A0")
    auth.login(desk["requester"])
    rows = csv_rows(client.get("/requests/mine?format=csv"))
    assert rows[1][1] == "'=cmd|' /C calc'!A0"


def test_list_csv_costs_the_same_statements_for_3_and_60_requests(client, auth, make, desk,
                                                                   count_all_statements):
    auth.login(desk["lead"])

    def export():
        count_all_statements.clear()
        rows = csv_rows(client.get("/requests/all?format=csv"))
        return len(rows) - 1, len(count_all_statements)

    for n in range(3):
        make.request(desk["requester"], desk["marketing"], title=f"Small {n}")
    small_rows, small = export()
    for n in range(57):
        make.request(desk["requester"], desk["finance"], title=f"Large {n}")
    large_rows, large = export()
    assert (small_rows, large_rows) == (3, 60)
    assert small == large


def _accepted(make, desk, title, team="marketing", **fields):
    request_id = make.request(desk["requester"], desk[team], title=title, **fields)
    make.act(request_id, "accept", desk["lead"], size="S")
    return request_id


def test_backlog_csv_lists_every_entry_in_backlog_order_with_positions(client, auth, make, desk):
    for n in range(30):
        _accepted(make, desk, f"Queued {n:02}", business_impact=1 + n % 5)
    _accepted(make, desk, "@Finance formula", team="finance")
    auth.login(desk["lead"])
    page = client.get(f"/backlog?team={desk['marketing']}").get_data(as_text=True)
    shown = re.findall(r'class="fw-semibold text-decoration-none">([^<]*)</a>', page)
    response = client.get(f"/backlog?team={desk['marketing']}&format=csv")
    assert response.status_code == 200
    assert re.fullmatch(r"attachment; filename=backlog_\d{4}-\d\d-\d\d\.csv",
                        response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0][:4] == ["Position in team queue", "Queue length", "ID", "Title"]
    assert [row[3] for row in rows[1:26]] == shown, "the same order as the page"
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, 31)]
    assert {row[1] for row in rows[1:]} == {"30"} and {row[6] for row in rows[1:]} == {"Marketing"}
    finance = csv_rows(client.get(f"/backlog?team={desk['finance']}&format=csv"))
    assert finance[1][3] == "'@Finance formula"


def test_backlog_csv_is_for_leads_and_admins(client, auth, desk):
    auth.login(desk["analyst"])
    assert client.get("/backlog?format=csv").status_code == 403


def test_backlog_csv_costs_the_same_statements_for_2_and_40_entries(client, auth, make, desk,
                                                                     count_all_statements):
    auth.login(desk["lead"])

    def export():
        count_all_statements.clear()
        return len(csv_rows(client.get("/backlog?format=csv"))) - 1, len(count_all_statements)

    for n in range(2):
        _accepted(make, desk, f"Small {n}")
    small_rows, small = export()
    for n in range(38):
        _accepted(make, desk, f"Large {n}", team="finance")
    large_rows, large = export()
    assert (small_rows, large_rows) == (2, 40)
    assert small == large


@pytest.mark.parametrize("path", ["/requests/team?state=any&kind=ad_hoc", "/backlog?team=1"])
def test_lists_link_to_their_csv_with_the_same_filters(client, auth, desk, path):
    auth.login(desk["lead"])
    html = client.get(path).get_data(as_text=True).replace("&amp;", "&")
    link = re.search(r'class="btn btn-sm btn-outline-secondary export-csv" href="([^"]*)"', html)
    assert link, "an Export CSV link"
    base, _, query = path.partition("?")
    assert link.group(1).startswith(base + "?")
    assert set(link.group(1).split("?")[1].split("&")) == set(query.split("&")) | {"format=csv"}


# --- The real charts through these endpoints ------------------------------------------------------

REAL_CHARTS = list(reports.CHARTS)  # read at import, before any test swaps the registry


def _history(make, desk, count):
    for n in range(count):
        request_id = make.request(desk["requester"], desk["marketing"], title=f"History {n}")
        make.act(request_id, "accept", desk["analyst"], size="S")
        if n % 2:
            make.act(request_id, "decline", desk["analyst"], reason="low_value",
                     note="Too little value for the effort.")


@pytest.mark.parametrize("key", REAL_CHARTS)
def test_every_chart_answers_json_csv_and_table_at_a_constant_cost(client, auth, make, desk, key,
                                                                    statements):
    auth.login(desk["analyst"])
    paths = [f"/reports/{key}.json?start=2026-01-05", f"/reports/{key}.csv",
             f"/reports/{key}/table?fragment=1"]

    def run():
        with client.application.app_context():
            cache.clear()  # what computing costs, not what a kept chart costs
        statements.clear()
        responses = [client.get(path) for path in paths]
        assert [response.status_code for response in responses] == [200, 200, 200]
        assert responses[0].get_json()["key"] == key
        assert csv_rows(responses[1])[0] == responses[0].get_json()["columns"]
        return list(statements)

    _history(make, desk, 2)
    small = run()
    _history(make, desk, 12)
    assert run() == small


# --- Charts kept a minute (reports.computed) ----------------------------------------------------

def _flow_total(client, path="/reports/cumulative_flow.json?start=2026-01-05"):
    data = client.get(path).get_json()
    return sum(series["data"][-1] for series in data["series"]), data["as_of"]


def test_a_chart_is_kept_for_the_same_filters_and_says_since_when(client, auth, make, desk,
                                                                   statements):
    auth.login(desk["lead"])
    _history(make, desk, 2)
    statements.clear()
    first, as_of = _flow_total(client)
    computing = statements[-1]
    _history(make, desk, 3)  # changes within the minute are not in the kept figures
    statements.clear()
    assert _flow_total(client) == (first, as_of)
    assert statements[-1] < computing  # the filters' statements only
    # Other filters are other figures, computed now with the new requests.
    later, _ = _flow_total(client, "/reports/cumulative_flow.json?start=2026-01-06")
    assert (first, later) == (1, 3)  # (in _history, every other request is declined)


def test_people_with_other_teams_never_share_kept_figures(client, auth, make, desk):
    _history(make, desk, 2)
    make.request(desk["finance requester"], desk["finance"], title="Another team's request")
    auth.login(desk["lead"])
    everything, _ = _flow_total(client)
    auth.logout()
    auth.login(desk["analyst"])  # serves marketing only
    own, _ = _flow_total(client)
    assert (everything, own) == (2, 1)  # (in _history, every other request is declined)


def lead_browser(make_app, desk, **config):
    """A test client of an app made with ``config``, logged in as the lead."""
    app = make_app(**config)
    browser = app.test_client()
    AuthActions(browser, app).login(desk["lead"])
    return browser


def test_kept_figures_expire(make_app, make, desk):
    browser = lead_browser(make_app, desk, REPORT_CACHE_SECONDS=1)
    _history(make, desk, 1)
    first, as_of = _flow_total(browser)
    _history(make, desk, 1)  # (accepted: every other one is declined)
    time.sleep(1.1)
    later, later_as_of = _flow_total(browser)
    assert (first, later) == (1, 2) and later_as_of > as_of


def test_without_keeping_every_view_computes(make_app, make, desk):
    browser = lead_browser(make_app, desk, REPORT_CACHE_SECONDS=0)
    _history(make, desk, 1)
    first, _ = _flow_total(browser)
    _history(make, desk, 1)
    assert (first, _flow_total(browser)[0]) == (1, 2)
    assert "Figures are at most" not in browser.get("/reports").get_data(as_text=True)


def test_the_page_says_how_old_figures_may_be(client, auth, desk):
    auth.login(desk["lead"])
    assert "Figures are at most a minute old." in client.get("/reports").get_data(as_text=True)
