"""The header's search box in Chromium: type words, press Enter, see the results with the words
highlighted, open one; on a phone the box is in the collapsed menu. And the picker script
(static/js/picker.js) choosing a request with the keyboard."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def ask(make, requester, team, title, body):
    return make.request(requester, team, title=title, data_needed=body, usage="",
                        lever_result="", lever_expected_shape="", lever_extraction="",
                        lever_decision="", kind="project")


@pytest.fixture
def shelf(make):
    marketing = make.team("Marketing")
    rosa = make.user("requester", teams=[marketing], email="rosa@example.com", name="Rosa")
    make.user("analyst", teams=[marketing], email="priya@example.com", name="Priya Analyst")
    return {
        "churn": ask(make, rosa, marketing, "Weekly churn by region",
                     "Churned accounts per region since January."),
        "other": ask(make, rosa, marketing, "Churn of premium accounts", "Premium churn."),
        "unrelated": ask(make, rosa, marketing, "Newsletter clicks", "Clicks per issue."),
    }


def test_search_from_the_header_and_open_a_result(new_page, shelf):
    page = new_page()
    log_in(page, "rosa@example.com", PASSWORD)
    box = page.get_by_role("search").get_by_label("Search requests and the catalogue").first
    box.fill("churn region")
    box.press("Enter")
    page.wait_for_url("**/search?q=churn+region")
    results = page.locator(".search-hit")
    expect(results).to_have_count(2)
    first = results.first
    expect(first).to_contain_text(f"Request #{shelf['churn']}")
    expect(first.locator("h2 mark").first).to_have_text("churn", ignore_case=True)
    expect(page.get_by_role("status").filter(has_text="results")).to_contain_text("2 results")
    first.get_by_role("link").click()
    page.wait_for_url(f"**/requests/{shelf['churn']}")


def test_on_a_phone_the_search_box_is_in_the_menu(new_page, shelf):
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "rosa@example.com", PASSWORD)
    box = page.locator("#header-q")
    expect(box).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(box).to_be_visible()
    box.fill("newsletter")
    box.press("Enter")
    expect(page.locator(".search-hit")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_the_picker_chooses_a_request_with_the_keyboard(new_page, shelf):
    page = new_page()
    log_in(page, "priya@example.com", PASSWORD)
    page.goto("/search")
    # A form as the request page renders it (picker.js's markup contract).
    page.evaluate(f"""() => {{
        const form = document.createElement('form');
        form.innerHTML = '<label for="dup-q">Duplicate of</label>'
          + '<input type="text" id="dup-q" data-picker="duplicate"'
          + ' data-picker-request="{shelf['churn']}" data-picker-target="original">'
          + '<input type="hidden" id="original" name="original">';
        document.querySelector('main').appendChild(form);
        const script = document.createElement('script');
        script.src = '/static/js/picker.js';
        document.body.appendChild(script);
    }}""")
    box = page.get_by_role("combobox", name="Duplicate of")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("chur")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_count(1)  # not the request itself
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    option = listbox.get_by_role("option").first
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    box.press("Enter")
    expect(page.locator("#original")).to_have_value(f"request:{shelf['other']}")
    chip = page.locator(".picker-chip")
    expect(chip).to_contain_text("Churn of premium accounts")
    chip.get_by_role("button", name="Remove Churn of premium accounts").click()
    expect(page.locator("#original")).to_have_value("")
    expect(box).to_be_focused()
    box.fill("zzzz unknown")
    expect(page.locator(".picker-message")).to_contain_text("No open request you can see")
    box.press("Escape")
    box.press("Escape")
    expect(box).to_have_value("")
