"""Numbers people can trust, in Chromium (issue 14): the intake form's waitlist notice follows
the team and the kind before submitting, and a request's forecast shows its range and the
deadline it passes, on a laptop and a phone width."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets import settings
from tickets.extensions import db
from tickets.models import Request, Team, utcnow

pytestmark = pytest.mark.browser


def test_the_intake_form_says_an_ad_hoc_request_will_be_waitlisted_before_submitting(
        app, make, new_page):
    support, finance = make.team("Customer Support"), make.team("Finance")
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, support), 1, None, utcnow())
        db.session.commit()
    grace = make.user("requester", teams=[support, finance], email="grace@example.com")
    make.request(grace, support)  # takes the only place this week

    page = new_page()
    log_in(page, "grace@example.com", PASSWORD)
    page.goto("/requests/new")
    page.get_by_label("Requesting team").select_option(str(support))

    notice = page.locator("#team_id-waitlist-notice")
    assert notice.is_visible()
    assert notice.get_attribute("role") == "status"
    text = notice.inner_text()
    assert "If you submit it now, this request will be waitlisted" in text
    assert "at position 1 (nobody waits before it)" in text
    assert "ask a lead to approve it over budget" in text
    assert page.locator("#team_id-budget").inner_text() == (
        "Customer Support has used 1 of 1 ad-hoc requests this week")

    page.get_by_label("Project", exact=False).first.check()
    assert notice.is_hidden()
    page.get_by_label("Ad-hoc", exact=False).first.check()
    assert notice.is_visible()
    page.get_by_label("Requesting team").select_option(str(finance))
    assert notice.is_hidden() and page.locator("#team_id-budget").is_hidden()
    page.get_by_label("Requesting team").select_option(str(support))
    assert notice.is_visible()

    # On a phone the notice stays next to the team and fits the screen.
    page.set_viewport_size({"width": 390, "height": 900})
    box = notice.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def _deliveries(app, make, requester, team, per_week):
    """Resolved requests delivered on the Tuesday of each of the last full weeks."""
    now = utcnow()
    monday = now.date() - timedelta(days=now.weekday())
    for index, count in enumerate(per_week):
        tuesday = monday - timedelta(weeks=len(per_week) - index) + timedelta(days=1)
        for _ in range(count):
            request_id = make.request(requester, team, title="Done before")
            with app.app_context():
                db.session.execute(update(Request).where(Request.id == request_id).values(
                    state="resolved", closed_at=now,
                    delivered_at=datetime(tuesday.year, tuesday.month, tuesday.day, 12,
                                          tzinfo=UTC)))
                db.session.commit()


def test_a_request_page_shows_the_forecast_range_and_the_deadline_it_passes(
        app, make, new_page):
    marketing = make.team("Marketing")
    rita = make.user("requester", teams=[marketing], email="rita@example.com")
    lead = make.user("lead", email="lena@example.com")
    _deliveries(app, make, rita, marketing, [2] * 8)
    tomorrow = utcnow().date() + timedelta(days=1)
    queued = make.request(rita, marketing, title="Churn by region", deadline=tomorrow)
    make.act(queued, "accept", lead, size="L")

    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto(f"/requests/{queued}")

    panel = page.locator(".forecast-panel")
    assert "Delivery likely" in panel.locator(".forecast-line").inner_text()
    assert panel.get_by_text("Half the futures deliver by").is_visible()
    assert panel.get_by_text("85 in 100 deliver by").is_visible()
    risk = panel.locator(".forecast-risk-deadline")
    assert risk.is_visible()
    assert "after the deadline" in risk.inner_text() and "Talk to the lead" in risk.inner_text()
    assert "Position 1 of 1 in Marketing\u2019s queue" in panel.inner_text()

    page.set_viewport_size({"width": 390, "height": 900})
    assert risk.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
