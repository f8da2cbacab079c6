"""The intake form's suggestions in Chromium: they appear while the requester types, "This
answers my question" ends the draft as a deflection, and a checked form submits at once."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.extensions import db
from tickets.models import Asset, Deflection, Request

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(app, make):
    """Marketing, its requester Rita, and a churn dashboard in the catalogue."""
    marketing = make.team("Marketing")
    make.user("requester", teams=[marketing], email="rita@example.com", name="Rita Requester")
    with app.app_context():
        asset = Asset(title="Weekly churn dashboard", url="https://bi.example.com/churn",
                      kind="dashboard", team_id=marketing,
                      description="Churned accounts by region, every week.")
        db.session.add(asset)
        db.session.commit()
        return {"marketing": marketing, "asset": asset.id}


def rows(app, model):
    with app.app_context():
        return db.session.scalars(db.select(model)).all()


def test_typing_shows_a_suggestion_and_this_answers_my_question_records_a_deflection(
        app, desk, new_page):
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/new")
    panel = page.locator("#suggestions")
    expect(panel).to_be_hidden()

    page.get_by_label("Title").press_sequentially("churn by regi", delay=30)
    expect(panel).to_be_visible(timeout=5_000)
    expect(panel).to_contain_text("Before you ask: these may already answer it")
    suggestion = panel.locator("[data-suggestion]")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("Weekly churn dashboard")
    expect(suggestion).to_contain_text("Dashboard \u00b7 Marketing")
    expect(suggestion.get_by_role("link", name="Open")).to_have_attribute(
        "href", "https://bi.example.com/churn")

    page.get_by_label("What data do you need?").fill("Churned accounts per region, weekly.")
    suggestion.get_by_role("button", name="This answers my question").click()

    page.wait_for_url("**/requests/deflected/*")
    expect(page.get_by_role("heading", name="Glad it helped")).to_be_visible()
    expect(page.get_by_role("link", name="Open it")).to_have_attribute(
        "href", "https://bi.example.com/churn")
    (deflection,) = rows(app, Deflection)
    assert (deflection.asset_id, deflection.team_id) == (desk["asset"], desk["marketing"])
    assert deflection.text == "churn by regi Churned accounts per region, weekly."
    assert rows(app, Request) == []


def test_a_form_the_panel_checked_submits_at_once_and_enter_never_deflects(
        app, desk, new_page):
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/new")
    title = page.get_by_label("Title")
    title.fill("Churn dashboard for the board")
    expect(page.locator("#suggestions [data-suggestion]")).to_have_count(1, timeout=5_000)

    # Enter in the title submits the (incomplete) request, not a suggestion's button.
    title.press("Enter")
    expect(page.get_by_role("alert").first).to_be_visible()
    assert rows(app, Deflection) == []

    page.get_by_label("What data do you need?").fill("Churned accounts per region.")
    page.get_by_label("How will you use it?").fill("Board pack.")
    page.get_by_label("Which result are you trying to influence?").fill("Retention.")
    page.get_by_label("What do you expect the data to look like?").fill("3% a month.")
    page.get_by_label("How will you read the answer from it?").fill("Trend by quarter.")
    page.get_by_label("Which decision or action will it drive?").fill("Retention budget.")
    page.get_by_label("When do you need it?").fill((date.today() + timedelta(days=21)).isoformat())
    # The panel has looked at this text (the form shown again asked for it on load).
    expect(page.locator("#suggestions [data-suggestion]")).to_have_count(1, timeout=5_000)
    page.wait_for_function(
        "() => document.querySelector('[name=suggestions_seen]').value.length === 16")
    page.wait_for_timeout(600)  # the last keystroke's call has answered
    page.get_by_role("button", name="Submit request").click()

    page.wait_for_url(re.compile(r".*/requests/\d+$"))
    assert [r.title for r in rows(app, Request)] == ["Churn dashboard for the board"]
    assert rows(app, Deflection) == []
