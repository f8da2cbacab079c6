"""A requester submits through the real form in Chromium; an analyst of the team accepts it."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.models import Request

pytestmark = pytest.mark.browser


def test_requester_submits_and_analyst_accepts(make, new_page):
    marketing = make.team("Marketing")
    make.team("Finance")
    make.user("requester", teams=[marketing], email="rita@example.com", name="Rita Requester")
    make.user("analyst", teams=[marketing], email="alex@example.com", name="Alex Analyst")

    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.get_by_role("link", name="New request").first.click()
    assert page.get_by_label("Requesting team").input_value() == str(marketing)

    page.get_by_label("Title").fill("Trial conversion by acquisition channel")
    page.get_by_label("What data do you need?").fill("Trials and paid conversions per channel, last 6 months.")
    page.get_by_label("In what form should it come?").select_option("dashboard")
    page.get_by_label("How will you use it?").fill("Weekly channel budget review.")
    page.get_by_label("Which result are you trying to influence?").fill("Paid conversions.")
    page.get_by_label("What do you expect the data to look like?").fill("Paid search converts best.")
    page.get_by_label("How will you read the answer from it?").fill("Rank channels by conversion.")
    page.get_by_label("Which decision or action will it drive?").fill("Shift budget to the top two channels.")
    page.get_by_label("When do you need it?").fill((date.today() + timedelta(days=21)).isoformat())
    page.get_by_label("High").check()
    page.get_by_label("Keep these people informed").fill("cmo@example.com")
    page.get_by_role("button", name="Submit request").click()

    page.wait_for_url("**/requests/*")
    assert "is submitted" in page.get_by_role("status").first.inner_text()
    assert page.locator(".badge.state").first.inner_text() == "Submitted"
    request_id = int(page.url.rsplit("/", 1)[1])

    page.get_by_role("link", name="My requests").first.click()
    row = page.get_by_role("row", name="Trial conversion by acquisition channel")
    assert row.is_visible()
    assert "Submitted" in row.inner_text()

    analyst = new_page()
    log_in(analyst, "alex@example.com", PASSWORD)
    analyst.get_by_role("button", name="Requests").click()
    analyst.get_by_role("link", name="Requests of my teams").click()
    analyst.get_by_role("link", name="Trial conversion by acquisition channel").click()
    analyst.get_by_role("button", name="Accept…").click()
    analyst.get_by_label("M — Medium, 2 to 3 days").check()
    analyst.locator("#action-accept").get_by_role("button", name="Accept").click()
    expect(analyst.locator(".badge.state").first).to_have_text("Accepted")
    analyst.wait_for_load_state()  # Bootstrap wires the next buttons at load
    assert "accepted the request" in analyst.locator("#timeline").locator("..").inner_text()

    assert make.state(request_id) == "accepted"
    assert make.get(Request, request_id).size == "M"


def test_form_errors_are_shown_next_to_fields_and_input_is_kept(make, new_page):
    team = make.team("Finance")
    make.user("requester", teams=[team], email="fin@example.com")
    page = new_page()
    log_in(page, "fin@example.com", PASSWORD)
    page.goto("/requests/new")
    page.get_by_label("Title").fill("Budget variance by cost centre")
    page.get_by_role("button", name="Submit request").click()

    assert page.get_by_role("alert").first.is_visible()
    assert page.get_by_label("Title").input_value() == "Budget variance by cost centre"
    lever = page.get_by_label("Which decision or action will it drive?")
    assert lever.get_attribute("aria-invalid") == "true"
    error_id = lever.get_attribute("aria-describedby").split()[-1]
    assert "Say which decision" in page.locator(f"#{error_id}").inner_text()


def test_form_reveals_sponsor_name_and_disables_date_only_when_ticked(make, new_page):
    team = make.team("Sales")
    make.user("requester", teams=[team], email="sal@example.com")
    page = new_page()
    log_in(page, "sal@example.com", PASSWORD)
    page.goto("/requests/new")
    sponsor = page.get_by_label("Executive sponsor", exact=True)
    assert not sponsor.is_visible()
    page.get_by_label("An executive sponsors this request").check()
    assert sponsor.is_visible()

    deadline = page.get_by_label("When do you need it?")
    deadline.fill((date.today() + timedelta(days=5)).isoformat())
    page.get_by_label("No hard deadline").check()
    assert deadline.is_disabled()
    assert deadline.input_value() == ""
