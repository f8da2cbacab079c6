"""One search box (issue 12): /search over requests and the catalogue, ranked, with highlighted
snippets, filters and pages; the pickers' JSON (/search/pick.json); the index kept current on
every write; any text a sensible answer; searches that found nothing remembered."""
import json
import re
from datetime import date
from types import SimpleNamespace

import pytest

from tests.conftest import AuthActions
from tickets import catalogue, intake
from tickets.extensions import db
from tickets.models import Asset, Request, SearchMiss, User


@pytest.fixture
def desk(make):
    """Marketing and Finance, each with a requester and an embedded analyst; a lead."""
    marketing = make.team("Marketing")
    finance = make.team("Finance")
    return SimpleNamespace(
        marketing=marketing, finance=finance,
        rita=make.user("requester", teams=[marketing], name="Rita Requester"),
        fred=make.user("requester", teams=[finance], name="Fred Finance"),
        priya=make.user("analyst", teams=[marketing], name="Priya Analyst"),
        sam=make.user("analyst", teams=[finance], name="Sam Analyst"),
        lead=make.user("lead", name="Lena Lead"),
    )


def ask(make, requester, team, title, body="", **fields):
    """A request whose only words are ``title`` and ``body`` (the data needed)."""
    return make.request(requester, team, title=title, data_needed=body, usage="",
                        lever_result="", lever_expected_shape="", lever_extraction="",
                        lever_decision="", **fields)


def add_asset(app, title, team, *, description="", tags="", status="active", kind="dashboard",
              answered=(), verified=None):
    """A catalogue asset of ``team``, linked to the requests ``answered``."""
    with app.app_context():
        asset = catalogue.add_asset(None, title=title, url="https://bi.example.com/a", kind=kind,
                                    team_id=team, description=description, tags=tags,
                                    status=status, last_verified_on=verified)
        for request_id in answered:
            catalogue.link(asset, db.session.get(Request, request_id), None)
        db.session.commit()
        return asset.id


def login(app, user_id):
    actions = AuthActions(app.test_client(), app)
    actions.login(user_id)
    return actions


def html(response):
    return response.get_data(as_text=True)


def hits(response):
    """The results a search page lists, in order, as ("request", id) and ("asset", id)."""
    return [(kind, int(id_)) for kind, id_ in
            re.findall(r'data-hit="(request|asset):(\d+)"', html(response))]


def misses(app):
    with app.app_context():
        return [(m.query, m.source) for m in db.session.scalars(
            db.select(SearchMiss).order_by(SearchMiss.id))]


# --- The page ---------------------------------------------------------------------------------

def test_the_header_has_a_labelled_search_box_on_every_page_for_people_logged_in(app, client, desk):
    assert 'role="search"' not in html(client.get("/login"))
    page = html(login(app, desk.rita).client.get("/requests/mine"))
    box = re.search(r'<form class="header-search[^>]*>.*?</form>', page, re.S).group(0)
    assert 'action="/search"' in box and 'method="get"' in box and 'role="search"' in box
    assert '<label for="header-q"' in box and 'name="q"' in box
    assert 'href="/catalogue">Catalogue</a>' in page


def test_an_empty_search_shows_the_form_and_what_search_looks_through(app, desk):
    for path in ("/search", "/search?q=", "/search?q=%20%20"):
        response = login(app, desk.rita).client.get(path)
        assert response.status_code == 200
        assert "Search looks through the requests you may see" in html(response)
        assert "Nothing found" not in html(response)
    assert misses(app) == []


def test_search_needs_a_log_in(client):
    response = client.get("/search?q=churn")
    assert response.status_code == 302 and "/login" in response.location


def test_finds_requests_by_title_body_comment_and_delivery_note(app, make, desk):
    by_title = ask(make, desk.rita, desk.marketing, "Weekly churn by region")
    by_body = ask(make, desk.rita, desk.marketing, "Numbers for the board",
                  "Invoices overdue per customer segment")
    by_comment = ask(make, desk.rita, desk.marketing, "Quarterly figures")
    by_note = ask(make, desk.rita, desk.marketing, "Pipeline export", kind="project")
    with app.app_context():
        intake.add_comment(db.session.get(Request, by_comment),
                           db.session.get(User, desk.rita), "Please split by warehouse.")
        db.session.commit()
    make.act(by_note, "accept", desk.priya, size="S")
    make.act(by_note, "claim", desk.priya)
    make.act(by_note, "deliver", desk.priya, url="https://bi.example.com/p",
             note="The lighthouse dashboard has it.")
    client = login(app, desk.rita).client
    assert hits(client.get("/search?q=churn")) == [("request", by_title)]
    assert hits(client.get("/search?q=invoices")) == [("request", by_body)]
    assert hits(client.get("/search?q=warehouse")) == [("request", by_comment)]
    assert hits(client.get("/search?q=lighthouse")) == [("request", by_note)]


def test_more_matching_words_rank_first_and_deprecated_assets_after_active_ones(app, make, desk):
    # Other teams' requests, as any desk's index holds: among four documents that all say
    # "churn", three of them "region", SQLite's bm25 gives those two words no weight at all (a
    # word in half the documents or more has its idf floored at 1e-6), so "week" alone ranked
    # and the order hung on one word's statistics.
    for title in ("Invoices overdue per customer", "Headcount plan for next year",
                  "Stock levels per warehouse", "Campaign spend by channel",
                  "Quarterly revenue bridge", "Support tickets per product"):
        ask(make, desk.fred, desk.finance, title)
    one_word = ask(make, desk.rita, desk.marketing, "Churn in general")
    three_words = ask(make, desk.rita, desk.marketing, "Churn by region per week")
    old = add_asset(app, "Regional churn dashboard", desk.marketing, status="deprecated")
    new = add_asset(app, "Regional churn dashboard v2", desk.marketing)
    found = hits(login(app, desk.rita).client.get("/search?q=churn+region+week"))
    assert found[0] == ("request", three_words)
    assert found.index(("asset", new)) < found.index(("asset", old))
    assert set(found) == {("request", one_word), ("request", three_words), ("asset", new),
                          ("asset", old)}


def test_a_request_hit_shows_its_number_state_kind_team_and_links_to_its_page(app, make, desk):
    req = ask(make, desk.rita, desk.marketing, "Weekly churn by region")
    page = html(login(app, desk.rita).client.get("/search?q=churn"))
    hit = re.search(r'<li class="card[^"]*search-hit".*?</li>', page, re.S).group(0)
    assert f"Request #{req}" in hit and "state-submitted" in hit and "Ad-hoc" in hit
    assert "Marketing" in hit
    assert f'href="/requests/{req}"' in hit
    assert "<mark>churn</mark>" in hit.lower()


def test_an_asset_hit_shows_kind_team_status_verified_date_and_links_to_its_page(app, desk):
    asset = add_asset(app, "Churn dashboard", desk.finance, kind="dataset", status="deprecated",
                      verified=date(2026, 3, 2))
    page = html(login(app, desk.rita).client.get("/search?q=churn"))
    hit = re.search(r'<li class="card[^"]*search-hit".*?</li>', page, re.S).group(0)
    assert "Dataset or extract" in hit and "Finance" in hit and "Deprecated" in hit
    assert "verified 2 Mar 2026" in hit
    assert f'href="/catalogue/{asset}"' in hit


def test_titles_and_snippets_are_escaped_and_only_the_marks_are_html(app, make, desk):
    ask(make, desk.rita, desk.marketing, "<script>alert(1)</script> churn <b>now</b>",
        "<img src=x onerror=alert(2)> churn & retention")
    page = html(login(app, desk.rita).client.get("/search?q=churn"))
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>now" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "alert(2)&gt; <mark>churn</mark> &amp; retention" in page.lower()
    assert "<mark>churn</mark>" in page.lower()


def test_the_counts_per_type_and_the_type_filter(app, make, desk):
    requests = [ask(make, desk.rita, desk.marketing, f"Churn report {n}") for n in range(3)]
    assets = [add_asset(app, f"Churn dashboard {n}", desk.marketing) for n in range(2)]
    client = login(app, desk.rita).client
    page = client.get("/search?q=churn")
    assert re.search(r"All <span[^>]*>5</span>", html(page))
    assert re.search(r"Requests <span[^>]*>3</span>", html(page))
    assert re.search(r"Catalogue <span[^>]*>2</span>", html(page))
    assert {id_ for kind, id_ in hits(client.get("/search?q=churn&type=requests"))} == set(requests)
    assert hits(client.get("/search?q=churn&type=assets")) == [("asset", a) for a in assets]


def test_the_kind_state_and_team_filters(app, make, desk):
    open_ = ask(make, desk.rita, desk.marketing, "Churn open")
    project = ask(make, desk.rita, desk.marketing, "Churn project", kind="project")
    delivered = ask(make, desk.rita, desk.marketing, "Churn delivered", kind="project")
    make.act(delivered, "accept", desk.priya, size="S")
    make.act(delivered, "claim", desk.priya)
    make.act(delivered, "deliver", desk.priya, url="https://bi.example.com/d", note="Done.")
    declined = ask(make, desk.rita, desk.marketing, "Churn declined")
    make.act(declined, "decline", desk.priya, reason="out_of_scope", note="Not ours.")
    finance = ask(make, desk.fred, desk.finance, "Churn in finance")
    finance_asset = add_asset(app, "Churn finance dashboard", desk.finance)
    marketing_asset = add_asset(app, "Churn marketing dashboard", desk.marketing)
    client = login(app, desk.lead).client

    def ids(query):
        return set(hits(client.get("/search?q=churn&" + query)))

    assert ids("kind=project") == {("request", project), ("request", delivered)}
    assert ids("state=open") == {("request", open_), ("request", project), ("request", finance)}
    assert ids("state=delivered") == {("request", delivered)}
    assert ids("state=closed") == {("request", declined)}
    assert ids(f"team={desk.finance}") == {("request", finance), ("asset", finance_asset)}
    assert ids(f"team={desk.marketing}&type=assets") == {("asset", marketing_asset)}


@pytest.mark.parametrize("query, field, message", [
    ("type=everything", "type", "showing everything"),
    ("kind=nonsense", "kind", "showing any kind"),
    ("state=%00", "state", "showing any state"),
    ("team=abc", "team", "showing all teams"),
    ("team=99999999999999999999", "team", "showing all teams"),
    ("team=-1", "team", "showing all teams"),
])
def test_a_filter_value_that_is_not_a_choice_is_not_used_and_says_so(app, make, desk, query,
                                                                       field, message):
    req = ask(make, desk.rita, desk.marketing, "Churn report")
    response = login(app, desk.rita).client.get(f"/search?q=churn&{query}")
    assert response.status_code == 200
    assert hits(response) == [("request", req)]
    error = re.search(rf'<div id="{field}-error" class="invalid-feedback">([^<]*)</div>',
                      html(response))
    assert error and message in error.group(1)


def test_pages_of_twenty_with_previous_next_and_the_page_capped(app, make, desk):
    for n in range(45):
        ask(make, desk.rita, desk.marketing, f"Churn report {n}", kind="project")
    client = login(app, desk.rita).client
    first = client.get("/search?q=churn")
    assert len(hits(first)) == 20 and "page 1 of 3" in html(first)
    assert 'rel="next" href="/search?q=churn&amp;page=2"' in html(first)
    last = client.get("/search?q=churn&page=3")
    assert len(hits(last)) == 5 and "Page 3 of 3" in html(last)
    assert 'rel="prev"' in html(last) and 'rel="next"' not in html(last)
    seen = hits(first) + hits(client.get("/search?q=churn&page=2")) + hits(last)
    assert len(set(seen)) == 45
    for page, shown in (("abc", 1), ("0", 1), ("-4", 1), ("1.5", 1), (str(10**20), 3),
                        ("99", 3), ("%00", 1)):
        response = client.get(f"/search?q=churn&page={page}")
        assert response.status_code == 200, page
        assert f"page {shown} of 3" in html(response), page


def test_a_page_and_its_counts_are_a_separate_count_and_a_ranked_page(app, make, desk):
    """One statement ranks every visible match, then counts and pages them: the same as
    counting them apart and asking the database for the page."""
    from sqlalchemy import func

    from tickets import search

    for n in range(30):
        ask(make, (desk.rita, desk.fred)[n % 2], (desk.marketing, desk.finance)[n % 2],
            f"Churn {'region ' * (n % 3)}report {n}", kind=("ad_hoc", "project")[n % 2],
            is_confidential=n % 5 == 0)
    for n in range(12):
        add_asset(app, f"Churn region dashboard {n}", (desk.marketing, desk.finance)[n % 2],
                  status="deprecated" if n % 4 == 0 else "active")
    with app.app_context():
        for user_id in (desk.rita, desk.priya, desk.lead):
            user = db.session.get(User, user_id)
            for text, types, count_types, condition in (
                    ("churn region", ("request", "asset"), None, None),
                    ("churn", ("request",), ("request", "asset"), None),
                    ("region report", ("asset",), ("request", "asset"), None),
                    ("churn", ("request",), None, Request.kind == "project")):
                match = search._match(search.terms(text))
                every = tuple(dict.fromkeys((*types, *(count_types or types))))
                scoped, _, documents = search._candidates(match, user, every, condition, None)
                counts = dict.fromkeys(every, 0)
                counts.update(db.session.execute(scoped([documents.kind, func.count()])
                                                 .group_by(documents.kind)).all())
                total = sum(counts[kind] for kind in types)
                for page in (1, 2, 3):
                    found = search.search(user, text, types=types, count_types=count_types,
                                          request_condition=condition, page=page, per_page=7)
                    shown = min(page, max(1, -(-total // 7)))
                    rows = search._ranked(user, match, types=types, request_condition=condition,
                                          limit=7, offset=(shown - 1) * 7)
                    assert (found.total, found.counts, found.page) == (
                        total, {kind: counts[kind] for kind in count_types or types}, shown)
                    assert [(hit.kind, hit.id) for hit in found.hits] == \
                        [(row.kind, row.ref_id) for row in rows]
                    assert found.hits or total == 0


def test_suggestions_ask_who_may_see_only_among_the_best_matches(app, make, desk, monkeypatch):
    """``similar`` checks who may see a match among the SIMILAR_BEST best matches of its scope
    only: the same suggestions as ranking every match whenever enough of those are visible,
    else the visible ones among them, in order (never one the person may not see)."""
    from tickets import search

    for n in range(12):
        ask(make, (desk.rita, desk.fred)[n % 2], (desk.marketing, desk.finance)[n % 2],
            f"Churn report {'churn ' * (n % 4)}{n}", is_confidential=n % 5 == 0)
    add_asset(app, "Churn report dashboard", desk.finance)

    def keys(rows):
        return [(row.kind, row.ref_id) for row in rows]

    with app.app_context():
        lead = db.session.get(User, desk.lead)
        match = search._match(search.terms("churn report"))
        for user_id in (desk.rita, desk.priya, desk.lead):
            user = db.session.get(User, user_id)
            every = keys(search._ranked(user, match, types=("request", "asset"), limit=None))
            suggested = search.similar(user, "churn report", limit=5)
            assert [(hit.kind, hit.id) for hit in suggested] == every[:5]
            with monkeypatch.context() as patched:
                patched.setattr(search, "SIMILAR_BEST", 4)
                best = keys(search._ranked(lead, match, types=("request", "asset"), limit=4))
                suggested = search.similar(user, "churn report", limit=5)
                assert [(hit.kind, hit.id) for hit in suggested] == [
                    key for key in best if key in every]
                assert len(suggested) < 4 or user_id == desk.lead


# --- Bad input --------------------------------------------------------------------------------

BAD_QUERIES = [
    "NEAR(", '"', '"churn', "*", "churn*", "AND OR NOT", "churn AND", "NOT churn", "((churn",
    "churn)", "-", "-churn", "^", "^churn", "churn:title", "title:churn", "{churn}", "'", "\\",
    "%", "_", "churn%' OR 1=1 --", "解約 分析", "تحليل العملاء", "отток клиентов", "🔥📊",
    "churn 🔥", "\x00", "churn\x00region", "\x01\x02\x1f", "\t\n\r", "churn " * 2000, "x" * 10000,
    "", " ", "the and of", "a", "!@#$%^&*()",
]


@pytest.mark.parametrize("query", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
def test_any_text_is_a_search_with_a_sensible_answer(app, make, desk, query):
    req = ask(make, desk.rita, desk.marketing, "Weekly churn by region 解約 отток клиентов")
    client = login(app, desk.rita).client
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    page = html(response)
    if "churn" in query.casefold() or "解約" in query or "отток" in query:
        assert ("request", req) in hits(response)
    if query.strip(" \x00\t\n\r") and not re.search(r"\w{2,}", query.replace("_", "")):
        assert ("Type a few words" in page or "too common" in page or hits(response) == []
                or "Nothing found" in page)
    picked = client.get("/search/pick.json", query_string={"q": query, "for": "answer"})
    assert picked.status_code == 200 and isinstance(picked.get_json()["results"], list)


def test_a_query_of_only_common_words_says_so(app, desk):
    page = html(login(app, desk.rita).client.get("/search?q=the+and+of"))
    assert "Those words are too common to search for" in page
    assert misses(app) == []


def test_a_very_long_query_is_cut_and_says_so(app, make, desk):
    req = ask(make, desk.rita, desk.marketing, "Churn report")
    page = login(app, desk.rita).client.get("/search", query_string={"q": "churn " + "x" * 9000})
    assert "Only the first 500 characters were searched." in html(page)
    assert hits(page) == [("request", req)]


# --- Misses -----------------------------------------------------------------------------------

def test_a_search_that_finds_nothing_is_remembered_once_on_its_first_page(app, make, desk):
    ask(make, desk.rita, desk.marketing, "Churn report")
    client = login(app, desk.rita).client
    response = client.get("/search?q=Lighthouse+revenue")
    assert "Nothing found for “Lighthouse revenue”" in html(response)
    assert 'href="/catalogue"' in html(response) and 'href="/requests/new"' in html(response)
    client.get("/search?q=Lighthouse+revenue&page=2")
    client.get("/search?q=churn")  # found something
    client.get("/search?q=")  # asked nothing
    client.get("/search?q=the+of")  # no searchable word
    assert misses(app) == [("Lighthouse revenue", "search")]
    with app.app_context():
        miss = db.session.scalars(db.select(SearchMiss)).one()
        assert (miss.user_id, miss.team_id, miss.query_key) == (desk.rita, desk.marketing,
                                                                  "lighthouse revenue")


def test_a_search_narrowed_by_filters_to_nothing_is_not_a_catalogue_gap(app, make, desk):
    ask(make, desk.rita, desk.marketing, "Churn report")
    client = login(app, desk.rita).client
    response = client.get("/search?q=churn&state=closed")
    assert "Nothing matches those filters" in html(response)
    assert 'href="/search?q=churn"' in html(response)
    assert misses(app) == []


def test_a_miss_with_a_nul_character_is_remembered_without_it(app, desk):
    login(app, desk.rita).client.get("/search", query_string={"q": "ghost\x00metric"})
    assert misses(app) == [("ghost metric", "search")]


# --- The index stays current ------------------------------------------------------------------

def search_ids(app, user_id, text):
    from tickets import search

    with app.app_context():
        found = search.search(db.session.get(User, user_id), text)
        return [(hit.kind, hit.id) for hit in found.hits]


def test_the_index_follows_edits_of_title_and_data_needed(app, make, desk):
    req = ask(make, desk.rita, desk.marketing, "Churn report", "Accounts lost per week")
    with app.app_context():
        found = db.session.get(Request, req)
        intake.edit_request(found, db.session.get(User, desk.rita),
                            {"title": "Retention report", "data_needed": "Accounts kept"})
        db.session.commit()
    assert search_ids(app, desk.rita, "churn") == []
    assert search_ids(app, desk.rita, "lost") == []
    assert search_ids(app, desk.rita, "retention") == [("request", req)]
    assert search_ids(app, desk.rita, "kept") == [("request", req)]


def test_the_index_follows_new_comments_and_delivery_notes(app, make, desk):
    req = ask(make, desk.rita, desk.marketing, "Numbers", kind="project")
    with app.app_context():
        intake.add_comment(db.session.get(Request, req), db.session.get(User, desk.priya),
                           "Use the warehouse snapshot.")
        db.session.commit()
    assert search_ids(app, desk.rita, "snapshot") == [("request", req)]
    make.act(req, "accept", desk.priya, size="S")
    make.act(req, "claim", desk.priya)
    make.act(req, "deliver", desk.priya, url="https://bi.example.com/n", note="See lighthouse.")
    assert search_ids(app, desk.rita, "lighthouse") == [("request", req)]


def test_the_index_forgets_deleted_assets_and_requests(app, make, desk):
    req = ask(make, desk.rita, desk.marketing, "Churn report")
    asset = add_asset(app, "Churn dashboard", desk.marketing, answered=[req])
    assert set(search_ids(app, desk.lead, "churn")) == {("request", req), ("asset", asset)}
    with app.app_context():
        db.session.delete(db.session.get(Asset, asset))
        db.session.commit()
    assert search_ids(app, desk.lead, "churn") == [("request", req)]
    with app.app_context():
        db.session.delete(db.session.get(Request, req))
        db.session.commit()
    assert search_ids(app, desk.lead, "churn") == []
    with app.app_context():
        from tickets.models import SearchDocument
        assert db.session.scalar(db.select(db.func.count()).select_from(SearchDocument)) == 0


def test_the_index_follows_asset_edits(app, desk):
    asset = add_asset(app, "Churn dashboard", desk.marketing, tags="retention")
    with app.app_context():
        found = db.session.get(Asset, asset)
        found.title, found.tags = "Revenue dashboard", ",finance,"
        db.session.commit()
    assert search_ids(app, desk.rita, "churn retention") == []
    assert search_ids(app, desk.rita, "revenue finance") == [("asset", asset)]


# --- The pickers' JSON -------------------------------------------------------------------------

def pick(client, **args):
    response = client.get("/search/pick.json", query_string=args)
    return response.status_code, json.loads(response.get_data(as_text=True))


def picked(body):
    return [(row["kind"], row["id"]) for row in body["results"]]


@pytest.fixture
def shelf(app, make, desk):
    """Churn requests in every kind of state, and churn assets active and deprecated."""
    def delivered(title, then=None):
        req = ask(make, desk.rita, desk.marketing, title, kind="project")
        make.act(req, "accept", desk.priya, size="S")
        make.act(req, "claim", desk.priya)
        make.act(req, "deliver", desk.priya, url="https://bi.example.com/d", note="Done.")
        if then:
            make.act(req, then, desk.rita)
        return req

    found = SimpleNamespace(
        submitted=ask(make, desk.rita, desk.marketing, "Churn by region"),
        other_open=ask(make, desk.rita, desk.marketing, "Churn by product"),
        delivered=delivered("Churn dashboard request"),
        resolved=delivered("Churn extract request", "confirm"),
        declined=ask(make, desk.rita, desk.marketing, "Churn declined"),
        finance=ask(make, desk.fred, desk.finance, "Churn in finance"),
    )
    make.act(found.declined, "decline", desk.priya, reason="out_of_scope", note="No.")
    found.active = add_asset(app, "Churn dashboard", desk.marketing)
    found.deprecated = add_asset(app, "Old churn dashboard", desk.marketing, status="deprecated")
    return found


def test_the_duplicate_picker_lists_open_requests_the_analyst_may_see_but_this_one(app, desk,
                                                                                     shelf):
    status, body = pick(login(app, desk.priya).client, q="churn", **{"for": "duplicate"},
                        request=shelf.submitted)
    assert status == 200
    assert set(picked(body)) == {("request", shelf.other_open)}


def test_the_duplicate_picker_is_for_the_data_team(app, desk, shelf):
    status, body = pick(login(app, desk.rita).client, q="churn", **{"for": "duplicate"})
    assert status == 403 and body["results"] == [] and body["message"]


def test_the_answer_picker_lists_delivered_and_resolved_requests_and_active_assets(app, desk,
                                                                                   shelf):
    client = login(app, desk.priya).client
    status, body = pick(client, q="churn", **{"for": "answer"}, request=shelf.submitted)
    assert status == 200
    assert set(picked(body)) == {("request", shelf.delivered), ("request", shelf.resolved),
                                 ("asset", shelf.active)}
    _, body = pick(client, q="churn", **{"for": "answer"}, request=shelf.delivered)
    assert ("request", shelf.delivered) not in picked(body)


def test_the_answer_picker_narrows_to_one_kind_when_asked(app, desk, shelf):
    client = login(app, desk.priya).client
    _, body = pick(client, q="churn", **{"for": "answer"}, kinds="asset")
    assert set(picked(body)) == {("asset", shelf.active)}
    _, body = pick(client, q="churn", **{"for": "answer"}, kinds="request")
    assert set(picked(body)) == {("request", shelf.delivered), ("request", shelf.resolved)}
    _, body = pick(client, q="churn", **{"for": "answer"}, kinds="nonsense")
    assert ("asset", shelf.active) in picked(body)


def test_a_picked_row_carries_what_the_picker_shows_and_submits(app, desk, shelf):
    _, body = pick(login(app, desk.priya).client, q="churn dash", **{"for": "answer"})
    rows = {(row["kind"], row["id"]): row for row in body["results"]}
    asset = rows["asset", shelf.active]
    assert asset["value"] == f"asset:{shelf.active}"
    assert asset["url"] == f"/catalogue/{shelf.active}"
    assert asset["label"] == "Dashboard · Marketing" and asset["state"] == "active"
    assert "<mark>" in asset["title_html"].lower() and asset["title"] == "Churn dashboard"
    request = rows["request", shelf.delivered]
    assert request["value"] == f"request:{shelf.delivered}"
    assert request["url"] == f"/requests/{shelf.delivered}"
    assert request["label"] == f"Request #{shelf.delivered} · Delivered · Marketing"


def test_the_picker_matches_the_last_word_as_it_is_being_typed(app, desk, shelf):
    _, body = pick(login(app, desk.priya).client, q="chur", **{"for": "duplicate"})
    assert set(picked(body)) == {("request", shelf.submitted), ("request", shelf.other_open)}


def test_the_picker_lists_eight_at_most(app, make, desk):
    for n in range(12):
        ask(make, desk.rita, desk.marketing, f"Churn report {n}", kind="project")
    _, body = pick(login(app, desk.priya).client, q="churn", **{"for": "duplicate"})
    assert len(body["results"]) == 8


def test_the_picker_never_lists_what_the_person_may_not_see(app, make, desk, shelf):
    secret = ask(make, desk.rita, desk.marketing, "Churn of executives", is_confidential=True)
    _, body = pick(login(app, desk.priya).client, q="churn", **{"for": "duplicate"})
    assert ("request", shelf.finance) not in picked(body)
    assert ("request", secret) not in picked(body)
    _, body = pick(login(app, desk.lead).client, q="churn", **{"for": "duplicate"})
    assert {("request", shelf.finance), ("request", secret)} <= set(picked(body))


def test_the_picker_escapes_titles(app, make, desk):
    ask(make, desk.rita, desk.marketing, "<script>x</script> churn")
    _, body = pick(login(app, desk.priya).client, q="churn", **{"for": "duplicate"})
    assert body["results"][0]["title_html"].startswith("&lt;script&gt;x&lt;/script&gt;")
    assert body["results"][0]["title"] == "<script>x</script> churn"


@pytest.mark.parametrize("args, status", [
    ({"q": "churn"}, 400),
    ({"q": "churn", "for": "everything"}, 400),
    ({"q": "churn", "for": "answer", "request": "abc"}, 400),
    ({"q": "churn", "for": "answer", "request": "-1"}, 400),
    ({"q": "churn", "for": "answer", "request": "0"}, 400),
    ({"q": "churn", "for": "answer", "request": str(10**20)}, 400),
    ({"q": "churn", "for": "answer", "request": "١٢"}, 400),  # Arabic-Indic digits
    ({"q": "churn", "for": "answer", "request": "99999"}, 200),
    ({"for": "answer"}, 200),
    ({"q": "", "for": "duplicate"}, 200),
])
def test_bad_picker_parameters_are_a_400_with_a_message(app, desk, args, status):
    got, body = pick(login(app, desk.priya).client, **args)
    assert got == status
    assert body["results"] == []
    assert body["message"]


def test_the_picker_needs_a_log_in(client):
    response = client.get("/search/pick.json?q=churn&for=answer")
    assert response.status_code == 302 and "/login" in response.location


# --- Cost -------------------------------------------------------------------------------------

def test_the_search_page_costs_the_same_sql_statements_for_3_or_30_matching_requests(
        app, make, desk, statements):
    clients = {who: login(app, getattr(desk, who)).client for who in ("rita", "priya", "lead")}
    paths = ["/search?q=churn", "/search?q=churn&type=requests&state=open",
             "/search?q=churn&type=assets", "/search?q=nothing+here"]

    def add(count, start):
        for n in range(start, start + count):
            ask(make, desk.rita, desk.marketing, f"Churn report {n}", kind="project")
            add_asset(app, f"Churn dashboard {n}", desk.marketing)

    def cost():
        result = {}
        for who, client in clients.items():
            for path in paths:
                client.get(path)
                del statements[:]
                assert client.get(path).status_code == 200
                result[who, path] = statements[-1]
        return result

    add(3, 0)
    small = cost()
    add(27, 3)
    assert cost() == small
