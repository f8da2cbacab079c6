"""The follow-up's one-click answer in Chromium: a real answer link, opened without logging in,
records the answer; logged in, the requester changes it on the request page, with the decision
taken."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets import outcomes
from tickets.extensions import db
from tickets.models import FollowUp, utcnow

pytestmark = pytest.mark.browser


def test_requester_answers_from_the_mail_link_then_adds_the_decision(app, make, new_page,
                                                                     live_server, monkeypatch):
    marketing = make.team("Marketing")
    rita = make.user("requester", teams=[marketing], email="rita@example.com",
                     name="Rita Requester")
    analyst = make.user("analyst", teams=[marketing], name="Ana Analyst")
    request_id = make.request(rita, marketing, title="Weekly churn by region")
    make.act(request_id, "accept", analyst, size="S")
    make.act(request_id, "claim", analyst)
    make.act(request_id, "deliver", analyst, url="https://bi.example.com/churn", note="Done.")
    make.act(request_id, "confirm", rita)
    # The links of the mail point at this server.
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    with app.app_context():
        follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.request_id == request_id))
        outcomes.send_due(utcnow(), force=True)
        db.session.commit()
        link = outcomes.link_url(follow_up, "not_used")
    assert link.startswith(live_server + "/follow-ups/answer/")

    page = new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Was the data used?")).to_be_visible()
    expect(page.get_by_text("Move retention budget to the worst region.")).to_be_visible()
    expect(page.get_by_label("Not used", exact=True)).to_be_checked()
    # "Not used" needs a reason: pressing without one says so next to the select.
    page.get_by_role("button", name="Record my answer").click()
    expect(page.locator("#reason-error")).to_contain_text("Say why it was not used")
    # The person changes their mind: the reason's select hides for another answer.
    page.get_by_label("Not used yet").check()
    expect(page.get_by_label("Why was it not used?")).to_be_hidden()
    page.get_by_role("button", name="Record my answer").click()
    expect(page.get_by_role("heading", name="Thank you, your answer is recorded")).to_be_visible()
    expect(page.locator(".recorded-outcome")).to_have_text("Not used yet")
    assert make.get(FollowUp, follow_up.id).outcome == "not_yet"

    # The same link again: it answered once; the page says what was recorded.
    page.goto(link)
    expect(page.get_by_role("heading", name="This question has an answer already")).to_be_visible()

    # Log in from the thank-you page's link, and change the answer on the request page.
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail").fill("rita@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/requests/{request_id}*")
    card = page.locator("#outcome")
    expect(card).to_contain_text("Not used yet")
    page.wait_for_load_state()  # Bootstrap wires the toggle at load
    card.get_by_role("button", name="Change the answer…").click()
    card.get_by_label("Acted on it").check()
    card.get_by_label("Which decision or action was taken?").fill(
        "Moved the retention budget to the south.")
    card.get_by_label("A note on the value (optional)").fill("Churn fell a point.")
    card.get_by_role("button", name="Save the new answer").click()
    expect(page.locator(".what-happened")).to_contain_text("Acted on it")
    expect(page.locator(".what-happened")).to_contain_text(
        "Moved the retention budget to the south.")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("(changed from Not used yet)")
    expect(timeline).to_contain_text("via the e-mail link")
    row = make.get(FollowUp, follow_up.id)
    assert (row.outcome, row.decision) == ("acted", "Moved the retention budget to the south.")


def test_logged_in_requester_sees_the_prompt_and_answers(app, make, new_page):
    marketing = make.team("Marketing")
    rita = make.user("requester", teams=[marketing], email="rita@example.com")
    analyst = make.user("analyst", teams=[marketing])
    request_id = make.request(rita, marketing, title="Signups by channel")
    for name, who, inputs in (("accept", analyst, {"size": "S"}), ("claim", analyst, {}),
                              ("deliver", analyst, {"url": "https://bi.example.com/s",
                                                    "note": "Done."}),
                              ("confirm", rita, {})):
        make.act(request_id, name, who, **inputs)
    with app.app_context():
        outcomes.send_due(utcnow(), force=True)
        db.session.commit()
    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/mine")
    # My requests puts what waits on the requester first: this follow-up.
    expect(page.locator(".waiting-on-you")).to_contain_text(
        "Was the data used, and what was decided?")
    expect(page.locator(".waiting-on-you").get_by_role(
        "link", name=f"Answer the follow-up for #{request_id}")).to_be_visible()
    page.locator(".follow-ups-link").click()
    page.get_by_role("link", name=f"Answer for #{request_id}").click()
    card = page.locator("#outcome")
    card.get_by_label("Not used", exact=True).check()
    card.get_by_label("Why was it not used?").select_option("too_late")
    card.get_by_role("button", name="Record my answer").click()
    expect(page.locator(".what-happened")).to_contain_text("It came too late for the decision")
    expect(page.locator(".follow-ups-link")).to_have_count(0)
