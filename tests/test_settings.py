"""Settings: defaults, validated changes with an immutable audit trail, and the /settings page."""
import re
from datetime import UTC, datetime, time

import pytest
from flask_sqlalchemy.record_queries import get_recorded_queries

from tests.conftest import settings_page_form
from tickets import settings
from tickets.extensions import db
from tickets.models import ImmutableEventError, Setting, SettingChange, Team, User
from tickets.business_hours import BusinessHours, SlaTarget

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def org(make):
    """Marketing and Finance, an analyst in Marketing, a requester, a lead and an admin."""
    marketing, finance = make.team("Marketing"), make.team("Finance")
    return {
        "marketing": marketing, "finance": finance,
        "requester": make.user("requester", teams=[marketing], name="Rita Requester"),
        "analyst": make.user("analyst", teams=[marketing], name="Ana Analyst"),
        "lead": make.user("lead", name="Leo Lead"),
        "admin": make.user("admin", name="Ada Admin"),
    }


def changes(app):
    """Every audit row, oldest first, as (key, old, new, actor_id)."""
    with app.app_context():
        return [(c.key, c.old_value, c.new_value, c.actor_id) for c in db.session.scalars(
            db.select(SettingChange).order_by(SettingChange.id))]


# --- The domain module --------------------------------------------------------------------

def test_every_setting_has_its_default_until_changed(app):
    with app.app_context():
        assert settings.current() == settings.DEFAULTS
        assert settings.get("wip_limit_default") == 3
        assert settings.get("sla_targets")["low"] == {"first_response_hours": 16,
                                                       "resolution_hours": 160}
        with pytest.raises(KeyError):
            settings.get("no_such_setting")


def test_current_reads_every_setting_in_one_sql_statement(app, org):
    with app.app_context():
        settings.update({"timezone": "Europe/Berlin", "wip_limit_default": 4},
                        db.session.get(User, org["lead"]), NOW)
        db.session.commit()
        before = len(get_recorded_queries())
        values = settings.current()
        assert len(get_recorded_queries()) - before == 1
        assert (values["timezone"], values["wip_limit_default"]) == ("Europe/Berlin", 4)


def test_update_audits_only_the_keys_that_really_changed(app, org):
    with app.app_context():
        lead = db.session.get(User, org["lead"])
        recorded = settings.update({"wip_limit_default": 4, "timezone": "UTC",
                                    "working_days": [4, 3, 2, 1, 0], "work_end": "18:00"},
                                   lead, NOW)
        db.session.commit()
        assert [c.key for c in recorded] == ["wip_limit_default", "work_end"]
        assert settings.get("wip_limit_default") == 4
        assert settings.update({"wip_limit_default": 4}, lead, NOW) == []
        db.session.commit()
    assert changes(app) == [("wip_limit_default", 3, 4, org["lead"]),
                            ("work_end", "17:00", "18:00", org["lead"])]


def test_a_second_change_records_the_stored_value_as_old(app, org):
    with app.app_context():
        lead = db.session.get(User, org["lead"])
        settings.update({"lead_time_business_days": 10}, lead, NOW)
        settings.update({"lead_time_business_days": 2}, lead, NOW)
        db.session.commit()
        row = db.session.get(Setting, "lead_time_business_days")
        assert (row.value, row.updated_by_id, row.updated_at) == (2, org["lead"], NOW)
    assert [c[1:3] for c in changes(app)] == [(5, 10), (10, 2)]


@pytest.mark.parametrize("key, value, message", [
    ("wip_limit_default", 0, "The default WIP limit must be a whole number from 1 to 50."),
    ("wip_limit_default", True, "The default WIP limit must be a whole number from 1 to 50."),
    ("wip_limit_default", "3", "The default WIP limit must be a whole number from 1 to 50."),
    ("lead_time_business_days", -1, "The lead time must be a whole number from 0 to 60."),
    ("timezone", "Mars/Olympus", "Choose a timezone from the list, e.g. Europe/Berlin."),
    ("working_days", [], "Choose at least one working day."),
    ("working_days", [7], "Working days are weekday numbers from 0 (Monday) to 6 (Sunday)."),
    ("work_start", "9am", "The start of the working day must be a time of day written as "
                          "HH:MM, e.g. 09:00."),
    ("work_end", "08:00", "The working day must end after it starts."),
    ("sla_targets", {"high": {"first_response_hours": 4, "resolution_hours": 40}},
     "SLA targets need the classes high, standard, low."),
    ("auto_resolve_days", 0, "Auto-resolve days must be a whole number from 1 to 365."),
    ("colour", "blue", "There is no setting called 'colour'."),
])
def test_update_refuses_bad_values_with_a_message_per_key(app, org, key, value, message):
    with app.app_context():
        with pytest.raises(settings.SettingError) as raised:
            settings.update({key: value}, db.session.get(User, org["lead"]), NOW)
        assert (raised.value.key, str(raised.value)) == (key if key != "work_end" else "work_end",
                                                         message)
        db.session.rollback()
    assert changes(app) == []


@pytest.mark.parametrize("first, resolution, message", [
    (8, 8, "The high class's resolution target must be longer than its first response target."),
    (0, 40, "The high class's first response target must be a number of hours from 1 to 2000."),
    (float("nan"), 40, "The high class's first response target must be a number of hours from "
                       "1 to 2000."),
])
def test_sla_targets_must_be_positive_and_resolution_longer(app, first, resolution, message):
    with app.app_context():
        value = settings.current()["sla_targets"]
        value["high"] = {"first_response_hours": first, "resolution_hours": resolution}
        with pytest.raises(settings.SettingError, match=re.escape(message)):
            settings.update({"sla_targets": value}, None, NOW)


def test_setting_changes_cannot_be_edited_or_deleted(app, org):
    with app.app_context():
        settings.update({"wip_limit_default": 5}, None, NOW)
        db.session.commit()
        change = db.session.scalars(db.select(SettingChange)).one()
        change.new_value = 50
        with pytest.raises(ImmutableEventError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(db.select(SettingChange)).one())
        with pytest.raises(ImmutableEventError):
            db.session.flush()
        db.session.rollback()
    assert changes(app) == [("wip_limit_default", 3, 5, None)]


def test_team_budgets_and_wip_limits_are_audited(app, org):
    with app.app_context():
        lead = db.session.get(User, org["lead"])
        team = db.session.get(Team, org["marketing"])
        analyst = db.session.get(User, org["analyst"])
        assert settings.set_team_budget(team, 5, lead, NOW) is not None
        assert settings.set_team_budget(team, 5, lead, NOW) is None
        settings.set_team_budget(team, None, lead, NOW)
        settings.set_wip_limit(analyst, 2, lead, NOW)
        with pytest.raises(settings.SettingError, match="from 0 to 1000"):
            settings.set_team_budget(team, 1001, lead, NOW)
        with pytest.raises(settings.SettingError, match="only analysts and leads"):
            settings.set_wip_limit(db.session.get(User, org["requester"]), 2, lead, NOW)
        db.session.commit()
    m, a = org["marketing"], org["analyst"]
    assert changes(app) == [(f"team:{m}:weekly_ad_hoc_budget", None, 5, org["lead"]),
                            (f"team:{m}:weekly_ad_hoc_budget", 5, None, org["lead"]),
                            (f"user:{a}:wip_limit", None, 2, org["lead"])]


def test_wip_limit_for_is_the_analysts_own_limit_or_the_default(app, org, make):
    other = make.user("analyst")
    with app.app_context():
        analyst, colleague = db.session.get(User, org["analyst"]), db.session.get(User, other)
        settings.set_wip_limit(analyst, 6, None, NOW)
        settings.update({"wip_limit_default": 2}, None, NOW)
        db.session.commit()
        assert (settings.wip_limit_for(analyst), settings.wip_limit_for(colleague)) == (6, 2)
        assert settings.wip_limit_for(colleague, settings.current()) == 2


def test_business_hours_and_sla_targets_come_from_the_settings(app):
    with app.app_context():
        assert settings.business_hours() == BusinessHours("UTC")
        settings.update({"timezone": "Europe/Berlin", "working_days": [6, 0, 1],
                         "work_start": "08:30", "work_end": "16:45"}, None, NOW)
        db.session.commit()
        assert settings.business_hours() == BusinessHours(
            "Europe/Berlin", weekdays={0, 1, 6}, start=time(8, 30), end=time(16, 45))
        assert settings.sla_target("standard") == SlaTarget(8, 80)
        with pytest.raises(KeyError):
            settings.sla_target("urgent")


# --- The page -----------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


@pytest.mark.parametrize("role", ["requester", "analyst"])
def test_requesters_and_analysts_may_not_see_or_change_settings(app, client, auth, org, role):
    auth.login(org[role])
    assert client.get("/settings").status_code == 403
    assert auth.post("/settings", data=settings_page_form(wip_limit_default="9")).status_code == 403
    assert changes(app) == []


@pytest.mark.parametrize("role", ["lead", "admin"])
def test_leads_and_admins_see_the_settings_page(client, auth, org, role):
    auth.login(org[role])
    response = client.get("/settings")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="/settings"' in html
    assert "Marketing" in html and "Ana Analyst" in html
    assert "No changes yet" in html


def test_a_change_without_the_csrf_token_is_refused(app, client, auth, org):
    auth.login(org["lead"])
    response = client.post("/settings", data=settings_page_form(wip_limit_default="9"))
    assert response.status_code == 400
    assert changes(app) == []


def test_saving_the_page_changes_and_audits_in_one_go(app, client, auth, org):
    auth.login(org["lead"])
    m, a = org["marketing"], org["analyst"]
    response = auth.post("/settings", data=settings_page_form(
        wip_limit_default="4", timezone="Europe/Paris", sla_low_resolution="200",
        **{f"budget_{m}": "5", f"wip_{a}": "2"}))
    assert response.status_code == 302
    assert [c[:3] for c in changes(app)] == [
        ("wip_limit_default", 3, 4), ("timezone", "UTC", "Europe/Paris"),
        ("sla_targets", settings.DEFAULTS["sla_targets"],
         {**settings.DEFAULTS["sla_targets"],
          "low": {"first_response_hours": 16, "resolution_hours": 200}}),
        (f"team:{m}:weekly_ad_hoc_budget", None, 5), (f"user:{a}:wip_limit", None, 2)]
    html = client.get("/settings").get_data(as_text=True)
    assert "Saved 5 changes." in html
    assert f'id="budget_{m}"' in html and re.search(rf'id="budget_{m}"[^>]*value="5"', html)
    assert re.search(rf'id="wip_{a}"[^>]*value="2"', html)
    assert "Weekly ad-hoc budget: Marketing" in html and "WIP limit: Ana Analyst" in html
    assert html.count('class="setting-change"') == 5
    # Saving the same values again changes nothing.
    auth.post("/settings", data=settings_page_form(
        wip_limit_default="4", timezone="Europe/Paris", sla_low_resolution="200",
        **{f"budget_{m}": "5", f"wip_{a}": "2"}))
    assert len(changes(app)) == 5


@pytest.mark.parametrize("overrides, expected", [
    ({"wip_limit_default": "0"}, {"wip_limit_default": "Enter a whole number from 1 to 50."}),
    ({"wip_limit_default": ""}, {"wip_limit_default": "Enter a whole number from 1 to 50."}),
    ({"wip_limit_default": "three"}, {"wip_limit_default": "Enter a whole number from 1 to 50."}),
    ({"lead_time_business_days": "1.5"},
     {"lead_time_business_days": "Enter a whole number of days from 0 to 60."}),
    ({"timezone": "Mars/Olympus"}, {"timezone": "Choose a timezone from the list."}),
    ({"working_days": []}, {"working_days": "Choose at least one working day."}),
    ({"working_days": ["9", "x"]}, {"working_days": "Choose working days from the list."}),
    ({"work_start": "25:00"}, {"work_start": "Enter a time of day as HH:MM, e.g. 09:00."}),
    ({"work_end": "08:00"}, {"work_end": "The working day must end after it starts."}),
    ({"sla_high_first_response": "-1"},
     {"sla_high_first_response": "Enter a number of hours from 1 to 2000."}),
    ({"sla_high_first_response": "nan"},
     {"sla_high_first_response": "Enter a number of hours from 1 to 2000."}),
    ({"sla_standard_resolution": "8"},
     {"sla_standard_resolution": "Resolution must take longer than the first response."}),
])
def test_bad_input_is_explained_next_to_its_field_and_kept(app, client, auth, org, errors,
                                                           overrides, expected):
    auth.login(org["lead"])
    response = auth.post("/settings", data=settings_page_form(**overrides))
    assert response.status_code == 400
    assert errors(response) == expected
    html = response.get_data(as_text=True)
    for name, value in overrides.items():
        if isinstance(value, str) and name != "timezone":
            assert re.search(rf'id="{name}"[^>]*value="{re.escape(value)}"', html)
    assert changes(app) == []


def test_bad_budgets_and_wip_limits_are_explained_and_nothing_is_saved(app, auth, org, errors):
    auth.login(org["lead"])
    m, f, a = org["marketing"], org["finance"], org["analyst"]
    response = auth.post("/settings", data=settings_page_form(
        wip_limit_default="4", **{f"budget_{m}": "1001", f"budget_{f}": "x" * 5000,
                                  f"wip_{a}": "0"}))
    assert response.status_code == 400
    budget = "Enter a whole number from 0 to 1000, or leave it blank for no limit."
    assert errors(response) == {f"budget_{m}": budget, f"budget_{f}": budget,
                                f"wip_{a}": "Enter a whole number from 1 to 50, or leave it "
                                            "blank for the default."}
    assert changes(app) == []


def test_garbage_posts_never_break_the_page(app, client, auth, org):
    auth.login(org["lead"])
    for data in ({}, {"working_days": "\x00"}, {"wip_limit_default": "9" * 400},
                 {"timezone": "\x00", "sla_low_resolution": "inf"}):
        assert auth.post("/settings", data=data).status_code == 400
    assert changes(app) == []


def test_the_page_costs_the_same_sql_statements_whatever_the_data_size(
        app, make, client, auth, org, statements):
    auth.login(org["lead"])

    def grow(n):
        made = [(team, make.user("analyst", teams=[team])) for team in
                (make.team() for _ in range(n))]
        with app.app_context():
            lead = db.session.get(User, org["lead"])
            for i, (team_id, analyst_id) in enumerate(made):
                team, analyst = db.session.get(Team, team_id), db.session.get(User, analyst_id)
                settings.set_team_budget(team, i + 1, lead, NOW)
                settings.set_wip_limit(analyst, i % 50 + 1, lead, NOW)
                settings.update({"lead_time_business_days": i % 60}, lead, NOW)
            db.session.commit()

    def cost():
        client.get("/settings")
        del statements[:]
        assert client.get("/settings").status_code == 200
        return statements[-1]

    grow(2)
    small = cost()
    grow(20)
    assert cost() == small
    # Two of them: the navigation's count of follow-ups waiting, the bell's unread count.
    assert small <= 11


# --- Holidays (issue 3; their effect on clocks is in test_sla_clocks.py) ------------------------

def test_holidays_are_part_of_the_business_hours(app, org):
    with app.app_context():
        assert settings.business_hours().holidays == frozenset()
        settings.update({"holidays": ["2026-12-25", "2026-12-24"]},
                        db.session.get(User, org["lead"]), NOW)
        db.session.commit()
        hours = settings.business_hours()
        assert hours.holidays == {datetime(2026, 12, 24).date(), datetime(2026, 12, 25).date()}
        assert not hours.is_working_day(datetime(2026, 12, 24).date())
        assert settings.get("holidays") == ["2026-12-24", "2026-12-25"]


def test_a_post_without_the_holidays_field_leaves_them_alone(app, auth, org):
    with app.app_context():
        settings.update({"holidays": ["2026-12-25"]}, None, NOW)
        db.session.commit()
    auth.login(org["lead"])
    assert auth.post("/settings", settings_page_form(wip_limit_default="4")).status_code == 302
    with app.app_context():
        assert settings.get("holidays") == ["2026-12-25"]
        assert settings.get("wip_limit_default") == 4


def test_clearing_the_holidays_textarea_removes_them_and_is_audited(app, auth, org):
    with app.app_context():
        settings.update({"holidays": ["2026-12-25"]}, None, NOW)
        db.session.commit()
    auth.login(org["lead"])
    assert auth.post("/settings", settings_page_form(holidays="")).status_code == 302
    assert changes(app)[-1] == ("holidays", ["2026-12-25"], [], org["lead"])


def test_the_history_shows_long_holiday_lists_shortened():
    days = [f"2026-12-{day:02d}" for day in range(20, 29)]
    assert settings.format_value("holidays", days) == (
        "2026-12-20, 2026-12-21, 2026-12-22, 2026-12-23, 2026-12-24, 2026-12-25 \u2026 (9 dates)")
    assert settings.format_value("holidays", []) == "none"
