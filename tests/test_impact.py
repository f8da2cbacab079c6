"""The impact ledger (/reports/impact, issue 13): figures for a known set of resolved requests
and their follow-ups (built through the lifecycle and ``outcomes``), the filters and the
group-by, the chart, the lists, CSV and JSON, who may see it, bad input, and a constant number
of SQL statements."""
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tickets import lifecycle, outcomes
from tickets.extensions import db
from tickets.models import FollowUp, Request, User

# Four ISO weeks, Monday 2 to Sunday 29 November 2026 (the settings' timezone is UTC).
RANGE = "start=2026-11-02&end=2026-11-29"
LEDGER = f"/reports/impact?{RANGE}"
DELIVERY = {"url": "https://bi.example.com/x", "note": "Here it is."}


def at(day, hour=10, month=11):
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


class World:
    """Builds requests through the real domain: deliver, resolve, ask, remind, answer."""

    def __init__(self, app, make):
        self.app, self.make = app, make

    def resolved(self, requester, team, analyst, when, **fields):
        request_id = self.make.request(requester, team, **fields)
        self.make.act(request_id, "accept", analyst, size="S")
        self.make.act(request_id, "claim", analyst)
        self.make.act(request_id, "deliver", analyst, **DELIVERY)
        with self.app.app_context():
            lifecycle.transition(db.session.get(Request, request_id), "confirm",
                                 db.session.get(User, requester), when)
            db.session.commit()
        return request_id

    def send(self, now, force=True):
        with self.app.app_context():
            result = outcomes.send_due(now, force=force)
            db.session.commit()
            return result

    def answer(self, request_id, now, **answer):
        with self.app.app_context():
            follow_up = db.session.scalars(
                db.select(FollowUp).where(FollowUp.request_id == request_id)).one()
            outcomes.record(follow_up, follow_up.recipient, now, **answer)
            db.session.commit()

    def disable(self, user_id):
        with self.app.app_context():
            db.session.get(User, user_id).is_active = False
            db.session.commit()


@pytest.fixture
def desk(app, make):
    """Marketing and Finance, their requesters and analysts, a lead, an admin, and:

    ==  =========  ==========  ===========  ========  ==========================================
    #   team       kind        format       resolved  follow-up
    ==  =========  ==========  ===========  ========  ==========================================
    m1  Marketing  ad_hoc      dashboard    3 Nov     acted ("Moved budget to search")
    m2  Marketing  ad_hoc      spreadsheet  4 Nov     decided not to act
    m3  Marketing  project     dashboard    10 Nov    not used: too late, with a note
    m4  Marketing  ad_hoc      dashboard    11 Nov    not used yet
    f1  Finance    data_issue  table        12 Nov    asked, reminded, no answer
    f2  Finance    ad_hoc      spreadsheet  17 Nov    asked, no answer
    f3  Finance    ad_hoc      dashboard    18 Nov    nobody to ask (the requester left)
    f4  Finance    ad_hoc      dashboard    24 Nov    scheduled (not followed up yet)
    old Marketing  ad_hoc      dashboard    20 Oct    acted (before the range)
    --  Finance    ad_hoc      dashboard    --        delivered, not resolved
    ==  =========  ==========  ===========  ========  ==========================================
    """
    world = World(app, make)
    marketing, finance = make.team("Marketing"), make.team("Finance")
    d = {
        "marketing": marketing, "finance": finance,
        "rita": make.user("requester", teams=[marketing], name="Rita Requester"),
        "fred": make.user("requester", teams=[finance], name="Fred Finance"),
        "gone": make.user("requester", teams=[finance], name="Gina Gone"),
        "ana": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "fay": make.user("analyst", teams=[finance], name="Fay Finance"),
        "lead": make.user("lead", name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }

    def m(when, **fields):
        return world.resolved(d["rita"], marketing, d["ana"], when, **fields)

    def f(when, **fields):
        return world.resolved(d["fred"], finance, d["fay"], when, **fields)

    d["old"] = m(at(20, month=10), title="Old one", format="dashboard")
    d["m1"] = m(at(3), title="Spend by channel", format="dashboard")
    d["m2"] = m(at(4), title="Leads export", format="spreadsheet")
    d["m3"] = m(at(10), title="Campaign model", kind="project", format="dashboard")
    d["m4"] = m(at(11), title="Churn drivers", format="dashboard")
    d["f1"] = f(at(12), title="Broken invoices table", kind="data_issue", format="table")
    world.send(at(16))  # asks old, m1-m4 and f1
    for key, answer in (("old", {"outcome": "acted"}),
                        ("m1", {"outcome": "acted", "decision": "Moved budget to search"}),
                        ("m2", {"outcome": "decided_not_to_act",
                                "decision": "Kept the campaign as it was"}),
                        ("m3", {"outcome": "not_used", "reason": "too_late",
                                "note": "<b>The board met before it came</b>"}),
                        ("m4", {"outcome": "not_yet"})):
        world.answer(d[key], at(17), **answer)
    d["f2"] = f(at(17), title="Costs by supplier", format="spreadsheet")
    d["f3"] = world.resolved(d["gone"], finance, d["fay"], at(18), title="Gone's report",
                             format="dashboard")
    world.disable(d["gone"])
    world.send(at(24))  # asks f2, finds nobody for f3, reminds f1
    d["f4"] = f(at(24), title="Cash forecast", format="dashboard")
    delivered_only = make.request(d["fred"], finance, title="Delivered only")
    make.act(delivered_only, "accept", d["fay"], size="S")
    make.act(delivered_only, "claim", d["fay"])
    make.act(delivered_only, "deliver", d["fay"], **DELIVERY)
    d["world"] = world
    return d


def page(client, query=RANGE, status=200):
    response = client.get(f"/reports/impact?{query}")
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def figures(client, query=RANGE):
    response = client.get(f"/reports/impact.json?{query}")
    assert response.status_code == 200
    return response.get_json()


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def by_label(data):
    return {row["label"]: row for row in data["rows"]}


# --- The figures ---------------------------------------------------------------------------------

def test_the_follow_ups_are_in_the_states_the_world_says(app, desk):
    with app.app_context():
        statuses = dict(db.session.execute(db.select(FollowUp.request_id, FollowUp.status)).all())
    assert {key: statuses[desk[key]] for key in ("m1", "m4", "f1", "f2", "f3", "f4")} == {
        "m1": "answered", "m4": "answered", "f1": "reminded", "f2": "asked",
        "f3": "unanswerable", "f4": "scheduled"}


def test_the_headline_counts_deliveries_follow_ups_answers_and_decisions(client, auth, desk):
    auth.login(desk["lead"])
    data = figures(client)
    assert data["headline"] == {
        "delivered": 8, "followed_up": 7, "answered": 4, "answered_share": 0.571, "used": 2,
        "used_share": 0.5, "decisions": 2}
    html = page(client).get_data(as_text=True)
    assert 'data-figure="used"' in html and "2 of 4 answers" in html
    assert "4 of 7 followed up" in html


def test_rows_by_team_have_outcomes_reasons_and_a_totals_row(client, auth, desk):
    auth.login(desk["lead"])
    data = figures(client)
    # Most delivered first; between equals, most answered.
    assert [row["label"] for row in data["rows"]] == ["Marketing", "Finance"]
    marketing, finance = by_label(data)["Marketing"], by_label(data)["Finance"]
    assert marketing["delivered"] == 4 and marketing["followed_up"] == 4
    assert marketing["answered"] == 4 and marketing["used_share"] == 0.5
    assert marketing["outcomes"] == {"acted": 1, "decided_not_to_act": 1, "not_yet": 1,
                                     "not_used": 1}
    assert marketing["not_used_reasons"]["too_late"] == 1
    assert sum(marketing["not_used_reasons"].values()) == 1
    assert finance["delivered"] == 4 and finance["followed_up"] == 3
    assert finance["answered"] == 0 and finance["used_share"] is None
    assert finance["answered_share"] == 0.0
    assert data["totals"]["label"] == "Total" and data["totals"]["delivered"] == 8


@pytest.mark.parametrize("group, expected", [
    ("kind", {"Ad-hoc": (6, 3), "Project": (1, 1), "Data issue": (1, 0)}),
    ("format", {"Dashboard": (5, 3), "Spreadsheet or CSV extract": (2, 1),
                "Database table or view": (1, 0)}),
])
def test_rows_can_be_grouped_by_kind_or_format(client, auth, desk, group, expected):
    auth.login(desk["lead"])
    data = figures(client, f"{RANGE}&group={group}")
    assert {row["label"]: (row["delivered"], row["answered"]) for row in data["rows"]} == expected
    assert data["filters"]["group"] == group
    assert data["columns"][0] == {"kind": "Kind", "format": "Format"}[group]
    html = page(client, f"{RANGE}&group={group}").get_data(as_text=True)
    assert f"By {group}" in html


def test_filters_narrow_every_figure(client, auth, desk):
    auth.login(desk["lead"])
    assert figures(client, f"{RANGE}&team={desk['finance']}")["headline"]["delivered"] == 4
    assert figures(client, f"{RANGE}&kind=project")["headline"]["delivered"] == 1
    only_dashboards = figures(client, f"{RANGE}&format=dashboard")
    assert only_dashboards["headline"]["delivered"] == 5
    assert only_dashboards["headline"]["used"] == 1
    # A range that reaches back to 20 October adds the old delivery.
    assert figures(client, "start=2026-10-19&end=2026-11-29")["headline"]["delivered"] == 9
    assert figures(client, "start=2026-11-30&end=2026-12-01")["headline"]["delivered"] == 0


def test_the_chart_stacks_answers_by_outcome_week_by_week_with_the_used_share(
        client, auth, desk):
    auth.login(desk["lead"])
    response = client.get(f"/reports/impact/weeks.json?{RANGE}")
    chart = response.get_json()
    assert chart["labels"] == ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"]
    series = {s["name"]: s for s in chart["series"]}
    assert series["Acted on it"]["data"] == [1, 0, 0, 0]
    assert series["Informed a decision not to act"]["data"] == [1, 0, 0, 0]
    assert series["Not used"]["data"] == [0, 1, 0, 0]
    assert series["Not used yet"]["data"] == [0, 1, 0, 0]
    assert series["Used %"]["data"] == [100.0, 0.0, None, None]
    assert series["Used %"]["line"] is True and series["Acted on it"]["outcome"] == "acted"
    assert chart["rows"][0] == ["2026-11-02", 2, 2, 2, 1, 1, 0, 0, 1.0]
    assert [row[0] for row in chart["rows"]] == ["2026-11-02", "2026-11-09", "2026-11-16",
                                                  "2026-11-23"]


def test_the_lists_name_what_was_not_used_and_what_went_unanswered(client, auth, desk):
    auth.login(desk["lead"])
    data = figures(client)
    assert data["not_used"]["count"] == 1
    (item,) = data["not_used"]["items"]
    assert item["request_id"] == desk["m3"] and item["reason"] == "too_late"
    assert item["delivered_by"] == "Ana Analyst" and item["team"] == "Marketing"
    assert item["note"] == "<b>The board met before it came</b>"
    unanswered = data["unanswered"]
    assert unanswered["count"] == 3
    assert [(i["request_id"], i["follow_up"]) for i in unanswered["items"]] == [
        (desk["f1"], "reminded"), (desk["f2"], "asked"), (desk["f3"], "unanswerable")]
    html = page(client).get_data(as_text=True)
    assert f'href="/requests/{desk["m3"]}"' in html
    assert "&lt;b&gt;The board met before it came&lt;/b&gt;" in html  # escaped
    assert "Nobody to ask" in html and "Reminded, waiting for an answer" in html


def test_a_long_list_is_cut_with_its_count_and_the_csv_has_them_all(
        app, client, auth, desk, monkeypatch):
    monkeypatch.setattr("tickets.reports.impact.LIST_SHOWN", 2)
    auth.login(desk["lead"])
    html = page(client).get_data(as_text=True)
    assert "The 2 oldest of 3" in html and "show all in the CSV" in html
    rows = csv_rows(client.get(f"/reports/impact/unanswered.csv?{RANGE}"))
    assert rows[0][:3] == ["Request", "Title", "Team"]
    assert [int(row[0]) for row in rows[1:]] == [desk["f1"], desk["f2"], desk["f3"]]


# --- Exports -------------------------------------------------------------------------------------

def test_the_csv_is_the_ledger_with_its_totals(client, auth, desk):
    auth.login(desk["lead"])
    response = client.get(f"/reports/impact.csv?{RANGE}&group=kind")
    assert response.mimetype == "text/csv"
    assert ("attachment; filename=impact_ledger_2026-11-02_2026-11-29.csv"
            == response.headers["Content-Disposition"])
    rows = csv_rows(response)
    assert rows[0][:10] == ["Kind", "Delivered", "Followed up", "Answered", "Answered %",
                            "Used %", "Acted on it", "Decided not to act", "Not used yet",
                            "Not used"]
    assert rows[0][10] == "Not used: It came too late for the decision"
    assert rows[1][:4] == ["Ad-hoc", "6", "5", "3"]
    assert rows[-1][:4] == ["Total", "8", "7", "4"]
    assert client.get(f"/reports/impact/ledger.csv?{RANGE}&group=kind").get_data() == \
        response.get_data()


def test_the_not_used_csv_and_json_have_reason_decision_and_note(client, auth, desk):
    auth.login(desk["lead"])
    rows = csv_rows(client.get(f"/reports/impact/not_used.csv?{RANGE}"))
    assert rows[1][:8] == [str(desk["m3"]), "Campaign model", "Marketing", "Project",
                           "Dashboard", "Ana Analyst", "2026-11-10T10:00:00+00:00",
                           "It came too late for the decision"]
    data = client.get(f"/reports/impact/not_used.json?{RANGE}").get_json()
    assert data["count"] == 1 and data["items"][0]["reason"] == "too_late"


# --- Who sees it ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [("lead", 200), ("admin", 200), ("ana", 403),
                                          ("rita", 403)])
def test_leads_and_admins_read_the_ledger_analysts_and_requesters_are_refused(
        client, auth, desk, role, status):
    auth.login(desk[role])
    for path in ("/reports/impact", "/reports/impact.csv", "/reports/impact.json",
                 "/reports/impact/not_used.csv", "/reports/impact/weeks.json",
                 "/reports/impact/weeks/table"):
        assert client.get(f"{path}?{RANGE}").status_code == status, path
    nav = client.get("/requests/mine").get_data(as_text=True)
    assert ('href="/reports/impact">Impact ledger</a>' in nav) == (role in ("lead", "admin"))


def test_the_reports_pages_link_to_the_ledger_for_leads(client, auth, desk):
    auth.login(desk["lead"])
    assert "Impact ledger: was the data used?" in client.get("/reports").get_data(as_text=True)
    for path in ("/reports", "/reports/platform-gaps", "/reports/deflection"):
        html = client.get(path).get_data(as_text=True)
        assert 'href="/reports/impact">Impact ledger</a>' in html, path  # the navigation
    html = page(client).get_data(as_text=True)
    assert 'href="/reports?' in html


# --- Bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field, message", [
    ("start=23/11/2026", "start", "Enter a date as YYYY-MM-DD"),
    ("start=2026-11-29&end=2026-11-02", "start", "a range runs forwards"),
    ("team=abc", "team", "There is no such team"),
    ("team=99999", "team", "There is no such team"),
    ("kind=sql", "kind", "Choose a kind from the list"),
    ("format=pdf", "format", "Choose a format from the list"),
    ("group=analyst", "group", "Choose team, kind or format"),
    ("start=" + "9" * 500, "start", "Enter a date as YYYY-MM-DD"),
])
def test_bad_filters_are_400_with_an_error_next_to_their_field(client, auth, desk, errors,
                                                                query, field, message):
    auth.login(desk["lead"])
    response = page(client, query, status=400)
    assert message in errors(response)[field]
    for path in ("/reports/impact.json", "/reports/impact.csv", "/reports/impact/weeks.json",
                 "/reports/impact/unanswered.csv"):
        refused = client.get(f"{path}?{query}")
        assert refused.status_code == 400, path
        assert message in " ".join(refused.get_json()["errors"][field])


def test_days_after_today_are_a_note_not_a_refusal(client, auth, desk, errors):
    auth.login(desk["lead"])
    later = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
    response = page(client, f"start=2026-11-02&end={later}")
    assert "Days after today" in errors(response)["end"]
    assert client.get(f"/reports/impact.json?start=2026-11-02&end={later}").status_code == 200


def test_repeated_and_odd_arguments_never_fail(client, auth, desk):
    auth.login(desk["lead"])
    for query in ("group=team&group=kind", "team=1&team=2", "format=&kind=", "group=",
                  "start=2026-02-30", "team=-1", "team=%00"):
        assert client.get(f"/reports/impact?{query}").status_code in (200, 400), query
        assert client.get(f"/reports/impact.json?{query}").status_code in (200, 400), query


# --- Cost ----------------------------------------------------------------------------------------

def test_the_page_and_exports_cost_the_same_statements_for_one_and_many_rows(
        app, client, auth, desk, make, statements):
    paths = [LEDGER, f"{LEDGER}&group=format", f"/reports/impact.json?{RANGE}",
             f"/reports/impact.csv?{RANGE}", f"/reports/impact/weeks.json?{RANGE}",
             f"/reports/impact/not_used.csv?{RANGE}", f"/reports/impact/unanswered.json?{RANGE}"]

    def run():
        statements.clear()
        for path in paths:
            assert client.get(path).status_code == 200, path
        return list(statements)

    auth.login(desk["lead"])
    few = run()
    world = desk["world"]
    more = [make.team(f"Sales {n}") for n in range(3)]
    for n in range(9):
        team = more[n % 3]
        requester = make.user("requester", teams=[team])
        request_id = world.resolved(requester, team, desk["lead"], at(20 + n % 5),
                                    format=["table", "answer", "presentation"][n % 3])
        if n % 2:
            world.send(at(26))
            world.answer(request_id, at(26), outcome="not_used", reason="hard_to_use")
    assert figures(client)["headline"]["delivered"] == 17
    assert run() == few
