"""The search page and the pickers' JSON with generated arguments, by every role: never a 5xx,
the page always shows its form, the JSON always has its results and message, and nothing a
requester may not see is ever listed. (GET only: the POST fuzzer's catalogue does not cover
them.)"""
import re

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from tests.conftest import AuthActions
from tickets import catalogue
from tickets.extensions import db
from tickets.models import Request

from .strategies import CASE_PAIRS, CONTROLS, IDS, NASTY, NUMBERS, huge, text, with_control

OPERATORS = ("AND", "OR", "NOT", "NEAR(", "NEAR/2", '"', "*", "(", ")", "-", "^", ":", "+", "|",
             "&", "!", "<->", "{", "}", "'", "\\")
WORDS = ("churn", "region", "payroll", "secret", "chur", "dashboard", "the", "of", "解約",
         "отток", "تحليل", "\U0001F525")


def anything():
    """A value as a crafted URL may carry it."""
    return st.one_of(st.just(""), text(0, 30), st.sampled_from(NASTY + NUMBERS + IDS + CONTROLS
                                                               + CASE_PAIRS))


def query():
    """Search text: words, operators and noise, or something huge or with control characters."""
    pieces = st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(OPERATORS), text(0, 8)),
                      max_size=10).map(" ".join)
    return st.one_of(pieces, with_control(pieces), huge(), anything())


@pytest.fixture
def world(app, make):
    marketing, finance = make.team("Marketing"), make.team("Finance")
    rita = make.user("requester", teams=[marketing])
    fred = make.user("requester", teams=[finance])
    analyst = make.user("analyst", teams=[marketing])
    make.user("analyst", teams=[finance])
    lead = make.user("lead")
    mine = make.request(rita, marketing, title="Churn by region")
    secret = make.request(fred, finance, title="Secret payroll churn")
    with app.app_context():
        asset = catalogue.add_asset(None, title="Secret payroll dashboard",
                                    url="https://bi.example.com/s", kind="dashboard",
                                    team_id=finance, request=db.session.get(Request, secret))
        db.session.commit()
        asset_id = asset.id
    clients = {}
    for role, user in (("requester", rita), ("analyst", analyst), ("lead", lead)):
        clients[role] = AuthActions(app.test_client(), app)
        clients[role].login(user)
    return {"clients": clients, "mine": mine, "secret": secret, "asset": asset_id}


def test_the_search_page_answers_any_arguments(world):
    clients = world["clients"]
    hidden = {f"request:{world['secret']}", f"asset:{world['asset']}"}

    @given(role=st.sampled_from(sorted(clients)), q=query(), type_=anything(), kind=anything(),
           state=anything(), team=anything(), page=anything())
    def check(role, q, type_, kind, state, team, page):
        args = {"q": q, "type": type_, "kind": kind, "state": state, "team": team, "page": page}
        response = clients[role].client.get("/search", query_string=args)
        note(f"{role}: {response.status_code}")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert 'aria-label="Search requests and the catalogue"' in body
        if role == "requester":
            assert not set(re.findall(r'data-hit="(\w+:\d+)"', body)) & hidden

    check()


def test_the_pickers_answer_any_arguments(world):
    clients = world["clients"]
    hidden = {("request", world["secret"]), ("asset", world["asset"])}

    @given(role=st.sampled_from(sorted(clients)), q=query(),
           purpose=st.one_of(st.sampled_from(("duplicate", "answer")), anything()),
           request=st.one_of(st.just(""), st.sampled_from(IDS + NUMBERS), anything()))
    def check(role, q, purpose, request):
        response = clients[role].client.get(
            "/search/pick.json", query_string={"q": q, "for": purpose, "request": request})
        note(f"{role}: {response.status_code}")
        assert response.status_code in (200, 400, 403)
        body = response.get_json()
        assert isinstance(body["results"], list) and isinstance(body["message"], str)
        if response.status_code != 200:
            assert body["results"] == [] and body["message"]
        if role == "requester":
            assert not {(row["kind"], row["id"]) for row in body["results"]} & hidden

    check()
