"""Platform gaps in Chromium: the report's charts are drawn by reports.js and its tables open in
place; a lead reorders and retires categories with the buttons of the taxonomy page."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.browser.test_reports import drawn_charts, wait_until_drawn
from tests.conftest import PASSWORD
from tests.test_gaps import default_taxonomy, record
from tickets.models import utcnow

pytestmark = pytest.mark.browser


def test_a_lead_reads_the_gaps_report_and_opens_a_charts_table(app, make, new_page):
    default_taxonomy(app)
    marketing = make.team("Marketing")
    requester = make.user("requester", teams=[marketing])
    lead = make.user("lead", email="leo@example.com")
    request_id = make.request(requester, marketing, title="Pipeline")
    now = utcnow()
    for n, category in enumerate(["No access", "No access", "Does not know the tool"]):
        record(app, request_id, lead, category, f"<b>note {n}</b>", 4 + n, "delivery",
               now - timedelta(days=n * 8))
    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.goto("/reports")
    page.get_by_role("link", name="Platform gaps: what stops people doing it themselves?").click()
    page.wait_for_url("**/reports/platform-gaps*")
    wait_until_drawn(page)
    charts = drawn_charts(page)
    assert [chart["key"] for chart in charts] == ["by_team", "by_week"]
    assert all(chart["instance"] and chart["height"] > 150 for chart in charts)
    ranking = page.locator("table.gaps-ranking")
    assert ranking.locator("tbody th").all_inner_texts() == ["No access",
                                                             "Does not know the tool"]
    assert "<b>note 1</b>" in ranking.inner_text()  # shown as typed, not as markup
    card = page.locator("[data-chart-card='by_week']")
    card.get_by_role("link", name="Table").click()
    card.locator("table").wait_for()
    assert card.locator("thead th").first.inner_text() == "Week of"


def test_a_lead_reorders_and_retires_categories_with_the_buttons(app, make, new_page):
    default_taxonomy(app)
    make.user("lead", email="leo@example.com")
    page = new_page()
    log_in(page, "leo@example.com", PASSWORD)
    page.goto("/settings")
    page.get_by_role("link", name="Platform-gap categories").click()
    names = page.locator(".gap-category .fw-semibold")
    page.get_by_role("button", name="Move No access up").click()
    # expect waits for the page the POST redirects to; reading at once can catch the blank
    # page between the two (seen once in CI)
    expect(names.nth(0)).to_have_text("No access")
    expect(names.nth(1)).to_have_text("Data not available")
    page.get_by_role("button", name="Retire Other").click()
    expect(page.locator(".alert").first).to_contain_text("Other is retired")
    expect(page.locator("#category-6 .badge")).to_have_text("Retired")
    page.get_by_label("Name").fill("No sandbox")
    page.get_by_role("button", name="Add category").click()
    expect(names.last).to_have_text("No sandbox")
