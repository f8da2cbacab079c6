"""Revocable sessions that expire on the server (tickets/sessions.py), changing one's own
password, and "log out everywhere" (issue 10, Security 1).

A "browser" here is a test client; a replayed cookie is a cookie copied from one browser into
a fresh one, as a thief would.
"""
import re
from datetime import timedelta

import pytest

from tests.conftest import PASSWORD, AuthActions
from tickets import models, sessions
from tickets.extensions import db
from tickets.models import OutboxMessage, User

NEW_PASSWORD = "a-much-longer-secret-42"


@pytest.fixture
def alice(make):
    team = make.team("Marketing")
    return make.user("requester", teams=[team], email="alice@example.com", name="Alice")


@pytest.fixture
def browser(app):
    """Open another browser: ``browser()`` gives a fresh AuthActions on its own test client."""
    return lambda: AuthActions(app.test_client(), app)


def lands_on_login(client):
    response = client.get("/requests/mine")
    return response.status_code == 302 and response.location.startswith("/login")


def is_logged_in(client):
    return client.get("/requests/mine").status_code == 200


def replay(app, cookies):
    """A fresh browser holding ``cookies`` ({name: value}) copied from another one."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def cookie(client, name):
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def clock_moved(monkeypatch, **delta):
    """Let the server believe ``delta`` has passed (the user loader reads models.utcnow)."""
    real_utcnow = models.utcnow
    monkeypatch.setattr(models, "utcnow", lambda: real_utcnow() + timedelta(**delta))


# --- Replayed cookies ----------------------------------------------------------------------

def test_replayed_session_cookie_after_logout_lands_on_login(app, auth, alice):
    auth.login(alice)
    stolen = cookie(auth.client, "session")
    auth.logout()
    assert lands_on_login(replay(app, {"session": stolen}))


def test_replayed_remember_cookie_after_logout_lands_on_login(app, auth, alice):
    auth.login(alice, remember=True)
    stolen = cookie(auth.client, "remember_token")
    auth.logout()
    assert lands_on_login(replay(app, {"remember_token": stolen}))


def change_own_password(actions):
    response = actions.post("/preferences/password", {
        "password-csrf_token": actions.csrf_token("/preferences"), "password-current": PASSWORD,
        "password-new": NEW_PASSWORD, "password-confirm": NEW_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def log_out_everywhere(actions):
    response = actions.post("/preferences/sessions", {"csrf_token": actions.csrf_token("/preferences")})
    assert response.status_code == 302


def admin_edits(app, admin, user_id, **changes):
    with app.app_context():
        user = db.session.get(User, user_id)
        data = {"name": user.name, "email": user.email, "role": user.role,
                "teams": [str(team_id) for team_id in user.team_ids],
                "is_active": "y" if user.is_active else ""}
    data.update(changes)
    response = admin.post(f"/admin/users/{user_id}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)


def reset_by_mail(app, user_id):
    """"Forgot your password?" in a browser of its own, then the link the mail carries."""
    with app.app_context():
        email = db.session.get(User, user_id).email
    client = app.test_client()
    actions = AuthActions(client, app)
    assert client.post("/password/forgot", data={
        "email": email, "csrf_token": actions.csrf_token("/password/forgot")}).status_code == 200
    with app.app_context():
        body = db.session.scalars(db.select(OutboxMessage.text_body).where(
            OutboxMessage.kind == "reset").order_by(OutboxMessage.id.desc())).first()
    path = re.search(r"https?://[^/\s]+(/password/reset/\S+)", body).group(1)
    response = client.post(path, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                       "csrf_token": actions.csrf_token(path)})
    assert response.status_code == 302, response.get_data(as_text=True)


def disable_and_enable_again(app, admin, user_id):
    admin_edits(app, admin, user_id, is_active="")
    admin_edits(app, admin, user_id, is_active="y")


REVOCATIONS = {
    # name: (who acts: "self" in the first browser or "admin", what they do)
    "logout": ("self", lambda app, actions, admin, user_id: actions.logout()),
    "own password change": ("self", lambda app, actions, admin, user_id: change_own_password(actions)),
    "log out everywhere": ("self", lambda app, actions, admin, user_id: log_out_everywhere(actions)),
    "password set with a reset link": ("elsewhere", lambda app, actions, admin, user_id:
                                       reset_by_mail(app, user_id)),
    "role change": ("admin", lambda app, actions, admin, user_id: admin_edits(
        app, admin, user_id, role="analyst")),
    "disabled, then enabled again": ("admin", lambda app, actions, admin, user_id:
                                     disable_and_enable_again(app, admin, user_id)),
}


@pytest.mark.parametrize("revocation", list(REVOCATIONS))
def test_every_other_browser_is_logged_out_by_a_revocation_and_its_cookies_replay_to_login(
        app, make, browser, alice, revocation):
    who, revoke = REVOCATIONS[revocation]
    admin = browser()
    admin.login(make.user("admin"))
    acting, other = browser(), browser()
    acting.login(alice, remember=True)
    other.login(alice, remember=True)
    stolen = {"session": cookie(other.client, "session"),
              "remember_token": cookie(other.client, "remember_token")}

    revoke(app, acting, admin, alice)

    assert lands_on_login(other.client)
    assert lands_on_login(replay(app, {"remember_token": stolen["remember_token"]}))
    assert lands_on_login(replay(app, {"session": stolen["session"]}))
    assert lands_on_login(replay(app, stolen))
    if who == "self" and revocation != "logout":
        assert is_logged_in(acting.client)  # the browser that acted stays logged in
    else:
        assert lands_on_login(acting.client)


@pytest.mark.parametrize("revocation", ["own password change", "log out everywhere"])
def test_the_acting_browser_stays_logged_in_on_its_renewed_remember_cookie(app, browser, alice,
                                                                          revocation):
    acting = browser()
    acting.login(alice, remember=True)
    old_remember = cookie(acting.client, "remember_token")
    REVOCATIONS[revocation][1](app, acting, None, alice)
    assert cookie(acting.client, "remember_token") != old_remember
    acting.client.delete_cookie("session")  # the browser was closed: only the remember cookie is left
    assert is_logged_in(acting.client)
    assert lands_on_login(replay(app, {"remember_token": old_remember}))


def test_a_new_log_in_after_logout_gets_a_new_remember_cookie(auth, alice):
    auth.login(alice, remember=True)
    first = cookie(auth.client, "remember_token")
    auth.logout()
    auth.login(alice, remember=True)
    assert cookie(auth.client, "remember_token") != first


# --- Expiry on the server ------------------------------------------------------------------

def test_a_session_without_remember_me_stops_working_after_its_lifetime(app, auth, alice,
                                                                        monkeypatch):
    auth.login(alice)
    stolen = cookie(auth.client, "session")
    clock_moved(monkeypatch, hours=11, minutes=59)
    assert is_logged_in(replay(app, {"session": stolen}))
    clock_moved(monkeypatch, minutes=2)  # 12 hours and a minute in all
    assert lands_on_login(replay(app, {"session": stolen}))
    assert lands_on_login(auth.client)


def test_the_session_lifetime_follows_its_setting(app, auth, alice, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_LIFETIME_HOURS", 1)
    auth.login(alice)
    clock_moved(monkeypatch, minutes=61)
    assert lands_on_login(auth.client)


def test_an_expired_remember_cookie_lands_on_login_even_when_replayed(app, auth, alice,
                                                                      monkeypatch):
    auth.login(alice, remember=True)
    stolen = cookie(auth.client, "remember_token")
    clock_moved(monkeypatch, days=13, hours=23)
    assert is_logged_in(replay(app, {"remember_token": stolen}))
    clock_moved(monkeypatch, hours=2)  # 14 days and an hour in all
    assert lands_on_login(replay(app, {"remember_token": stolen}))
    assert lands_on_login(auth.client)


def test_a_remember_cookie_signed_with_a_past_expiry_is_refused(app, alice):
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        user = db.session.get(User, alice)
        past = models.utcnow() - timedelta(seconds=1)
        forged_by_the_server_itself = encode_cookie(sessions.session_id(user, past))
    assert lands_on_login(replay(app, {"remember_token": forged_by_the_server_itself}))


@pytest.mark.parametrize("value", [
    None, "", "1", "1:", "1:token", "x:token:4102444800", "1:token:soon", "1:token:4102444800:x",
    "0:token:4102444800", "99999999999:token:4102444800", "1:tok en:4102444800",
    "1:token:99999999999", "1:token:-1", "1:tøken:4102444800", "\x00", "1:token\x00:4102444800",
    "\u0661:token:4102444800", "1::4102444800",
])
def test_a_malformed_session_id_names_nobody_and_never_raises(app, alice, value):
    with app.app_context():
        assert sessions.load_user(value, models.utcnow()) is None


def test_a_session_id_with_another_generation_names_nobody(app, alice):
    with app.app_context():
        user = db.session.get(User, alice)
        later = models.utcnow() + timedelta(hours=1)
        assert sessions.load_user(sessions.session_id(user, later), models.utcnow()) is user
        forged = f"{user.id}:{'A' * len(user.session_token)}:{int(later.timestamp())}"
        assert sessions.load_user(forged, models.utcnow()) is None


# --- Log-in and logout renew the session ---------------------------------------------------

def test_logging_in_starts_a_new_session_keeping_nothing_planted_before(auth, alice):
    """Session fixation (OWASP ASVS 3.2.1): what a session held before log-in is gone after."""
    with auth.client.session_transaction() as planted:
        planted["planted"] = "by someone who handed this browser its cookie"
    auth.login(alice)
    with auth.client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{alice}:")


def test_logout_clears_the_whole_session_and_the_remember_cookie(auth, alice):
    auth.login(alice, remember=True)
    response = auth.logout()
    assert any(header.startswith("remember_token=;") for header in response.headers.getlist("Set-Cookie"))
    assert auth.client.get_cookie("remember_token") is None
    with auth.client.session_transaction() as session:
        assert set(session) <= {"_flashes"}


# --- Changing one's own password -----------------------------------------------------------

def post_password_change(actions, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return actions.post("/preferences/password", {
        "password-csrf_token": actions.csrf_token("/preferences"), "password-current": current,
        "password-new": new, "password-confirm": new if confirm is None else confirm})


def test_the_preferences_page_offers_a_password_change_and_log_out_everywhere(auth, alice):
    auth.login(alice)
    html = auth.client.get("/preferences").get_data(as_text=True)
    assert "Change your password" in html
    assert 'action="/preferences/sessions"' in html and "Log out everywhere else" in html
    assert 'name="password-current"' in html and 'autocomplete="new-password"' in html


def test_after_changing_your_password_the_new_one_works_and_the_old_one_does_not(app, browser,
                                                                                alice):
    acting = browser()
    acting.login(alice)
    response = post_password_change(acting)
    assert response.status_code == 302 and response.location == "/preferences"
    assert "Your password is changed." in acting.client.get("/preferences").get_data(as_text=True)
    assert browser().login(alice, NEW_PASSWORD).status_code == 302
    stranger = browser()
    assert stranger.client.post("/login", data={
        "email": "alice@example.com", "password": PASSWORD,
        "csrf_token": stranger.csrf_token("/login")}).status_code == 400


@pytest.mark.parametrize("fields, errors_expected", [
    ({"current": "not-my-password"}, {"password-current": "That is not your current password."}),
    ({"current": ""}, {"password-current": "Enter your current password."}),
    ({"new": "eleven-char"}, {"password-new": "Use 12 to 256 characters.",
                              "password-confirm": None}),
    ({"new": "x" * 257}, {"password-new": "Use 12 to 256 characters.", "password-confirm": None}),
    ({"new": "ALICE@example.com"}, {"password-new": "Choose a password other than the e-mail address.",
                                    "password-confirm": None}),
    ({"confirm": NEW_PASSWORD + "!"}, {"password-confirm": "This is not the same as the new password above."}),
    ({"new": "", "confirm": ""}, {"password-new": "Enter a new password.",
                                  "password-confirm": "Enter the new password a second time."}),
])
def test_a_refused_password_change_says_why_on_each_field_and_changes_nothing(
        app, auth, alice, errors, fields, errors_expected):
    auth.login(alice)
    with app.app_context():
        before = db.session.get(User, alice).session_token
    data = {"current": PASSWORD, "new": NEW_PASSWORD, **fields}
    response = post_password_change(auth, data["current"], data["new"],
                                    data.get("confirm", data["new"]))
    assert response.status_code == 400
    shown = errors(response)
    for field, message in errors_expected.items():
        if message is None:  # a confirmation equal to a refused new password says nothing
            assert field not in shown
        else:
            assert shown[field] == message
    assert set(shown) <= set(errors_expected)
    assert is_logged_in(auth.client)
    with app.app_context():
        user = db.session.get(User, alice)
        assert user.check_password(PASSWORD) and user.session_token == before


def test_changing_a_password_needs_a_login_and_the_csrf_token(client, auth, alice):
    response = client.post("/preferences/password", data={
        "password-current": PASSWORD, "password-csrf_token": auth.csrf_token("/login")})
    assert response.status_code == 302 and response.location.startswith("/login")
    auth.login(alice)
    assert client.post("/preferences/password", data={
        "password-current": PASSWORD, "password-new": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD}).status_code == 400
    assert client.post("/preferences/sessions").status_code == 400
    assert client.get("/preferences/sessions").status_code == 405


def test_editing_a_persons_name_or_teams_keeps_their_sessions(app, make, browser, alice):
    admin = browser()
    admin.login(make.user("admin"))
    theirs = browser()
    theirs.login(alice)
    admin_edits(app, admin, alice, name="Alice Martin")
    assert is_logged_in(theirs.client)
