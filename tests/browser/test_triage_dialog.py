"""The triage page's one dialog of action forms (issue 15): each row's "Triage" button opens it
for that row's request, with that request's inputs; it is labelled, takes the focus, closes on
Escape and gives the focus back; it works at laptop and phone widths; without JavaScript the
same link leads to the request's own triage page."""
import os

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.models import Request

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("TRIAGE_SCREENSHOTS", "/tmp/triage")


@pytest.fixture
def waiting(make):
    marketing = make.team("Marketing")
    rosa = make.user("requester", teams=[marketing], name="Rosa Requester")
    make.user("analyst", teams=[marketing], email="priya@example.com", name="Priya Analyst")
    first = make.request(rosa, marketing, title="Churn by region", business_impact=4,
                         is_exec_sponsored=True, exec_sponsor="Maria Chen")
    second = make.request(rosa, marketing, title="Signups by channel", business_impact=2)
    return first, second


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, name), full_page=False)


@pytest.mark.parametrize("width,height,label", [(1280, 900, "laptop"), (390, 844, "phone")])
def test_each_rows_button_opens_the_one_dialog_for_its_request(make, waiting, new_page, width,
                                                                height, label):
    first, second = waiting
    page = new_page()
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, "priya@example.com", PASSWORD)
    page.goto("/triage")
    page.wait_for_load_state()
    opener = page.get_by_role("button", name=f"Triage #{second}")
    opener.click()
    dialog = page.get_by_role("dialog", name=f"Triage #{second} Signups by channel")
    expect(dialog).to_be_visible()
    # The focus is inside it, on its first action.
    expect(dialog.get_by_role("button", name="Accept…")).to_be_focused()
    dialog.get_by_role("button", name="Accept…").click()
    accept = dialog.locator("#triage-action-accept")
    expect(accept.get_by_label("2 — Low")).to_be_checked()  # this request's impact
    expect(accept.get_by_label("Executive sponsor", exact=True)).to_be_hidden()
    shot(page, f"dialog-{label}.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # The other row: its own inputs, not those typed or shown for the first one.
    page.get_by_role("button", name=f"Triage #{first}").click()
    dialog = page.get_by_role("dialog", name=f"Triage #{first} Churn by region")
    dialog.get_by_role("button", name="Accept…").click()
    accept = dialog.locator("#triage-action-accept")
    expect(accept.get_by_label("4 — High")).to_be_checked()
    expect(accept.get_by_label("Executive sponsor", exact=True)).to_have_value("Maria Chen")
    accept.get_by_label("S — Small, up to 1 day").check()
    accept.get_by_role("button", name="Accept").click()
    page.wait_for_url("**/triage")
    expect(page.get_by_role("status").first).to_contain_text(
        f"#{first} Churn by region: Accepted into the backlog.")
    shot(page, f"after-accept-{label}.png")
    assert make.get(Request, first).state == "accepted"
    assert make.get(Request, second).state == "submitted"
    expect(page.locator(f"#request-{first}")).to_have_count(0)


def test_the_kind_form_and_the_close_button_work_in_the_dialog(make, waiting, new_page):
    first, _ = waiting
    page = new_page()
    log_in(page, "priya@example.com", PASSWORD)
    page.goto("/triage")
    page.wait_for_load_state()
    page.get_by_role("button", name=f"Triage #{first}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Change kind…").click()
    expect(dialog.get_by_label("Kind")).to_have_value("ad_hoc")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name=f"Triage #{first}").click()
    dialog.get_by_role("button", name="Change kind…").click()
    dialog.get_by_label("Kind").select_option("project")
    dialog.get_by_role("button", name="Change kind", exact=True).click()
    page.wait_for_url("**/triage")
    assert make.get(Request, first).kind == "project"


def test_without_javascript_the_row_leads_to_the_requests_triage_page(browser, live_server,
                                                                     make, waiting):
    first, _ = waiting
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "priya@example.com", PASSWORD)
        page.goto("/triage?kind=ad_hoc")
        page.get_by_role("link", name=f"Triage #{first}").click()
        page.wait_for_url(lambda url: f"/triage/{first}?next=" in url)
        accept = page.locator("form[data-triage-form=accept]")
        expect(accept.get_by_label("4 — High")).to_be_checked()
        accept.get_by_label("M — Medium, 2 to 3 days").check()
        shot(page, "no-js-request.png")
        accept.get_by_role("button", name="Accept").click()
        page.wait_for_url(lambda url: url.endswith("/triage?kind=ad_hoc"))
        assert make.get(Request, first).state == "accepted"
    finally:
        context.close()
