"""Invitations instead of typed passwords, and password resets by mail (issue 14, item 6;
tickets/invitations.py): the mail on a real SMTP server, links that work once and expire,
a second invitation that voids the first, and answers that tell nothing about accounts."""
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, AuthActions
from tickets import invitations, mail
from tickets.extensions import db
from tickets.models import OutboxMessage, User

CHOSEN = "a-passphrase-of-my-own"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def org(make):
    marketing = make.team("Marketing")
    return {"marketing": marketing,
            "lead": make.user("lead", email="leo@example.com", name="Leo Lead"),
            "admin": make.user("admin", email="ada@example.com", name="Ada Admin"),
            "rita": make.user("requester", teams=[marketing], email="rita@example.com",
                              name="Rita Requester")}


@pytest.fixture
def admin(app, org):
    actions = AuthActions(app.test_client(), app)
    actions.login(org["admin"])
    return actions


def invite(admin, name="Nina Newcomer", email="nina@example.com", role="requester", teams=()):
    response = admin.post("/admin/users/new", {
        "name": name, "email": email, "role": role, "teams": [str(t) for t in teams]})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def outbox(app, kind):
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.kind == kind)
                                  .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def link_path(body, purpose):
    found = re.findall(r"https?://[^/\s]+(" + invitations.PATHS[purpose] + r"[\w.\-]+)", body)
    assert found, body
    return found[0]


def latest_link(app, kind, email):
    bodies = [row.text_body for row in outbox(app, kind) if row.recipient == email]
    return link_path(bodies[-1], kind)


def fresh(app):
    return AuthActions(app.test_client(), app)


def choose(actions, path, password=CHOSEN, confirm=None):
    return actions.client.post(path, data={
        "new": password, "confirm": password if confirm is None else confirm,
        "csrf_token": actions.csrf_token(path)})


def user(app, email):
    with app.app_context():
        found = db.session.scalars(db.select(User).where(User.email == email)).first()
        if found is not None:
            db.session.expunge(found)
        return found


def can_log_in(app, email, password):
    actions = fresh(app)
    return actions.client.post("/login", data={
        "email": email, "password": password,
        "csrf_token": actions.csrf_token("/login")}).status_code == 302


# --- No admin types a password ------------------------------------------------------------

def test_no_page_of_administration_has_a_password_field(app, admin, org):
    for path in ("/admin/users/new", f"/admin/users/{org['rita']}/edit", "/admin/users"):
        html = admin.client.get(path).get_data(as_text=True)
        assert 'type="password"' not in html, path
    form = (ROOT / "tickets" / "forms" / "admin.py").read_text()
    assert "PasswordField" not in form


def test_inviting_a_person_queues_one_invitation_mail_in_the_same_transaction(app, admin, org):
    invite(admin, teams=[org["marketing"]])
    nina = user(app, "nina@example.com")
    assert nina.joined_at is None and nina.invited_at is not None
    (message,) = outbox(app, "invitation")
    assert (message.recipient, message.subject) == ("nina@example.com",
                                                    "You are invited to Datadesk")
    assert "Hello Nina Newcomer" in message.text_body
    assert "works once, for 7 days" in message.text_body
    assert not can_log_in(app, "nina@example.com", "")


def test_the_invitation_arrives_on_a_real_smtp_server_and_its_link_lets_the_person_join(
        app, admin, org, smtp_server):
    invite(admin, teams=[org["marketing"]])
    with app.app_context():
        assert mail.drain().sent == 1
        assert mail.drain().sent == 0  # exactly once
    (received,) = smtp_server.messages
    assert received["To"] == "nina@example.com"
    assert received["Subject"] == "You are invited to Datadesk"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    path = link_path(text, "invitation")
    assert path in html

    newcomer = fresh(app)
    page = newcomer.client.get(path).get_data(as_text=True)
    assert "Welcome to Datadesk, Nina Newcomer" in page and "nina@example.com" in page
    response = choose(newcomer, path)
    assert response.status_code == 302 and response.location == "/"
    home = newcomer.client.get("/requests/mine")
    assert home.status_code == 200
    assert "Welcome to Datadesk, Nina Newcomer" in home.get_data(as_text=True)
    assert user(app, "nina@example.com").joined_at is not None
    assert can_log_in(app, "nina@example.com", CHOSEN)


def test_an_invitation_link_works_only_once(app, admin):
    invite(admin)
    path = latest_link(app, "invitation", "nina@example.com")
    assert choose(fresh(app), path).status_code == 302
    again = fresh(app)
    page = again.client.get(path)
    assert page.status_code == 410
    assert "You have joined already" in page.get_data(as_text=True)
    response = again.client.post(path, data={"new": "someone-elses-choice", "confirm":
                                             "someone-elses-choice", "csrf_token":
                                             again.csrf_token("/login")})
    assert response.status_code == 410
    assert can_log_in(app, "nina@example.com", CHOSEN)
    assert not can_log_in(app, "nina@example.com", "someone-elses-choice")


def test_an_invitation_expires_after_its_days(app, admin):
    invite(admin)
    path = latest_link(app, "invitation", "nina@example.com")
    token = path.rsplit("/", 1)[1]
    with app.app_context():
        sent_at = user(app, "nina@example.com").invited_at
        assert invitations.read_token(token, "invitation", sent_at + timedelta(days=7)).email \
            == "nina@example.com"
        with pytest.raises(invitations.LinkProblem) as problem:
            invitations.read_token(token, "invitation", sent_at + timedelta(days=7, seconds=2))
        assert problem.value.reason == "expired"


def test_an_expired_invitation_says_whom_to_ask(app, admin):
    invite(admin)
    with app.app_context():
        nina = db.session.scalars(db.select(User).where(User.email == "nina@example.com")).one()
        token = invitations.make_token(nina, "invitation", datetime.now(UTC) - timedelta(days=8))
    page = fresh(app).client.get(f"/join/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 410
    assert "This invitation has expired" in html and "send the invitation again" in html


def test_sending_the_invitation_again_voids_the_old_link(app, admin):
    invite(admin)
    first = latest_link(app, "invitation", "nina@example.com")
    nina = user(app, "nina@example.com")
    users_page = admin.client.get("/admin/users").get_data(as_text=True)
    assert "Invited, not yet joined" in users_page and "Send the invitation again" in users_page
    response = admin.post(f"/admin/users/{nina.id}/invitation", {"next": "/admin/users?status=invited"})
    assert response.status_code == 302 and response.location == "/admin/users?status=invited"
    assert len(outbox(app, "invitation")) == 2
    second = latest_link(app, "invitation", "nina@example.com")
    assert second != first
    old = fresh(app).client.get(first)
    assert old.status_code == 410
    assert "A newer invitation was sent" in old.get_data(as_text=True)
    assert choose(fresh(app), second).status_code == 302


def test_a_person_who_joined_or_is_inactive_gets_no_new_invitation(app, admin, org, make):
    gone = make.user("requester", email="gone@example.com", is_active=False)
    with app.app_context():
        db.session.get(User, gone).joined_at = None
        db.session.commit()
    for person in (org["rita"], gone):
        response = admin.post(f"/admin/users/{person}/invitation")
        assert response.status_code == 302
    assert outbox(app, "invitation") == []
    page = admin.client.get("/admin/users").get_data(as_text=True)
    assert "Rita Requester has joined already" in page


def test_changing_the_address_of_an_invited_person_invites_them_at_the_new_one(app, admin):
    invite(admin)
    old = latest_link(app, "invitation", "nina@example.com")
    nina = user(app, "nina@example.com")
    response = admin.post(f"/admin/users/{nina.id}/edit", {
        "name": nina.name, "email": "nina.n@example.com", "role": "requester", "is_active": "y"})
    assert response.status_code == 302
    assert [row.recipient for row in outbox(app, "invitation")] == [
        "nina@example.com", "nina.n@example.com"]
    assert fresh(app).client.get(old).status_code == 410


def test_a_disabled_persons_invitation_link_stops_working(app, admin):
    invite(admin)
    path = latest_link(app, "invitation", "nina@example.com")
    nina = user(app, "nina@example.com")
    admin.post(f"/admin/users/{nina.id}/edit", {
        "name": nina.name, "email": nina.email, "role": "requester"})
    page = fresh(app).client.get(path)
    assert page.status_code == 403 and "This account is disabled" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/join/not-a-token", "/join/" + "x" * 3000, "/password/reset/eyJ1IjoxfQ.forged",
    "/join/%00", "/password/reset/e30.bad-signature",
])
def test_a_forged_link_gets_a_clear_page(client, org, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_an_invitation_token_is_no_reset_token_and_the_other_way_round(app, admin):
    invite(admin)
    token = latest_link(app, "invitation", "nina@example.com").rsplit("/", 1)[1]
    assert fresh(app).client.get(f"/password/reset/{token}").status_code == 404


@pytest.mark.parametrize("new, confirm, field, message", [
    ("short-one", "short-one", "new", "Use 12 to 256 characters."),
    ("nina@example.com", "nina@example.com", "new",
     "Choose a password other than the e-mail address."),
    (CHOSEN, CHOSEN + "!", "confirm", "This is not the same as the new password above."),
    ("", "", "new", "Enter a new password."),
])
def test_a_refused_password_says_why_and_keeps_the_link_usable(app, admin, errors, new, confirm,
                                                               field, message):
    invite(admin)
    path = latest_link(app, "invitation", "nina@example.com")
    newcomer = fresh(app)
    response = choose(newcomer, path, new, confirm)
    assert response.status_code == 400
    assert errors(response)[field] == message
    assert choose(newcomer, path).status_code == 302


# --- Password reset -----------------------------------------------------------------------

def forgot(actions, email, address="192.0.2.20"):
    return actions.client.post("/password/forgot", data={
        "email": email, "csrf_token": actions.csrf_token("/password/forgot")},
        environ_base={"REMOTE_ADDR": address})


def test_the_login_page_offers_forgot_your_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html and "Forgot your password?" in html


def test_the_answer_is_the_same_whether_the_address_has_an_account_or_not(app, org, make):
    make.user("requester", email="off@example.com", is_active=False)
    pages = {}
    for email in ("rita@example.com", "nobody@example.com", "off@example.com"):
        response = forgot(fresh(app), email)
        assert response.status_code == 200
        pages[email] = response.get_data(as_text=True).replace(email, "EMAIL")
    assert len(set(pages.values())) == 1
    assert "If <strong" in pages["rita@example.com"]
    assert [row.recipient for row in outbox(app, "reset")] == ["rita@example.com"]


def test_the_answer_takes_about_as_long_for_an_unknown_address(app, org):
    def timed(email):
        actions = fresh(app)
        token = actions.csrf_token("/password/forgot")
        started = time.perf_counter()
        actions.client.post("/password/forgot", data={"email": email, "csrf_token": token})
        return time.perf_counter() - started

    for email in ("rita@example.com", "nobody@example.com"):  # warm both paths
        timed(email)
    known = sorted(timed("rita@example.com") for _ in range(5))[2]
    unknown = sorted(timed("nobody@example.com") for _ in range(5))[2]
    assert unknown > known * 0.5, (known, unknown)


def test_a_reset_link_sets_a_new_password_once_and_ends_every_other_session(app, org):
    elsewhere = fresh(app)
    elsewhere.login(org["rita"])
    forgot(fresh(app), "rita@example.com")
    (message,) = outbox(app, "reset")
    assert message.subject == "Set a new Datadesk password"
    assert "works once, for 1 hour" in message.text_body
    path = link_path(message.text_body, "reset")
    resetting = fresh(app)
    assert "Choose a new password" in resetting.client.get(path).get_data(as_text=True)
    response = choose(resetting, path)
    assert response.status_code == 302
    assert resetting.client.get("/requests/mine").status_code == 200
    assert elsewhere.client.get("/requests/mine").status_code == 302  # logged out
    assert can_log_in(app, "rita@example.com", CHOSEN)
    assert not can_log_in(app, "rita@example.com", PASSWORD)
    used = fresh(app).client.get(path)
    assert used.status_code == 410 and "This link was used already" in used.get_data(as_text=True)


def test_a_reset_link_expires_after_an_hour(app, org):
    now = datetime.now(UTC)
    with app.app_context():
        rita = db.session.get(User, org["rita"])
        token = invitations.make_token(rita, "reset", now)
        assert invitations.read_token(token, "reset", now + timedelta(minutes=60)).id == rita.id
        with pytest.raises(invitations.LinkProblem) as problem:
            invitations.read_token(token, "reset", now + timedelta(minutes=60, seconds=2))
        assert problem.value.reason == "expired"


def test_a_disabled_account_gets_no_reset_mail(app, org, make):
    make.user("requester", email="off@example.com", is_active=False)
    forgot(fresh(app), "off@example.com")
    assert outbox(app, "reset") == []


def test_the_reset_mail_reaches_a_real_smtp_server_once(app, org, smtp_server):
    forgot(fresh(app), "rita@example.com")
    with app.app_context():
        assert mail.drain().sent == 1
        assert mail.drain().sent == 0
    (received,) = smtp_server.messages
    assert received["To"] == "rita@example.com"
    assert "/password/reset/" in received.get_body(("plain",)).get_content()


@pytest.mark.parametrize("email", ["", "not an address\x00", "x" * 300, "rita@example.com\r\nBcc: x"])
def test_odd_addresses_get_a_field_message_or_the_same_answer_never_an_error(app, org, email):
    response = forgot(fresh(app), email)
    assert response.status_code in (200, 400)
    assert outbox(app, "reset") == []
