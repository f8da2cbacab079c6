"""Bad input gets a clear answer (a 404, a field-level error or a safe redirect), never a 500
(issue 10: "500s found", Security item 8)."""
import re

import pytest
from sqlalchemy import event

from tests.conftest import PASSWORD
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
            else:
                response = auth.post(path, data={"version": "1", "text": "x", "name": "x"})
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
