"""Logging in and out, the remember-me cookie, safe redirects after login, and CSRF protection."""
import re
from datetime import date, timedelta
from http.cookies import SimpleCookie

import pytest
from werkzeug.security import generate_password_hash

from tests.conftest import PASSWORD
from tickets.extensions import db
from tickets.models import Event, Request, Team, User
from tickets.views import auth as auth_views


def login(client, auth, email, password=PASSWORD, **extra):
    """Post the login form as a browser would (with the page's CSRF token)."""
    data = {"email": email, "password": password, "csrf_token": auth.csrf_token("/login"), **extra}
    return client.post("/login", data=data)


def is_logged_in(client):
    return client.get("/requests/mine").status_code == 200


def without_tokens(html):
    return re.sub(r'value="[^"]*"', "", html)


def remember_cookies(response):
    """The Set-Cookie headers of ``response`` for Flask-Login's remember cookie, parsed."""
    found = []
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("remember_token="):
            cookie = SimpleCookie()
            cookie.load(header)
            found.append((cookie["remember_token"], header))
    return found


@pytest.fixture
def alice(make):
    team = make.team("Marketing")
    return make.user("requester", teams=[team], email="alice@example.com", name="Alice")


# --- Logging in ---------------------------------------------------------------------------

def test_login_with_the_right_password_goes_to_the_users_list(client, auth, alice):
    response = login(client, auth, "alice@example.com")
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/").location == "/requests/mine"
    assert is_logged_in(client)


def test_login_accepts_the_email_in_any_case_and_with_spaces(client, auth, alice):
    response = login(client, auth, "  Alice@Example.COM ")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_login_records_the_time_of_the_last_login(client, auth, alice, make):
    assert make.get(User, alice).last_login_at is None
    login(client, auth, "alice@example.com")
    assert make.get(User, alice).last_login_at is not None


def test_wrong_password_is_refused_with_a_field_error_and_400(client, auth, alice, errors):
    response = login(client, auth, "alice@example.com", "not-the-password")
    assert response.status_code == 400
    assert errors(response) == {"password": "That e-mail and password do not match an account."}
    assert not is_logged_in(client)


def test_empty_login_form_shows_what_is_missing(client, auth, errors):
    response = login(client, auth, "", "")
    assert response.status_code == 400
    assert errors(response) == {"email": "Enter your e-mail address.",
                                "password": "Enter your password."}


def test_unknown_email_and_wrong_password_answer_the_same(client, auth, alice):
    wrong_password = login(client, auth, "alice@example.com", "not-the-password")
    unknown_email = login(client, auth, "nobody@example.com", "not-the-password")
    assert wrong_password.status_code == unknown_email.status_code == 400
    wrong_html = without_tokens(wrong_password.get_data(as_text=True))
    unknown_html = without_tokens(unknown_email.get_data(as_text=True))
    assert wrong_html == unknown_html
    assert "nobody@example.com" not in unknown_html and "alice@example.com" not in wrong_html


def test_an_unknown_email_costs_a_password_check_as_strong_as_a_real_one(app):
    """No timing difference tells whether an account exists: an unknown address is checked
    against a hash made with the same method and work factor as real ones (the number of checks
    per answer is counted in the disabled-account test below). Counted, not timed: a busy
    machine makes timings lie."""
    with app.app_context():
        method = app.config["PASSWORD_HASH_METHOD"]
        dummy = auth_views._unknown_user_hash(method)
        real = generate_password_hash("a real password", method=method)
    assert dummy.split("$")[0] == real.split("$")[0] == method


def test_an_email_with_a_nul_character_is_refused_like_an_unknown_address(client, auth, alice,
                                                                          errors):
    response = login(client, auth, "alice@example.com\x00", PASSWORD)
    assert response.status_code == 400
    assert errors(response) == {"password": "That e-mail and password do not match an account."}
    assert not is_logged_in(client)


def test_a_disabled_account_with_the_right_password_answers_exactly_like_a_wrong_password(
        client, auth, make, errors):
    """Nothing tells an attacker that the password they tried was right (issue 10, item 5)."""
    make.user("requester", email="gone@example.com", is_active=False)
    right_password = login(client, auth, "gone@example.com")
    wrong_password = login(client, auth, "gone@example.com", "not-the-password")
    assert right_password.status_code == wrong_password.status_code == 400
    assert errors(right_password) == {"password": "That e-mail and password do not match an account."}
    assert (without_tokens(right_password.get_data(as_text=True))
            == without_tokens(wrong_password.get_data(as_text=True)))
    assert not is_logged_in(client)


def test_a_disabled_account_costs_one_password_check_like_any_wrong_password(
        client, auth, make, monkeypatch):
    """The answer's time does not tell either: every refusal checks exactly one password hash
    (counted rather than timed, so a busy machine cannot make this flaky)."""
    from tickets import models

    make.user("requester", email="gone@example.com", is_active=False)
    make.user("requester", email="here@example.com")
    checks = []

    def counting(real):
        return lambda *args: checks.append(1) or real(*args)

    monkeypatch.setattr(models, "check_password_hash", counting(models.check_password_hash))
    monkeypatch.setattr(auth_views, "check_password_hash", counting(auth_views.check_password_hash))
    costs = {}
    for case, email, password in [("disabled, right password", "gone@example.com", PASSWORD),
                                  ("disabled, wrong password", "gone@example.com", "not-it"),
                                  ("active, wrong password", "here@example.com", "not-it"),
                                  ("unknown address", "nobody@example.com", "not-it")]:
        checks.clear()
        assert login(client, auth, email, password).status_code == 400
        costs[case] = len(checks)
    assert set(costs.values()) == {1}, costs


def test_inactive_user_with_a_wrong_password_learns_nothing_about_the_account(client, auth, make,
                                                                               errors):
    make.user("requester", email="gone@example.com", is_active=False)
    response = login(client, auth, "gone@example.com", "not-the-password")
    assert errors(response) == {"password": "That e-mail and password do not match an account."}


def test_a_user_deactivated_while_logged_in_is_logged_out(app, client, auth, alice):
    auth.login(alice)
    with app.app_context():
        db.session.get(User, alice).is_active = False
        db.session.commit()
    response = client.get("/requests/mine")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def test_logged_in_user_visiting_login_goes_to_their_requests(client, auth, alice):
    auth.login(alice)
    response = client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


def test_password_is_stored_hashed_and_checks(app, alice):
    with app.app_context():
        user = db.session.get(User, alice)
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert user.check_password(PASSWORD)
        assert not user.check_password(PASSWORD.upper())
        assert not user.check_password("")


def test_two_users_with_the_same_password_get_different_hashes(app, make):
    first, second = make.user(), make.user()
    assert make.get(User, first).password_hash != make.get(User, second).password_hash


# --- Remember me --------------------------------------------------------------------------

def test_remember_me_sets_an_httponly_samesite_lax_cookie(client, auth, alice):
    response = login(client, auth, "alice@example.com", remember="y")
    assert response.status_code == 302
    cookies = remember_cookies(response)
    assert len(cookies) == 1
    morsel, header = cookies[0]
    assert morsel.value
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["expires"] or morsel["max-age"]  # it outlives the browser session


def test_remember_cookie_keeps_the_user_logged_in_after_the_session_is_lost(app, client, auth,
                                                                           alice):
    login(client, auth, "alice@example.com", remember="y")
    client.delete_cookie("session")
    assert is_logged_in(client)


def test_without_remember_me_no_remember_cookie_is_set(client, auth, alice):
    response = login(client, auth, "alice@example.com")
    assert response.status_code == 302
    assert remember_cookies(response) == []
    assert client.get_cookie("remember_token") is None


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, alice):
    response = login(client, auth, "alice@example.com")
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert headers
    cookie = SimpleCookie()
    cookie.load(headers[-1])
    assert cookie["session"]["httponly"] is True
    assert cookie["session"]["samesite"] == "Lax"


# --- Where login leads --------------------------------------------------------------------

def test_login_page_carries_the_next_page_into_its_form(client):
    html = client.get("/login?next=/requests/team").get_data(as_text=True)
    assert re.search(r'id="next" name="next" type="hidden" value="/requests/team"', html)


def test_login_goes_on_to_a_relative_next_page(client, auth, alice):
    response = login(client, auth, "alice@example.com", next="/requests/team?state=closed")
    assert response.status_code == 302
    assert response.location == "/requests/team?state=closed"


def test_anonymous_visit_then_login_lands_on_the_page_first_asked_for(client, auth, alice):
    bounced = client.get("/requests/team?kind=project")
    assert bounced.status_code == 302
    login_page = client.get(bounced.location).get_data(as_text=True)
    next_value = re.search(r'name="next" type="hidden" value="([^"]*)"', login_page).group(1)
    response = login(client, auth, "alice@example.com", next=next_value.replace("&amp;", "&"))
    assert response.location == "/requests/team?kind=project"


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "http://evil.example/requests",
    "//evil.example",
    "//evil.example/requests/mine",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https:evil.example",
    "evil.example",
    "requests/mine",
])
def test_login_never_redirects_off_site(client, auth, alice, target):
    response = login(client, auth, "alice@example.com", next=target)
    assert response.status_code == 302
    assert response.location == "/"


# --- Logging out --------------------------------------------------------------------------

def test_logout_by_get_is_not_allowed_and_keeps_the_user_logged_in(client, auth, alice):
    auth.login(alice)
    response = client.get("/logout")
    assert response.status_code == 405
    assert is_logged_in(client)


def test_logout_without_a_csrf_token_is_refused_and_keeps_the_user_logged_in(client, auth, alice):
    auth.login(alice)
    response = client.post("/logout")
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert is_logged_in(client)


def test_logout_with_the_token_logs_out_and_forgets_the_remember_cookie(client, auth, alice):
    login(client, auth, "alice@example.com", remember="y")
    assert client.get_cookie("remember_token") is not None
    response = auth.logout()
    assert response.status_code == 302
    assert response.location == "/login"
    assert client.get_cookie("remember_token") is None
    assert not is_logged_in(client)


# --- CSRF ---------------------------------------------------------------------------------

def counts(app):
    """How many rows each table holds: a CSRF refusal must change none."""
    with app.app_context():
        return {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
                for model in (Team, User, Request, Event)}


def intake_form(team_id):
    return {
        "title": "Weekly churn by region", "team_id": team_id,
        "data_needed": "Churned accounts per region per week.", "format": "spreadsheet",
        "usage": "Monday growth meeting.", "lever_result": "Retention.",
        "lever_expected_shape": "About 3% a week.", "lever_extraction": "Compare regions.",
        "lever_decision": "Move budget.", "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "kind": "ad_hoc", "business_impact": "3",
    }


@pytest.fixture
def desk(make):
    """A Marketing team with a requester, an analyst, a lead, and an accepted request."""
    team = make.team("Marketing")
    requester = make.user("requester", teams=[team])
    analyst = make.user("analyst", teams=[team])
    lead = make.user("lead")
    request_id = make.request(requester, team)
    make.act(request_id, "accept", analyst, size="M")
    return {"team": team, "requester": requester, "analyst": analyst, "lead": lead,
            "request": request_id}


def csrf_forms(desk):
    """(who posts, path, form data without a token) for every kind of form."""
    request_id, team = desk["request"], desk["team"]
    return {
        "intake": ("requester", "/requests/new", intake_form(team)),
        "edit": ("requester", f"/requests/{request_id}/edit", {**intake_form(team), "title": "New"}),
        "transition": ("analyst", f"/requests/{request_id}/actions/claim", {"claim-version": "2"}),
        "comment": ("requester", f"/requests/{request_id}/comments", {"text": "Any news?"}),
        "new team": ("lead", "/admin/teams/new", {"name": "Finance", "is_active": "y"}),
        "edit team": ("lead", f"/admin/teams/{team}/edit", {"name": "Growth", "is_active": "y"}),
        "new user": ("lead", "/admin/users/new", {
            "name": "Bob", "email": "bob@example.com", "role": "requester",
            "password": "long-enough-1", "is_active": "y"}),
        "edit user": ("lead", f"/admin/users/{desk['requester']}/edit", {
            "name": "Renamed", "email": "renamed@example.com", "role": "lead", "is_active": "y"}),
    }


FORMS = ["intake", "edit", "transition", "comment", "new team", "edit team", "new user",
         "edit user"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("token", ["missing", "forged", "from another session"])
def test_a_form_without_a_valid_csrf_token_is_refused_and_changes_nothing(
        app, client, auth, desk, form, token):
    who, path, data = csrf_forms(desk)[form]
    if token == "forged":
        data = {**data, "csrf_token": "IjEyMzQ1Ig.forged.signature"}
    elif token == "from another session":
        other = app.test_client()
        from tests.conftest import AuthActions
        other_auth = AuthActions(other, app)
        other_auth.login(desk[who])
        data = {**data, "csrf_token": other_auth.token}
    auth.login(desk[who])
    before = counts(app)
    request_before = db_row(app, desk["request"])
    response = client.post(path, data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form has expired" in html
    assert "Reload the page and send it again." in html
    assert counts(app) == before
    assert db_row(app, desk["request"]) == request_before


def db_row(app, request_id):
    with app.app_context():
        req = db.session.get(Request, request_id)
        people = db.session.scalars(db.select(User).order_by(User.id)).all()
        teams = db.session.scalars(db.select(Team).order_by(Team.id)).all()
        return (req.title, req.state, req.version,
                [(u.name, u.email, u.role, u.is_active, u.team_ids) for u in people],
                [(t.name, t.is_active) for t in teams])


def test_login_without_a_csrf_token_is_refused_and_does_not_log_in(client, alice):
    response = client.post("/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_the_same_forms_with_their_token_are_accepted(app, client, auth, desk):
    """The counterpart of the refusals above: it is the token, not the form, that was refused."""
    for form in FORMS:
        who, path, data = csrf_forms(desk)[form]
        if form != FORMS[0]:
            auth.logout()
        auth.login(desk[who])
        if form == "transition":
            response = auth.act(desk["request"], "claim")
        elif form == "edit":
            version = db_row(app, desk["request"])[2]
            response = auth.post(path, data={**data, "version": version})
        else:
            response = auth.post(path, data=data)
        assert response.status_code == 302, form
