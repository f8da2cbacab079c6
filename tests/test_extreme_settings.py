"""Settings at their limits: every setting has a sane range with a field-level message, and
business-hours arithmetic stays fast and in range at the extremes the ranges allow and beyond
(issue 10: Sunday only, a one-minute day and 9999-hour targets took minutes or overflowed)."""
import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.conftest import settings_page_form
from tickets import settings
from tickets.extensions import db
from tickets.business_hours import HORIZON, BusinessHours, add_business_seconds, business_seconds_between
from tickets.models import SLA_CLASSES, Request, Setting, SettingChange

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def org(make):
    """Marketing with a requester, an analyst and a lead, and three open requests."""
    marketing = make.team("Marketing")
    people = {"marketing": marketing,
              "requester": make.user("requester", teams=[marketing]),
              "analyst": make.user("analyst", teams=[marketing]),
              "lead": make.user("lead", teams=[marketing])}
    people["requests"] = [make.request(people["requester"], marketing) for _ in range(3)]
    make.act(people["requests"][0], "accept", people["analyst"], size="S")
    make.act(people["requests"][1], "ask", people["analyst"], note="Which regions?")
    return people


def settings_page(**overrides):
    """The settings page as a browser posts it, the digest and auto-resolve fields included."""
    return settings_page_form(**{"digest_weekday": "0", "digest_time": "08:00",
                                 "auto_resolve_days": "7", **overrides})


# Far below the 14,000 days to the horizon that a day-by-day walk would step through.
STEP_BOUND = 1000


@pytest.fixture
def calendar_steps(monkeypatch):
    """Count the calendar's day-level steps (``is_working_day`` and ``window`` calls): the work
    that a day-by-day walk would multiply by the days of a 40-year span. A count, not a clock,
    so a busy machine cannot make it fail."""
    steps = {"count": 0}
    for name in ("is_working_day", "window"):
        original = getattr(BusinessHours, name)

        def counted(self, *args, _original=original, **kwargs):
            steps["count"] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(BusinessHours, name, counted)
    return steps


def audit_rows(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(SettingChange.id)))


# --- Ranges ---------------------------------------------------------------------------------------

def test_the_extreme_settings_of_the_issue_are_field_errors_not_server_errors(app, auth, org,
                                                                              errors):
    auth.login(org["lead"])
    response = auth.post("/settings", data=settings_page(
        working_days=["6"], work_start="09:00", work_end="09:01",
        sla_high_first_response="9999", sla_high_resolution="9999.5",
        sla_low_first_response="4000", sla_low_resolution="9999"))
    assert response.status_code == 400
    assert errors(response) == {
        "work_end": "The working day must be at least one hour long.",
        "sla_high_first_response": "Enter a number of hours from 1 to 2000.",
        "sla_high_resolution": "Enter a number of hours from 1 to 2000.",
        "sla_low_first_response": "Enter a number of hours from 1 to 2000.",
        "sla_low_resolution": "Enter a number of hours from 1 to 2000."}
    assert audit_rows(app) == 0


@pytest.mark.parametrize("overrides, field, message", [
    ({"working_days": []}, "working_days", "Choose at least one working day."),
    ({"work_start": "09:00", "work_end": "09:59"}, "work_end",
     "The working day must be at least one hour long."),
    ({"work_start": "23:30", "work_end": "23:59"}, "work_end",
     "The working day must be at least one hour long."),
    ({"work_start": "10:00", "work_end": "09:00"}, "work_end",
     "The working day must end after it starts."),
    ({"sla_high_first_response": "0.5"}, "sla_high_first_response",
     "Enter a number of hours from 1 to 2000."),
    ({"sla_low_resolution": "2000.5"}, "sla_low_resolution",
     "Enter a number of hours from 1 to 2000."),
    ({"sla_low_resolution": "1e9"}, "sla_low_resolution",
     "Enter a number of hours from 1 to 2000."),
    ({"lead_time_business_days": "61"}, "lead_time_business_days",
     "Enter a whole number of days from 0 to 60."),
    ({"wip_limit_default": "51"}, "wip_limit_default", "Enter a whole number from 1 to 50."),
    ({"auto_resolve_days": "366"}, "auto_resolve_days",
     "Enter a whole number of days from 1 to 365."),
    ({"digest_time": "24:00"}, "digest_time", "Enter a time of day as HH:MM, e.g. 09:00."),
    ({"digest_weekday": "7"}, "digest_weekday", "Choose a day of the week."),
    ({"holidays": "10000-01-01"}, "holidays",
     "Line 1: \u201c10000-01-01\u201d is not written YYYY-MM-DD (e.g. 2026-12-25)."),
])
def test_each_setting_out_of_range_gets_a_field_error(app, auth, org, errors, overrides, field,
                                                      message):
    auth.login(org["lead"])
    response = auth.post("/settings", data=settings_page(**overrides))
    assert response.status_code == 400
    assert errors(response) == {field: message}
    assert audit_rows(app) == 0


@pytest.mark.parametrize("key, value, message", [
    ("work_end", "09:30", "The working day must be at least one hour long."),
    ("sla_targets", {"high": {"first_response_hours": 4, "resolution_hours": 2001},
                     "standard": {"first_response_hours": 8, "resolution_hours": 80},
                     "low": {"first_response_hours": 16, "resolution_hours": 160}},
     "The high class's resolution target must be a number of hours from 1 to 2000."),
    ("sla_targets", {"high": {"first_response_hours": 0.25, "resolution_hours": 40},
                     "standard": {"first_response_hours": 8, "resolution_hours": 80},
                     "low": {"first_response_hours": 16, "resolution_hours": 160}},
     "The high class's first response target must be a number of hours from 1 to 2000."),
])
def test_the_settings_module_refuses_the_same_ranges_as_the_page(app, org, key, value, message):
    with app.app_context():
        with pytest.raises(settings.SettingError) as refused:
            settings.update({key: value}, None, MONDAY)
        assert (refused.value.key, str(refused.value)) == (key, message)
        db.session.rollback()
    assert audit_rows(app) == 0


def test_the_slowest_calendar_allowed_saves_and_recomputes_clocks_in_a_few_steps(
        app, auth, org, calendar_steps):
    """Sunday only, the shortest day (an hour), the longest targets (2000 hours): every due
    date is about 40 years out (some 14,000 days), and still computed in a few hundred
    calendar steps, not one per day."""
    auth.login(org["lead"])
    targets = {f"sla_{sla_class}_{clock}": hours for sla_class in ("high", "standard", "low")
               for clock, hours in (("first_response", "1999"), ("resolution", "2000"))}
    response = auth.post("/settings", data=settings_page(
        working_days=["6"], work_start="09:00", work_end="10:00",
        holidays="\n".join(f"{year}-12-27" for year in range(2026, 2060)), **targets))
    assert response.status_code == 302
    assert calendar_steps["count"] < STEP_BOUND
    with app.app_context():
        running = db.session.scalars(db.select(Request).where(Request.state == "accepted")).one()
        assert running.sla_due_at is not None
        assert running.sla_due_at.year > 2060
    calendar_steps["count"] = 0
    page = auth.client.get(f"/requests/{org['requests'][0]}")
    assert page.status_code == 200
    assert calendar_steps["count"] < STEP_BOUND


# --- Business-hours arithmetic at the extremes -----------------------------------------------------

ONE_MINUTE_SUNDAYS = BusinessHours("UTC", weekdays={6}, start=time(9), end=time(9, 1))


@pytest.mark.parametrize("target_hours", [4000, 9999, 10**9])
def test_adding_huge_targets_to_one_minute_sundays_takes_few_steps_and_never_overflows(
        target_hours, calendar_steps):
    assert add_business_seconds(MONDAY, target_hours * 3600, ONE_MINUTE_SUNDAYS) is None
    assert calendar_steps["count"] < STEP_BOUND


def test_time_that_runs_out_before_the_horizon_is_found_on_one_minute_sundays():
    due = add_business_seconds(MONDAY, 2000 * 3600, ONE_MINUTE_SUNDAYS)  # 120,000 Sundays
    assert due is None  # past 2200: one minute a week is 173 years short of it
    due = add_business_seconds(MONDAY, 100 * 3600, ONE_MINUTE_SUNDAYS)  # 6,000 Sundays
    assert due.date() == date(2026, 11, 29) + timedelta(weeks=5999)
    assert (due.hour, due.minute) == (9, 1)
    assert business_seconds_between(MONDAY, due, ONE_MINUTE_SUNDAYS) == 100 * 3600


def test_nothing_is_counted_from_the_horizon_on():
    assert add_business_seconds(datetime(2199, 12, 30, 9, tzinfo=UTC), 30 * 3600,
                                BusinessHours("UTC")) is None
    far = datetime(9999, 12, 31, 9, tzinfo=UTC)
    assert add_business_seconds(far, 3600, BusinessHours("UTC", weekdays=range(7))) == \
        far + timedelta(hours=1)  # within its own day
    assert add_business_seconds(far, 9 * 3600, BusinessHours("UTC", weekdays=range(7))) is None


def add_by_walking(start, seconds, hours):
    """The reference: walk day by day from ``start`` (slow, obviously right) until HORIZON."""
    remaining = timedelta(seconds=seconds)
    day = start.astimezone(hours.tzinfo).date()
    while day < HORIZON:
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            begin = max(opens, start)
            if begin < closes:
                if remaining <= closes - begin:
                    return begin + remaining
                remaining -= closes - begin
        day += timedelta(days=1)
    return None


CALENDARS = [
    BusinessHours("Europe/Berlin", holidays={date(2026, 12, 25), date(2027, 1, 1),
                                             date(2027, 3, 28), date(2030, 4, 21)}),
    BusinessHours("Europe/Berlin", weekdays={6}, start=time(1), end=time(4)),  # DST inside
    BusinessHours("Pacific/Auckland", weekdays={0, 2, 4}, start=time(7), end=time(19)),
    BusinessHours("America/New_York", weekdays={5, 6}, start=time(0), end=time(23, 59),
                  holidays={date(2027, 11, 7), date(2028, 3, 12)}),
    BusinessHours("UTC", weekdays={6}, start=time(9), end=time(10),
                  holidays={date(2026, 11, 29) + timedelta(weeks=n) for n in range(0, 400, 3)}),
]


@pytest.mark.parametrize("hours", CALENDARS, ids=[f"calendar{n}" for n in range(len(CALENDARS))])
def test_jumping_whole_weeks_gives_what_walking_day_by_day_gives(hours):
    choose = random.Random(10)
    for _ in range(25):
        start = MONDAY + timedelta(minutes=choose.randrange(0, 60 * 24 * 400))
        seconds = choose.choice([1, 59, 3600, 8 * 3600]) * choose.randrange(1, 2000)
        expected = add_by_walking(start, seconds, hours)
        assert add_business_seconds(start, seconds, hours) == expected, (start, seconds)
        if expected is not None:
            assert business_seconds_between(start, expected, hours) == seconds


def test_settings_stored_before_they_had_ranges_never_break_a_page(app, auth, org, make):
    """An install that saved a one-minute Sunday and 9999-hour targets before the ranges:
    every due date lies past the horizon, and the pages still answer."""
    legacy = {"working_days": [6], "work_start": "09:00", "work_end": "09:01",
              "sla_targets": {sla_class: {"first_response_hours": 9998, "resolution_hours": 9999}
                              for sla_class in SLA_CLASSES}}
    with app.app_context():
        for key, value in legacy.items():
            db.session.add(Setting(key=key, value=value))
        db.session.commit()
    request_id = make.request(org["requester"], org["marketing"])
    auth.login(org["lead"])
    for path in (f"/requests/{request_id}", f"/requests/{org['requests'][0]}", "/backlog",
                 "/triage", "/requests/all"):
        response = auth.client.get(path)
        assert response.status_code == 200, path
    assert "not due before 2200" in auth.client.get(f"/requests/{request_id}").get_data(
        as_text=True)
