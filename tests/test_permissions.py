"""Who may see and do what (DESIGN.md, Roles), as tables: one row per page or action, one column
per person.

The people ("the cast", tests/cast.py), around one request of the Marketing team: one column per
person.

A request the person may not see answers 404, exactly as a request that does not exist; an action
on a request they may see but not take answers 403; nothing changes in either case.
"""
import re

import pytest

from tests.cast import CLAIMED_STATES, DELIVERY, Cast
from tickets import lifecycle
from tickets.extensions import db
from tickets.models import Event, Request, User

CAST = ("owner", "teammate", "outsider", "team_analyst", "other_analyst", "assignee", "lead",
        "admin", "watcher")


@pytest.fixture
def cast(app, make):
    return Cast(app, make)


def without_tokens(response):
    """A page's HTML with its (time-stamped) CSRF tokens blanked out."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def event_count(app, request_id):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Event)
                                 .where(Event.request_id == request_id))


# --- Request pages ------------------------------------------------------------------------

# Each request page: how its request is built, and how it is used.
REQUEST_PAGES = {
    "view": ({"state": "in_progress"}, "GET", "/requests/{id}"),
    "view confidential": ({"state": "in_progress", "confidential": True}, "GET", "/requests/{id}"),
    "view closed": ({"state": "resolved"}, "GET", "/requests/{id}"),
    "edit before work starts": ({"state": "accepted"}, "GET", "/requests/{id}/edit"),
    "edit in progress": ({"state": "in_progress"}, "GET", "/requests/{id}/edit"),
    "edit confidential": ({"state": "accepted", "confidential": True}, "GET", "/requests/{id}/edit"),
    "edit closed": ({"state": "resolved"}, "GET", "/requests/{id}/edit"),
    "comment": ({"state": "in_progress"}, "POST", "/requests/{id}/comments"),
    "comment confidential": ({"state": "in_progress", "confidential": True}, "POST",
                             "/requests/{id}/comments"),
    "comment closed": ({"state": "resolved"}, "POST", "/requests/{id}/comments"),
}

REQUEST_PAGE_RULES = {
    #                         owner teammate outsider team_an other_an assignee lead admin watcher
    "view":                   (200,  200,     404,     200,    404,     200,     200, 200,  200),
    "view confidential":      (200,  404,     404,     404,    404,     200,     200, 200,  404),
    "view closed":            (200,  200,     404,     200,    404,     200,     200, 200,  200),
    "edit before work starts": (200, 403,     404,     403,    404,     403,     200, 403,  403),
    "edit in progress":       (403,  403,     404,     403,    404,     403,     200, 403,  403),
    "edit confidential":      (200,  404,     404,     404,    404,     404,     200, 403,  404),
    "edit closed":            (403,  403,     404,     403,    404,     403,     403, 403,  403),
    "comment":                (302,  302,     404,     302,    404,     302,     302, 302,  302),
    "comment confidential":   (302,  404,     404,     404,    404,     302,     302, 302,  404),
    "comment closed":         (403,  403,     404,     403,    404,     403,     403, 403,  403),
}


def test_who_may_use_each_request_page(app, cast):
    outcomes = {}
    for page, (setup, method, path) in REQUEST_PAGES.items():
        url = path.format(id=cast.request(**setup))
        row = []
        for role in CAST:
            browser = cast.browser(role)
            if method == "GET":
                response = browser.client.get(url)
            else:
                response = browser.post(url, data={"text": f"A comment from the {role}."})
            row.append(response.status_code)
        outcomes[page] = tuple(row)
    assert outcomes == REQUEST_PAGE_RULES


def test_only_comments_that_were_accepted_reach_the_timeline(app, cast):
    request_id = cast.request("in_progress", confidential=True)
    before = event_count(app, request_id)
    for role in CAST:
        cast.browser(role).post(f"/requests/{request_id}/comments", data={"text": f"From {role}"})
    with app.app_context():
        comments = db.session.scalars(db.select(Event).where(
            Event.request_id == request_id, Event.kind == "comment").order_by(Event.id)).all()
        authors = [event.actor_id for event in comments]
    assert authors == [cast.ids[role] for role in ("owner", "assignee", "lead", "admin")]
    assert event_count(app, request_id) == before + 4


def test_a_hidden_request_answers_exactly_like_a_missing_one(app, cast):
    hidden = cast.request("submitted", confidential=True)
    teammate = cast.browser("teammate").client
    missing = hidden + 1000
    for path in ("/requests/{id}", "/requests/{id}/edit"):
        seen = teammate.get(path.format(id=hidden))
        absent = teammate.get(path.format(id=missing))
        assert seen.status_code == absent.status_code == 404
        assert without_tokens(seen) == without_tokens(absent)


def test_a_hidden_request_page_shows_nothing_of_the_request(app, cast):
    hidden = cast.request("submitted", confidential=True, title="Salary bands by manager")
    page = cast.browser("team_analyst").client.get(f"/requests/{hidden}")
    assert page.status_code == 404
    assert "Salary bands" not in page.get_data(as_text=True)


def test_teammate_cannot_change_a_request_by_posting_the_edit_form(app, cast):
    request_id = cast.request("submitted", title="Weekly churn by region")
    browser = cast.browser("teammate")
    response = browser.post(f"/requests/{request_id}/edit", data={
        "title": "Something else", "version": cast.make.get(Request, request_id).version})
    assert response.status_code == 403
    assert cast.make.get(Request, request_id).title == "Weekly churn by region"


def test_a_watcher_of_another_team_may_follow_but_not_edit_or_act(app, cast):
    request_id = cast.request("submitted")
    browser = cast.browser("watcher")
    page = browser.client.get(f"/requests/{request_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "What you can do" not in html
    assert f"/requests/{request_id}/edit" not in html
    assert browser.act(request_id, "cancel").status_code == 403
    assert cast.make.state(request_id) == "submitted"


# --- Lifecycle actions --------------------------------------------------------------------

ORIGINAL = "the original"  # stands for the id of another open Marketing request
ASSIGNEE = "an analyst"  # stands for the id of the Marketing analyst who has not claimed it

# One row per action a person can take: the state it starts from, its inputs, and who may take
# it. Everyone else who can see the request gets 403; who cannot see it gets 404.
TRANSITION_RULES = {
    "accept": ("submitted", {"size": "M"}, {"team_analyst", "assignee", "lead"}),
    "approve": ("waitlisted", {"size": "L"}, {"lead"}),
    "ask": ("submitted", {"note": "Which regions do you need?"}, {"team_analyst", "assignee", "lead"}),
    "answer": ("needs_info", {"note": "All regions, weekly."}, {"owner"}),
    "claim": ("accepted", {}, {"team_analyst", "assignee", "lead"}),
    "assign": ("accepted", {"assignee": ASSIGNEE}, {"lead"}),
    "block": ("in_progress", {"note": "Waiting for CRM access."}, {"assignee", "lead"}),
    "unblock": ("blocked", {}, {"assignee", "lead"}),
    "unclaim": ("in_progress", {}, {"assignee", "lead"}),
    "deliver": ("in_progress", DELIVERY, {"assignee", "lead"}),
    "confirm": ("delivered", {"rating": "5"}, {"owner"}),
    "reopen": ("delivered", {"note": "The south region is missing."}, {"owner"}),
    "decline": ("in_progress", {"reason": "low_value", "note": "Too costly for its value."},
                {"team_analyst", "assignee", "lead"}),
    "mark_duplicate": ("in_progress", {"original": ORIGINAL}, {"team_analyst", "assignee", "lead"}),
    "cancel": ("in_progress", {}, {"owner", "lead"}),
}

# Who sees a request of Marketing, by whether it is confidential and whether it is claimed.
SEES = {"owner", "teammate", "team_analyst", "assignee", "lead", "admin", "watcher"}
SEES_CONFIDENTIAL = {"owner", "lead", "admin"}
SEES_CONFIDENTIAL_CLAIMED = SEES_CONFIDENTIAL | {"assignee"}


def target_state(name):
    """Where ``name`` leads; answering resumes the state the question was asked in (submitted)."""
    return lifecycle.TRANSITIONS[name].target or "submitted"


def test_every_action_a_person_can_take_on_the_web_is_in_the_table():
    from tickets.forms.transitions import TRANSITION_FORMS

    assert set(TRANSITION_RULES) == set(TRANSITION_FORMS)


@pytest.mark.parametrize("name", list(TRANSITION_RULES))
def test_who_may_take_each_action(app, cast, name):
    """Each person takes the action on a fresh request, normal and confidential."""
    source, inputs, may_take = TRANSITION_RULES[name]
    target = target_state(name)
    expected, outcomes = {}, {}
    for confidential in (False, True):
        if not confidential:
            sees = SEES
        elif source in CLAIMED_STATES:
            sees = SEES_CONFIDENTIAL_CLAIMED
        else:
            sees = SEES_CONFIDENTIAL
        variant = "confidential" if confidential else "normal"
        for role in CAST:
            request_id = cast.request(source, confidential=confidential)
            fields = dict(inputs)
            if fields.get("original") == ORIGINAL:
                fields["original"] = cast.request("submitted", title="The original")
            if fields.get("assignee") == ASSIGNEE:
                fields["assignee"] = cast.ids["team_analyst"]
            events_before = event_count(app, request_id)
            response = cast.browser(role).act(request_id, name, **fields)
            state = cast.make.state(request_id)
            outcomes[variant, role] = (response.status_code, state)
            if role not in sees:
                expected[variant, role] = (404, source)
            elif role in may_take:
                expected[variant, role] = (302, target)
            else:
                expected[variant, role] = (403, source)
            if state == source:
                assert event_count(app, request_id) == events_before, f"{role} left an event"
    assert outcomes == expected


@pytest.mark.parametrize("name", ["waitlist", "release", "auto_resolve", "destroy"])
def test_system_only_and_unknown_actions_cannot_be_posted_by_anyone(app, cast, name):
    request_id = cast.request("waitlisted" if name == "release" else
                              "delivered" if name == "auto_resolve" else "submitted")
    state = cast.make.state(request_id)
    for role in ("owner", "assignee", "lead", "admin"):
        response = cast.browser(role).act(request_id, name, note="trying")
        assert response.status_code == 404, role
    assert cast.make.state(request_id) == state


def test_the_request_page_offers_only_the_actions_its_viewer_may_take(app, cast):
    request_id = cast.request("in_progress")
    offered = {}
    for role in ("owner", "teammate", "team_analyst", "assignee", "lead", "admin"):
        html = cast.browser(role).client.get(f"/requests/{request_id}").get_data(as_text=True)
        offered[role] = set(re.findall(rf'action="/requests/{request_id}/actions/(\w+)"', html))
    assert offered == {
        "owner": {"cancel"},
        "teammate": set(),
        "team_analyst": {"decline", "mark_duplicate"},
        "assignee": {"block", "unclaim", "deliver", "decline", "mark_duplicate"},
        "lead": {"block", "unclaim", "deliver", "decline", "mark_duplicate", "cancel"},
        "admin": set(),
    }


def test_duplicate_of_a_request_the_analyst_cannot_see_is_refused(app, cast):
    request_id = cast.request("submitted")
    hidden = cast.request("submitted", confidential=True, title="Hidden original")
    response = cast.browser("team_analyst").act(request_id, "mark_duplicate", original=hidden)
    assert response.status_code == 400
    assert f"There is no request #{hidden} that you can see." in response.get_data(as_text=True)
    assert cast.make.state(request_id) == "submitted"


def test_duplicate_of_a_number_too_big_for_the_database_is_refused_as_unknown(app, cast):
    request_id = cast.request("submitted")
    too_big = 2**63
    response = cast.browser("lead").act(request_id, "mark_duplicate", original=too_big)
    assert response.status_code == 400
    assert f"There is no request #{too_big} that you can see." in response.get_data(as_text=True)
    assert cast.make.state(request_id) == "submitted"


@pytest.mark.parametrize("method, path", [
    ("GET", "/requests/{id}"), ("GET", "/requests/{id}/edit"),
    ("POST", "/requests/{id}/comments"), ("POST", "/requests/{id}/actions/cancel"),
])
def test_a_request_number_too_big_for_the_database_is_not_found(app, cast, method, path):
    browser = cast.browser("lead")
    url = path.format(id=2**64)
    if method == "GET":
        response = browser.client.get(url)
    else:
        response = browser.post(url, data={"text": "Hello", "cancel-version": "1"})
    assert response.status_code == 404


# --- Lists and administration ---------------------------------------------------------------

PAGE_RULES = {
    #                  owner teammate outsider team_an other_an assignee lead admin watcher
    "/requests/mine":   (200, 200,     200,     200,    200,     200,     200, 200,  200),
    "/requests/team":   (200, 200,     200,     200,    200,     200,     200, 200,  200),
    "/requests/all":    (403, 403,     403,     403,    403,     403,     200, 200,  403),
    "/requests/new":    (200, 200,     200,     200,    200,     200,     200, 200,  200),
    "/admin/users":     (403, 403,     403,     403,    403,     403,     200, 200,  403),
    "/admin/users/new": (403, 403,     403,     403,    403,     403,     200, 200,  403),
    "/admin/teams":     (403, 403,     403,     403,    403,     403,     200, 200,  403),
    "/admin/teams/new": (403, 403,     403,     403,    403,     403,     200, 200,  403),
}


def test_who_may_open_each_list_and_admin_page(app, cast):
    outcomes = {path: tuple(cast.browser(role).client.get(path).status_code for role in CAST)
                for path in PAGE_RULES}
    assert outcomes == PAGE_RULES


def test_admin_forms_refuse_requesters_and_analysts_and_change_nothing(app, cast):
    from tickets.models import Team

    for role in ("owner", "team_analyst"):
        browser = cast.browser(role)
        assert browser.post("/admin/teams/new", data={"name": f"By {role}"}).status_code == 403
        assert browser.post("/admin/users/new", data={
            "name": "Mallory", "email": f"mallory-{role}@example.com", "role": "admin",
            "password": "long-enough-1"}).status_code == 403
        assert browser.post(f"/admin/users/{cast.ids[role]}/edit", data={
            "name": "Me", "email": f"me-{role}@example.com", "role": "admin",
            "is_active": "y"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Team)) == 2
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == len(CAST)
        assert {u.role for u in db.session.scalars(db.select(User).where(
            User.id.in_([cast.ids["owner"], cast.ids["team_analyst"]])))} == {"requester", "analyst"}


def test_the_navigation_offers_only_the_pages_a_role_may_open(app, cast):
    for role, sees_admin in (("owner", False), ("team_analyst", False), ("lead", True),
                             ("admin", True)):
        html = cast.browser(role).client.get("/requests/mine").get_data(as_text=True)
        assert ('href="/requests/all"' in html) is sees_admin, role
        assert ('href="/admin/users"' in html) is sees_admin, role


def listed(client, path):
    """The request ids a list page shows (all of its pages)."""
    ids, page = [], 1
    while True:
        response = client.get(f"{path}?state=any&page={page}")
        assert response.status_code == 200
        found = [int(i) for i in re.findall(r'href="/requests/(\d+)" class="fw-semibold',
                                            response.get_data(as_text=True))]
        if not found:
            return ids
        ids.extend(found)
        page += 1


def test_lists_show_exactly_the_requests_each_person_may_see(app, cast):
    made = {
        "marketing": cast.request("in_progress"),
        "marketing secret": cast.request("in_progress", confidential=True),
        "teammate's": cast.request("submitted", requester="teammate"),
        "finance": cast.request("submitted", requester="outsider", team=cast.finance),
        "finance secret": cast.request("submitted", requester="outsider", team=cast.finance,
                                       is_confidential=True),
        "finance closed": cast.request("submitted", requester="outsider", team=cast.finance),
    }
    cast.make.act(made["finance closed"], "cancel", cast.ids["outsider"])
    expected = {
        ("owner", "mine"): {"marketing", "marketing secret"},
        ("owner", "team"): {"marketing", "marketing secret", "teammate's"},
        ("teammate", "mine"): {"teammate's"},
        ("teammate", "team"): {"marketing", "teammate's"},
        ("outsider", "mine"): {"finance", "finance secret", "finance closed"},
        ("outsider", "team"): {"finance", "finance secret", "finance closed"},
        ("team_analyst", "mine"): set(),
        ("team_analyst", "team"): {"marketing", "teammate's"},
        ("other_analyst", "mine"): set(),
        ("other_analyst", "team"): {"finance", "finance closed"},
        ("assignee", "mine"): {"marketing", "marketing secret"},
        ("assignee", "team"): {"marketing", "marketing secret", "teammate's"},
        ("lead", "mine"): set(),
        ("lead", "team"): set(),
        ("lead", "all"): set(made),
        ("admin", "mine"): set(),
        ("admin", "team"): set(),
        ("admin", "all"): set(made),
        ("watcher", "mine"): set(),
        ("watcher", "team"): {"finance", "finance closed"},
    }
    names = {request_id: name for name, request_id in made.items()}
    shown = {}
    for role, scope in expected:
        ids = listed(cast.browser(role).client, f"/requests/{scope}")
        assert len(ids) == len(set(ids)), f"{role} sees a request twice in {scope}"
        shown[role, scope] = {names[request_id] for request_id in ids}
    assert shown == expected


# --- Anonymous visitors -------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/", "/requests", "/requests/mine", "/requests/team", "/requests/all", "/requests/new",
    "/requests/{id}", "/requests/{id}/edit", "/admin/users", "/admin/users/new", "/admin/teams",
    "/admin/teams/new",
])
def test_anonymous_visitor_is_sent_to_login(app, make, client, path):
    team = make.team()
    request_id = make.request(make.user(teams=[team]), team)
    response = client.get(path.format(id=request_id))
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize("action, data", [
    ("comments", {"text": "Hello"}),
    ("actions/cancel", {"cancel-version": "1"}),
    ("edit", {"title": "Changed"}),
])
def test_anonymous_post_with_a_valid_token_is_sent_to_login_and_changes_nothing(
        app, make, client, auth, action, data):
    team = make.team()
    request_id = make.request(make.user(teams=[team]), team)
    before = event_count(app, request_id)
    token = auth.csrf_token("/login")
    response = client.post(f"/requests/{request_id}/{action}", data={"csrf_token": token, **data})
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")
    assert make.state(request_id) == "submitted"
    assert event_count(app, request_id) == before
