"""Platform gaps: recording one (gaps.record refuses what is not a gap), and the taxonomy leads
edit at /settings/platform-gaps (add, rename, retire and reactivate, reorder, delete only
what was never used), for leads only."""
from datetime import UTC, datetime

import pytest

from tickets import gaps
from tickets.extensions import db
from tickets.models import GapCategory, PlatformGap, Request, User

AT = datetime(2026, 9, 8, 10, 0, tzinfo=UTC)


def default_taxonomy(app):
    """The six default categories, as the migration leaves them (tests empty every table)."""
    with app.app_context():
        gaps.add_defaults()
        db.session.commit()


@pytest.fixture
def desk(make, app):
    """The default taxonomy; Marketing with a requester, an analyst serving it, a lead and an
    admin, and a request."""
    default_taxonomy(app)
    marketing = make.team("Marketing")
    people = {
        "marketing": marketing,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "lead": make.user("lead", name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }
    people["request"] = make.request(people["requester"], marketing, title="Churn by region")
    return people


def category_id(app, name):
    """The id of the category called ``name``."""
    with app.app_context():
        return db.session.scalar(db.select(GapCategory.id).where(GapCategory.name == name))


def categories(app):
    """[(name, is_active)] of the taxonomy, in its order."""
    with app.app_context():
        return [(c.name, c.is_active) for c, _ in gaps.categories_with_use()]


def record(app, request_id, actor, category, note="", hours=None, context="delivery", at=AT):
    """Record a gap on ``request_id`` as user ``actor`` under the category named ``category``
    (or of that id); return the gap's id."""
    with app.app_context():
        if isinstance(category, str):
            category = db.session.scalar(
                db.select(GapCategory.id).where(GapCategory.name == category))
        gap = gaps.record(db.session.get(Request, request_id), db.session.get(User, actor),
                          category, note, hours, context, at)
        db.session.commit()
        return gap.id


def refusal(app, desk, **changes):
    """The (field, message) of recording a gap with ``changes`` to a valid one, or None."""
    values = {"category": category_id(app, "No access"), "note": "Needs CRM access",
              "hours": 4, "context": "delivery"}
    values.update(changes)
    with app.app_context():
        try:
            gaps.record(db.session.get(Request, desk["request"]),
                        db.session.get(User, desk["analyst"]), values["category"],
                        values["note"], values["hours"], values["context"], AT)
        except gaps.GapRefusal as refused:
            db.session.rollback()
            return refused.field, str(refused)
        db.session.rollback()
        return None


# --- Recording a gap ----------------------------------------------------------------------------

def test_an_analyst_records_a_gap_with_a_category_a_note_and_hours(app, desk):
    gap_id = record(app, desk["request"], desk["analyst"], "No access", "  Needs CRM access ",
                    hours="2.25", context="decline")
    with app.app_context():
        gap = db.session.get(PlatformGap, gap_id)
        assert (gap.category.name, gap.note, gap.hours, gap.context, gap.team_id,
                gap.recorded_by_id) == ("No access", "Needs CRM access", 2.2, "decline",
                                        desk["marketing"], desk["analyst"])


def test_hours_left_out_are_prefilled_from_the_context_and_size(app, desk, make):
    make.act(desk["request"], "accept", desk["analyst"], size="L")
    delivered = record(app, desk["request"], desk["analyst"], "No access")
    declined = record(app, desk["request"], desk["analyst"], "No access", context="decline")
    assert make.get(PlatformGap, delivered).hours == gaps.HOURS_BY_SIZE["L"] == 60
    assert make.get(PlatformGap, declined).hours == gaps.DECLINE_HOURS


@pytest.mark.parametrize("hours", [-1, 1e9, float("nan"), float("inf"), "abc", "", "1e9",
                                   [], "10001"])
def test_hours_must_be_a_number_from_0_to_10000(app, desk, hours):
    field, message = refusal(app, desk, hours=hours)
    assert field == "gap_hours"
    assert message in ("Give between 0 and 10,000 hours.", "Give the analyst hours as a number.")


@pytest.mark.parametrize("hours", [0, "0", 10000, "7.5"])
def test_hours_at_the_bounds_are_accepted(app, desk, hours):
    assert refusal(app, desk, hours=hours) is None


def test_a_note_over_2000_characters_is_refused_and_2000_accepted(app, desk):
    assert refusal(app, desk, note="x" * 2001) == (
        "gap_note", "Keep the note under 2,000 characters.")
    assert refusal(app, desk, note="x" * 2000) is None
    assert refusal(app, desk, note="a\x00b")[0] == "gap_note"


@pytest.mark.parametrize("category", [None, 0, -1, 999, 2**31, 2**63, "1", True, 1.0])
def test_a_category_that_is_not_one_of_the_taxonomy_is_refused(app, desk, category):
    assert refusal(app, desk, category=category) == (
        "gap_category", "Choose what was missing for the requester to do it themselves.")


def test_a_retired_category_can_no_longer_be_chosen(app, desk):
    retired = category_id(app, "Data not trusted")
    with app.app_context():
        gaps.set_active(db.session.get(GapCategory, retired), None, False)
        db.session.commit()
    assert refusal(app, desk, category=retired)[0] == "gap_category"


def test_requesters_do_not_record_gaps(app, desk):
    with app.app_context():
        with pytest.raises(gaps.GapRefusal):
            gaps.record(db.session.get(Request, desk["request"]),
                        db.session.get(User, desk["requester"]),
                        category_id(app, "No access"), "", 1, "decline", AT)


def test_an_unknown_context_is_a_programming_error(app, desk):
    with pytest.raises(ValueError):
        refusal(app, desk, context="triage")


# --- The taxonomy: who ---------------------------------------------------------------------------

TAXONOMY_POSTS = ["/settings/platform-gaps", "/settings/platform-gaps/1/edit",
                  "/settings/platform-gaps/1/up", "/settings/platform-gaps/1/retire",
                  "/settings/platform-gaps/1/delete"]


@pytest.mark.parametrize("role", ["requester", "analyst", "admin"])
def test_only_leads_see_or_change_the_taxonomy(client, auth, desk, app, role):
    auth.login(desk[role])
    assert client.get("/settings/platform-gaps").status_code == 403
    assert client.get("/settings/platform-gaps/1/edit").status_code == 403
    for path in TAXONOMY_POSTS:
        assert auth.post(path, data={"name": "Hacked", "description": ""}).status_code == 403
    assert categories(app)[0] == ("Data not available", True)
    assert ("Hacked", True) not in categories(app)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/settings/platform-gaps")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_the_domain_refuses_others_too(app, desk):
    with app.app_context():
        analyst = db.session.get(User, desk["analyst"])
        with pytest.raises(gaps.GapNotPermitted) as refused:
            gaps.add_category(analyst, "Sneaky")
        assert refused.value.status == 403


def test_the_settings_page_links_leads_to_the_taxonomy(client, auth, desk):
    auth.login(desk["lead"])
    assert 'href="/settings/platform-gaps"' in client.get("/settings").get_data(as_text=True)
    auth.logout()
    auth.login(desk["admin"])  # admins manage settings, not the taxonomy
    assert 'href="/settings/platform-gaps"' not in client.get("/settings").get_data(as_text=True)


# --- The taxonomy: what ---------------------------------------------------------------------------

def test_the_page_lists_the_categories_in_order_with_their_use(client, auth, desk, app):
    record(app, desk["request"], desk["analyst"], "No access")
    record(app, desk["request"], desk["analyst"], "No access")
    auth.login(desk["lead"])
    response = client.get("/settings/platform-gaps")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    names = [name for name, _ in categories(app)]
    assert [html.index(f">{name}</span>") for name in names] == sorted(
        html.index(f">{name}</span>") for name in names)
    row = html.split('id="category-2"')[1].split("</li>")[0]
    assert "2 gaps recorded" in row and ">Delete<" not in row  # in use: retire, not delete
    assert ">Delete<" in html.split('id="category-1"')[1].split("</li>")[0]


def test_a_lead_adds_a_category_at_the_end(client, auth, desk, app):
    auth.login(desk["lead"])
    response = auth.post("/settings/platform-gaps",
                         data={"name": "  No sandbox ", "description": "Nowhere to try a query."})
    assert response.status_code == 302
    assert categories(app)[-1] == ("No sandbox", True)
    with app.app_context():
        assert [c.name for c in gaps.active_categories()][-1] == "No sandbox"
    assert "No sandbox is added." in client.get(response.location).get_data(as_text=True)


@pytest.mark.parametrize("name", ["no access", "NO ACCESS", " No  access ", "ｎｏ ａｃｃｅｓｓ"])
def test_a_duplicate_name_is_refused_ignoring_case_and_nothing_typed_is_lost(
        client, auth, desk, app, errors, name):
    auth.login(desk["lead"])
    response = auth.post("/settings/platform-gaps",
                         data={"name": name, "description": "Kept as typed"})
    assert response.status_code == 400
    assert errors(response)["name"] == "There is already a category called No access."
    html = response.get_data(as_text=True)
    assert 'value="Kept as typed"' in html
    assert len(categories(app)) == 6


def test_a_retired_name_is_refused_with_the_way_out(app, desk):
    with app.app_context():
        lead = db.session.get(User, desk["lead"])
        gaps.set_active(db.session.get(GapCategory, category_id(app, "Other")), lead, False)
        with pytest.raises(gaps.GapRefusal) as refused:
            gaps.add_category(lead, "other")
        assert "retired: reactivate it instead" in str(refused.value)


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "description": ""}, "name", "Give the category a name."),
    ({"name": "   ", "description": ""}, "name", "Give the category a name."),
    ({"name": "x" * 81, "description": ""}, "name", "Keep it under 80 characters."),
    ({"name": "ß" * 50, "description": ""}, "name", "Use a shorter name."),
    ({"name": "Fine", "description": "y" * 301}, "description", "Keep it under 300 characters."),
    ({"name": "Two\nlines", "description": ""}, "name",
     "Use one line without control characters."),
    ({"name": "Nul\x00", "description": ""}, "name", "Use one line without control characters."),
])
def test_bad_input_gets_a_message_on_its_field(client, auth, desk, app, errors, data, field,
                                               message):
    auth.login(desk["lead"])
    response = auth.post("/settings/platform-gaps", data=data)
    assert response.status_code == 400
    assert errors(response)[field] == message
    assert len(categories(app)) == 6


def test_a_post_without_the_csrf_token_changes_nothing(client, auth, desk, app):
    auth.login(desk["lead"])
    assert client.post("/settings/platform-gaps",
                       data={"name": "No token", "description": ""}).status_code == 400
    assert client.post("/settings/platform-gaps/1/retire").status_code == 400
    assert categories(app)[0] == ("Data not available", True)
    assert len(categories(app)) == 6


def test_a_lead_renames_a_category_and_its_gaps_follow(client, auth, desk, app, make):
    gap = record(app, desk["request"], desk["analyst"], "Documentation missing")
    documentation = category_id(app, "Documentation missing")
    auth.login(desk["lead"])
    page = client.get(f"/settings/platform-gaps/{documentation}/edit").get_data(as_text=True)
    assert 'value="Documentation missing"' in page
    response = auth.post(f"/settings/platform-gaps/{documentation}/edit",
                         data={"name": "No documentation", "description": "Nothing written."})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(PlatformGap, gap).category.name == "No documentation"
        assert db.session.get(GapCategory, documentation).description == "Nothing written."


def test_renaming_to_its_own_name_in_another_case_is_allowed_but_not_to_anothers(
        client, auth, desk, app, errors):
    other = category_id(app, "Other")
    auth.login(desk["lead"])
    assert auth.post(f"/settings/platform-gaps/{other}/edit",
                     data={"name": "OTHER", "description": ""}).status_code == 302
    response = auth.post(f"/settings/platform-gaps/{other}/edit",
                         data={"name": "no ACCESS", "description": "kept"})
    assert response.status_code == 400
    assert errors(response)["name"] == "There is already a category called No access."
    assert 'value="no ACCESS"' in response.get_data(as_text=True)
    assert ("OTHER", True) in categories(app)


def test_retiring_hides_a_category_from_analysts_and_reactivating_brings_it_back(
        client, auth, desk, app):
    trusted = category_id(app, "Data not trusted")
    record(app, desk["request"], desk["analyst"], "Data not trusted", "Figures differ")
    auth.login(desk["lead"])
    response = auth.post(f"/settings/platform-gaps/{trusted}/retire")
    assert response.status_code == 302
    assert "is retired" in client.get(response.location).get_data(as_text=True)
    with app.app_context():
        assert "Data not trusted" not in [c.name for c in gaps.active_categories()]
        assert db.session.scalar(db.select(db.func.count(PlatformGap.id))) == 1  # history kept
    assert ("Data not trusted", False) in categories(app)
    assert ">Retired<" in client.get("/settings/platform-gaps").get_data(as_text=True)
    auth.post(f"/settings/platform-gaps/{trusted}/reactivate")
    with app.app_context():
        assert "Data not trusted" in [c.name for c in gaps.active_categories()]


def test_the_last_active_category_cannot_be_retired(app, desk):
    with app.app_context():
        lead = db.session.get(User, desk["lead"])
        *others, last = gaps.active_categories()
        for category in others:
            gaps.set_active(category, lead, False)
        with pytest.raises(gaps.GapRefusal, match="at least one category"):
            gaps.set_active(last, lead, False)


def test_moving_up_and_down_reorders_what_analysts_see(client, auth, desk, app):
    auth.login(desk["lead"])
    no_access, other = category_id(app, "No access"), category_id(app, "Other")
    auth.post(f"/settings/platform-gaps/{no_access}/up")
    auth.post(f"/settings/platform-gaps/{other}/up")
    assert [name for name, _ in categories(app)] == [
        "No access", "Data not available", "Does not know the tool", "Data not trusted",
        "Other", "Documentation missing"]
    auth.post(f"/settings/platform-gaps/{no_access}/up")  # at the top already: nothing moves
    auth.post(f"/settings/platform-gaps/{no_access}/down")
    with app.app_context():
        assert [c.name for c in gaps.active_categories()][:2] == ["Data not available",
                                                                 "No access"]
        assert [c.position for c, _ in gaps.categories_with_use()] == list(range(6))


def test_a_category_never_used_may_be_deleted_one_in_use_may_not(client, auth, desk, app):
    record(app, desk["request"], desk["analyst"], "No access")
    unused, used = category_id(app, "Other"), category_id(app, "No access")
    auth.login(desk["lead"])
    response = auth.post(f"/settings/platform-gaps/{used}/delete")
    assert "retire it instead" in client.get(response.location).get_data(as_text=True)
    assert category_id(app, "No access") == used
    auth.post(f"/settings/platform-gaps/{unused}/delete")
    assert category_id(app, "Other") is None
    assert len(categories(app)) == 5


@pytest.mark.parametrize("path", ["/settings/platform-gaps/999/edit",
                                  "/settings/platform-gaps/99999999999/edit",
                                  "/settings/platform-gaps/1/explode",
                                  "/settings/platform-gaps/abc/retire"])
def test_unknown_categories_and_actions_are_not_found(client, auth, desk, path):
    auth.login(desk["lead"])
    assert auth.post(path, data={"name": "x"}).status_code == 404


def test_the_taxonomy_page_costs_the_same_statements_with_more_categories(
        client, auth, desk, app, statements):
    auth.login(desk["lead"])
    client.get("/settings/platform-gaps")
    few = statements[-1]
    with app.app_context():
        lead = db.session.get(User, desk["lead"])
        for n in range(20):
            gaps.add_category(lead, f"Extra {n}")
        db.session.commit()
    record(app, desk["request"], desk["analyst"], "Extra 3")
    client.get("/settings/platform-gaps")
    assert statements[-1] == few
