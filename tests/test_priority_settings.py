"""The "Priority" card of /settings: lead-settable weights, the oldest-first rule counted in the
team's working days, and the help page that shows them."""
from datetime import UTC, date, datetime

import pytest

from tests.conftest import settings_page_form
from tickets import priority, settings
from tickets.business_hours import BusinessHours
from tickets.extensions import db
from tickets.models import SettingChange, User

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday

PRIORITY_FORM = {"priority_impact_weight": "1", "priority_urgency_weight": "1",
                 "priority_sponsor_points": "2", "priority_ageing_per_day": "0.1",
                 "priority_ageing_cap": "5", "priority_oldest_first_after": "15"}


@pytest.fixture
def org(make):
    marketing = make.team("Marketing")
    return {"marketing": marketing, "lead": make.user("lead", name="Leo Lead"),
            "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst")}


def audit(app):
    with app.app_context():
        return [(c.key, c.old_value, c.new_value) for c in db.session.scalars(
            db.select(SettingChange).order_by(SettingChange.id))]


# --- The domain ------------------------------------------------------------------------------

def test_default_settings_give_the_default_weights(app):
    with app.app_context():
        assert settings.priority_weights() == priority.DEFAULT_WEIGHTS


def test_weights_come_from_the_settings_and_changes_are_audited(app, org):
    with app.app_context():
        lead = db.session.get(User, org["lead"])
        settings.update({"priority_impact_weight": 1.5, "priority_oldest_first_after": 20,
                         "priority_ageing_cap": 0}, lead, NOW)
        db.session.commit()
        assert settings.priority_weights() == priority.Weights(
            impact=1.5, oldest_first_after=20, ageing_cap=0)
    assert audit(app) == [("priority_impact_weight", 1.0, 1.5), ("priority_ageing_cap", 5, 0),
                          ("priority_oldest_first_after", 15, 20)]


@pytest.mark.parametrize("key, value, message", [
    ("priority_impact_weight", 5.5, "Impact weight must be a number from 0 to 5."),
    ("priority_urgency_weight", -1, "Urgency weight must be a number from 0 to 5."),
    ("priority_urgency_weight", float("nan"), "Urgency weight must be a number from 0 to 5."),
    ("priority_sponsor_points", True, "Sponsor points must be a number from 0 to 10."),
    ("priority_ageing_per_day", 2, "Ageing per day must be a number from 0 to 1."),
    ("priority_ageing_cap", 21, "Ageing cap must be a number from 0 to 20."),
    ("priority_oldest_first_after", 3, "Oldest first after must be 0 (off) or a whole number "
                                       "of working days from 5 to 60."),
    ("priority_oldest_first_after", 15.5, "Oldest first after must be 0 (off) or a whole "
                                          "number of working days from 5 to 60."),
])
def test_bad_weights_are_refused_with_a_message(app, key, value, message):
    with app.app_context():
        with pytest.raises(settings.SettingError) as refused:
            settings.update({key: value}, None, NOW)
        assert (refused.value.key, str(refused.value)) == (key, message)


def test_working_days_before_skips_weekends_and_holidays_and_keeps_the_local_time():
    hours = BusinessHours("Europe/Berlin", holidays={date(2026, 11, 20)})
    monday = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
    # Back 1: Fri 20th is a holiday, so Thu 19th; back 5: Thu 19, Wed, Tue, Mon 16, Fri 13.
    assert hours.working_days_before(monday, 1) == datetime(2026, 11, 19, 9, 30, tzinfo=UTC)
    assert hours.working_days_before(monday, 5) == datetime(2026, 11, 13, 9, 30, tzinfo=UTC)
    assert hours.working_days_before(monday, 0) == monday
    # Across the end of summer time the local wall-clock time stays 10:30.
    assert hours.working_days_before(datetime(2026, 11, 2, 9, 30, tzinfo=UTC), 5) == \
        datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
    assert hours.working_days_before(datetime(2026, 10, 26, 9, 30, tzinfo=UTC), 1) == \
        datetime(2026, 10, 23, 8, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        hours.working_days_before(datetime(2026, 11, 23, 9, 30), 1)


def test_oldest_first_before_counts_the_teams_working_days_and_is_none_when_off(app):
    with app.app_context():
        values = settings.current()
        # 15 working days before Monday 23 November: Monday 2 November, same time.
        assert settings.oldest_first_before(NOW, values) == datetime(2026, 11, 2, 10, 0,
                                                                      tzinfo=UTC)
        values["holidays"] = ["2026-11-11"]
        assert settings.oldest_first_before(NOW, values) == datetime(2026, 10, 30, 10, 0,
                                                                      tzinfo=UTC)
        values["priority_oldest_first_after"] = 0
        assert settings.oldest_first_before(NOW, values) is None


def test_the_rule_with_settings_ranks_an_aged_request_first(app):
    with app.app_context():
        values = settings.current()
        weights, aged_before = settings.priority_weights(values), settings.oldest_first_before(
            NOW, values)

    class Req:
        def __init__(self, id, impact, created_at):
            self.id, self.business_impact, self.created_at = id, impact, created_at
            self.deadline, self.is_exec_sponsored, self.size = None, False, "M"

    waited_16 = Req(1, 1, datetime(2026, 10, 30, 10, 0, tzinfo=UTC))
    waited_14 = Req(2, 1, datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    critical = Req(3, 5, NOW)
    assert priority.rank([critical, waited_14, waited_16], NOW, weights=weights,
                         aged_before=aged_before) == [waited_16, critical, waited_14]


# --- The page --------------------------------------------------------------------------------

def test_the_priority_card_shows_the_weights_to_leads(client, auth, org):
    auth.login(org["lead"])
    html = client.get("/settings").get_data(as_text=True)
    assert 'id="s-priority"' in html
    for name, value in PRIORITY_FORM.items():
        assert f'id="{name}"' in html and f'value="{value}"' in html


def test_saving_the_priority_card_changes_and_audits_the_weights(app, client, auth, org):
    auth.login(org["lead"])
    response = auth.post("/settings", data=settings_page_form(
        **{**PRIORITY_FORM, "priority_impact_weight": "1.5", "priority_oldest_first_after": "0"}))
    assert response.status_code == 302
    assert audit(app) == [("priority_impact_weight", 1.0, 1.5),
                          ("priority_oldest_first_after", 15, 0)]
    html = client.get("/settings").get_data(as_text=True)
    assert "Priority: impact weight" in html and "Priority: oldest first after" in html
    with app.app_context():
        assert settings.priority_weights() == priority.Weights(impact=1.5, oldest_first_after=0)


def test_a_post_without_the_priority_card_leaves_the_weights_alone(app, auth, org):
    auth.login(org["lead"])
    assert auth.post("/settings", data=settings_page_form()).status_code == 302
    assert audit(app) == []


@pytest.mark.parametrize("overrides, expected", [
    ({"priority_impact_weight": "6"}, {"priority_impact_weight": "Enter a weight from 0 to 5."}),
    ({"priority_urgency_weight": "x"}, {"priority_urgency_weight": "Enter a weight from 0 to 5."}),
    ({"priority_sponsor_points": "-1"}, {"priority_sponsor_points": "Enter points from 0 to 10."}),
    ({"priority_ageing_per_day": "inf"}, {"priority_ageing_per_day": "Enter points from 0 to 1."}),
    ({"priority_ageing_cap": "20.5"}, {"priority_ageing_cap": "Enter points from 0 to 20."}),
    ({"priority_oldest_first_after": "4"}, {"priority_oldest_first_after":
        "Enter 0 to switch the rule off, or a whole number of working days from 5 to 60."}),
    ({"priority_oldest_first_after": "15.5"}, {"priority_oldest_first_after":
        "Enter 0 to switch the rule off, or a whole number of working days from 5 to 60."}),
])
def test_bad_weights_are_explained_next_to_their_field(app, auth, org, errors, overrides,
                                                       expected):
    auth.login(org["lead"])
    response = auth.post("/settings", data=settings_page_form(**{**PRIORITY_FORM, **overrides}))
    assert response.status_code == 400
    assert errors(response) == expected
    assert audit(app) == []


@pytest.mark.parametrize("role", ["requester", "analyst"])
def test_only_leads_and_admins_may_change_the_weights(app, client, auth, make, role):
    user = make.user(role, name="Someone")
    auth.login(user)
    response = auth.post("/settings", data=settings_page_form(
        **{**PRIORITY_FORM, "priority_impact_weight": "3"}))
    assert response.status_code in (302, 403)
    with app.app_context():
        assert settings.priority_weights() == priority.DEFAULT_WEIGHTS


# --- The help page ---------------------------------------------------------------------------

def test_the_help_page_shows_the_current_weights_and_the_oldest_first_rule(app, client, org):
    html = client.get("/help").get_data(as_text=True)
    assert "impact points × <strong>1</strong>" in html
    assert "waited <strong>15 working days</strong>" in html
    with app.app_context():
        settings.update({"priority_sponsor_points": 3, "priority_ageing_per_day": 0.2,
                         "priority_oldest_first_after": 0}, None, NOW)
        db.session.commit()
    html = client.get("/help").get_data(as_text=True)
    assert "An executive sponsor adds 3." in html
    assert "+0.2 for every full day" in html
    assert "The oldest-first rule is switched off" in html


def test_the_backlog_says_when_the_oldest_first_rule_puts_a_request_ahead(app, client, auth,
                                                                          org):
    auth.login(org["lead"])
    html = client.get("/backlog").get_data(as_text=True)
    assert "except that requests waiting 15+ working days go first, oldest first" in html
    with app.app_context():
        settings.update({"priority_oldest_first_after": 0}, None, NOW)
        db.session.commit()
    html = client.get("/backlog").get_data(as_text=True)
    assert "working days go first" not in html
