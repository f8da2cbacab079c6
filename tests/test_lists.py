"""The request lists: My requests, My team's requests (Requests of my teams for analysts), and All
requests: their filters, sorting, pagination, robustness to odd URLs, and their SQL cost.
"""
import re
from datetime import date, timedelta

import pytest
import sqlalchemy

from tickets.extensions import db
from tickets.models import Request

PAGE_SIZE = 25


def ids(response):
    """The ids of the requests a list page shows, in order."""
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'href="/requests/(\d+)" class="fw-semibold',
                                       response.get_data(as_text=True))]


def heading(response):
    return re.search(r'<h1 class="h3 mb-0">([^<]*)</h1>', response.get_data(as_text=True)).group(1)


def total(response):
    return int(re.search(r'role="status">(\d+) requests?<', response.get_data(as_text=True)).group(1))


@pytest.fixture
def desk(make):
    """Marketing and Finance, a requester in Marketing, an analyst serving both, and a lead."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return {
        "marketing": marketing, "finance": finance,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "finance requester": make.user("requester", teams=[finance], name="Fred Finance"),
        "analyst": make.user("analyst", teams=[marketing, finance], name="Ana Analyst"),
        "lead": make.user("lead", name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }


@pytest.fixture
def lead_client(auth, desk):
    auth.login(desk["lead"])
    return auth.client


# --- Titles and scopes --------------------------------------------------------------------

@pytest.mark.parametrize("role, path, title", [
    ("requester", "/requests/mine", "My requests"),
    ("requester", "/requests/team", "My team&#39;s requests"),
    ("analyst", "/requests/mine", "My requests"),
    ("analyst", "/requests/team", "Requests of my teams"),
    ("lead", "/requests/team", "Requests of my teams"),
    ("lead", "/requests/all", "All requests"),
])
def test_each_list_has_the_title_of_its_scope(client, auth, desk, role, path, title):
    auth.login(desk[role])
    assert heading(client.get(path)) == title


@pytest.mark.parametrize("role, home", [
    ("requester", "/requests/mine"), ("analyst", "/queue"), ("lead", "/backlog"),
    ("admin", "/requests/all"),
])
def test_each_role_starts_on_the_list_it_works_from(client, auth, desk, role, home):
    auth.login(desk[role])
    assert client.get("/").location == home
    assert client.get("/requests").location == "/"


def test_my_requests_holds_what_i_asked_for_and_what_is_assigned_to_me(client, auth, make, desk):
    mine = make.request(desk["requester"], desk["marketing"])
    someone_elses = make.request(make.user(teams=[desk["marketing"]]), desk["marketing"])
    make.act(someone_elses, "accept", desk["analyst"], size="S")
    make.act(someone_elses, "claim", desk["analyst"])
    auth.login(desk["requester"])
    assert ids(client.get("/requests/mine")) == [mine]
    auth.logout()
    auth.login(desk["analyst"])
    assert ids(client.get("/requests/mine")) == [someone_elses]


def test_a_requester_in_no_team_is_told_why_the_team_list_is_empty(client, auth, make):
    auth.login(make.user("requester"))
    page = client.get("/requests/team")
    assert ids(page) == []
    assert "You are not in any team yet" in page.get_data(as_text=True)


# --- Filters ------------------------------------------------------------------------------

@pytest.fixture
def states(make, desk):
    """One Marketing request in each of several states, by name."""
    requester, analyst, team = desk["requester"], desk["analyst"], desk["marketing"]
    made = {name: make.request(requester, team, title=f"Request {name}")
            for name in ("submitted", "accepted", "in_progress", "cancelled", "resolved")}
    make.act(made["accepted"], "accept", analyst, size="S")
    make.act(made["in_progress"], "accept", analyst, size="S")
    make.act(made["in_progress"], "claim", analyst)
    make.act(made["cancelled"], "cancel", requester)
    make.act(made["resolved"], "accept", analyst, size="S")
    make.act(made["resolved"], "claim", analyst)
    make.act(made["resolved"], "deliver", analyst, url="https://bi.example.com/1", note="Here.")
    make.act(made["resolved"], "confirm", requester)
    return made


@pytest.mark.parametrize("query, expected", [
    ("", {"submitted", "accepted", "in_progress"}),
    ("state=open", {"submitted", "accepted", "in_progress"}),
    ("state=closed", {"cancelled", "resolved"}),
    ("state=any", {"submitted", "accepted", "in_progress", "cancelled", "resolved"}),
    ("state=accepted", {"accepted"}),
    ("state=resolved", {"resolved"}),
    ("state=needs_info", set()),
])
def test_state_filter(client, auth, desk, states, query, expected):
    auth.login(desk["requester"])
    names = {request_id: name for name, request_id in states.items()}
    assert {names[i] for i in ids(client.get(f"/requests/mine?{query}"))} == expected


def test_a_delivered_request_is_neither_open_nor_closed(client, auth, make, desk):
    """DESIGN.md: open is before delivery; a delivery waits on its requester's confirmation."""
    requester, analyst = desk["requester"], desk["analyst"]
    delivered = make.request(requester, desk["marketing"], title="Delivered")
    make.act(delivered, "accept", analyst, size="S")
    make.act(delivered, "claim", analyst)
    make.act(delivered, "deliver", analyst, url="https://bi.example.com/1", note="Here.")
    auth.login(requester)
    for query, shown in (("", False), ("state=open", False), ("state=closed", False),
                         ("state=delivered", True), ("state=any", True)):
        assert (delivered in ids(client.get(f"/requests/mine?{query}"))) is shown, query


def test_the_chosen_state_stays_selected_in_the_filter_form(client, auth, desk, states):
    auth.login(desk["requester"])
    html = client.get("/requests/mine?state=closed").get_data(as_text=True)
    assert '<option value="closed" selected>' in html
    assert '<option value="open" >' in html


def test_team_filter(lead_client, make, desk):
    marketing = make.request(desk["requester"], desk["marketing"])
    finance = make.request(desk["finance requester"], desk["finance"])
    assert ids(lead_client.get(f"/requests/all?team={desk['marketing']}")) == [marketing]
    assert ids(lead_client.get(f"/requests/all?team={desk['finance']}")) == [finance]
    assert ids(lead_client.get("/requests/all?team=")) == [finance, marketing]


def test_team_filter_cannot_reach_a_team_the_user_is_not_in(client, auth, make, desk):
    make.request(desk["finance requester"], desk["finance"])
    auth.login(desk["requester"])
    assert ids(client.get(f"/requests/team?team={desk['finance']}")) == []
    assert ids(client.get(f"/requests/mine?team={desk['finance']}")) == []


def test_kind_filter(lead_client, make, desk):
    made = {kind: make.request(desk["requester"], desk["marketing"], kind=kind)
            for kind in ("ad_hoc", "project", "data_issue")}
    for kind, request_id in made.items():
        assert ids(lead_client.get(f"/requests/all?kind={kind}")) == [request_id]
    assert sorted(ids(lead_client.get("/requests/all?kind="))) == sorted(made.values())


def test_assignee_filter_by_person_and_by_nobody(lead_client, make, desk):
    other_analyst = make.user("analyst", teams=[desk["marketing"]])
    unassigned = make.request(desk["requester"], desk["marketing"])
    by_analyst = make.request(desk["requester"], desk["marketing"])
    by_other = make.request(desk["requester"], desk["marketing"])
    for request_id, analyst in ((by_analyst, desk["analyst"]), (by_other, other_analyst)):
        make.act(request_id, "accept", analyst, size="M")
        make.act(request_id, "claim", analyst)
    assert ids(lead_client.get(f"/requests/all?assignee={desk['analyst']}")) == [by_analyst]
    assert ids(lead_client.get(f"/requests/all?assignee={other_analyst}")) == [by_other]
    assert ids(lead_client.get("/requests/all?assignee=none")) == [unassigned]
    assert len(ids(lead_client.get("/requests/all?assignee="))) == 3


@pytest.mark.parametrize("q, expected", [
    ("churn", {"Weekly CHURN by region", "churn forecast"}),
    ("CHURN", {"Weekly CHURN by region", "churn forecast"}),
    ("  churn  ", {"Weekly CHURN by region", "churn forecast"}),
    ("%", {"Growth of 100% in Q3"}),
    ("100%", {"Growth of 100% in Q3"}),
    ("_", {"revenue_by_day table"}),
    ("e_b", {"revenue_by_day table"}),
    ("\\", {"Path C:\\exports"}),
    ("nothing like this", set()),
])
def test_title_search_is_case_insensitive_and_takes_wildcards_literally(lead_client, make, desk,
                                                                         q, expected):
    titles = ["Weekly CHURN by region", "churn forecast", "Growth of 100% in Q3",
              "Growth of 1000 in Q3", "revenue_by_day table", "revenueXbyXday table",
              "Path C:\\exports"]
    made = {make.request(desk["requester"], desk["marketing"], title=title): title
            for title in titles}
    page = lead_client.get("/requests/all", query_string={"q": q})
    assert {made[i] for i in ids(page)} == expected


def test_filters_combine(lead_client, make, desk):
    match = make.request(desk["requester"], desk["marketing"], kind="project", title="Churn model")
    make.request(desk["requester"], desk["marketing"], kind="ad_hoc", title="Churn pull")
    make.request(desk["finance requester"], desk["finance"], kind="project", title="Churn budget")
    make.request(desk["requester"], desk["marketing"], kind="project", title="Pricing model")
    page = lead_client.get(
        f"/requests/all?team={desk['marketing']}&kind=project&q=churn&assignee=none&state=open")
    assert ids(page) == [match]


# --- Sorting ------------------------------------------------------------------------------

@pytest.fixture
def sortable(make, desk):
    """Three requests, created in order first, second, third, with distinct deadlines and impact."""
    today = date.today()
    first = make.request(desk["requester"], desk["marketing"], title="first",
                         deadline=today + timedelta(days=40), business_impact=2)
    second = make.request(desk["requester"], desk["marketing"], title="second",
                          deadline=None, business_impact=5)
    third = make.request(desk["requester"], desk["marketing"], title="third",
                         deadline=today + timedelta(days=10), business_impact=3)
    make.act(first, "accept", desk["analyst"], size="S")  # the most recently updated
    return first, second, third


@pytest.mark.parametrize("sort, order", [
    ("newest", (2, 1, 0)),
    ("", (2, 1, 0)),
    ("oldest", (0, 1, 2)),
    ("deadline", (2, 0, 1)),  # soonest first, no deadline last
    ("updated", (0, 2, 1)),
    ("impact", (1, 2, 0)),
    ("no-such-sort", (2, 1, 0)),
])
def test_sort_options(lead_client, sortable, sort, order):
    assert ids(lead_client.get(f"/requests/all?sort={sort}")) == [sortable[i] for i in order]


def test_every_sort_option_is_offered_and_the_chosen_one_is_selected(lead_client, sortable):
    html = lead_client.get("/requests/all?sort=impact").get_data(as_text=True)
    offered = re.findall(r'<option value="(\w+)" (?:selected)?>', html.split('id="f-sort"')[1]
                         .split("</select>")[0])
    assert offered == ["newest", "oldest", "deadline", "updated", "impact"]
    assert '<option value="impact" selected>' in html


# --- Pagination ---------------------------------------------------------------------------

@pytest.fixture
def thirty(make, desk):
    """Thirty open Marketing requests, oldest first."""
    return [make.request(desk["requester"], desk["marketing"], title=f"Request {n}")
            for n in range(30)]


def test_first_page_holds_a_page_of_the_newest(lead_client, thirty):
    page = lead_client.get("/requests/all")
    assert ids(page) == list(reversed(thirty))[:PAGE_SIZE]
    assert total(page) == 30


def test_second_page_holds_the_rest(lead_client, thirty):
    page = lead_client.get("/requests/all?page=2")
    assert ids(page) == list(reversed(thirty))[PAGE_SIZE:]
    assert total(page) == 30


def test_a_page_beyond_the_end_is_empty_not_an_error(lead_client, thirty):
    page = lead_client.get("/requests/all?page=3")
    assert page.status_code == 200
    assert ids(page) == []
    assert "No requests match." in page.get_data(as_text=True)


@pytest.mark.parametrize("page", ["abc", "", "0", "-2", "1.5", "%00", "2abc"])
def test_a_page_number_that_is_not_a_page_gives_the_first_page(lead_client, thirty, page):
    assert ids(lead_client.get(f"/requests/all?page={page}")) == list(reversed(thirty))[:PAGE_SIZE]


def test_page_links_keep_the_filters(lead_client, thirty):
    html = lead_client.get("/requests/all?state=any&sort=oldest").get_data(as_text=True)
    links = set(re.findall(r'class="page-link" href="([^"#]+)"', html))
    assert links
    for link in links:
        assert "state=any" in link and "sort=oldest" in link
    assert any("page=2" in link for link in links)


@pytest.fixture
def mixed(make, desk):
    """Sixty requests of both teams: deadlines (some shared, some none), impacts, titles with
    and without "churn", some accepted, some declined, some resolved."""
    today = date.today()
    made = []
    for n in range(60):
        team, requester = ((desk["marketing"], desk["requester"]) if n % 3 else
                           (desk["finance"], desk["finance requester"]))
        made.append(make.request(
            requester, team, title=f"{'Churn' if n % 4 == 0 else 'Revenue'} pull {n}",
            kind=("ad_hoc", "project", "data_issue")[n % 3], business_impact=1 + n % 5,
            deadline=None if n % 5 == 0 else today + timedelta(days=10 + n % 7)))
    for n, request_id in enumerate(made):
        if n % 4 == 1:
            make.act(request_id, "accept", desk["analyst"], size="S")
        elif n % 4 == 2:
            make.act(request_id, "decline", desk["lead"], reason="low_value", note="Not now.")
        elif n % 8 == 3:
            make.act(request_id, "accept", desk["analyst"], size="M")
            make.act(request_id, "claim", desk["analyst"])
            make.act(request_id, "deliver", desk["analyst"], url="https://bi.example.com/x",
                     note="Done.")
            make.act(request_id, "confirm", desk["requester"] if n % 3 else
                     desk["finance requester"], rating=5)
    return made


@pytest.mark.parametrize("role, scope", [("lead", "all"), ("analyst", "team"),
                                         ("requester", "team"), ("requester", "mine")])
def test_every_page_of_every_filter_and_sort_is_the_plain_querys_page(
        app, auth, desk, mixed, monkeypatch, role, scope):
    """The lists pick a page's rows by id first, with hints for SQLite's planner: the pages
    and totals are those of the plain query, paged by the database as it was."""
    from tickets.views import requests as views

    auth.login(desk[role])
    paths = [f"/requests/{scope}?state={state}&sort={sort}&page={page}{query}"
             for state in ("open", "closed", "any", "declined", "accepted")
             for sort in ("newest", "oldest", "deadline", "updated", "impact")
             for page in (1, 2, 3) for query in ("", "&q=churn")]
    pages = {path: (ids(auth.client.get(path)), total_or_none(auth.client.get(path)))
             for path in paths}
    paginate = views.paginate
    monkeypatch.setattr(views, "paginate", lambda query, size, key=None: paginate(query, size))
    plain = {path: (ids(auth.client.get(path)), total_or_none(auth.client.get(path)))
             for path in paths}
    assert pages == plain
    assert any(found for found, _ in pages.values())


def total_or_none(response):
    found = re.search(r'role="status">(\d+) requests?<', response.get_data(as_text=True))
    return found and int(found.group(1))


# --- Odd URLs -----------------------------------------------------------------------------

GARBAGE = [
    "state=bogus", "state=", "team=abc", "team=-1", "team=99999999999999999999999",
    "kind=bogus", "assignee=abc", "assignee=-5", "assignee=99999999999999999999999",
    "sort=;DROP TABLE requests", "page=99999999999999999999999", "page=1e9",
    "q=" + "x" * 5000, "q=%00", "q=a%00b", "q='%20OR%201=1--", "q=%E2%80%AE%F0%9F%98%80",
    "team=1&team=2", "state=open&state=closed", "q[]=x", "assignee=none&assignee=1",
]


@pytest.mark.parametrize("scope", ["mine", "team", "all"])
def test_odd_filter_values_answer_a_page_not_an_error(lead_client, make, desk, scope):
    make.request(desk["requester"], desk["marketing"])
    for query in GARBAGE:
        response = lead_client.get(f"/requests/{scope}?{query}")
        assert response.status_code == 200, query


def test_an_unknown_team_or_assignee_shows_nothing_rather_than_everything(lead_client, make, desk):
    make.request(desk["requester"], desk["marketing"])
    assert ids(lead_client.get("/requests/all?team=99999999999999999999999")) == []
    assert ids(lead_client.get("/requests/all?assignee=99999999999999999999999")) == []
    assert ids(lead_client.get("/requests/all?team=424242")) == []


# --- SQL cost -----------------------------------------------------------------------------

def populate(make, desk, analysts, requesters, start, count):
    """``count`` requests spread over both teams, requesters and analysts; some claimed, some closed."""
    teams = (desk["marketing"], desk["finance"])
    for n in range(start, start + count):
        team = teams[n % 2]
        request_id = make.request(requesters[team][n % len(requesters[team])], team,
                                  title=f"Request {n}", watchers=[f"watcher{n}@example.com"])
        if n % 3:
            analyst = analysts[n % len(analysts)]
            make.act(request_id, "accept", analyst, size="M")
            make.act(request_id, "claim", analyst)
        if n % 7 == 0:
            make.act(request_id, "decline", desk["lead"], reason="low_value", note="Not now.")


LIST_PAGES = [
    ("lead", "/requests/all"),
    ("lead", "/requests/all?state=any&sort=deadline"),
    ("lead", "/requests/all?state=any&page=2"),
    ("analyst", "/requests/team"),
    ("analyst", "/requests/team?state=any&sort=updated"),
    ("analyst", "/requests/mine?state=any"),
    ("requester", "/requests/mine?state=any"),
    ("requester", "/requests/team?state=any&q=Request"),
]


def test_a_list_page_costs_the_same_number_of_sql_statements_whatever_the_data_size(
        app, make, desk, statements):
    analysts = [desk["analyst"], *(make.user("analyst", teams=[desk["marketing"], desk["finance"]])
                                   for _ in range(3))]
    for analyst in analysts:  # each claims many requests here; the WIP limit is not under test
        make.wip_limit(analyst, 50)
    requesters = {
        desk["marketing"]: [desk["requester"], make.user(teams=[desk["marketing"]])],
        desk["finance"]: [desk["finance requester"], make.user(teams=[desk["finance"]])],
    }
    clients = {}
    for role in ("lead", "analyst", "requester"):
        from tests.conftest import AuthActions
        clients[role] = AuthActions(app.test_client(), app)
        clients[role].login(desk[role])

    def cost():
        result = {}
        for role, path in LIST_PAGES:
            clients[role].client.get(path)  # warm: the first request of a session may differ
            del statements[:]
            response = clients[role].client.get(path)
            assert response.status_code == 200
            result[role, path] = (statements[-1], len(ids(response)) > 0)
        return result

    populate(make, desk, analysts, requesters, 0, 5)
    small = cost()
    populate(make, desk, analysts, requesters, 5, 55)
    large = cost()
    assert {key: count for key, (count, _) in small.items()} == \
        {key: count for key, (count, _) in large.items()}
    assert all(shown for _, shown in large.values()), "every page should list something"
    assert max(count for count, _ in large.values()) <= 8


@pytest.mark.parametrize("sort, index", [("deadline", "ix_requests_deadline"),
                                         ("updated", "ix_requests_updated")])
def test_postgresql_reads_a_deep_page_of_a_sorted_list_from_its_index(
        app, auth, desk, mixed, sort, index):
    """A page of "Deadline soonest" or "Recently updated", at any depth, reads its index in
    order on PostgreSQL instead of sorting every request (no deadline last, as the index keeps
    NULLs). SQLite sorts (NULLs come first in its indexes); there the order is what counts."""
    with app.app_context():
        engine = db.engine
    seen = []

    def keep(connection, cursor, statement, parameters, context, executemany):
        if "ORDER BY" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    auth.login(desk["lead"])
    sqlalchemy.event.listen(engine, "before_cursor_execute", keep)
    try:
        response = auth.client.get(f"/requests/all?state=any&sort={sort}&page=2")
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", keep)
    assert response.status_code == 200 and len(ids(response)) > 0
    statement, parameters = seen[-1]
    with app.app_context():
        if engine.dialect.name == "postgresql":
            # Sixty rows: left to itself the planner may rightly sort them in memory.
            db.session.execute(sqlalchemy.text("SET LOCAL enable_seqscan = off"))
            db.session.execute(sqlalchemy.text("SET LOCAL enable_sort = off"))
            plan = [row[0] for row in db.session.connection().exec_driver_sql(
                "EXPLAIN " + statement, parameters).all()]
            assert any(index in line for line in plan), plan
            assert not any(line.strip().startswith("Sort") for line in plan), plan
            db.session.rollback()
    if sort == "deadline":
        shown = [request_id for page in (1, 2, 3) for request_id in
                 ids(auth.client.get(f"/requests/all?state=any&sort=deadline&page={page}"))]
        with app.app_context():
            deadlines = [db.session.get(Request, request_id).deadline for request_id in shown]
        dated = [deadline for deadline in deadlines if deadline is not None]
        assert len(shown) == 60 and deadlines == dated + [None] * 12 and dated == sorted(dated)
