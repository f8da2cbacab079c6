"""Reuse at the moments an analyst closes a request (issue 12, parts 1, 4 and 5): delivering into
the catalogue, declining as self-serve with a picked answer and a platform gap, marking a
duplicate with the picker, and the neighbours triage sees on the request page."""
import re
from types import SimpleNamespace

import pytest

from tests.conftest import AuthActions
from tickets import catalogue, reuse, search
from tickets.extensions import db
from tickets.models import Asset, AssetLink, Event, GapCategory, PlatformGap, Request, User

CHURN = {"title": "Weekly churn by region",
         "data_needed": "Churned accounts per region per week since January."}
# A request that shares no word with CHURN (the intake defaults' levers mention regions).
UNRELATED = {"title": "Hiring funnel", "data_needed": "Candidates at each stage.",
             "usage": "Recruiting review.", "lever_result": "Time to hire.",
             "lever_expected_shape": "Fifty candidates a stage.",
             "lever_extraction": "Stage by stage.", "lever_decision": "Add recruiters."}


@pytest.fixture
def desk(make):
    """Marketing and Finance, each with a requester and an embedded analyst; a lead."""
    marketing = make.team("Marketing")
    finance = make.team("Finance")
    return SimpleNamespace(
        marketing=marketing, finance=finance,
        rita=make.user("requester", teams=[marketing], name="Rita Requester"),
        rob=make.user("requester", teams=[marketing], name="Rob Requester"),
        fred=make.user("requester", teams=[finance], name="Fred Finance"),
        priya=make.user("analyst", teams=[marketing], name="Priya Analyst"),
        sam=make.user("analyst", teams=[finance], name="Sam Analyst"),
        lead=make.user("lead", name="Lena Lead"),
    )


def login(app, user_id):
    actions = AuthActions(app.test_client(), app)
    actions.login(user_id)
    return actions


def html(response):
    return response.get_data(as_text=True)


def gap_category(app, name="No access"):
    """A category of the platform-gap taxonomy (the migration's, or one made)."""
    with app.app_context():
        found = db.session.scalars(db.select(GapCategory).where(
            GapCategory.name == name)).first() or GapCategory(name=name)
        db.session.add(found)
        db.session.commit()
        return found.id


def add_asset(app, title, url, team, request_id=None, status="active", description=""):
    """Catalogue an asset (linked to request ``request_id`` when given); return its id."""
    with app.app_context():
        request = db.session.get(Request, request_id) if request_id else None
        asset = catalogue.add_asset(None, title=title, url=url, kind="dashboard", team_id=team,
                                    description=description, status=status, request=request)
        db.session.commit()
        return asset.id


def in_progress(make, desk, analyst=None, **fields):
    """A Marketing request of Rita's that ``analyst`` (Priya) accepted and works on."""
    analyst = analyst or desk.priya
    request_id = make.request(desk.rita, desk.marketing, **{**CHURN, **fields})
    make.act(request_id, "accept", analyst, size="M")
    make.act(request_id, "claim", analyst)
    return request_id


def delivered(make, desk, requester=None, team=None, **fields):
    """A delivered request (by the lead), of Rita's Marketing unless said otherwise."""
    request_id = make.request(requester or desk.rita, team or desk.marketing, **fields)
    make.act(request_id, "accept", desk.lead, size="S")
    make.act(request_id, "claim", desk.lead)
    make.act(request_id, "deliver", desk.lead, url="https://bi.example.com/d/old", note="Here.")
    return request_id


def rows(app, model, **where):
    with app.app_context():
        found = db.session.scalars(db.select(model).filter_by(**where).order_by(model.id)).all()
        for row in found:
            db.session.expunge(row)
        return found


def last_event(app, request_id):
    with app.app_context():
        return db.session.scalars(db.select(Event).where(Event.request_id == request_id)
                                  .order_by(Event.id.desc())).first().data


def input_value(page, field_id):
    found = re.search(rf'<input[^>]*id="{re.escape(field_id)}"[^>]*>', page)
    assert found, f"no input {field_id}"
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""


DELIVERY = {"url": "https://bi.example.com/d/churn", "note": "One row per region and week."}


# --- Deliver ---------------------------------------------------------------------------------

def test_the_deliver_form_proposes_the_catalogue_entry_from_the_request(app, make, desk):
    request_id = in_progress(make, desk, format="dashboard")
    page = html(login(app, desk.priya).client.get(f"/requests/{request_id}"))
    assert input_value(page, "deliver-asset_title") == "Weekly churn by region"
    assert re.search(r'<option selected value="dashboard">|<option value="dashboard" selected',
                     page)
    assert "Churned accounts per region per week since January." in page
    assert re.search(r'id="deliver-catalogue-0"[^>]*checked|checked[^>]*id="deliver-catalogue-0"',
                     page)
    assert input_value(page, "deliver-gap_hours") == "16"  # an M costs 16 hours
    assert 'data-shown-when="deliver-catalogue=new"' in page
    assert 'src="/static/js/actions.js"' in page


def test_deliver_with_the_tick_catalogues_the_deliverable_and_search_finds_it(app, make, desk):
    request_id = in_progress(make, desk)
    priya = login(app, desk.priya)
    response = priya.act(request_id, "deliver", **DELIVERY, catalogue="new",
                         asset_title="Churn by region, weekly", asset_kind="dataset",
                         asset_description="Churned accounts per region and week.",
                         asset_tags="Churn, retention, churn")
    assert response.status_code == 302
    [asset] = rows(app, Asset)
    assert (asset.title, asset.url, asset.kind, asset.team_id, asset.tags, asset.status) == (
        "Churn by region, weekly", DELIVERY["url"], "dataset", desk.marketing,
        ",churn,retention,", "active")
    [link] = rows(app, AssetLink)
    assert (link.asset_id, link.request_id, link.how, link.linked_by_id) == (
        asset.id, request_id, "delivered", desk.priya)
    assert last_event(app, request_id) == {"url": DELIVERY["url"], "asset_id": asset.id}
    assert make.state(request_id) == "delivered"
    with app.app_context():
        rob = db.session.get(User, desk.rob)  # another of Marketing's requesters
        hits = search.search(rob, "retention regions", types=("asset",)).hits
        assert [(hit.kind, hit.id) for hit in hits] == [("asset", asset.id)]
    page = html(login(app, desk.rita).client.get(f"/requests/{request_id}"))
    assert "In the catalogue" in page and "Churn by region, weekly" in page


def test_deliver_leaving_the_catalogue_out_adds_nothing(app, make, desk):
    request_id = in_progress(make, desk)
    response = login(app, desk.priya).act(request_id, "deliver", **DELIVERY, catalogue="none",
                                          asset_title="")
    assert response.status_code == 302
    assert rows(app, Asset) == [] and rows(app, AssetLink) == []
    assert last_event(app, request_id) == {"url": DELIVERY["url"]}


def test_deliver_an_existing_asset_links_it_and_takes_its_link(app, make, desk):
    asset = add_asset(app, "Churn dashboard", "https://bi.example.com/dash/churn", desk.marketing)
    request_id = in_progress(make, desk)
    response = login(app, desk.priya).act(
        request_id, "deliver", url="", note="It was there already.", catalogue="existing",
        existing_asset="Churn dashboard", existing_asset_ref=f"asset:{asset}")
    assert response.status_code == 302
    assert make.get(Request, request_id).delivered_url == "https://bi.example.com/dash/churn"
    assert [(link.asset_id, link.how) for link in rows(app, AssetLink, request_id=request_id)] \
        == [(asset, "delivered")]
    assert last_event(app, request_id)["asset_id"] == asset
    assert len(rows(app, Asset)) == 1


def test_deliver_an_existing_asset_by_words_offers_candidates_then_takes_the_choice(app, make,
                                                                                   desk, errors):
    asset = add_asset(app, "Churn dashboard", "https://bi.example.com/dash/churn", desk.marketing)
    add_asset(app, "Old churn report", "https://bi.example.com/old", desk.marketing,
              status="deprecated")
    request_id = in_progress(make, desk)
    priya = login(app, desk.priya)
    fields = {"url": "", "note": "Kept note.", "catalogue": "existing",
              "existing_asset": "churn dashboard"}
    response = priya.act(request_id, "deliver", **fields)
    page = html(response)
    assert response.status_code == 400
    assert "choose one below" in errors(response)["deliver-existing_asset"]
    # Active assets only, as radio buttons; what was typed is kept.
    assert re.findall(r'name="deliver-existing_asset_choice"[^>]*value="([^"]+)"', page) == [
        f"asset:{asset}"]
    assert "Kept note." in page and input_value(page, "deliver-existing_asset") == "churn dashboard"
    assert make.state(request_id) == "in_progress"
    done = priya.act(request_id, "deliver", **fields, existing_asset_choice=f"asset:{asset}")
    assert done.status_code == 302
    assert make.get(Request, request_id).delivered_url == "https://bi.example.com/dash/churn"


def test_deliver_refuses_a_deprecated_or_invisible_existing_asset(app, make, desk, errors):
    old = add_asset(app, "Old churn report", "https://bi.example.com/old", desk.marketing,
                    status="deprecated")
    hidden_request = delivered(make, desk, requester=desk.fred, team=desk.finance,
                               is_confidential=True)
    hidden = add_asset(app, "Finance margins", "https://bi.example.com/margins", desk.finance,
                       request_id=hidden_request)
    request_id = in_progress(make, desk)
    priya = login(app, desk.priya)
    for ref, message in ((f"asset:{old}", "is deprecated"),
                         (f"asset:{hidden}", "no such asset in the catalogue that you can see"),
                         (f"request:{hidden_request}", "Nothing you can see matches")):
        response = priya.act(request_id, "deliver", url="", note="n", catalogue="existing",
                             existing_asset="x", existing_asset_ref=ref)
        assert response.status_code == 400
        assert message in errors(response)["deliver-existing_asset"], ref
    assert make.state(request_id) == "in_progress" and rows(app, AssetLink, request_id=request_id) == []


def test_deliver_with_a_platform_gap_records_it_with_the_hours(app, make, desk):
    category = gap_category(app)
    request_id = in_progress(make, desk)
    response = login(app, desk.priya).act(
        request_id, "deliver", **DELIVERY, catalogue="none", has_gap="y", gap_category=category,
        gap_note="No access to the churn table.", gap_hours="12.5")
    assert response.status_code == 302
    [gap] = rows(app, PlatformGap)
    assert (gap.request_id, gap.team_id, gap.category_id, gap.note, gap.hours, gap.context,
            gap.recorded_by_id) == (request_id, desk.marketing, category,
                                    "No access to the churn table.", 12.5, "delivery", desk.priya)


def test_deliver_without_the_gap_tick_records_no_gap(app, make, desk):
    category = gap_category(app)
    request_id = in_progress(make, desk)
    response = login(app, desk.priya).act(request_id, "deliver", **DELIVERY, catalogue="none",
                                          gap_category=category, gap_hours="4")
    assert response.status_code == 302
    assert rows(app, PlatformGap) == []


@pytest.mark.parametrize("fields, field, message", [
    ({"url": "javascript:alert(1)"}, "url", "Enter a full link starting with https://"),
    ({"url": ""}, "url", "Give the link to what you delivered."),
    ({"asset_title": ""}, "asset_title", "Give the asset a title."),
    ({"asset_kind": "spaceship"}, "asset_kind", "Choose what kind of asset it is."),
    ({"asset_tags": ", ".join(f"tag{n}" for n in range(13))}, "asset_tags",
     "Use at most 12 tags."),
    ({"has_gap": "y", "gap_category": ""}, "gap_category", "Choose what was missing"),
    ({"has_gap": "y", "gap_hours": "-1"}, "gap_hours", "Give between 0 and 10,000 hours."),
    ({"has_gap": "y", "gap_hours": "1e9"}, "gap_hours", "Give between 0 and 10,000 hours."),
    ({"has_gap": "y", "gap_hours": "abc"}, "gap_hours", "Give the analyst hours as a number."),
    ({"has_gap": "y", "gap_hours": "nan"}, "gap_hours", "Give the analyst hours as a number."),
], ids=["javascript-link", "no-link", "no-title", "bad-kind", "13-tags", "gap-no-category",
        "hours-negative", "hours-huge", "hours-words", "hours-nan"])
def test_a_refused_delivery_keeps_every_input_and_changes_nothing(app, make, desk, errors,
                                                                  fields, field, message):
    category = gap_category(app)
    request_id = in_progress(make, desk)
    sent = {**DELIVERY, "note": "A kept delivery note.", "catalogue": "new",
            "asset_title": "Kept asset title", "asset_kind": "dataset",
            "asset_description": "Kept description.", "gap_category": category,
            "gap_note": "Kept gap note.", "gap_hours": "3", **fields}
    response = login(app, desk.priya).act(request_id, "deliver", **sent)
    page = html(response)
    assert response.status_code == 400
    shown = errors(response)
    assert message in shown.get(f"deliver-{field}", ""), shown
    for kept in ("A kept delivery note.", "Kept description.", "Kept gap note."):
        assert kept in page
    assert 'class="collapse show" id="action-deliver"' in page
    assert make.state(request_id) == "in_progress"
    assert rows(app, Asset) == [] and rows(app, PlatformGap) == []


# --- Decline as self-serve -----------------------------------------------------------------------

def test_the_decline_form_asks_for_the_answer_with_the_picker_and_prefills_an_hour(app, make,
                                                                                  desk):
    request_id = make.request(desk.rita, desk.marketing)
    page = html(login(app, desk.priya).client.get(f"/requests/{request_id}"))
    picker = re.search(r'<input[^>]*id="decline-answer"[^>]*>', page).group(0)
    assert 'data-picker="answer"' in picker and f'data-picker-request="{request_id}"' in picker
    assert 'data-picker-target="decline-answer_ref"' in picker
    assert re.search(r'<input[^>]*id="decline-answer_ref"[^>]*type="hidden"', page)
    assert input_value(page, "decline-gap_hours") == "1"
    assert 'name="decline-url"' not in page  # no link to paste any more


def test_self_serve_decline_needs_a_pick_and_a_gap(app, make, desk, errors):
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(request_id, "decline", reason="self_serve",
                                          note="Kept explanation.", gap_category="")
    assert response.status_code == 400
    shown = errors(response)
    assert set(shown) == {"decline-answer", "decline-gap_category"}
    assert "Kept explanation." in html(response)
    assert make.state(request_id) == "submitted"


def test_self_serve_decline_points_at_an_asset_links_it_and_records_the_gap(app, make, desk):
    category = gap_category(app)
    asset = add_asset(app, "Churn dashboard", "https://bi.example.com/dash/churn", desk.marketing)
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(
        request_id, "decline", reason="self_serve", note="The churn dashboard answers it.",
        answer="Churn dashboard", answer_ref=f"asset:{asset}", gap_category=category,
        gap_note="Did not know the dashboard.", gap_hours="1")
    assert response.status_code == 302
    after = make.get(Request, request_id)
    assert (after.state, after.decline_reason, after.delivered_url) == (
        "declined", "self_serve", "https://bi.example.com/dash/churn")
    assert last_event(app, request_id) == {
        "reason": "self_serve", "url": "https://bi.example.com/dash/churn",
        "answer": {"kind": "asset", "id": asset}}
    assert [(link.asset_id, link.how, link.linked_by_id)
            for link in rows(app, AssetLink, request_id=request_id)] == [
        (asset, "pointed", desk.priya)]
    [gap] = rows(app, PlatformGap)
    assert (gap.context, gap.category_id, gap.hours, gap.note) == (
        "decline", category, 1.0, "Did not know the dashboard.")


def test_self_serve_decline_points_at_a_delivered_request_by_its_page(app, make, desk):
    category = gap_category(app)
    answer = delivered(make, desk, requester=desk.rob)  # Rob's, of Rita's team: she sees it
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(
        request_id, "decline", reason="self_serve", note="See the earlier one.",
        answer=f"#{answer}", gap_category=category, gap_hours="")
    assert response.status_code == 302
    after = make.get(Request, request_id)
    assert after.delivered_url == f"{app.config['BASE_URL'].rstrip('/')}/requests/{answer}"
    assert last_event(app, request_id)["answer"] == {"kind": "request", "id": answer}
    assert [gap.hours for gap in rows(app, PlatformGap)] == [1.0]  # empty: the default
    assert rows(app, AssetLink) == []


def test_self_serve_decline_refuses_what_the_requester_may_not_see(app, make, desk, errors):
    category = gap_category(app)
    # Fred's Finance request, and an asset delivered for a confidential one of Rob's: the lead
    # sees both, Rita neither.
    finance = delivered(make, desk, requester=desk.fred, team=desk.finance)
    secret = delivered(make, desk, requester=desk.rob, is_confidential=True)
    asset = add_asset(app, "Secret churn", "https://bi.example.com/secret", desk.marketing,
                      request_id=secret)
    request_id = make.request(desk.rita, desk.marketing)
    lead = login(app, desk.lead)
    for ref in (f"request:{finance}", f"asset:{asset}"):
        response = lead.act(request_id, "decline", reason="self_serve", note="Kept.",
                            answer="x", answer_ref=ref, gap_category=category)
        assert response.status_code == 400
        assert "Rita Requester may not see" in errors(response)["decline-answer"], ref
    assert make.state(request_id) == "submitted"
    assert rows(app, PlatformGap) == [] and rows(app, AssetLink, request_id=request_id) == []


def test_self_serve_decline_refuses_an_open_request_or_a_deprecated_asset(app, make, desk,
                                                                         errors):
    category = gap_category(app)
    open_one = make.request(desk.rob, desk.marketing)
    old = add_asset(app, "Old churn", "https://bi.example.com/old", desk.marketing,
                    status="deprecated")
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    for ref, message in ((f"request:{open_one}", "only a delivered or resolved request"),
                         (f"asset:{old}", "is deprecated"),
                         (f"request:{request_id}", "cannot answer itself")):
        response = priya.act(request_id, "decline", reason="self_serve", note="n", answer="x",
                             answer_ref=ref, gap_category=category)
        assert message in errors(response)["decline-answer"], ref


def test_other_decline_reasons_need_no_answer_and_record_no_gap(app, make, desk):
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(request_id, "decline", reason="low_value",
                                          note="Too costly.", gap_category="", answer="")
    assert response.status_code == 302
    assert make.get(Request, request_id).state == "declined"
    assert rows(app, PlatformGap) == []
    assert last_event(app, request_id) == {"reason": "low_value"}


# --- Mark duplicate ------------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [
    {"original": "#{original} Weekly churn", "original_ref": "request:{original}"},
    {"original": "#{original}"},
    {"original": "{original}"},
    {"original": "weekly churn region", "original_ref": "request:{original}"},
], ids=["picked", "hash-number", "number", "words-and-pick"])
def test_mark_duplicate_by_pick_or_number(app, make, desk, fields):
    original = make.request(desk.rob, desk.marketing, **CHURN)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    sent = {key: value.format(original=original) for key, value in fields.items()}
    response = login(app, desk.priya).act(request_id, "mark_duplicate", **sent)
    assert response.status_code == 302
    assert make.get(Request, request_id).duplicate_of_id == original


def test_a_number_typed_wins_over_a_stale_pick(app, make, desk):
    first = make.request(desk.rob, desk.marketing)
    second = make.request(desk.rob, desk.marketing)
    request_id = make.request(desk.rita, desk.marketing)
    login(app, desk.priya).act(request_id, "mark_duplicate", original=f"#{second}",
                               original_ref=f"request:{first}")
    assert make.get(Request, request_id).duplicate_of_id == second


def test_mark_duplicate_by_words_shows_candidates_and_keeps_the_input(app, make, desk, errors):
    original = make.request(desk.rob, desk.marketing, **CHURN)
    other = make.request(desk.rob, desk.marketing, title="Churn of trial accounts",
                         data_needed="Trials that did not convert, per week.")
    closed = make.request(desk.rob, desk.marketing, title="Churn by region last year")
    make.act(closed, "cancel", desk.rob)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    priya = login(app, desk.priya)
    response = priya.act(request_id, "mark_duplicate", original="churn region",
                         note="Kept duplicate note.")
    page = html(response)
    assert response.status_code == 400
    assert errors(response)["mark_duplicate-original"] == (
        "Several things match these words: choose one below.")
    offered = re.findall(r'name="mark_duplicate-original_choice"[^>]*value="request:(\d+)"', page)
    assert offered[0] == str(original) and set(offered) == {str(original), str(other)}
    assert "Kept duplicate note." in page
    assert input_value(page, "mark_duplicate-original") == "churn region"
    assert make.state(request_id) == "submitted"
    done = priya.act(request_id, "mark_duplicate", original="churn region",
                     original_choice=f"request:{original}")
    assert done.status_code == 302
    assert make.get(Request, request_id).duplicate_of_id == original


def test_mark_duplicate_with_words_matching_nothing_says_so(app, make, desk, errors):
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(request_id, "mark_duplicate",
                                          original="zebra migration")
    assert response.status_code == 400
    assert "Nothing you can see matches" in errors(response)["mark_duplicate-original"]


def test_mark_duplicate_with_nothing_typed_asks_for_the_original(app, make, desk, errors):
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(request_id, "mark_duplicate", original="")
    assert response.status_code == 400
    assert errors(response)["mark_duplicate-original"].startswith("Find the original request")


@pytest.mark.parametrize("choice", ["request:1\x08", "request:" + "1" * 40],
                         ids=["control-character", "too-long"])
def test_a_tampered_choice_of_candidates_is_refused_on_the_picker_the_page_shows(
        app, make, desk, errors, choice):
    # Found by the fuzz suite: the error sat on the candidates' radio buttons, which show no
    # errors (and only when there are candidates), so nothing said what was wrong.
    original = make.request(desk.rob, desk.marketing)
    request_id = make.request(desk.rita, desk.marketing)
    response = login(app, desk.priya).act(request_id, "mark_duplicate", original=f"#{original}",
                                          original_choice=choice)
    assert response.status_code == 400
    assert errors(response) == {
        "mark_duplicate-original": "Pick it again: the page sent a choice that cannot be read."}
    assert make.state(request_id) == "submitted"


def test_mark_duplicate_refuses_an_invisible_closed_or_duplicate_original(app, make, desk,
                                                                         errors):
    finance = make.request(desk.fred, desk.finance)  # Priya serves Marketing only
    resolved = delivered(make, desk)
    make.act(resolved, "confirm", desk.rita)
    first = make.request(desk.rob, desk.marketing)
    dup = make.request(desk.rob, desk.marketing)
    make.act(dup, "mark_duplicate", desk.priya, original=first)
    request_id = make.request(desk.rita, desk.marketing)
    priya = login(app, desk.priya)
    for original, message in ((finance, f"There is no request #{finance} that you can see."),
                              (resolved, "is resolved, not open"),
                              (dup, "is itself a duplicate"),
                              (request_id, "cannot be a duplicate of itself")):
        response = priya.act(request_id, "mark_duplicate", original="x",
                             original_ref=f"request:{original}")
        assert response.status_code == 400
        assert message in errors(response)["mark_duplicate-original"], original
    assert make.state(request_id) == "submitted"


# --- Neighbours on the request page --------------------------------------------------------------

def neighbour_ids(page, section):
    """The ids of the requests and assets listed under a neighbours heading."""
    part = page.split(f'aria-labelledby="h-{section}"', 1)
    if len(part) < 2:
        return []
    block = part[1].split("</ul>", 1)[0]
    return re.findall(r'<li class="neighbour[^"]*">\s*<a href="([^"]+)"', block)


def test_triage_sees_possible_duplicates_and_what_is_already_delivered(app, make, desk):
    twin = make.request(desk.rob, desk.marketing, title="Churn per region each week",
                        data_needed="Accounts churned, by region, weekly.")
    done = delivered(make, desk, requester=desk.rob, title="Regional churn dashboard",
                     data_needed="Churn per region.")
    asset = add_asset(app, "Churn by region", "https://bi.example.com/dash/churn", desk.marketing,
                      description="Weekly churned accounts per region.")
    make.request(desk.rob, desk.marketing, **UNRELATED)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    page = html(login(app, desk.priya).client.get(f"/requests/{request_id}"))
    assert "Possible duplicates" in page and "Already delivered" in page
    assert neighbour_ids(page, "possible-duplicates") == [f"/requests/{twin}"]
    assert set(neighbour_ids(page, "already-delivered")) == {
        f"/requests/{done}", "https://bi.example.com/dash/churn"}
    assert (f'href="/requests/{request_id}?duplicate_of=request:{twin}#action-mark_duplicate"'
            in page.replace("%3A", ":"))
    assert f"self_serve=asset:{asset}#action-decline" in page.replace("%3A", ":")


def test_mark_as_duplicate_of_a_neighbour_opens_the_form_with_it_picked(app, make, desk):
    twin = make.request(desk.rob, desk.marketing, **CHURN)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    priya = login(app, desk.priya)
    page = html(priya.client.get(f"/requests/{request_id}?duplicate_of=request:{twin}"))
    assert input_value(page, "mark_duplicate-original_ref") == f"request:{twin}"
    assert input_value(page, "mark_duplicate-original") == f"#{twin} Weekly churn by region"
    assert 'class="collapse show" id="action-mark_duplicate"' in page
    # Nonsense, or a request Priya may not see, preselects nothing.
    finance = make.request(desk.fred, desk.finance)
    for arg in ("request:abc", f"request:{finance}", "asset:99999999999999", "%00"):
        page = html(priya.client.get(f"/requests/{request_id}?duplicate_of={arg}"))
        assert input_value(page, "mark_duplicate-original_ref") == ""


def test_decline_pointing_at_a_neighbour_opens_the_self_serve_form(app, make, desk):
    asset = add_asset(app, "Churn by region", "https://bi.example.com/dash/churn", desk.marketing)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    page = html(login(app, desk.priya).client.get(
        f"/requests/{request_id}?self_serve=asset:{asset}"))
    assert input_value(page, "decline-answer_ref") == f"asset:{asset}"
    assert input_value(page, "decline-answer") == "Churn by region"
    assert re.search(r'<option selected value="self_serve">|<option value="self_serve" selected',
                     page)
    assert 'class="collapse show" id="action-decline"' in page


def test_neighbours_leave_out_what_the_analyst_may_not_see(app, make, desk):
    secret = make.request(desk.fred, desk.finance, is_confidential=True, **CHURN)
    finance_done = delivered(make, desk, requester=desk.fred, team=desk.finance, **CHURN)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    page = html(login(app, desk.priya).client.get(f"/requests/{request_id}"))
    assert f"/requests/{secret}" not in page and f"/requests/{finance_done}" not in page
    assert "No similar open request that you can see." in page
    # Finance's own analyst sees the delivered one, not the confidential one (not theirs).
    lead_page = html(login(app, desk.lead).client.get(f"/requests/{request_id}"))
    assert neighbour_ids(lead_page, "possible-duplicates") == [f"/requests/{secret}"]


def test_requesters_do_not_see_the_neighbours(app, make, desk):
    make.request(desk.rob, desk.marketing, **CHURN)
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    page = html(login(app, desk.rita).client.get(f"/requests/{request_id}"))
    assert "Neighbours" not in page and "Possible duplicates" not in page


def test_the_request_page_costs_the_same_sql_with_no_or_many_neighbours(app, make, desk,
                                                                        statements):
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    priya = login(app, desk.priya)

    def count():
        del statements[:]
        assert priya.client.get(f"/requests/{request_id}").status_code == 200
        return statements[-1]

    alone = count()

    def add_neighbours(n):
        for i in range(n):
            make.request(desk.rob, desk.marketing, **CHURN)
            delivered(make, desk, requester=desk.rob, **CHURN)
            add_asset(app, f"Churn by region {n}-{i}", f"https://bi.example.com/{n}/{i}",
                      desk.marketing, description="Weekly churn per region.")

    add_neighbours(6)
    many = count()
    add_neighbours(6)
    more = count()
    # What was found is loaded and marked per kind, never per neighbour; nothing found costs
    # the same statements as much found.
    assert alone == many == more, (alone, many, more)


def test_the_neighbours_ranked_once_are_what_each_scope_ranked_alone_finds(app, make, desk):
    """``search.similar_in`` ranks the matches once for both lists; each list holds what
    ``search.similar`` finds for its scope alone, in the same order, for every role."""
    words = ("churn", "region", "weekly", "accounts", "retention")
    for i in range(14):
        text = {"title": f"{words[i % 5]} and {words[(i * 3) % 5]} report {i}",
                "data_needed": f"{words[(i + 1) % 5]} per month."}
        owner, team = ((desk.rob, desk.marketing) if i % 2 else (desk.fred, desk.finance))
        if i % 3 == 0:
            delivered(make, desk, requester=owner, team=team, **text)
        else:
            make.request(owner, team, is_confidential=(i % 5 == 4), **text)
        if i % 4 == 0:
            add_asset(app, f"{words[i % 5]} dashboard {i}", f"https://bi.example.com/{i}", team,
                      status="deprecated" if i % 8 == 0 else "active")
    request_id = make.request(desk.rita, desk.marketing, **CHURN)
    with app.app_context():
        req = db.session.get(Request, request_id)
        text = f"{req.title} {req.data_needed}"
        for user_id in (desk.priya, desk.sam, desk.lead):
            user = db.session.get(User, user_id)
            scopes = {"duplicates": reuse._scope("duplicate", req),
                      "answers": reuse._scope("answer", req)}
            alone = {name: [(hit.kind, hit.id) for hit in search.similar(
                user, text, limit=3, **scope)] for name, scope in scopes.items()}
            together = search.similar_in(user, text, scopes, limit=3)
            assert {name: [(hit.kind, hit.id) for hit in hits]
                    for name, hits in together.items()} == alone
            assert alone["duplicates"] and alone["answers"]
