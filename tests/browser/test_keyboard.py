"""Keyboard-only use in Chromium (issue 14, item 11): people who cannot use a mouse log in,
submit a request, accept one from triage and claim one from the queue with Tab, Shift+Tab,
Enter, Space and the arrow keys alone; every stop shows where the focus is; a skip link leads
past the menu; menus open, are walked with the arrows and close with Escape.

These tests never click nor fill: they press keys, and read the page only to know where the
focus is.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tickets.extensions import db
from tickets.models import Request

pytestmark = pytest.mark.browser

# What the focused element is, and whether a sighted keyboard user can see it: an outline or a
# focus shadow (Bootstrap's) on it. A date field whose calendar button has the focus does not
# match :focus itself: Chromium rings the button inside it.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                  || style.boxShadow !== 'none' || (el.type === 'date' && !el.matches(':focus'));
  const label = el.labels && el.labels.length ? el.labels[0].innerText : (el.getAttribute('aria-label') || '');
  return {tag: el.tagName.toLowerCase(), id: el.id, label: label.replace(/\\s+/g, ' ').trim(),
          text: (el.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 100),
          checked: !!el.checked, expanded: el.getAttribute('aria-expanded'), visible};
}"""


def focused(page):
    """What has the focus now (see FOCUSED)."""
    return page.evaluate(FOCUSED)


def names(stop):
    """The words that name a focus stop: its label, or its text."""
    return stop["label"] or stop["text"]


def tab_to(page, wanted, *, backwards=False, limit=150):
    """Press Tab (Shift+Tab ``backwards``) until the focused element's label or text is
    ``wanted`` (or, when ``wanted`` is callable, until it says yes); return that stop. Every
    stop on the way must show its focus."""
    key = "Shift+Tab" if backwards else "Tab"
    unseen = []
    for _ in range(limit):
        page.keyboard.press(key)
        stop = focused(page)
        if stop["tag"] != "body" and not stop["visible"]:
            unseen.append(names(stop) or stop["id"] or stop["tag"])
        if wanted(stop) if callable(wanted) else names(stop) == wanted:
            assert unseen == [], f"focus not visible on: {unseen}"
            return stop
    raise AssertionError(f"{wanted!r} not reached with {key}; last stop {stop}")


def type_into(page, label, text):
    """Tab to the field labelled ``label`` and type ``text``."""
    tab_to(page, label)
    page.keyboard.type(text)


def keyboard_log_in(page, email):
    """Log in by keyboard: the e-mail, the password, Enter."""
    page.goto("/login")
    type_into(page, "E-mail", email)
    type_into(page, "Password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def follow(page, link):
    """Tab to the link (or button) named ``link`` and press Enter."""
    tab_to(page, link)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_the_skip_link_is_the_first_stop_and_leads_past_the_menu(make, new_page):
    team = make.team("Marketing")
    make.user("requester", teams=[team], email="rita@example.com")
    page = new_page()
    keyboard_log_in(page, "rita@example.com")
    page.goto("/requests/mine")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["text"] == "Skip to content" and skip["visible"]
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"
    # The next stop is in the content, not the menu: the page's own "New request" button.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_a_requester_submits_a_request_with_the_keyboard_only(app, make, new_page):
    team = make.team("Marketing")
    make.user("requester", teams=[team], email="rita@example.com", name="Rita Requester")
    page = new_page()
    keyboard_log_in(page, "rita@example.com")
    follow(page, "New request")
    page.wait_for_url("**/requests/new")
    type_into(page, "Title", "Newsletter clicks by segment")
    type_into(page, "What data do you need?", "Clicks per newsletter issue and segment.")
    type_into(page, "How will you use it?", "Plan the next issue.")
    # Radio buttons: Tab reaches the chosen one, the arrows choose another.
    kind = tab_to(page, lambda stop: stop["label"].startswith("Ad-hoc"))
    assert kind["checked"]
    page.keyboard.press("ArrowDown")
    assert focused(page)["label"].startswith("Project") and focused(page)["checked"]
    # Shift+Tab goes back: the title had a typo to fix.
    tab_to(page, "Title", backwards=True)
    page.keyboard.press("End")
    page.keyboard.type(" (weekly)")
    type_into(page, "Which result are you trying to influence?", "Click-through rate.")
    type_into(page, "What do you expect the data to look like?", "3 to 5% clicks.")
    type_into(page, "How will you read the answer from it?", "Rank segments.")
    type_into(page, "Which decision or action will it drive?", "Drop dead sections.")
    tab_to(page, "No hard deadline")
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    tab_to(page, lambda stop: stop["label"].startswith("Medium"))
    page.keyboard.press("ArrowDown")
    assert focused(page)["label"].startswith("High")
    tab_to(page, "Submit request")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/requests/\d+$"))
    expect(page.locator(".badge.state").first).to_have_text("Submitted")
    with app.app_context():
        req = db.session.scalars(db.select(Request)).one()
        assert (req.title, req.kind, req.business_impact, req.deadline) == (
            "Newsletter clicks by segment (weekly)", "project", 4, None)


def test_an_analyst_accepts_a_request_from_triage_with_the_keyboard_only(make, new_page):
    team = make.team("Marketing")
    rita = make.user("requester", teams=[team])
    make.user("analyst", teams=[team], email="priya@example.com")
    request_id = make.request(rita, team, title="Churn by region")
    page = new_page()
    keyboard_log_in(page, "priya@example.com")
    follow(page, "Triage")
    page.wait_for_url("**/triage")
    tab_to(page, f"Triage #{request_id}")
    page.keyboard.press("Enter")
    # The one dialog opens for this request, with the focus on its first action.
    expect(page.get_by_role("dialog", name=f"Triage #{request_id} Churn by region")).to_be_visible()
    assert names(focused(page)) == "Accept…" and focused(page)["expanded"] == "false"
    page.keyboard.press("Space")
    accept = page.locator("#triage-action-accept")
    expect(accept).to_be_visible()
    # Into the form: the focus is on the size's radio group (none chosen yet: Space chooses
    # the first, the arrows move on).
    assert focused(page)["label"].startswith("S — Small")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    assert focused(page)["label"].startswith("M — Medium") and focused(page)["checked"]
    tab_to(page, "Accept")
    page.keyboard.press("Enter")
    page.wait_for_url("**/triage")
    expect(page.get_by_role("status").first).to_contain_text("Accepted into the backlog")
    done = make.get(Request, request_id)
    assert (done.state, done.size) == ("accepted", "M")


def test_an_analyst_claims_from_the_queue_with_the_keyboard_only(make, new_page):
    team = make.team("Marketing")
    rita = make.user("requester", teams=[team])
    priya = make.user("analyst", teams=[team], email="priya@example.com")
    request_id = make.request(rita, team, title="Churn by region")
    make.act(request_id, "accept", priya, size="S")
    page = new_page()
    keyboard_log_in(page, "priya@example.com")
    follow(page, "My queue")
    page.wait_for_url("**/queue")
    tab_to(page, f"Claim #{request_id}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Churn by region")
    assert make.state(request_id) == "in_progress"


def test_menus_open_walk_with_the_arrows_and_close_with_escape(make, new_page):
    team = make.team("Marketing")
    make.user("analyst", teams=[team], email="priya@example.com", name="Priya Analyst")
    page = new_page()
    keyboard_log_in(page, "priya@example.com")
    for menu, first_item in (("Requests", "My requests"),
                             ("Priya Analyst", "Preferences and password")):
        toggle = tab_to(page, menu)
        assert toggle["expanded"] == "false"
        page.keyboard.press("Enter")
        assert focused(page)["expanded"] == "true"
        page.keyboard.press("ArrowDown")
        assert focused(page)["text"] == first_item
        page.keyboard.press("Escape")
        back = focused(page)
        assert (names(back), back["expanded"]) == (menu, "false")


def test_the_phone_menu_opens_with_enter_and_closes_with_escape(make, new_page):
    team = make.team("Marketing")
    make.user("analyst", teams=[team], email="priya@example.com")
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    keyboard_log_in(page, "priya@example.com")
    tab_to(page, "Toggle navigation")
    page.keyboard.press("Enter")
    expect(page.locator("#nav")).to_be_visible()
    tab_to(page, "Triage")
    page.keyboard.press("Escape")
    expect(page.locator("#nav")).to_be_hidden()
    back = focused(page)
    assert (back["label"], back["expanded"]) == ("Toggle navigation", "false")
