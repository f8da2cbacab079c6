"""Similar things while the intake form is filled in: the suggestions' JSON, the "check before
you submit" step without JavaScript, and "This answers my question" (a deflection).

Everything goes through the test client as a logged-in requester would.
"""
import re
from datetime import date, timedelta

import pytest

from tests.cast import Cast
from tests.conftest import intake_form
from tickets.extensions import db
from tickets.models import Asset, AssetLink, Deflection, Request, SearchMiss

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def cast(app, make):
    return Cast(app, make)


def add_asset(app, team, title, *, status="active", description="", linked_to=None,
              url="https://bi.example.com/dashboards/1"):
    """A catalogue asset of ``team`` (optionally answering request ``linked_to``); its id."""
    with app.app_context():
        asset = Asset(title=title, url=url, kind="dashboard", team_id=team,
                      description=description, status=status)
        db.session.add(asset)
        db.session.flush()
        if linked_to is not None:
            db.session.add(AssetLink(asset_id=asset.id, request_id=linked_to, how="delivered"))
        db.session.commit()
        return asset.id


def count(app, model, *conditions):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*conditions))


def answers(team, **changes):
    """A complete, valid intake form as a browser posts it, watched by Ana, with ``changes``
    applied."""
    return intake_form(team, **{"watchers": "ana@example.com", **changes})


def suggested(browser, title="", data_needed=""):
    response = browser.client.get("/requests/similar.json",
                                  query_string={"title": title, "data_needed": data_needed})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def delivered_in_finance(cast, **fields):
    """A Finance requester's request, delivered by Finance's analyst; its id."""
    request_id = cast.make.request(cast.ids["outsider"], cast.finance, **fields)
    analyst = cast.ids["other_analyst"]
    cast.make.act(request_id, "accept", analyst, size="S")
    cast.make.act(request_id, "claim", analyst)
    cast.make.act(request_id, "deliver", analyst, url="https://bi.example.com/f", note="Here.")
    return request_id


@pytest.fixture
def churn(app, cast):
    """What a Marketing requester's churn question could be answered by, and what it must never
    be: ids by name."""
    mine = cast.request("delivered", requester="teammate",
                        title="Churn by region dashboard",
                        data_needed="Weekly churned accounts per region.")
    return {
        "delivered": mine,
        "open": cast.request("accepted", requester="teammate", title="Churn by region again",
                             data_needed="Churned accounts per region, monthly."),
        "finance": delivered_in_finance(cast, title="Churn by region for finance",
                                        data_needed="Churned revenue per region."),
        "confidential": cast.request("delivered", requester="teammate", confidential=True,
                                     title="Churn by region of the enterprise accounts",
                                     data_needed="Churned enterprise accounts per region."),
        "asset": add_asset(app, cast.marketing, "Churn dashboard",
                           description="Churned accounts by region and week."),
        "deprecated": add_asset(app, cast.marketing, "Old churn by region cube",
                                status="deprecated", description="Churn per region."),
    }


def test_suggestions_are_active_assets_and_delivered_requests_the_requester_may_see(
        app, cast, churn):
    """Another team's request, a confidential one and the asset delivered for it, an open
    request and a deprecated asset are never suggested."""
    churn["secret_asset"] = add_asset(app, cast.marketing, "Enterprise churn by region board",
                                      linked_to=churn["confidential"])
    found = suggested(cast.browser("owner"), "Churn by region", "churned accounts per week")
    assert {(item["kind"], item["id"]) for item in found["results"]} == {
        ("request", churn["delivered"]), ("asset", churn["asset"])}
    # The lead sees everything, and still only what answers questions.
    found = suggested(cast.browser("lead"), "Churn by region", "churned accounts per week")
    assert {(item["kind"], item["id"]) for item in found["results"]} == {
        ("request", churn["delivered"]), ("request", churn["finance"]),
        ("request", churn["confidential"]), ("asset", churn["asset"]),
        ("asset", churn["secret_asset"])}


def test_a_suggestion_says_what_it_is_and_where_to_open_it(app, cast, churn):
    found = suggested(cast.browser("owner"), "Churn dashboard")
    by_kind = {item["kind"]: item for item in found["results"]}
    asset, request = by_kind["asset"], by_kind["request"]
    assert asset["label"] == "Dashboard \u00b7 Marketing"
    assert asset["url"] == "https://bi.example.com/dashboards/1"
    assert "<mark>" in asset["title_html"]
    assert re.fullmatch(r"Request #\d+ \u00b7 Marketing \u00b7 delivered \d{1,2} \w{3}( \d{4})?",
                        request["label"])
    assert request["url"] == f"/requests/{churn['delivered']}"
    assert "This answers my question" in found["html"]
    assert re.fullmatch(r"[0-9a-f]{16}", found["checked"])


def test_at_most_five_suggestions(app, cast):
    for n in range(8):
        add_asset(app, cast.marketing, f"Churn dashboard number {n}")
    assert len(suggested(cast.browser("owner"), "churn dashboard")["results"]) == 5


def test_a_word_still_being_typed_is_matched_as_a_prefix(app, cast, churn):
    found = suggested(cast.browser("owner"), "Chur")
    assert ("asset", churn["asset"]) in {(item["kind"], item["id"]) for item in found["results"]}


@pytest.mark.parametrize("title, data_needed", [
    ("", ""),
    ("   ", ""),
    ("churn " * 2000, "region " * 2000),
    ("x" * 10_000, ""),
    ('churn" OR 1=1 -- NEAR(region*) AND (', "title:churn ^region {a b} ' ; DROP TABLE"),
    ("\u30c1\u30e3\u30fc\u30f3 \u5730\u57df\u5225", "\u0627\u0644\u0639\u0645\u0644\u0627\u0621"),
    ("churn\x00region", "\x01\x02"),
    ("* * *", "!!! ???"),
])
def test_any_text_gives_suggestions_or_none_never_an_error(app, cast, churn, title,
                                                           data_needed):
    found = suggested(cast.browser("owner"), title, data_needed)
    assert isinstance(found["results"], list) and len(found["results"]) <= 5


def test_suggestions_need_a_login(client):
    response = client.get("/requests/similar.json?title=churn")
    assert response.status_code == 302 and "/login" in response.location


# --- Without JavaScript: check before you submit ------------------------------------------------

def test_nothing_similar_submits_on_the_first_post_and_remembers_the_miss(app, cast):
    owner = cast.browser("owner")
    response = owner.post("/requests/new", answers(cast.marketing))
    assert response.status_code == 302
    assert count(app, Request) == 1
    with app.app_context():
        miss = db.session.scalars(db.select(SearchMiss)).one()
        assert (miss.source, miss.query, miss.query_key, miss.user_id) == (
            "intake", "Weekly churn by region", "weekly churn by region", cast.ids["owner"])


def test_first_post_with_suggestions_shows_them_above_the_filled_form(app, cast, churn):
    owner = cast.browser("owner")
    before = count(app, Request)
    response = owner.post("/requests/new", answers(cast.marketing, title="Churn by region"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert count(app, Request) == before  # nothing submitted yet
    assert "Check before you submit" in html
    assert f'value="request:{churn["delivered"]}"' in html
    assert f'value="asset:{churn["asset"]}"' in html
    assert "Submit anyway" in html and "Submit request" not in html
    # Every field is kept as typed.
    for value in ("Churn by region", "Churned accounts per region per week since January.",
                  "Reviewed in the Monday growth meeting.", "Move retention budget to the worst region.",
                  IN_A_MONTH, "ana@example.com"):
        assert value in html
    assert '<option selected value="spreadsheet">' in html
    seen = re.search(r'name="suggestions_seen" type="hidden" value="([0-9a-f]{16})"', html)
    assert seen, "the form records that the suggestions were shown"

    # The second post of the same text submits, with nothing to remember as a miss.
    response = owner.post("/requests/new", answers(cast.marketing, title="Churn by region",
                                                   suggestions_seen=seen.group(1)))
    assert response.status_code == 302
    assert count(app, Request) == before + 1
    with app.app_context():
        created = db.session.scalars(db.select(Request).order_by(Request.id.desc())).first()
        assert (created.title, created.watcher_emails) == ("Churn by region", ["ana@example.com"])
    assert count(app, SearchMiss) == 0


def test_changed_text_after_the_check_is_checked_again(app, cast, churn):
    owner = cast.browser("owner")
    html = owner.post("/requests/new", answers(cast.marketing, title="Churn by region")) \
        .get_data(as_text=True)
    seen = re.search(r'name="suggestions_seen" type="hidden" value="([0-9a-f]{16})"', html)
    response = owner.post("/requests/new", answers(
        cast.marketing, title="Churn dashboard by region", suggestions_seen=seen.group(1)))
    assert response.status_code == 200
    assert "Check before you submit" in response.get_data(as_text=True)


def test_the_fingerprint_from_the_live_panel_lets_the_first_post_through(app, cast, churn):
    owner = cast.browser("owner")
    fields = answers(cast.marketing, title="Churn by region")
    checked = suggested(owner, fields["title"], fields["data_needed"])["checked"]
    response = owner.post("/requests/new", {**fields, "suggestions_seen": checked})
    assert response.status_code == 302


def test_an_invalid_form_shows_its_errors_not_the_check(app, cast, churn):
    owner = cast.browser("owner")
    response = owner.post("/requests/new", answers(cast.marketing, title="Churn by region",
                                                   usage=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Check before you submit" not in html and "Tell us how the data will be used." in html


def test_the_edit_form_has_no_suggestions(app, cast, churn):
    request_id = cast.request("submitted", title="Churn by region")
    html = cast.browser("owner").client.get(f"/requests/{request_id}/edit").get_data(as_text=True)
    assert 'id="suggestions"' not in html and "suggest.js" not in html


# --- This answers my question ---------------------------------------------------------------

def test_this_answers_my_question_records_a_deflection_and_submits_nothing(app, cast, churn):
    owner = cast.browser("owner")
    before = count(app, Request)
    response = owner.post("/requests/deflect", answers(
        cast.marketing, title="Churn by region", answer=f"asset:{churn['asset']}"))
    assert response.status_code == 302
    assert count(app, Request) == before
    with app.app_context():
        deflection = db.session.scalars(db.select(Deflection)).one()
        assert (deflection.user_id, deflection.team_id, deflection.asset_id,
                deflection.answer_request_id, deflection.resubmitted_request_id) == (
            cast.ids["owner"], cast.marketing, churn["asset"], None, None)
        assert deflection.text == ("Churn by region Churned accounts per region per week "
                                   "since January.")
    page = owner.client.get(response.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Glad it helped" in html and "Churn dashboard" in html
    assert 'href="https://bi.example.com/dashboards/1"' in html
    assert count(app, SearchMiss) == 0


def test_a_delivered_request_can_answer_the_question(app, cast, churn):
    owner = cast.browser("owner")
    response = owner.post("/requests/deflect", answers(
        cast.marketing, title="Churn by region", answer=f"request:{churn['delivered']}"))
    assert response.status_code == 302
    with app.app_context():
        deflection = db.session.scalars(db.select(Deflection)).one()
        assert deflection.answer_request_id == churn["delivered"]
    assert f"/requests/{churn['delivered']}" in owner.client.get(response.location) \
        .get_data(as_text=True)


def test_the_deflection_counts_for_the_users_first_team_without_a_team_on_the_form(
        app, cast, churn):
    owner = cast.browser("owner")
    owner.post("/requests/deflect", {"title": "Churn", "data_needed": "",
                                     "answer": f"asset:{churn['asset']}", "team_id": "999999"})
    with app.app_context():
        assert db.session.scalars(db.select(Deflection.team_id)).one() == cast.marketing


@pytest.mark.parametrize("answer", ["confidential", "finance", "secret_asset", "missing_asset",
                                    "missing_request", "open", "deprecated"])
def test_an_answer_the_requester_may_not_use_is_refused_clearly(app, cast, churn, answer):
    churn["secret_asset"] = add_asset(app, cast.marketing, "Enterprise board",
                                      linked_to=churn["confidential"])
    value = {"missing_asset": "asset:424242", "missing_request": "request:424242",
             "secret_asset": f"asset:{churn['secret_asset']}",
             "deprecated": f"asset:{churn['deprecated']}"}.get(answer, f"request:{churn.get(answer)}")
    response = cast.browser("owner").post("/requests/deflect", answers(
        cast.marketing, title="Churn by region", answer=value))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r"There is no (catalogue asset|request) #\d+ that you can see\.|deprecated|"
                     r"has not been delivered yet", html)
    assert "Enterprise" not in html  # nothing about what may not be seen
    assert "Churn by region" in html  # the draft is shown again, kept
    assert count(app, Deflection) == 0


@pytest.mark.parametrize("value", ["", "asset", "asset:", "asset:abc", "table:1", "asset:0",
                                   "asset:99999999999", "asset:-1", "request:1:2", "x" * 10_000])
def test_a_malformed_answer_is_a_clear_400(app, cast, value):
    response = cast.browser("owner").post("/requests/deflect", answers(cast.marketing,
                                                                       answer=value))
    assert response.status_code == 400
    assert "Choose an asset or a request that answers your question." in \
        response.get_data(as_text=True)
    assert count(app, Deflection) == 0


def test_deflecting_needs_the_csrf_token(app, cast, churn):
    browser = cast.browser("owner")
    response = browser.client.post("/requests/deflect", data=answers(
        cast.marketing, answer=f"asset:{churn['asset']}"))
    assert response.status_code == 400
    assert count(app, Deflection) == 0


def test_a_deflection_page_is_only_its_owners(app, cast, churn):
    response = cast.browser("owner").post("/requests/deflect", answers(
        cast.marketing, answer=f"asset:{churn['asset']}"))
    assert cast.browser("teammate").client.get(response.location).status_code == 404
    assert cast.browser("owner").client.get("/requests/deflected/99999999999").status_code == 404
