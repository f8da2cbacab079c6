"""Triage to delivery in Chromium: a requester submits, the analyst accepts it from /triage with
a size, claims it and delivers it; the requester sees it delivered."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.models import Request

pytestmark = pytest.mark.browser


def test_submit_triage_claim_deliver(make, new_page):
    marketing = make.team("Marketing")
    make.user("requester", teams=[marketing], email="rosa@example.com", name="Rosa Requester")
    make.user("analyst", teams=[marketing], email="priya@example.com", name="Priya Analyst")

    requester = new_page()
    log_in(requester, "rosa@example.com", PASSWORD)
    requester.goto("/requests/new")
    requester.get_by_label("Title").fill("Newsletter clicks by segment")
    requester.get_by_label("What data do you need?").fill("Clicks per newsletter issue and segment.")
    requester.get_by_label("How will you use it?").fill("Plan the next issue.")
    requester.get_by_label("Which result are you trying to influence?").fill("Click-through rate.")
    requester.get_by_label("What do you expect the data to look like?").fill("3 to 5% clicks.")
    requester.get_by_label("How will you read the answer from it?").fill("Rank segments.")
    requester.get_by_label("Which decision or action will it drive?").fill("Drop dead sections.")
    requester.get_by_label("When do you need it?").fill((date.today() + timedelta(days=20)).isoformat())
    requester.get_by_role("button", name="Submit request").click()
    requester.wait_for_url("**/requests/*")
    request_id = int(requester.url.rsplit("/", 1)[1])

    analyst = new_page()
    log_in(analyst, "priya@example.com", PASSWORD)
    analyst.get_by_role("link", name="Triage", exact=True).click()
    analyst.wait_for_url("**/triage")
    row = analyst.locator(f"#request-{request_id}")
    assert "Newsletter clicks by segment" in row.inner_text()
    assert "Rosa Requester" in row.inner_text()
    row.get_by_role("button", name=f"Triage #{request_id}").click()
    panel = analyst.get_by_role("dialog", name=f"Triage #{request_id} Newsletter clicks by segment")
    panel.get_by_role("button", name="Accept…").click()
    accept = panel.locator("#triage-action-accept")
    accept.get_by_label("M — Medium, 2 to 3 days").check()
    assert accept.get_by_label("3 — Medium").is_checked()  # the requester's impact, prefilled
    assert not accept.get_by_label("Executive sponsor", exact=True).is_visible()
    accept.get_by_label("4 — High").check()
    accept.get_by_role("button", name="Accept").click()
    analyst.wait_for_url("**/triage")
    assert f"#{request_id} Newsletter clicks by segment: Accepted into the backlog." in \
        analyst.get_by_role("status").first.inner_text()
    assert analyst.locator(f"#request-{request_id}").count() == 0
    assert "Nothing waiting for triage" in analyst.content()

    analyst.goto(f"/requests/{request_id}")
    analyst.get_by_role("button", name="Claim").click()
    expect(analyst.locator(".badge.state").first).to_have_text("In progress")
    analyst.wait_for_load_state()  # Bootstrap wires the next buttons at load
    analyst.get_by_role("button", name="Deliver…").click()
    deliver = analyst.locator("#action-deliver")
    deliver.get_by_label("Link to the deliverable").fill("https://bi.example.com/d/newsletter")
    deliver.get_by_label("Delivery note").fill("Segments ranked by clicks; filter by issue.")
    deliver.get_by_role("button", name="Deliver").click()
    expect(analyst.locator(".badge.state").first).to_have_text("Delivered")
    analyst.wait_for_load_state()  # Bootstrap wires the next buttons at load

    requester.reload()
    assert requester.locator(".badge.state").first.inner_text() == "Delivered"
    assert "This request is delivered." in requester.get_by_role("status").first.inner_text()
    assert requester.get_by_role("link", name="https://bi.example.com/d/newsletter").first.is_visible()
    done = make.get(Request, request_id)
    assert (done.state, done.size, done.business_impact) == ("delivered", "M", 4)
