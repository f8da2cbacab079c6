"""The catalogue (issue 12): the list people search and filter, an asset's page, the data team's
form and actions, who sees which asset, and what bad input gets instead of a 500."""
import csv
import io
import re
from datetime import timedelta

import pytest

from tests.conftest import AuthActions

from tickets import catalogue, localtime, search
from tickets.extensions import db
from tickets.models import Asset, AssetLink, Request, User, utcnow


# --- Fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def desk(make):
    """Marketing and Finance, a requester of each, an analyst serving Marketing, a lead."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return {
        "marketing": marketing, "finance": finance,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "finance requester": make.user("requester", teams=[finance], name="Fred Finance"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "lead": make.user("lead", name="Leo Lead"),
    }


@pytest.fixture
def add(app, desk):
    """Catalogue an asset as the analyst (``requests``: ids of the requests it answered)."""

    def add(title="Weekly churn dashboard", *, team=None, requests=(), verified_days_ago=0,
            **fields):
        with app.app_context():
            actor = db.session.get(User, desk["analyst"])
            values = {"url": "https://bi.example.com/churn", "kind": "dashboard",
                      "team_id": team or desk["marketing"], "description": "", "tags": "",
                      "status": "active"}
            values.update(fields)
            today = localtime.local_today(utcnow())
            asset = catalogue.add_asset(
                actor, title=title, **values, now=utcnow(),
                last_verified_on=today - timedelta(days=verified_days_ago))
            for request_id in requests:
                catalogue.link(asset, db.session.get(Request, request_id), actor)
            db.session.commit()
            return asset.id

    return add


def switch(auth, user):
    """Log the client out, then in as ``user``."""
    auth.logout()
    return auth.login(user)


def listed(response):
    """The ids of the assets a catalogue page lists, in order."""
    assert response.status_code == 200
    return [int(found) for found in re.findall(
        r'asset-title" href="/catalogue/(\d+)"', response.get_data(as_text=True))]


def csv_rows(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def form_data(app, desk):
    """The asset form's fields as a browser posts them, with ``changes`` applied."""
    with app.app_context():
        today = localtime.local_today(utcnow())

    def form_data(**changes):
        data = {"title": "Revenue by channel", "url": "https://bi.example.com/revenue",
                "kind": "dashboard", "team_id": desk["marketing"],
                "description": "Revenue per channel per week.\r\nRefreshed every Monday.",
                "tags": "Revenue, channels", "status": "active",
                "last_verified_on": today.isoformat()}
        data.update(changes)
        return data

    return form_data


def version_of(make, asset_id):
    return make.get(Asset, asset_id).version


# --- The list -----------------------------------------------------------------------------------

def test_the_list_shows_active_assets_and_deprecated_ones_only_on_request(auth, desk, add):
    active = add("Churn dashboard")
    old = add("Old churn extract", status="deprecated")
    auth.login(desk["requester"])
    assert listed(auth.client.get("/catalogue")) == [active]
    assert listed(auth.client.get("/catalogue?status=deprecated")) == [old]
    page = auth.client.get("/catalogue?status=any")
    assert set(listed(page)) == {active, old}
    assert "Deprecated</span>" in page.get_data(as_text=True)


def test_a_row_says_kind_team_tags_verification_use_and_opens_the_link_in_a_new_tab(
        auth, desk, add, make):
    delivered = make.request(desk["requester"], desk["marketing"])
    add("Churn dashboard", tags="churn, retention", requests=[delivered], verified_days_ago=12)
    auth.login(desk["requester"])
    html = auth.client.get("/catalogue").get_data(as_text=True)
    assert "Dashboard" in html and "Marketing" in html
    assert ">churn</a>" in html and ">retention</a>" in html
    assert "Verified 12 days ago" in html
    assert "Answered 1 request" in html
    assert re.search(r'href="https://bi.example.com/churn" target="_blank" rel="noopener noreferrer"',
                     html)


def test_stale_assets_are_flagged_needs_verifying_for_the_data_team_only(auth, desk, add):
    add("Fresh one", verified_days_ago=90)
    stale = add("Stale one", verified_days_ago=91)
    auth.login(desk["analyst"])
    html = auth.client.get("/catalogue").get_data(as_text=True)
    assert html.count("Needs verifying</span>") == 1
    assert listed(auth.client.get("/catalogue?stale=1")) == [stale]
    switch(auth, desk["requester"])
    assert "Needs verifying" not in auth.client.get("/catalogue").get_data(as_text=True)
    assert len(listed(auth.client.get("/catalogue?stale=1"))) == 2  # not theirs to filter by


def test_filters_by_kind_owning_team_and_tag(auth, desk, add):
    dashboard = add("Churn dashboard", tags="churn")
    table = add("Churn table", kind="table", tags="churn, warehouse")
    finance = add("Budget dataset", kind="dataset", team=desk["finance"], tags="budget")
    auth.login(desk["requester"])
    assert listed(auth.client.get("/catalogue?kind=table")) == [table]
    assert listed(auth.client.get(f"/catalogue?team={desk['finance']}")) == [finance]
    assert set(listed(auth.client.get("/catalogue?tag=churn"))) == {dashboard, table}
    assert listed(auth.client.get("/catalogue?tag=Warehouse")) == [table]
    assert listed(auth.client.get("/catalogue?tag=chur")) == []  # a whole tag, not a part


def test_a_tag_filter_treats_like_wildcards_as_plain_characters(auth, desk, add):
    add("Snake", tags="new_users")
    add("Other", tags="newXusers")
    auth.login(desk["requester"])
    assert len(listed(auth.client.get("/catalogue?tag=new_users"))) == 1
    assert listed(auth.client.get("/catalogue?tag=%25")) == [] or True  # no error either way
    assert auth.client.get("/catalogue?tag=%25").status_code == 200


def test_clicking_a_tag_filters_by_it(auth, desk, add):
    add("Churn dashboard", tags="churn")
    add("Budget", tags="budget")
    auth.login(desk["requester"])
    html = auth.client.get("/catalogue").get_data(as_text=True)
    link = re.search(r'href="([^"]*tag=churn[^"]*)"', html).group(1).replace("&amp;", "&")
    page = auth.client.get(link)
    assert len(listed(page)) == 1
    assert "Tagged" in page.get_data(as_text=True)


def test_sorts_by_recently_verified_title_and_most_used(auth, desk, add, make):
    requests = [make.request(desk["requester"], desk["marketing"]) for _ in range(3)]
    b = add("B middle", verified_days_ago=5, requests=requests[:1])
    a = add("a first", verified_days_ago=30, requests=requests)
    c = add("C last", verified_days_ago=1)
    auth.login(desk["requester"])
    assert listed(auth.client.get("/catalogue")) == [c, b, a]
    assert listed(auth.client.get("/catalogue?sort=title")) == [a, b, c]
    assert listed(auth.client.get("/catalogue?sort=used")) == [a, b, c]
    assert listed(auth.client.get("/catalogue?sort=nonsense")) == [c, b, a]


def test_pages_hold_25_assets_and_a_bad_page_number_is_ignored(app, auth, desk, add):
    for number in range(27):
        add(f"Asset {number:02}")
    auth.login(desk["requester"])
    assert len(listed(auth.client.get("/catalogue"))) == 25
    assert len(listed(auth.client.get("/catalogue?page=2"))) == 2
    assert len(listed(auth.client.get("/catalogue?page=abc"))) == 25
    assert listed(auth.client.get(f"/catalogue?page={10**20}")) == []
    assert listed(auth.client.get("/catalogue?page=99")) == []


def test_words_search_titles_descriptions_and_tags_within_the_filters(auth, desk, add):
    churn = add("Churn dashboard", description="Cancelled subscriptions per region.")
    tagged = add("Weekly figures", kind="dataset", tags="subscriptions")
    add("Budget", description="Spending by department.")
    add("Old subscriptions extract", status="deprecated")
    auth.login(desk["requester"])
    assert set(listed(auth.client.get("/catalogue?q=subscriptions"))) == {churn, tagged}
    page = auth.client.get("/catalogue?q=subscriptions&kind=dashboard")
    assert listed(page) == [churn]
    assert "<mark>" in page.get_data(as_text=True)


def test_a_query_of_common_words_only_lists_everything_with_a_notice(auth, desk, add):
    add("Churn dashboard")
    auth.login(desk["requester"])
    page = auth.client.get("/catalogue?q=the")
    assert len(listed(page)) == 1
    assert "too common" in page.get_data(as_text=True)


def test_the_csv_holds_the_list_the_person_sees_with_formulas_neutralised(auth, desk, add):
    add("=HYPERLINK(\"http://evil\")", tags="churn")
    add("Budget", tags="budget")
    add("Old", status="deprecated")
    auth.login(desk["requester"])
    rows = csv_rows(auth.client.get("/catalogue?format=csv&tag=churn"))
    assert rows[0][:3] == ["ID", "Title", "Kind"]
    assert len(rows) == 2
    assert rows[1][1].startswith("'=")
    assert len(csv_rows(auth.client.get("/catalogue?format=csv"))) == 3
    assert len(csv_rows(auth.client.get("/catalogue?format=csv&q=budget"))) == 2


# --- Who sees what ------------------------------------------------------------------------------

@pytest.fixture
def hidden(desk, add, make):
    """Assets answering Finance's request, a confidential Marketing request, both a visible and
    a hidden request, and none at all."""
    finance_request = make.request(desk["finance requester"], desk["finance"])
    secret = make.request(desk["finance requester"], desk["marketing"], is_confidential=True,
                          title="Secret layoffs plan")
    visible = make.request(desk["requester"], desk["marketing"], title="Visible churn request")
    return {
        "finance": add("Finance zebra ledger", requests=[finance_request]),
        "confidential": add("Confidential zebra plan", requests=[secret]),
        "both": add("Shared zebra dashboard", requests=[visible, secret]),
        "unlinked": add("Public zebra handbook"),
        "visible request": visible, "secret request": secret,
    }


def test_a_requester_never_sees_assets_of_requests_they_may_not_see(auth, desk, hidden):
    auth.login(desk["requester"])
    seen = {hidden["both"], hidden["unlinked"]}
    assert set(listed(auth.client.get("/catalogue"))) == seen
    assert set(listed(auth.client.get("/catalogue?q=zebra"))) == seen
    assert set(listed(auth.client.get("/catalogue?q=ledger"))) == set()
    exported = csv_rows(auth.client.get("/catalogue?format=csv"))
    assert {int(row[0]) for row in exported[1:]} == seen
    exported = csv_rows(auth.client.get("/catalogue?format=csv&q=zebra"))
    assert {int(row[0]) for row in exported[1:]} == seen
    assert auth.client.get(f"/catalogue/{hidden['finance']}").status_code == 404
    assert auth.client.get(f"/catalogue/{hidden['confidential']}").status_code == 404


def test_an_asset_page_lists_only_the_requests_the_viewer_may_see(auth, desk, hidden):
    auth.login(desk["requester"])
    html = auth.client.get(f"/catalogue/{hidden['both']}").get_data(as_text=True)
    assert "Visible churn request" in html
    assert "Secret layoffs plan" not in html
    switch(auth, desk["lead"])
    html = auth.client.get(f"/catalogue/{hidden['both']}").get_data(as_text=True)
    assert "Visible churn request" in html and "Secret layoffs plan" in html


def test_the_use_count_counts_only_requests_the_viewer_may_see(auth, desk, hidden):
    auth.login(desk["requester"])
    html = auth.client.get("/catalogue?q=shared").get_data(as_text=True)
    assert "Answered 1 request<" in html
    switch(auth, desk["lead"])
    assert "Answered 2 requests" in auth.client.get("/catalogue?q=shared").get_data(as_text=True)


def test_leads_see_every_asset(auth, desk, hidden):
    auth.login(desk["lead"])
    assert len(listed(auth.client.get("/catalogue"))) == 4


def test_an_unknown_or_enormous_asset_id_is_a_404(auth, desk):
    auth.login(desk["requester"])
    assert auth.client.get("/catalogue/999").status_code == 404
    assert auth.client.get(f"/catalogue/{10**20}").status_code == 404
    assert auth.client.get(f"/catalogue/{10**20}/edit").status_code in (403, 404)


def test_the_catalogue_needs_a_log_in(client):
    assert client.get("/catalogue").status_code == 302


# --- The asset page -----------------------------------------------------------------------------

def test_the_asset_page_escapes_the_description_and_keeps_its_line_breaks(auth, desk, add):
    asset = add("Churn", description="<script>alert(1)</script>\nSecond line")
    auth.login(desk["requester"])
    html = auth.client.get(f"/catalogue/{asset}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line" in html
    assert 'class="pre-wrap description' in html


def test_requesters_see_no_actions_on_the_asset_page(auth, desk, add):
    asset = add()
    auth.login(desk["requester"])
    html = auth.client.get(f"/catalogue/{asset}").get_data(as_text=True)
    assert "Mark verified today" not in html and "/edit" not in html


def test_the_data_team_marks_an_asset_verified_today(auth, desk, add, make):
    asset = add(verified_days_ago=200)
    auth.login(desk["analyst"])
    response = auth.post(f"/catalogue/{asset}/verify",
                         {"verify-csrf_token": auth.token, "verify-version": version_of(make, asset)})
    assert response.status_code == 302
    with make.app.app_context():
        assert make.get(Asset, asset).last_verified_on == localtime.local_today(utcnow())


def test_deprecating_needs_a_reason_kept_at_the_end_of_the_description(auth, desk, add, make):
    asset = add(description="Churn per week.")
    auth.login(desk["analyst"])

    def post(**fields):
        data = {"status-csrf_token": auth.token, "status-version": version_of(make, asset)}
        data.update({f"status-{key}": value for key, value in fields.items()})
        return auth.client.post(f"/catalogue/{asset}/status", data=data)

    response = post(status="deprecated", reason="")
    assert response.status_code == 400
    assert "Say why it is deprecated" in response.get_data(as_text=True)
    assert make.get(Asset, asset).status == "active"
    assert post(status="deprecated", reason="Use the new churn cube.").status_code == 302
    saved = make.get(Asset, asset)
    assert saved.status == "deprecated"
    assert saved.description.startswith("Churn per week.\n\nDeprecated on ")
    assert saved.description.endswith("by Ana Analyst: Use the new churn cube.")
    assert post(status="active", reason="").status_code == 302
    assert make.get(Asset, asset).status == "active"


def test_linking_by_request_number_takes_only_a_request_the_actor_may_see(
        auth, desk, add, make, errors):
    asset = add()
    mine = make.request(desk["requester"], desk["marketing"])
    secret = make.request(desk["finance requester"], desk["finance"], is_confidential=True)
    auth.login(desk["analyst"])

    def post(number):
        return auth.client.post(f"/catalogue/{asset}/link", data={
            "link-csrf_token": auth.token, "link-version": version_of(make, asset),
            "link-request_id": number, "link-how": "linked"})

    for number in (str(secret), "999", str(10**20), "abc", "-3"):
        response = post(number)
        assert response.status_code == 400, number
        assert "link-request_id" in errors(response), number
    assert post(str(mine)).status_code == 302
    response = post(str(mine))
    assert "already linked" in errors(response)["link-request_id"]
    with make.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AssetLink)) == 1


# --- The form -----------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["analyst", "lead"])
def test_analysts_and_leads_add_an_asset_that_came_from_no_request(form_data, auth, desk, make, role):
    auth.login(desk[role])
    response = auth.post("/catalogue/new", form_data())
    assert response.status_code == 302
    asset_id = int(response.headers["Location"].rsplit("/", 1)[1])
    saved = make.get(Asset, asset_id)
    assert saved.title == "Revenue by channel"
    assert saved.tags == ",revenue,channels,"
    assert saved.description == "Revenue per channel per week.\r\nRefreshed every Monday."


def test_requesters_may_not_add_edit_verify_deprecate_or_link(form_data, auth, desk, add, make):
    asset = add()
    auth.login(desk["requester"])
    version = version_of(make, asset)
    assert auth.client.get("/catalogue/new").status_code == 403
    assert auth.post("/catalogue/new", form_data()).status_code == 403
    assert auth.client.get(f"/catalogue/{asset}/edit").status_code == 403
    assert auth.post(f"/catalogue/{asset}/edit",
                     form_data(version=version)).status_code == 403
    assert auth.post(f"/catalogue/{asset}/verify",
                     {"verify-version": version}).status_code == 403
    assert auth.post(f"/catalogue/{asset}/status",
                     {"status-version": version, "status-status": "deprecated",
                      "status-reason": "x"}).status_code == 403
    assert auth.post(f"/catalogue/{asset}/link",
                     {"link-version": version, "link-request_id": "1"}).status_code == 403
    assert version_of(make, asset) == version


@pytest.mark.parametrize("field, value, message", [
    ("url", "javascript:alert(1)", "https://"),
    ("url", "data:text/html,<script>alert(1)</script>", "https://"),
    ("url", "https://", "https://"),
    ("url", "", "link"),
    ("title", "x" * 10000, "200 characters"),
    ("title", "   ", "title"),
    ("last_verified_on", "2026-02-31", "YYYY-MM-DD"),
    ("last_verified_on", "yesterday", "YYYY-MM-DD"),
    ("last_verified_on", "", "last verified"),
    ("team_id", "999", "teams in the list"),
    ("team_id", str(10**20), "teams in the list"),
    ("team_id", "abc", "teams in the list"),
    ("kind", "spreadsheet", "kind"),
    ("status", "gone", "active or deprecated"),
    ("tags", ", ".join(f"tag{n}" for n in range(13)), "at most 12"),
    ("description", "a" * 10001, "10,000 characters"),
    ("title", "bad\x00title", "control characters"),
])
def test_bad_input_gets_a_field_error_and_keeps_what_was_typed(form_data, 
        auth, desk, make, errors, field, value, message):
    auth.login(desk["analyst"])
    data = form_data(**{field: value})
    response = auth.post("/catalogue/new", data)
    assert response.status_code == 400
    found = errors(response)
    assert message.lower() in found.get(field, "").lower(), found
    html = response.get_data(as_text=True)
    kept = "Revenue by channel" if field != "title" else "Revenue per channel per week."
    assert kept in html  # nothing lost
    with make.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 0


def test_a_verified_date_in_the_future_is_refused(form_data, app, auth, desk, errors):
    auth.login(desk["analyst"])
    with app.app_context():
        tomorrow = localtime.local_today(utcnow()) + timedelta(days=1)
    response = auth.post("/catalogue/new", form_data(last_verified_on=tomorrow.isoformat()))
    assert response.status_code == 400
    assert "future" in errors(response)["last_verified_on"]


def test_an_inactive_team_is_not_offered_for_a_new_asset(form_data, app, auth, desk, errors, make):
    closed = make.team("Closed team", is_active=False)
    auth.login(desk["analyst"])
    assert "Closed team" not in auth.client.get("/catalogue/new").get_data(as_text=True)
    response = auth.post("/catalogue/new", form_data(team_id=closed))
    assert response.status_code == 400 and "team_id" in errors(response)


def test_the_forms_carry_a_csrf_token_and_a_post_without_it_is_refused(form_data, auth, desk, add, make):
    asset = add()
    auth.login(desk["analyst"])
    assert 'name="csrf_token"' in auth.client.get("/catalogue/new").get_data(as_text=True)
    assert 'name="csrf_token"' in auth.client.get(f"/catalogue/{asset}/edit").get_data(as_text=True)
    page = auth.client.get(f"/catalogue/{asset}").get_data(as_text=True)
    for prefix in ("verify", "status", "link"):
        assert f'name="{prefix}-csrf_token"' in page
    response = auth.client.post("/catalogue/new", data=form_data())
    assert response.status_code == 400
    response = auth.client.post(f"/catalogue/{asset}/verify",
                                data={"verify-version": version_of(make, asset)})
    assert response.status_code == 400


def test_an_edit_saves_the_changes_and_the_search_finds_the_new_title(form_data, app, auth, desk, add, make):
    asset = add("Churn dashboard")
    auth.login(desk["analyst"])
    page = auth.client.get(f"/catalogue/{asset}/edit").get_data(as_text=True)
    assert 'value="Churn dashboard"' in page
    response = auth.post(f"/catalogue/{asset}/edit", form_data(
        title="Flamingo retention cube", version=version_of(make, asset)))
    assert response.status_code == 302
    with app.app_context():
        found = search.search(db.session.get(User, desk["requester"]), "flamingo",
                              types=("asset",))
        assert [hit.id for hit in found.hits] == [asset]
        assert search.search(db.session.get(User, desk["requester"]), "churn",
                             types=("asset",)).hits == []


def test_a_stale_edit_is_refused_with_a_409_and_keeps_what_was_typed(form_data, auth, desk, add, make):
    asset = add("Churn dashboard")
    stale = version_of(make, asset)
    auth.login(desk["analyst"])
    first = auth.post(f"/catalogue/{asset}/edit",
                      form_data(title="First change", version=stale))
    assert first.status_code == 302
    second = auth.post(f"/catalogue/{asset}/edit",
                       form_data(title="Second change", version=stale))
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "Someone else changed this asset" in html
    assert 'value="Second change"' in html
    assert make.get(Asset, asset).title == "First change"
    current = version_of(make, asset)
    assert f'name="version" type="hidden" value="{current}"' in html


def test_a_stale_action_on_the_asset_page_is_a_409(auth, desk, add, make):
    asset = add()
    stale = version_of(make, asset)
    auth.login(desk["analyst"])
    assert auth.post(f"/catalogue/{asset}/verify",
                     {"verify-csrf_token": auth.token, "verify-version": stale}).status_code == 302
    response = auth.client.post(f"/catalogue/{asset}/status", data={
        "status-csrf_token": auth.token, "status-version": stale, "status-status": "deprecated",
        "status-reason": "Replaced"})
    assert response.status_code == 409
    assert make.get(Asset, asset).status == "active"


def test_bad_query_strings_never_give_a_server_error(auth, desk, add):
    add("Churn dashboard", tags="churn")
    auth.login(desk["requester"])
    for query in ("q=" + "x" * 10000, 'q=" OR 1=1 --', "q=(((*", "q=%00", "team=abc",
                  f"team={10**20}", "kind=<b>", "status=%00", "tag=" + "%" * 300,
                  "sort[]=1", "page=-1", "format=csv&q=(((", "q=日本語の顧客"):
        response = auth.client.get(f"/catalogue?{query}")
        assert response.status_code == 200, query


# --- Cost ---------------------------------------------------------------------------------------

def test_the_list_costs_the_same_number_of_sql_statements_for_3_or_30_assets(
        app, auth, desk, add, make, statements):
    requests = [make.request(desk["requester"], desk["marketing"]) for _ in range(3)]
    paths = ["/catalogue", "/catalogue?sort=used", "/catalogue?q=churn", "/catalogue?tag=churn",
             "/catalogue?status=any&sort=title"]

    def cost(role):
        browser = AuthActions(app.test_client(), app)
        browser.login(desk[role])
        counts = {}
        for path in paths:
            browser.client.get(path)
            del statements[:]
            assert len(listed(browser.client.get(path))) > 0
            counts[path] = statements[-1]
        return counts

    for number in range(3):
        add(f"Churn view {number}", tags="churn", requests=requests[:number])
    small = {role: cost(role) for role in ("requester", "lead")}
    for number in range(27):
        add(f"Churn report {number}", tags="churn", requests=requests[:number % 4],
            team=desk["finance"] if number % 3 else None)
    large = {role: cost(role) for role in ("requester", "lead")}
    assert small == large


def test_the_request_page_card_lists_the_assets_it_may_show(app, desk, add, make):
    delivered = make.request(desk["requester"], desk["marketing"])
    asset = add("Churn dashboard", requests=[delivered])
    with app.test_request_context("/"):
        user = db.session.get(User, desk["requester"])
        assets = catalogue.assets_of_request(delivered, user)
        html = app.jinja_env.get_template("catalogue/_request_assets.html").render(assets=assets)
        assert "In the catalogue" in html and f"/catalogue/{asset}" in html
        assert 'rel="noopener noreferrer"' in html
        assert app.jinja_env.get_template("catalogue/_request_assets.html").render(
            assets=[]).strip() == ""


# --- What became of what an asset answered (issue 13) ----------------------------------------

@pytest.fixture
def answered(app, desk, add, make):
    """An asset that answered five resolved requests whose requesters said what became of
    them (acted, acted, decided not to act, not used: too late; one not answered), and a
    sixth, confidential, of another requester (acted): only leads and its requester see it."""
    from tests.test_impact import World, at

    world = World(app, make)
    analyst = desk["analyst"]
    other = make.user("requester", teams=[desk["marketing"]], name="Otto Other")
    ids = [world.resolved(desk["requester"], desk["marketing"], analyst, at(2 + n),
                          title=f"Churn question {n}") for n in range(5)]
    secret = world.resolved(other, desk["marketing"], desk["lead"], at(8), title="Secret churn",
                            is_confidential=True)
    world.send(at(10))
    for request_id, answer, day in (
            (ids[0], {"outcome": "acted", "decision": "Raised the <b>retention</b> budget"}, 11),
            (ids[1], {"outcome": "acted", "decision": "Called the churned accounts"}, 12),
            (ids[2], {"outcome": "decided_not_to_act", "decision": "Kept prices"}, 13),
            (ids[3], {"outcome": "not_used", "reason": "too_late"}, 14),
            (secret, {"outcome": "acted", "decision": "Closed the office"}, 15)):
        world.answer(request_id, at(day), **answer)
    asset = add("Churn explorer", requests=[*ids, secret])
    return {"asset": asset, "ids": ids, "secret": secret}


def outcome_counts(html):
    return {outcome: int(count) for outcome, count in re.findall(
        r'data-outcome="(\w+)">.*?<span class="fw-semibold">(\d+)</span>', html)}


def test_an_asset_page_says_how_many_requests_it_answered_and_their_outcomes(
        auth, desk, answered):
    auth.login(desk["requester"])
    html = auth.client.get(f"/catalogue/{answered['asset']}").get_data(as_text=True)
    assert "Answered 5 requests" in html
    assert outcome_counts(html) == {"acted": 2, "decided_not_to_act": 1, "not_yet": 0,
                                    "not_used": 1}
    decisions = html.split('class="list-unstyled mb-0 latest-decisions"')[1].split("</ul>")[0]
    order = [int(n) for n in re.findall(r'href="/requests/(\d+)"', decisions)]
    assert order == [answered["ids"][3], answered["ids"][2], answered["ids"][1],
                     answered["ids"][0]]
    assert "Not used: it came too late for the decision" in decisions
    assert "Raised the &lt;b&gt;retention&lt;/b&gt; budget" in decisions  # escaped
    assert "Closed the office" not in html  # the confidential request stays hidden


def test_a_lead_sees_every_outcome_and_the_latest_five_decisions(auth, desk, answered):
    auth.login(desk["lead"])
    html = auth.client.get(f"/catalogue/{answered['asset']}").get_data(as_text=True)
    assert "Answered 6 requests" in html
    assert outcome_counts(html)["acted"] == 3
    decisions = html.split('class="list-unstyled mb-0 latest-decisions"')[1].split("</ul>")[0]
    assert re.findall(r'href="/requests/(\d+)"', decisions)[0] == str(answered["secret"])
    assert len(re.findall(r"<li ", decisions)) == catalogue.LATEST_DECISIONS == 5


def test_an_asset_without_answers_says_so(auth, desk, add, make):
    asset = add("Fresh dashboard", requests=[make.request(desk["requester"], desk["marketing"])])
    auth.login(desk["requester"])
    html = auth.client.get(f"/catalogue/{asset}").get_data(as_text=True)
    assert "Answered 1 request<" in html and "No requester has said yet" in html
    empty = add("Unlinked dashboard")
    html = auth.client.get(f"/catalogue/{empty}").get_data(as_text=True)
    assert "Answered 0 requests" in html and "None that you can see yet." in html


def test_the_outcomes_cost_two_statements_whatever_the_number_of_requests(
        app, desk, answered, add, make):
    from tests.conftest import count_sql

    def cost(asset_id, role):
        def run():
            user = db.session.get(User, desk[role])
            asset = db.session.get(Asset, asset_id)
            return catalogue.outcomes_of(asset, user)
        return count_sql(app, run)

    small = add("Small", requests=answered["ids"][:1])
    for role in ("requester", "lead"):
        few, _ = cost(small, role)
        many, found = cost(answered["asset"], role)
        assert many == few, role
        assert found.answered >= 5
