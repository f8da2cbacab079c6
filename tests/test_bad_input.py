"""Bad input gets a clear answer (a 404, a field-level error or a safe redirect), never a 500
(issue 10: "500s found", Security item 8)."""
import io
import re

from types import SimpleNamespace

import pytest
from sqlalchemy import event
from wtforms import TextAreaField

from tests.conftest import PASSWORD, settings_page_form
from tests.test_intake import answers
from tickets.forms.base import DatadeskForm, NumberField, is_one_line
from tickets.extensions import db
from tickets.models import Request, Team, User, name_key, utcnow

HUGE_ID = "99999999999999999999"  # beyond 64 bits, let alone an INTEGER column


@pytest.fixture
def desk(make):
    """Marketing with a requester, an analyst and a lead, an admin, and one submitted request."""
    marketing = make.team("Marketing")
    people = {
        "marketing": marketing,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "lead": make.user("lead", teams=[marketing], name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }
    people["request"] = make.request(people["requester"], marketing,
                                     watchers=["wendy@example.com"])
    return people


def intake_answers(desk, **changes):
    """The intake form for Marketing as a browser posts it, with ``changes``."""
    return answers(SimpleNamespace(marketing=desk["marketing"]), **changes)


def request_titles(app):
    with app.app_context():
        return sorted(db.session.scalars(db.select(Request.title)))


def version_of(app, request_id):
    with app.app_context():
        return db.session.get(Request, request_id).version


# --- Ids beyond an INTEGER column ---------------------------------------------------------------

def int_routes(app):
    """Every route with an ``<int:...>`` part, as (rule, its methods, path with a huge id)."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            path = re.sub(r"<int:\w+>", HUGE_ID, rule.rule)
            found.append((rule.endpoint, sorted(rule.methods - {"HEAD", "OPTIONS"}), path))
    return found


def test_every_blueprint_has_int_routes_to_check(app):
    blueprints = {endpoint.split(".")[0] for endpoint, _, _ in int_routes(app)}
    assert {"admin", "mail", "queue", "requests", "sla", "triage"} <= blueprints


@pytest.mark.parametrize("role", ["lead", "admin", "requester"])
def test_ids_beyond_an_integer_column_are_not_found_on_every_route(app, client, auth, desk,
                                                                     role):
    auth.login(desk[role])
    for endpoint, methods, path in int_routes(app):
        for method in methods:
            if method == "GET":
                response = client.get(path)
            elif method == "POST":
                response = auth.post(path, data={"version": "1", "text": "x", "name": "x"})
            else:  # the REST API's PATCH
                response = client.open(path, method=method, json={"title": "x"})
            assert response.status_code == 404, (endpoint, method, path)


@pytest.mark.parametrize("path", [
    "/digests/preview/99999999999999999999.html",
    "/digests/preview/2147483648.html",
    "/requests/2147483648",
    "/requests/99999999999999999999/edit",
    "/admin/teams/99999999999999999999/edit",
    "/admin/users/2147483648/edit",
])
def test_a_huge_id_in_a_url_is_not_found(client, auth, desk, path):
    auth.login(desk["admin"])
    response = client.get(path)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/unsubscribe/%2Fpreferences", "/unsubscribe//preferences",
                                  "/requests//1"])
def test_an_address_with_a_double_slash_is_not_found_rather_than_redirected(client, path):
    """Werkzeug would merge the slashes and redirect (308), a POST included: an unsubscribe
    token "/preferences" went on to /unsubscribe/preferences (found by the fuzzed forms)."""
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 404 and "Location" not in response.headers


def test_the_largest_integer_id_is_still_a_route(client, auth, desk):
    auth.login(desk["admin"])
    assert client.get("/requests/2147483647").status_code == 404  # routed, then no such row
    assert client.get(f"/requests/{desk['request']}").status_code == 200


# --- Unsafe ``next`` targets ----------------------------------------------------------------------

UNSAFE_NEXT = [
    "/triage\r\nSet-Cookie: stolen=1",
    "/triage\n",
    "/triage\rx",
    "/\t/evil.example",
    "/triage\x00",
    "/triage\x1b[31m",
    "/triage\x7f",
    "/triage\x85",
    "/tri\u2028age",
    "/tri\u2029age",
    "/%0d%0aSet-Cookie:%20stolen=1",
    "/%0aX",
    "/%09/evil.example",
    "/\\evil.example",
    "/%5c%5cevil.example",
    "/%2f/evil.example",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_logging_in_with_an_unsafe_next_lands_on_the_home_page(app, client, auth, desk, target):
    with app.app_context():
        email = db.session.get(User, desk["requester"]).email
    response = client.post("/login", data={
        "email": email, "password": PASSWORD, "next": target,
        "csrf_token": auth.csrf_token("/login")})
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/requests/mine").status_code == 200  # logged in


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_a_request_action_with_an_unsafe_next_is_done_and_goes_to_the_request(
        app, client, auth, desk, target):
    request_id = desk["request"]
    auth.login(desk["analyst"])
    response = client.post(f"/requests/{request_id}/actions/ask", data={
        "ask-csrf_token": auth.token, "ask-version": version_of(app, request_id),
        "ask-note": "Which regions?", "next": target})
    assert response.status_code == 302
    assert response.location == f"/requests/{request_id}"
    with app.app_context():
        assert db.session.get(Request, request_id).state == "needs_info"
    assert "Your question is sent to the requester." in client.get(
        response.location).get_data(as_text=True)


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_changing_the_kind_with_an_unsafe_next_is_done_and_goes_to_the_request(
        app, client, auth, desk, target):
    request_id = desk["request"]
    auth.login(desk["analyst"])
    response = client.post(f"/requests/{request_id}/kind", data={
        "kind-csrf_token": auth.token, "kind-version": version_of(app, request_id),
        "kind-kind": "project", "next": target})
    assert response.status_code == 302
    assert response.location == f"/requests/{request_id}"
    with app.app_context():
        assert db.session.get(Request, request_id).kind == "project"


def test_the_kind_page_never_links_back_to_an_unsafe_next(app, client, auth, desk):
    request_id = desk["request"]
    auth.login(desk["analyst"])
    response = client.get(f"/requests/{request_id}/kind",
                          query_string={"next": "/%0d%0aX: 1"})
    assert response.status_code == 200
    assert "%0d%0a" not in response.get_data(as_text=True)


def test_a_safe_next_is_still_followed(app, client, auth, desk):
    request_id = desk["request"]
    auth.login(desk["analyst"])
    response = client.post(f"/requests/{request_id}/actions/ask", data={
        "ask-csrf_token": auth.token, "ask-version": version_of(app, request_id),
        "ask-note": "Which regions?", "next": "/triage?section=team&page=2"})
    assert response.location == "/triage?section=team&page=2"


# --- Team names in every alphabet ---------------------------------------------------------------

def team_names(app):
    with app.app_context():
        return sorted(db.session.scalars(db.select(Team.name)))


@pytest.mark.parametrize("existing, posted", [
    ("Équipe", "Équipe"),
    ("Équipe", "équipe"),
    ("Équipe", "ÉQUIPE"),
    ("İstanbul", "İstanbul"),
    ("İstanbul", "i\u0307stanbul"),  # what Python makes of a lower-case İ
    ("Straße", "STRASSE"),
    ("Sales", "\uff33ales"),  # a full-width S
])
def test_a_team_name_taken_in_any_case_or_alphabet_is_a_field_error(app, make, auth, desk,
                                                                    errors, existing, posted):
    make.team(existing)
    before = team_names(app)
    auth.login(desk["admin"])
    response = auth.post("/admin/teams/new", data={"name": posted, "is_active": "y"})
    assert response.status_code == 400
    assert errors(response) == {"name": f"There is already a team called {existing}."}
    assert team_names(app) == before


def test_renaming_a_team_to_another_teams_name_in_another_case_is_refused(app, make, auth, desk,
                                                                           errors):
    make.team("Équipe")
    other = make.team("Istanbul")
    auth.login(desk["admin"])
    response = auth.post(f"/admin/teams/{other}/edit", data={"name": "équipe", "is_active": "y"})
    assert response.status_code == 400
    assert errors(response) == {"name": "There is already a team called Équipe."}


def test_a_team_may_change_the_case_of_its_own_non_ascii_name(app, make, auth, desk):
    team = make.team("équipe")
    auth.login(desk["admin"])
    response = auth.post(f"/admin/teams/{team}/edit", data={"name": "ÉQUIPE", "is_active": "y"})
    assert response.status_code == 302
    assert "ÉQUIPE" in team_names(app)


def test_a_team_saved_by_someone_else_meanwhile_is_a_field_error_not_a_crash(app, auth, desk,
                                                                           errors):
    """The check finds no clash, then another session commits the same name before the flush:
    the unique constraint refuses it, and the person sees the same message."""
    def meanwhile(session, flush_context, instances):
        with db.engine.begin() as other:
            other.execute(Team.__table__.insert().values(
                name="Équipe", name_key=name_key("Équipe"), description="", is_active=True,
                created_at=utcnow()))

    auth.login(desk["admin"])
    event.listen(db.session, "before_flush", meanwhile, once=True)
    try:
        response = auth.post("/admin/teams/new", data={"name": "équipe", "is_active": "y"})
    finally:
        if event.contains(db.session, "before_flush", meanwhile):
            event.remove(db.session, "before_flush", meanwhile)
    assert response.status_code == 400
    assert errors(response) == {"name": "There is already a team called équipe."}
    assert team_names(app) == ["Marketing", "Équipe"]
    assert auth.client.get("/admin/teams").status_code == 200  # the session was rolled back


def test_a_name_that_case_folds_beyond_the_column_is_a_field_error(app, auth, desk, errors):
    auth.login(desk["admin"])
    response = auth.post("/admin/teams/new", data={"name": "ß" * 50, "is_active": "y"})
    assert response.status_code == 400
    assert errors(response) == {"name": "Use a shorter name."}


def test_users_create_finds_a_non_ascii_team_in_any_case(app, runner, make, desk):
    make.team("Équipe")
    result = runner.invoke(args=["users", "create", "--email", "eve@example.com", "--name", "Eve",
                                 "--password", PASSWORD, "--team", "ÉQUIPE"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "eve@example.com")).one()
        assert [team.name for team in user.teams] == ["Équipe"]


# --- Control characters in typed text -----------------------------------------------------------

ONE_LINE = "Use one line without control characters."
TEXT = "Remove the control characters (such as NUL) from this text."


def every_form_class():
    """Every form class of the app (all derive from DatadeskForm, but the login form)."""
    import tickets.forms.reports  # noqa: F401  (the what-if form)

    found, stack = [], [DatadeskForm]
    while stack:
        for subclass in stack.pop().__subclasses__():
            found.append(subclass)
            stack.append(subclass)
    return found


# What the form classes that need more than the posted data are built with.
FORM_ARGUMENTS = {
    "WhatIfForm": lambda: {"teams": [], "everyone": True},
    "ChangePasswordForm": lambda: {"user": User(email="someone@example.com",
                                                password_hash="pbkdf2:sha256:1$x$0")},
    "SetPasswordForm": lambda: {"user": User(email="someone@example.com",
                                             password_hash="pbkdf2:sha256:1$x$0")},
    "NewPasswordForm": lambda: {"user": User(email="someone@example.com",
                                             password_hash="pbkdf2:sha256:1$x$0")},
    "TimeZoneForm": lambda: {"installation_zone": "UTC"},
}


def test_every_form_refuses_control_characters_in_every_one_line_field_and_text_area(app):
    checked = {"one line": set(), "text": set()}
    for form_class in every_form_class():
        kwargs = FORM_ARGUMENTS.get(form_class.__name__, dict)()
        with app.test_request_context():
            blank = form_class(formdata=None, **kwargs)
            posted = {}
            for field in blank:
                if is_one_line(field):
                    posted[field.name] = "first\r\nsecond"
                elif isinstance(field, TextAreaField):
                    posted[field.name] = "first\nsecond\x00"
        with app.test_request_context(method="POST", data=posted):
            form = form_class(**kwargs)
            form.validate()
            for field in form:
                if isinstance(field, NumberField):
                    assert field.errors, (form_class.__name__, field.name)  # not a number
                elif field.name in posted:
                    expected = ONE_LINE if is_one_line(field) else TEXT
                    assert field.errors == [expected], (form_class.__name__, field.name)
                    checked["one line" if is_one_line(field) else "text"].add(field.short_name)
    assert {"title", "exec_sponsor", "name", "email", "description", "url", "reason",
            "work_start", "digest_time"} <= checked["one line"]
    assert {"data_needed", "watchers", "note", "text", "holidays"} <= checked["text"]


@pytest.mark.parametrize("field, value", [
    ("title", "Weekly churn\r\nBcc: everyone@example.com"),
    ("title", "Weekly churn\nby region"),
    ("title", "Weekly \x1b[31mchurn"),
    ("title", "Weekly churn\u2028by region"),
    ("title", "Weekly churn\u0085by region"),
    ("title", "Weekly\x00churn"),
    ("exec_sponsor", "Jane\r\nDoe"),
])
def test_a_line_break_or_control_character_in_a_single_line_field_is_refused(
        app, auth, desk, errors, field, value):
    auth.login(desk["requester"])
    before = request_titles(app)
    response = auth.post("/requests/new", intake_answers(
        desk, is_exec_sponsored="y", **{"exec_sponsor": "Jane Doe", field: value}))
    assert response.status_code == 400
    assert errors(response) == {field: ONE_LINE}
    assert request_titles(app) == before


def test_tabs_in_a_single_line_field_become_spaces(app, auth, desk):
    auth.login(desk["requester"])
    response = auth.post("/requests/new", intake_answers(desk, title="Weekly\tchurn\tby region"))
    assert response.status_code == 302
    assert "Weekly churn by region" in request_titles(app)


def test_text_areas_keep_their_lines_but_refuse_other_control_characters(app, auth, desk,
                                                                         errors):
    auth.login(desk["requester"])
    response = auth.post("/requests/new", intake_answers(
        desk, data_needed="Churn\x07 per region", usage="In the meeting\x1b"))
    assert response.status_code == 400
    assert errors(response) == {"data_needed": TEXT, "usage": TEXT}

    response = auth.post("/requests/new", intake_answers(
        desk, title="Lines kept", data_needed="Churn per region\r\n\tper week\nsince May"))
    assert response.status_code == 302
    with app.app_context():
        req = db.session.scalars(db.select(Request).where(Request.title == "Lines kept")).one()
        assert req.data_needed == "Churn per region\r\n\tper week\nsince May"


@pytest.mark.parametrize("path, data, field", [
    ("/admin/teams/new", {"name": "Sales\r\nX", "is_active": "y"}, "name"),
    ("/admin/teams/new", {"name": "Sales", "description": "Field\nsales", "is_active": "y"},
     "description"),
    ("/admin/users/new", {"name": "Bob\nBuilder", "email": "bob@example.com",
                          "role": "requester"}, "name"),
    ("/admin/users/new", {"name": "Bob", "email": "bob@example.com\r\nBcc: x@example.com",
                          "role": "requester"}, "email"),
])
def test_names_and_addresses_refuse_line_breaks(app, auth, desk, errors, path, data, field):
    auth.login(desk["admin"])
    response = auth.post(path, data=data)
    assert response.status_code == 400
    assert errors(response) == {field: ONE_LINE}


def test_a_triage_decision_refuses_a_sponsor_with_a_line_break(app, auth, desk, errors):
    auth.login(desk["analyst"])
    response = auth.act(desk["request"], "accept", size="S", business_impact="3",
                        is_exec_sponsored="y", exec_sponsor="Jane\rDoe")
    assert response.status_code == 400
    assert errors(response) == {"accept-exec_sponsor": ONE_LINE}
    with app.app_context():
        assert db.session.get(Request, desk["request"]).state == "submitted"


# --- Posts that leave a field out -----------------------------------------------------------------

def action_post(name, **fields):
    """The form of transition ``name`` as the request page posts it (prefixed names)."""
    return {f"{name}-{key}": value for key, value in fields.items()}


def leave_one_out(data):
    """``data`` without each of its fields in turn: (left out, what remains)."""
    return [(name, {key: value for key, value in data.items() if key != name})
            for name in data]


def sweep(auth, path, data, csrf_field="csrf_token"):
    """Post ``data`` (with a CSRF token) leaving each field out in turn: every answer must be
    a page or a redirect, never a server error. Returns the statuses by field left out."""
    statuses = {}
    for missing, remaining in leave_one_out(data):
        response = auth.client.post(path, data={csrf_field: auth.token, **remaining})
        assert response.status_code < 500, (path, missing)
        statuses[missing] = response.status_code
    return statuses


# (state the request is brought to, by whom, then: role that acts, action, its fields)
ACTIONS = [
    ([], "analyst", "ask", {"note": "Which regions?"}),
    ([], "analyst", "accept", {"size": "S", "business_impact": "3", "is_exec_sponsored": "y",
                               "exec_sponsor": "Jane Doe", "note": "Fine"}),
    ([], "analyst", "decline", {"reason": "self_serve", "answer": "churn dashboard",
                                "answer_ref": "request:{other}", "answer_choice": "asset:1",
                                "gap_category": "1", "gap_note": "No access.", "gap_hours": "1",
                                "note": "Use the dashboard."}),
    ([], "analyst", "mark_duplicate", {"original": "{other}", "original_ref": "request:{other}",
                                       "original_choice": "request:{other}", "note": "Same ask."}),
    ([], "requester", "cancel", {"note": "No longer needed."}),
    ([("ask", "analyst", {"note": "Which regions?"})], "requester", "answer",
     {"note": "All of them."}),
    ([("accept", "analyst", {"size": "S"})], "analyst", "claim", {}),
    ([("accept", "analyst", {"size": "S"})], "lead", "assign", {"assignee": "{analyst}"}),
    ([("accept", "analyst", {"size": "S"}), ("claim", "analyst", {})], "analyst", "block",
     {"note": "Waiting for access."}),
    ([("accept", "analyst", {"size": "S"}), ("claim", "analyst", {})], "analyst", "deliver",
     {"url": "https://bi.example.com/churn", "note": "Here it is.", "catalogue": "new",
      "asset_title": "Churn", "asset_kind": "dataset", "asset_description": "Weekly churn.",
      "asset_tags": "churn", "has_gap": "y", "gap_category": "1", "gap_note": "No access.",
      "gap_hours": "4"}),
    ([("accept", "analyst", {"size": "S"}), ("claim", "analyst", {})], "analyst", "deliver",
     {"url": "", "note": "Here it is.", "catalogue": "existing", "existing_asset": "churn",
      "existing_asset_ref": "asset:1", "existing_asset_choice": "asset:2"}),
    ([("accept", "analyst", {"size": "S"}), ("claim", "analyst", {})], "analyst", "unclaim", {}),
    ([("accept", "analyst", {"size": "S"}), ("claim", "analyst", {}),
      ("deliver", "analyst", {"url": "https://bi.example.com/churn", "note": "Here."})],
     "requester", "confirm", {"rating": "5", "note": "Thanks."}),
    ([("accept", "analyst", {"size": "S"}), ("claim", "analyst", {}),
      ("deliver", "analyst", {"url": "https://bi.example.com/churn", "note": "Here."})],
     "requester", "reopen", {"note": "The south is missing."}),
]


@pytest.mark.parametrize("steps, role, name, fields", ACTIONS,
                         ids=[action[2] for action in ACTIONS])
def test_a_request_action_missing_any_field_is_never_a_server_error(app, make, auth, desk,
                                                                     steps, role, name, fields):
    request_id = desk["request"]
    for step, actor, inputs in steps:
        make.act(request_id, step, desk[actor], **inputs)
    other = make.request(desk["requester"], desk["marketing"])
    fields = {key: value.format(other=other, analyst=desk["analyst"])
              for key, value in fields.items()}
    auth.login(desk[role])
    data = action_post(name, version=str(version_of(app, request_id)), **fields)
    sweep(auth, f"/requests/{request_id}/actions/{name}", data, csrf_field=f"{name}-csrf_token")


def test_editing_a_request_without_the_watchers_field_keeps_the_watchers(app, auth, desk):
    """A post without the field changes nothing about the watchers (the form shows them as
    they are); an empty field, as a browser sends it, removes them."""
    request_id = desk["request"]
    auth.login(desk["requester"])
    edit = intake_answers(desk, title="Weekly churn, all regions", deadline="", no_deadline="y",
                          version=str(version_of(app, request_id)))
    del edit["watchers"]
    response = auth.post(f"/requests/{request_id}/edit", data=edit)
    assert response.status_code == 302
    with app.app_context():
        req = db.session.get(Request, request_id)
        assert (req.title, req.watcher_emails) == ("Weekly churn, all regions",
                                                   ["wendy@example.com"])

    edit.update(watchers="", version=str(version_of(app, request_id)))
    assert auth.post(f"/requests/{request_id}/edit", data=edit).status_code == 302
    with app.app_context():
        assert db.session.get(Request, request_id).watcher_emails == []


def test_the_request_forms_missing_any_field_are_never_a_server_error(app, auth, desk):
    request_id = desk["request"]
    auth.login(desk["requester"])
    sweep(auth, "/requests/new", intake_answers(desk, is_exec_sponsored="y",
                                                exec_sponsor="Jane Doe",
                                                watchers="wendy@example.com"))
    sweep(auth, f"/requests/{request_id}/edit", intake_answers(
        desk, is_exec_sponsored="y", exec_sponsor="Jane Doe", watchers="wendy@example.com",
        version=str(version_of(app, request_id))))
    sweep(auth, f"/requests/{request_id}/comments", {"text": "Any news?"})
    sweep(auth, "/preferences", {"is_digest_enabled": "y", "digest_weekday": "2",
                                 "notifications": "question"})
    sweep(auth, "/preferences/time-zone", {"tz-time_zone": "Asia/Tokyo"},
          csrf_field="tz-csrf_token")


def test_the_reply_and_the_mention_list_take_any_input_without_a_server_error(app, auth, make,
                                                                             desk):
    request_id = desk["request"]
    make.act(request_id, "ask", desk["analyst"], note="Which regions?")
    auth.login(desk["requester"])
    sweep(auth, f"/requests/{request_id}/reply", {"reply-text": "North and south."},
          csrf_field="reply-csrf_token")
    for text in ("@[", "@[]", "@[" + "x" * 300 + "]", "@[a\x00b]", "@[%]", "@[_] @[\\]",
                 "@[Rita Requester]" * 30, "@[\u202e]"):
        for path, field, token in ((f"/requests/{request_id}/comments", "text", "csrf_token"),
                                   (f"/requests/{request_id}/reply", "reply-text",
                                    "reply-csrf_token")):
            response = auth.client.post(path, data={token: auth.token, field: text})
            assert response.status_code in (302, 400), (path, text)
            if response.status_code == 302:  # answered: ask again for the next one
                make.act(request_id, "ask", desk["analyst"], note="Which regions?")
    for words in ("%", "\x00", "x" * 10000, "@[", "ü"):
        response = auth.client.get(f"/requests/{request_id}/mentionable.json",
                                   query_string={"q": words})
        assert response.status_code == 200, words


def test_the_triage_and_lead_forms_missing_any_field_are_never_a_server_error(app, auth, make,
                                                                               desk):
    request_id = desk["request"]
    auth.login(desk["analyst"])
    sweep(auth, f"/requests/{request_id}/kind",
          {"kind-kind": "project", "kind-note": "Bigger than it looks.",
           "kind-version": str(version_of(app, request_id))}, csrf_field="kind-csrf_token")
    make.act(request_id, "accept", desk["analyst"], size="S")
    auth.logout()
    auth.login(desk["lead"])
    sweep(auth, f"/requests/{request_id}/rank",
          {"rank-position": "1", "rank-reason": "Board meeting.",
           "rank-version": str(version_of(app, request_id))}, csrf_field="rank-csrf_token")
    sweep(auth, f"/requests/{request_id}/sla-class",
          {"sla-sla_class": "high", "sla-reason": "Board meeting.",
           "sla-version": str(version_of(app, request_id))}, csrf_field="sla-csrf_token")


def test_the_admin_and_settings_forms_missing_any_field_are_never_a_server_error(app, auth,
                                                                                 desk):
    auth.login(desk["admin"])
    team = {"name": "Sales", "description": "Field sales", "is_active": "y"}
    sweep(auth, "/admin/teams/new", team)
    sweep(auth, f"/admin/teams/{desk['marketing']}/edit", team)
    person = {"name": "Bob Builder", "email": "bob@example.com", "role": "analyst",
              "teams": str(desk["marketing"]), "is_active": "y"}
    sweep(auth, "/admin/users/new", person)
    sweep(auth, f"/admin/users/{desk['requester']}/edit", person)
    sweep(auth, "/settings", settings_page_form(
        working_days="0", holidays="2026-12-25", digest_weekday="0", digest_time="08:00",
        auto_resolve_days="7", **{f"budget_{desk['marketing']}": "5", f"wip_{desk['analyst']}": "2"}))


# --- Files and JSON where a form is expected ------------------------------------------------------

def test_a_file_posted_for_a_text_field_is_a_field_error_not_a_crash(app, auth, desk, errors):
    auth.login(desk["requester"])
    before = request_titles(app)
    data = intake_answers(desk, csrf_token=auth.token)
    data["title"] = (io.BytesIO(b"Weekly churn"), "title.txt")
    data["business_impact"] = (io.BytesIO(b"3"), "impact.txt")
    response = auth.client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert errors(response) == {"title": "Give the request a short title."}
    assert request_titles(app) == before


def test_a_json_body_is_not_read_as_a_form(app, auth, desk):
    request_id = desk["request"]
    auth.login(desk["requester"])
    response = auth.client.post(
        f"/requests/{request_id}/comments", json={"text": 5, "csrf_token": auth.token},
        headers={"X-CSRFToken": auth.token})
    assert response.status_code == 400
    response = auth.client.post(
        "/requests/new", json={**intake_answers(desk), "title": ["a", "b"], "watchers": 7},
        headers={"X-CSRFToken": auth.token})
    assert response.status_code == 400
    assert request_titles(app) == ["Weekly churn by region"]
