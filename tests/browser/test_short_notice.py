"""The intake form's limits in Chromium: the live short-notice warning and the budget line."""
from datetime import date, timedelta

import pytest

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD
from tickets import settings
from tickets.extensions import db
from tickets.models import Team, utcnow

pytestmark = pytest.mark.browser


def test_short_notice_warning_and_budget_line_follow_the_form(app, make, new_page):
    marketing = make.team("Marketing")
    finance = make.team("Finance")
    sales = make.team("Sales")
    with app.app_context():
        settings.set_team_budget(db.session.get(Team, marketing), 5, None, utcnow())
        settings.set_team_budget(db.session.get(Team, finance), 3, None, utcnow())
        db.session.commit()
    rita = make.user("requester", teams=[marketing], email="rita@example.com")
    make.request(rita, marketing)

    page = new_page()
    log_in(page, "rita@example.com", PASSWORD)
    page.goto("/requests/new")

    line = page.locator("#team_id-budget")
    assert line.inner_text() == "Marketing has used 1 of 5 ad-hoc requests this week"
    page.get_by_label("Requesting team").select_option(str(finance))
    assert line.inner_text() == "Finance has used 0 of 3 ad-hoc requests this week"
    page.get_by_label("Requesting team").select_option(str(sales))
    assert line.is_hidden()
    page.get_by_label("Requesting team").select_option(str(marketing))
    assert line.inner_text() == "Marketing has used 1 of 5 ad-hoc requests this week"

    warning = page.locator("#deadline-short-notice-warning")
    assert warning.get_attribute("role") == "status"
    assert warning.is_hidden()
    deadline = page.get_by_label("When do you need it?")
    deadline.fill((date.today() + timedelta(days=1)).isoformat())
    assert warning.is_visible()
    assert "Short notice" in warning.inner_text()
    deadline.fill((date.today() + timedelta(days=60)).isoformat())
    assert warning.is_hidden()
    deadline.fill((date.today() + timedelta(days=1)).isoformat())
    assert warning.is_visible()
    page.get_by_label("No hard deadline").check()
    assert warning.is_hidden()
