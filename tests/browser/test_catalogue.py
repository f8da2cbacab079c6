"""The catalogue in Chromium: an analyst adds an asset through the form, a requester finds it by
a word and by clicking its tag, and opens it in a new tab."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_an_analyst_adds_an_asset_and_a_requester_finds_it(make, new_page):
    marketing = make.team("Marketing")
    make.user("requester", teams=[marketing], email="rosa@example.com", name="Rosa Requester")
    make.user("analyst", teams=[marketing], email="priya@example.com", name="Priya Analyst")

    analyst = new_page()
    log_in(analyst, "priya@example.com", PASSWORD)
    analyst.goto("/catalogue")
    analyst.get_by_role("link", name="Add an asset").click()
    analyst.get_by_label("Title").fill("Newsletter clicks by segment")
    analyst.get_by_label("Link", exact=True).fill("javascript:alert(1)")
    analyst.get_by_label("Description").fill("Clicks per issue and segment.\nRefreshed daily.")
    analyst.get_by_label("Tags").fill("Newsletter, clicks")
    analyst.get_by_role("button", name="Add to the catalogue").click()
    expect(analyst.locator("#url-error")).to_contain_text("https://")
    expect(analyst.get_by_label("Description")).to_have_value(
        "Clicks per issue and segment.\nRefreshed daily.")
    analyst.get_by_label("Link", exact=True).fill("https://bi.example.com/newsletter")
    analyst.get_by_role("button", name="Add to the catalogue").click()
    analyst.wait_for_url("**/catalogue/*")
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Newsletter clicks by segment")

    requester = new_page()
    log_in(requester, "rosa@example.com", PASSWORD)
    requester.goto("/catalogue")
    requester.get_by_label("Words").fill("newsletter")
    requester.get_by_role("button", name="Find").click()
    expect(requester.locator(".asset-title")).to_have_count(1)
    expect(requester.locator(".asset-title mark")).to_have_text("Newsletter")
    requester.goto("/catalogue")
    requester.locator(".tags").get_by_role("link", name="clicks").click()
    expect(requester.locator(".active-tag")).to_contain_text("clicks")
    expect(requester.locator(".asset-title")).to_have_count(1)
    opener = requester.locator(".open-asset").first
    expect(opener).to_have_attribute("target", "_blank")
    expect(opener).to_have_attribute("rel", "noopener noreferrer")
    requester.locator(".asset-title").first.click()
    expect(requester.locator(".description")).to_have_text(
        "Clicks per issue and segment.\nRefreshed daily.")
    assert requester.get_by_role("button", name="Mark verified today").count() == 0
