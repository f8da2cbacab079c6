"""The action forms of issue 12 in Chromium: marking a duplicate with the search picker (type
words, pick the original, submit), and the deliver form showing the inputs of the choice made."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets.models import Asset, AssetLink, Request

pytestmark = pytest.mark.browser


@pytest.fixture
def marketing(make):
    team = make.team("Marketing")
    make.user("requester", teams=[team], email="rosa@example.com", name="Rosa Requester")
    make.user("requester", teams=[team], email="ravi@example.com", name="Ravi Requester")
    make.user("analyst", teams=[team], email="priya@example.com", name="Priya Analyst")
    return team


def user_id(app, email):
    from tickets.extensions import db
    from tickets.models import User

    with app.app_context():
        return db.session.scalar(db.select(User.id).where(User.email == email))


def test_mark_a_duplicate_by_typing_words_and_picking_the_original(app, make, new_page,
                                                                    marketing):
    ravi, rosa = user_id(app, "ravi@example.com"), user_id(app, "rosa@example.com")
    original = make.request(ravi, marketing, title="Weekly churn by region",
                            data_needed="Churned accounts per region per week.")
    make.request(ravi, marketing, title="Hiring funnel", data_needed="Candidates at each stage.")
    duplicate = make.request(rosa, marketing, title="Churn per region each week",
                             data_needed="How many accounts churn in each region, weekly.")

    analyst = new_page()
    log_in(analyst, "priya@example.com", PASSWORD)
    analyst.goto(f"/requests/{duplicate}")
    analyst.wait_for_load_state()  # Bootstrap and the picker wire the page at load
    analyst.get_by_role("button", name="Mark duplicate…").click()
    form = analyst.locator("#action-mark_duplicate")
    field = form.get_by_label("Original request")
    field.press_sequentially("churn region", delay=30)
    # The picker lists what the words find (search.pick.json, for=duplicate): pick the original.
    choice = analyst.get_by_role("option", name=re.compile("Weekly churn by region"))
    expect(choice).to_be_visible()
    choice.click()
    expect(form.locator('input[type="hidden"][name="mark_duplicate-original_ref"]')).to_have_value(
        f"request:{original}")
    form.get_by_role("button", name="Mark duplicate").click()
    expect(analyst.locator(".badge.state").first).to_have_text("Duplicate")
    assert f"Marked as a duplicate of #{original}." in analyst.get_by_role("status").first.inner_text()
    assert make.get(Request, duplicate).duplicate_of_id == original


def test_the_deliver_form_shows_the_inputs_of_the_choice_made(app, make, new_page, marketing):
    rosa, priya = user_id(app, "rosa@example.com"), user_id(app, "priya@example.com")
    request_id = make.request(rosa, marketing, title="Newsletter clicks by segment",
                              format="dashboard")
    make.act(request_id, "accept", priya, size="S")
    make.act(request_id, "claim", priya)

    analyst = new_page()
    log_in(analyst, "priya@example.com", PASSWORD)
    analyst.goto(f"/requests/{request_id}")
    analyst.wait_for_load_state()
    analyst.get_by_role("button", name="Deliver…").click()
    form = analyst.locator("#action-deliver")
    title = form.get_by_label("Title in the catalogue")
    existing = form.get_by_label("Existing asset", exact=True)
    hours = form.get_by_label("Analyst hours it cost")
    # At first: a new catalogue entry, prefilled; no existing asset, no gap.
    expect(title).to_have_value("Newsletter clicks by segment")
    expect(title).to_be_visible()
    expect(existing).to_be_hidden()
    expect(hours).to_be_hidden()
    form.get_by_label("It is an existing asset of the catalogue").check()
    expect(title).to_be_hidden()
    expect(existing).to_be_visible()
    form.get_by_label("Leave it out (a one-off answer nobody else will need)").check()
    expect(existing).to_be_hidden()
    form.get_by_label("The requester could have done this themselves").check()
    expect(hours).to_be_visible()
    expect(hours).to_have_value("4")  # an S costs 4 hours
    form.get_by_label("The requester could have done this themselves").uncheck()
    form.get_by_label("Add it to the catalogue").check()
    form.get_by_label("Link to the deliverable").fill("https://bi.example.com/d/newsletter")
    form.get_by_label("Delivery note").fill("Segments ranked by clicks.")
    form.get_by_role("button", name="Deliver").click()
    expect(analyst.locator(".badge.state").first).to_have_text("Delivered")
    expect(analyst.locator(".request-assets")).to_contain_text("Newsletter clicks by segment")
    with app.app_context():
        from tickets.extensions import db

        asset = db.session.scalars(db.select(Asset)).one()
        link = db.session.scalars(db.select(AssetLink)).one()
        assert (asset.url, asset.kind, link.request_id, link.how) == (
            "https://bi.example.com/d/newsletter", "dashboard", request_id, "delivered")
