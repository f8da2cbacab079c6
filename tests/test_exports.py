"""CSV exports of the analyst's work lists: the triage queue and the analyst's queue."""
import csv
import io

import pytest

from tests.conftest import counting_sql


@pytest.fixture
def desk(make):
    """Marketing (with Ana, its analyst) and Finance (with Fay), a requester of each, a lead."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return {
        "marketing": marketing, "finance": finance,
        "rita": make.user("requester", teams=[marketing], name="Rita Requester"),
        "fred": make.user("requester", teams=[finance], name="Fred Finance"),
        "ana": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "fay": make.user("analyst", teams=[finance], name="Fay Finance"),
        "lee": make.user("lead", name="Lee Lead"),
    }


def rows_of(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_triage_csv_holds_the_whole_section_oldest_first_and_nothing_of_other_teams(
        make, desk, auth, client):
    ids = [make.request(desk["rita"], desk["marketing"], title=f"Ask {n:02}")
           for n in range(30)]
    make.request(desk["rita"], desk["marketing"], title="=HYPERLINK(\"http://evil\")")
    make.request(desk["fred"], desk["finance"], title="Finance only")
    auth.login(desk["ana"])

    rows = rows_of(client.get("/triage?format=csv"))

    assert rows[0][:4] == ["ID", "Title", "Team", "Requester"]
    assert [int(row[0]) for row in rows[1:31]] == ids, "every page, oldest first"
    assert rows[31][1] == "'=HYPERLINK(\"http://evil\")", "formulas are not run by spreadsheets"
    assert "Finance only" not in {row[1] for row in rows}
    assert rows[1][2:5] == ["Marketing", "Rita Requester", "Ad-hoc"]
    assert rows[1][11].endswith(f"/requests/{ids[0]}")


def test_triage_csv_follows_the_filters_and_the_page_links_to_it(make, desk, auth, client):
    make.request(desk["rita"], desk["marketing"], title="A project", kind="project")
    make.request(desk["rita"], desk["marketing"], title="An ad-hoc ask")
    auth.login(desk["ana"])
    rows = rows_of(client.get("/triage?kind=project&format=csv"))
    assert [row[1] for row in rows[1:]] == ["A project"]
    page = client.get("/triage?kind=project").get_data(as_text=True)
    assert "format=csv" in page and "kind=project" in page


def test_queue_csv_holds_the_work_then_everything_up_next_in_queue_order(
        make, desk, auth, client):
    low = make.request(desk["rita"], desk["marketing"], title="Low", business_impact=1)
    high = make.request(desk["rita"], desk["marketing"], title="High", business_impact=5)
    working = make.request(desk["rita"], desk["marketing"], title="Working")
    other = make.request(desk["fred"], desk["finance"], title="Finance work")
    for request_id in (low, high, working, other):
        make.act(request_id, "accept", desk["lee"], size="M")
    make.act(working, "claim", desk["ana"])
    auth.login(desk["ana"])

    rows = rows_of(client.get("/queue?format=csv"))

    assert rows[0][:3] == ["Section", "Position in team queue", "Queue length"]
    assert [(row[0], row[4]) for row in rows[1:]] == [
        ("Working on", "Working"), ("Up next", "High"), ("Up next", "Low")]
    assert rows[2][1:3] == ["1", "2"]


@pytest.mark.parametrize("path", ["/triage?format=csv", "/queue?format=csv"])
def test_work_list_csvs_cost_the_same_statements_at_any_size(make, desk, auth, client, app, path):
    def export(count):
        for n in range(count):
            request_id = make.request(desk["rita"], desk["marketing"], title=f"R{n}")
            if n % 2:
                make.act(request_id, "accept", desk["lee"], size="S")
        with counting_sql(app) as counted:
            rows_of(client.get(path))
        return len(counted)

    auth.login(desk["ana"])
    assert export(3) == export(30)


@pytest.mark.parametrize("path", ["/triage?format=csv", "/queue?format=csv"])
def test_requesters_get_no_work_list_csv(desk, auth, client, path):
    auth.login(desk["rita"])
    assert client.get(path).status_code == 403
