"""Notifications in Chromium: the bell in the header counts what is unread, on a laptop and a
phone (where it stays outside the folded menu); the list opens a notification's request and
marks it read; the keyboard alone reaches and opens one; the preferences table saves a mode."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets import intake
from tickets.extensions import db
from tickets.models import Request, User

pytestmark = pytest.mark.browser


@pytest.fixture
def told(app, make):
    """Rita's request, accepted by Ana, who then commented on it: two unread notifications."""
    marketing = make.team("Marketing")
    rita = make.user("requester", teams=[marketing], email="rita@example.com",
                     name="Rita Requester")
    ana = make.user("analyst", teams=[marketing], name="Ana Analyst")
    request_id = make.request(rita, marketing, title="Weekly churn by region")
    make.act(request_id, "accept", ana, size="S")
    with app.app_context():
        intake.add_comment(db.session.get(Request, request_id), db.session.get(User, ana),
                           "Started: first numbers tomorrow.")
        db.session.commit()
    return request_id


@pytest.mark.parametrize("width", [1280, 390])
def test_the_bell_counts_unread_and_opening_one_goes_to_its_request(new_page, told, width):
    page = new_page()
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "rita@example.com", PASSWORD)
    bell = page.get_by_role("link", name="2 unread notifications")
    expect(bell).to_be_visible()  # on a phone too, without unfolding the menu
    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    entries = page.locator(".notification")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("A new comment on a request")
    expect(entries.first).to_contain_text("Started: first numbers tomorrow.")
    expect(entries.nth(1)).to_contain_text("Forecast: not enough history yet")

    entries.first.get_by_role("button").click()
    page.wait_for_url(f"**/requests/{told}")
    expect(page.get_by_role("link", name="1 unread notification")).to_be_visible()

    page.get_by_role("link", name="1 unread notification").click()
    page.get_by_role("navigation", name="Show").get_by_role("link", name="Unread").click()
    expect(page.locator(".notification")).to_have_count(1)
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("Everything is marked as read.")).to_be_visible()
    expect(page.get_by_role("link", name="0 unread notifications")).to_be_visible()
    expect(page.get_by_text("You have read everything.")).to_be_visible()


def test_the_keyboard_alone_reaches_the_bell_and_opens_a_notification(new_page, told):
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/mine")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('notification-bell')"):
            break
    else:
        pytest.fail("the bell is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/notifications")
    page.locator(".notification-open").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/requests/{told}")


def test_the_preferences_table_saves_a_mode_per_kind(app, new_page, told):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 900})
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/preferences")
    table = page.locator("table.notification-modes")
    expect(table).to_be_visible()
    # Every choice is a labelled radio; the table fits a phone's width.
    assert page.evaluate("document.querySelector('table.notification-modes').scrollWidth "
                         "<= document.documentElement.clientWidth")
    page.get_by_label("Someone comments on a request you follow: Daily batch").check()
    page.get_by_label("Your request is declined: Off").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your mail preferences are saved.")).to_be_visible()
    expect(page.get_by_label("Someone comments on a request you follow: Daily batch")
           ).to_be_checked()
    with app.app_context():
        user = db.session.scalars(db.select(User).where(User.email == "rita@example.com")).one()
        modes = user.notification_modes
        assert (modes["comment"], modes["declined"], modes["question"]) == (
            "daily", "off", "immediately")
