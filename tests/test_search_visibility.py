"""Search never shows what a person may not see (issue 12): no other team's request, no
confidential request, no asset that answered only such requests, whatever the query; nor
does it count them. A table of the hidden things and their words, through the page and the
pickers, and a property over random queries built from those words and query operators."""
import re
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.conftest import AuthActions
from tickets import catalogue, intake, search
from tickets.extensions import db
from tickets.models import Request, User

WORDS = {
    "own": ("Weekly churn by region", "Churned accounts per region, for the growth meeting."),
    "teammate": ("Campaign churn uplift", "Email campaign results by region and churn."),
    "other_team": ("Zeppelin ledger churn", "Invoices in the zeppelin ledger by region."),
    "confidential": ("Quantum payroll churn", "Bonus payroll of executives, quantum band."),
}


@pytest.fixture
def world(app, make):
    """Rita (Marketing) and what she may and may not see; the lead sees everything."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    rita = make.user("requester", teams=[marketing], name="Rita Requester")
    mia = make.user("requester", teams=[marketing], name="Mia Marketing")
    fred = make.user("requester", teams=[finance], name="Fred Finance")
    priya = make.user("analyst", teams=[marketing], name="Priya Analyst")
    sam = make.user("analyst", teams=[finance], name="Sam Analyst")
    lead = make.user("lead", name="Lena Lead")

    def ask(requester, team, key, **fields):
        title, body = WORDS[key]
        return make.request(requester, team, title=title, data_needed=body, usage="",
                            lever_result="", lever_expected_shape="", lever_extraction="",
                            lever_decision="", kind="project", **fields)

    requests = SimpleNamespace(
        own=ask(rita, marketing, "own"), teammate=ask(mia, marketing, "teammate"),
        other_team=ask(fred, finance, "other_team"),
        confidential=ask(mia, marketing, "confidential", is_confidential=True))
    # Words that only a comment and a delivery note of the hidden requests hold.
    with app.app_context():
        intake.add_comment(db.session.get(Request, requests.other_team),
                           db.session.get(User, sam), "Xylophone reconciliation pending.")
        db.session.commit()
    make.act(requests.confidential, "accept", lead, size="S")
    make.act(requests.confidential, "claim", lead)
    make.act(requests.confidential, "deliver", lead, url="https://bi.example.com/q",
             note="Obsidian folder has the payroll churn figures.")

    def asset(title, description, team, answered):
        with app.app_context():
            found = catalogue.add_asset(None, title=title, url="https://bi.example.com/a",
                                        kind="dashboard", team_id=team,
                                        description=description)
            for request_id in answered:
                catalogue.link(found, db.session.get(Request, request_id), None)
            db.session.commit()
            return found.id

    assets = SimpleNamespace(
        of_other_team=asset("Zeppelin ledger churn board", "Ledger invoices", finance,
                            [requests.other_team]),
        of_confidential=asset("Quantum payroll churn board", "Executive bonus payroll",
                              marketing, [requests.confidential]),
        shared=asset("Ledger and region churn board", "Invoices and churn by region", finance,
                     [requests.other_team, requests.own]),
        uncatalogued=asset("Region churn explorer", "Churn by region, for everyone", marketing,
                           []),
    )
    hidden = {("request", requests.other_team), ("request", requests.confidential),
              ("asset", assets.of_other_team), ("asset", assets.of_confidential)}
    everything = {("request", id_) for id_ in vars(requests).values()} | {
        ("asset", id_) for id_ in vars(assets).values()}
    return SimpleNamespace(rita=rita, priya=priya, lead=lead, requests=requests, assets=assets,
                           hidden=hidden, everything=everything)


# Words of the hidden things (all but "ledger", which a shared asset holds too, are only theirs).
HIDDEN_WORDS = ["zeppelin", "quantum", "payroll", "bonus", "executives", "xylophone",
                "reconciliation", "obsidian", "ledger"]
OPERATORS = ["AND", "OR", "NOT", "NEAR(", "NEAR", ")", "(", '"', "*", "-", "^", ":", "+", "'",
             "title:", "body:", "{", "}", "&", "|", "!", "<->", "\\", "%", "_", "\x00", "\t"]
ALL_WORDS = sorted({word.casefold().strip(".,") for title, body in WORDS.values()
                    for word in f"{title} {body}".split()} | set(HIDDEN_WORDS))


def login(app, user_id):
    actions = AuthActions(app.test_client(), app)
    actions.login(user_id)
    return actions


def page_hits(response):
    return {(kind, int(id_)) for kind, id_ in
            re.findall(r'data-hit="(request|asset):(\d+)"', response.get_data(as_text=True))}


def found(app, user_id, text, **options):
    """What ``user_id`` finds for ``text`` through search.search (every type, one page)."""
    with app.app_context():
        results = search.search(db.session.get(User, user_id), text, **options)
        return {(hit.kind, hit.id) for hit in results.hits}, results.total


@pytest.mark.parametrize("query", HIDDEN_WORDS + [
    "zeppelin ledger", '"quantum payroll"', "payroll*", "NOT churn", "xylophone OR obsidian",
    "quantum NEAR( payroll", "ledger -churn", "^zeppelin", "title:quantum"])
def test_a_requester_finds_nothing_hidden_by_its_own_words(app, world, query):
    client = login(app, world.rita).client
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert not page_hits(response) & world.hidden
    for purpose in ("answer",):
        rows = client.get("/search/pick.json", query_string={"q": query, "for": purpose})
        assert not {(row["kind"], row["id"]) for row in rows.get_json()["results"]} & world.hidden


@pytest.mark.parametrize("word", ["zeppelin", "quantum", "xylophone", "obsidian"])
def test_a_hidden_match_is_not_even_counted(app, world, word):
    page = login(app, world.rita).client.get(f"/search?q={word}").get_data(as_text=True)
    assert "Nothing found" in page
    assert not re.search(r"(All|Requests|Catalogue) <span[^>]*>[1-9]", page)
    lead_page = login(app, world.lead).client.get(f"/search?q={word}")
    assert page_hits(lead_page) & world.hidden  # the words do find them, for who may see them


def test_what_a_requester_finds_is_what_the_lead_finds_less_the_hidden(app, world):
    for query in ("churn", "region", "ledger invoices", "churn payroll quantum", "board"):
        mine, my_total = found(app, world.rita, query)
        theirs, _ = found(app, world.lead, query)
        assert mine == theirs - world.hidden, query
        assert my_total == len(mine), query


def test_an_analyst_finds_neither_another_teams_nor_a_confidential_request(app, world):
    client = login(app, world.priya).client
    for query in HIDDEN_WORDS:
        assert not page_hits(client.get("/search", query_string={"q": query})) & world.hidden
        for purpose in ("duplicate", "answer"):
            rows = client.get("/search/pick.json",
                              query_string={"q": query, "for": purpose}).get_json()["results"]
            assert not {(row["kind"], row["id"]) for row in rows} & world.hidden, (query, purpose)


def test_an_asset_linked_to_one_visible_request_is_found(app, world):
    mine, _ = found(app, world.rita, "ledger")
    assert mine == {("asset", world.assets.shared)}
    mine, _ = found(app, world.rita, "explorer")
    assert mine == {("asset", world.assets.uncatalogued)}


queries = st.lists(st.one_of(st.sampled_from(ALL_WORDS), st.sampled_from(OPERATORS),
                             st.sampled_from(HIDDEN_WORDS).map(lambda w: w[:max(2, len(w) - 3)]),
                             st.text(max_size=6)),
                   min_size=1, max_size=8).map(" ".join)


def test_no_query_ever_finds_or_counts_anything_hidden(app, world):
    rita = world.rita

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(text=queries, types=st.sampled_from([("request", "asset"), ("request",), ("asset",)]),
           prefix=st.booleans(), page=st.integers(-3, 5))
    def check(text, types, prefix, page):
        with app.app_context():
            user = db.session.get(User, rita)
            results = search.search(user, text, types=types, page=page,
                                    count_types=("request", "asset"))
            hits = {(hit.kind, hit.id) for hit in results.hits}
            assert not hits & world.hidden
            assert sum(results.counts.values()) <= len(world.everything - world.hidden)
            similar = search.similar(user, text, types=types, prefix=prefix, limit=20)
            assert not {(hit.kind, hit.id) for hit in similar} & world.hidden
            everything = search.search(db.session.get(User, world.lead), text, per_page=50)
            visible = {(hit.kind, hit.id) for hit in everything.hits} - world.hidden
            if page <= 1 and set(types) == {"request", "asset"}:
                assert hits == visible
                assert results.total == len(visible)

    check()
