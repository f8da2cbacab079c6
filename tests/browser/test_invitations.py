"""Invitations, the team checklist and password resets in Chromium (issue 14, item 6): an admin
invites a person, who opens the link, chooses a password and lands logged in."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.extensions import db
from tickets.models import OutboxMessage

pytestmark = pytest.mark.browser

CHOSEN = "my own long passphrase"


def mailed_path(app, kind, email):
    """The path of the link in the latest mail of ``kind`` to ``email`` (the mail's address is
    BASE_URL's; the browser opens it on the test server)."""
    with app.app_context():
        body = db.session.scalars(
            db.select(OutboxMessage.text_body)
            .where(OutboxMessage.kind == kind, OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"https?://[^/\s]+(/\S+/[\w.\-]+)\s", body).group(1)


def test_an_admin_invites_a_person_who_sets_a_password_and_lands_logged_in(app, make, new_page):
    make.team("Marketing")
    make.team("Finance")
    make.team("Customer Support")
    make.user("admin", email="ada@example.com", name="Ada Admin")

    admin = new_page()
    log_in(admin, "ada@example.com", PASSWORD)
    admin.goto("/admin/users")
    admin.get_by_role("link", name="Invite a person").click()
    expect(admin.get_by_role("heading", name="Invite a person")).to_be_visible()
    expect(admin.locator('input[type="password"]')).to_have_count(0)
    admin.get_by_label("Full name").fill("Nina Newcomer")
    admin.get_by_label("E-mail").fill("nina@example.com")
    admin.get_by_label("Filter the teams").fill("fin")
    admin.get_by_label("Finance").check()
    admin.get_by_role("button", name="Send the invitation").click()
    expect(admin.locator(".alert-success")).to_contain_text(
        "Nina Newcomer is invited: an e-mail with a link to choose their password")
    row = admin.get_by_role("row").filter(has_text="nina@example.com")
    expect(row).to_contain_text("Invited, not yet joined")
    expect(row).to_contain_text("Finance")
    expect(row.get_by_role("button", name="Send the invitation again")).to_be_visible()

    newcomer = new_page()
    newcomer.goto(mailed_path(app, "invitation", "nina@example.com"))
    expect(newcomer.get_by_role("heading", name="Welcome to Datadesk, Nina Newcomer")).to_be_visible()
    newcomer.get_by_label("New password", exact=True).fill(CHOSEN)
    newcomer.get_by_label("New password again").fill(CHOSEN + "?")
    newcomer.get_by_role("button", name="Join Datadesk").click()
    expect(newcomer.locator("#confirm-error")).to_have_text(
        "This is not the same as the new password above.")
    newcomer.get_by_label("New password", exact=True).fill(CHOSEN)
    newcomer.get_by_label("New password again").fill(CHOSEN)
    newcomer.get_by_role("button", name="Join Datadesk").click()
    expect(newcomer.locator(".alert-success")).to_contain_text(
        "Welcome to Datadesk, Nina Newcomer: your password is set and you are logged in.")
    expect(newcomer.locator(".user-name")).to_have_text("Nina Newcomer")

    admin.reload()
    row = admin.get_by_role("row").filter(has_text="nina@example.com")
    expect(row).not_to_contain_text("Invited, not yet joined")


def test_the_team_checklist_filters_as_one_types_and_keeps_what_was_chosen(app, make, new_page):
    for name in ("Marketing", "Finance", "Customer Support", "Sales", "People"):
        make.team(name)
    make.user("lead", email="leo@example.com", name="Leo Lead")
    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.goto("/admin/users/new")
    teams = page.get_by_role("group", name="Teams")
    page.get_by_label("Marketing").check()
    expect(teams.locator("[data-checklist-chosen]")).to_have_text("Chosen: Marketing")
    search = page.get_by_label("Filter the teams")
    search.fill("SAL")
    expect(page.get_by_label("Sales")).to_be_visible()
    expect(page.get_by_label("Marketing")).to_be_hidden()
    expect(teams.locator("[data-checklist-shown]")).to_have_text("1 of 5 teams shown")
    search.press("Enter")  # picks the only match; the form is not sent
    expect(page.get_by_label("Sales")).to_be_focused()
    page.keyboard.press("Space")
    expect(teams.locator("[data-checklist-chosen]")).to_have_text("Chosen: Marketing, Sales")
    search.fill("zzz")
    expect(teams.get_by_text("None of the teams matches.")).to_be_visible()
    search.fill("")
    expect(teams.locator("[data-checklist-item]:visible")).to_have_count(5)
    assert page.url.endswith("/admin/users/new")


def test_the_team_checklist_works_without_javascript(app, browser, live_server, make):
    marketing = make.team("Marketing")
    make.team("Finance")
    make.user("lead", email="leo@example.com", name="Leo Lead")
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "leo@example.com", PASSWORD)
        page.goto("/admin/users/new")
        expect(page.get_by_label("Filter the teams")).to_be_hidden()
        page.get_by_label("Full name").fill("Otto Offline")
        page.get_by_label("E-mail").fill("otto@example.com")
        page.get_by_label("Marketing").check()
        page.get_by_role("button", name="Send the invitation").click()
        row = page.get_by_role("row").filter(has_text="otto@example.com")
        expect(row).to_contain_text("Marketing")
        assert marketing
    finally:
        context.close()


def test_forgot_your_password_sends_a_link_that_sets_a_new_one(app, make, new_page):
    make.user("requester", email="rita@example.com", name="Rita Requester")
    page = new_page()
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("E-mail").fill("rita@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

    page.goto(mailed_path(app, "reset", "rita@example.com"))
    page.get_by_label("New password", exact=True).fill(CHOSEN)
    page.get_by_label("New password again").fill(CHOSEN)
    page.get_by_role("button", name="Set my new password").click()
    expect(page.locator(".alert-success")).to_contain_text("Your new password is set")
    expect(page.locator(".user-name")).to_have_text("Rita Requester")
