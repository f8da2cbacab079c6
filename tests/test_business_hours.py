"""Business hours and clocks over a history (tickets/business_hours.py): pure functions, no app
and no database.

Histories are lists of SimpleNamespace events shaped like tickets.models.Event. Dates are in
2026: Europe/Berlin moves to summer time on Sunday 29 March and back on Sunday 25 October;
Good Friday is 3 April and Easter Monday 6 April.
"""
import sys
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests.purity import imported_top_level_modules
from tickets import business_hours
from tickets.business_hours import (
    BusinessHours,
    SlaTarget,
    add_business_seconds,
    business_seconds_between,
    elapsed_business_seconds,
    first_response_at,
    first_response_elapsed,
)
from tickets.sla_clocks import IDLE_STATES as IDLE  # the SLA's: paused and stopped states
from tickets.sla_clocks import STOPPED_STATES

pytestmark = pytest.mark.filterwarnings("error")

HOUR = 3600
MINUTE = 60
BERLIN_ZONE = ZoneInfo("Europe/Berlin")
EASTER_2026 = frozenset({date(2026, 4, 3), date(2026, 4, 6)})
BERLIN = BusinessHours("Europe/Berlin")
BERLIN_EASTER = BusinessHours("Europe/Berlin", holidays=EASTER_2026)
# Every day from 01:00 to 04:00: working hours that contain Berlin's DST changes.
BERLIN_NIGHTS = BusinessHours("Europe/Berlin", weekdays=range(7), start=time(1), end=time(4))
UTC_OFFICE = BusinessHours("UTC")

REQUESTER, ANALYST, LEAD = 1, 2, 3


def berlin(day, hour=0, minute=0):
    """An aware datetime at local wall-clock time in Berlin, ``day`` as 'YYYY-MM-DD'."""
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=BERLIN_ZONE)


def utc(day, hour=0, minute=0):
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=UTC)


def brute_force_seconds(start, end, hours):
    """Count working hours one UTC hour at a time (valid when everything falls on whole hours)."""
    zone = ZoneInfo(hours.timezone)
    count = 0
    moment = start.astimezone(UTC)
    while moment < end:
        local = moment.astimezone(zone)
        if (local.weekday() in hours.weekdays and local.date() not in hours.holidays
                and hours.start <= local.time() < hours.end):
            count += 1
        moment += timedelta(hours=1)
    return count * HOUR


# --- Events, shaped like tickets.models.Event ---------------------------------------------


def created(at, actor_id=REQUESTER):
    return SimpleNamespace(kind="created", action=None, from_state=None, to_state="submitted",
                           created_at=at, actor_id=actor_id)


def moved(from_state, to_state, at, actor_id=ANALYST):
    return SimpleNamespace(kind="transition", action=None, from_state=from_state,
                           to_state=to_state, created_at=at, actor_id=actor_id)


def comment(at, actor_id):
    return SimpleNamespace(kind="comment", action=None, from_state=None, to_state=None,
                           created_at=at, actor_id=actor_id)


def edit(at, actor_id):
    return SimpleNamespace(kind="edit", action=None, from_state=None, to_state=None,
                           created_at=at, actor_id=actor_id)


# --- The module stays pure ----------------------------------------------------------------


def test_module_imports_only_the_standard_library():
    imported = imported_top_level_modules(business_hours.__file__)
    assert imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names


# --- BusinessHours ------------------------------------------------------------------------


def test_business_hours_default_to_monday_to_friday_nine_to_five():
    assert BERLIN.weekdays == frozenset({0, 1, 2, 3, 4})
    assert (BERLIN.start, BERLIN.end) == (time(9), time(17))
    assert BERLIN.holidays == frozenset()
    assert BERLIN.tzinfo == ZoneInfo("Europe/Berlin")


def test_business_hours_store_iterables_as_frozensets_and_are_hashable():
    hours = BusinessHours("Europe/Berlin", weekdays=[0, 1, 1], holidays=[date(2026, 4, 3)])
    assert hours.weekdays == frozenset({0, 1})
    assert hours.holidays == frozenset({date(2026, 4, 3)})
    assert hash(hours) == hash(BusinessHours("Europe/Berlin", weekdays={0, 1},
                                             holidays={date(2026, 4, 3)}))
    with pytest.raises(AttributeError):
        hours.timezone = "UTC"


@pytest.mark.parametrize("start, end", [(time(17), time(9)), (time(9), time(9))])
def test_business_hours_must_end_after_they_start(start, end):
    with pytest.raises(ValueError, match="must end after it starts"):
        BusinessHours("Europe/Berlin", start=start, end=end)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "Europe/"])
def test_business_hours_refuse_an_unknown_timezone(name):
    with pytest.raises(ValueError, match="(?i)timezone"):
        BusinessHours(name)


def test_business_hours_need_at_least_one_working_day():
    with pytest.raises(ValueError, match="at least one working day"):
        BusinessHours("Europe/Berlin", weekdays=())


@pytest.mark.parametrize("weekdays", [{7}, {-1}, {"mon"}, {True}])
def test_business_hours_refuse_weekdays_outside_monday_to_sunday(weekdays):
    with pytest.raises(ValueError, match="weekday numbers"):
        BusinessHours("Europe/Berlin", weekdays=weekdays)


def test_business_hours_refuse_holidays_that_are_not_dates():
    with pytest.raises(ValueError, match="Holidays must be dates"):
        BusinessHours("Europe/Berlin", holidays={datetime(2026, 4, 3, tzinfo=UTC)})
    with pytest.raises(ValueError, match="Holidays must be dates"):
        BusinessHours("Europe/Berlin", holidays={"2026-04-03"})


def test_business_hours_refuse_opening_times_with_their_own_timezone():
    with pytest.raises(ValueError, match="without a timezone"):
        BusinessHours("Europe/Berlin", start=time(9, tzinfo=UTC))


# --- business_seconds_between -------------------------------------------------------------


def test_a_span_within_one_working_day_counts_all_of_it():
    assert business_seconds_between(berlin("2026-02-03", 10), berlin("2026-02-03", 12, 30),
                                    BERLIN) == 2.5 * HOUR


def test_a_whole_working_day_is_exactly_eight_hours():
    assert business_seconds_between(berlin("2026-02-03", 9), berlin("2026-02-03", 17),
                                    BERLIN) == 8 * HOUR


def test_time_before_opening_does_not_count():
    assert business_seconds_between(berlin("2026-02-03", 6), berlin("2026-02-03", 10),
                                    BERLIN) == 1 * HOUR


def test_time_after_closing_does_not_count():
    assert business_seconds_between(berlin("2026-02-03", 16), berlin("2026-02-03", 23),
                                    BERLIN) == 1 * HOUR
    assert business_seconds_between(berlin("2026-02-03", 17), berlin("2026-02-04", 9),
                                    BERLIN) == 0


def test_a_start_after_closing_counts_from_the_next_opening():
    assert business_seconds_between(berlin("2026-02-03", 19), berlin("2026-02-04", 11),
                                    BERLIN) == 2 * HOUR


def test_the_weekend_does_not_count():
    # Friday 15:00 to Monday 11:00: two hours on Friday, two on Monday.
    assert business_seconds_between(berlin("2026-02-06", 15), berlin("2026-02-09", 11),
                                    BERLIN) == 4 * HOUR
    assert business_seconds_between(berlin("2026-02-07", 9), berlin("2026-02-08", 17),
                                    BERLIN) == 0


def test_a_full_week_is_five_working_days():
    assert business_seconds_between(berlin("2026-02-02"), berlin("2026-02-09"),
                                    BERLIN) == 40 * HOUR


def test_holidays_do_not_count():
    # Thursday before Easter 16:00 to Tuesday after Easter 10:00: Good Friday, the weekend and
    # Easter Monday are off.
    start, end = berlin("2026-04-02", 16), berlin("2026-04-07", 10)
    assert business_seconds_between(start, end, BERLIN_EASTER) == 2 * HOUR
    assert business_seconds_between(start, end, BERLIN) == 2 * HOUR + 16 * HOUR


def test_a_holiday_on_a_weekend_changes_nothing():
    hours = BusinessHours("Europe/Berlin", holidays={date(2026, 2, 7)})
    assert business_seconds_between(berlin("2026-02-02"), berlin("2026-02-16"),
                                    hours) == 80 * HOUR


def test_an_end_before_the_start_is_zero():
    assert business_seconds_between(berlin("2026-02-03", 12), berlin("2026-02-03", 10),
                                    BERLIN) == 0
    assert business_seconds_between(berlin("2026-02-03", 12), berlin("2026-02-03", 12),
                                    BERLIN) == 0


def test_exact_opening_and_closing_boundaries():
    assert business_seconds_between(berlin("2026-02-03", 9), berlin("2026-02-03", 9, 1),
                                    BERLIN) == MINUTE
    assert business_seconds_between(berlin("2026-02-03", 16, 59), berlin("2026-02-03", 17),
                                    BERLIN) == MINUTE
    assert business_seconds_between(berlin("2026-02-03", 8), berlin("2026-02-03", 9),
                                    BERLIN) == 0


def test_microseconds_are_kept():
    start = berlin("2026-02-03", 10)
    assert business_seconds_between(start, start + timedelta(microseconds=1500),
                                    BERLIN) == 0.0015


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds_between(datetime(2026, 2, 3, 9), berlin("2026-02-03", 10), BERLIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds_between(berlin("2026-02-03", 9), datetime(2026, 2, 3, 10), BERLIN)


def test_the_spring_dst_weekend_in_berlin():
    # Friday 16:00 CET (15:00 UTC) to Monday 10:00 CEST (08:00 UTC): 65 real hours, 2 working.
    start, end = berlin("2026-03-27", 16), berlin("2026-03-30", 10)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (utc("2026-03-27", 15),
                                                            utc("2026-03-30", 8))
    assert business_seconds_between(start, end, BERLIN) == 2 * HOUR
    assert business_seconds_between(utc("2026-03-27", 15), utc("2026-03-30", 8),
                                    BERLIN) == 2 * HOUR


def test_the_autumn_dst_weekend_in_berlin():
    assert business_seconds_between(utc("2026-10-23", 14), utc("2026-10-26", 9),
                                    BERLIN) == 2 * HOUR


def test_a_dst_change_inside_working_hours_is_real_time():
    # 01:00-04:00 every day: the spring Sunday has two real hours, the autumn Sunday four.
    assert business_seconds_between(berlin("2026-03-29"), berlin("2026-03-30"),
                                    BERLIN_NIGHTS) == 2 * HOUR
    assert business_seconds_between(berlin("2026-10-25"), berlin("2026-10-26"),
                                    BERLIN_NIGHTS) == 4 * HOUR
    assert business_seconds_between(berlin("2026-03-23"), berlin("2026-04-06"),
                                    BERLIN_NIGHTS) == (14 * 3 - 1) * HOUR


@pytest.mark.parametrize("hours, start", [
    (BERLIN_EASTER, utc("2026-02-02", 6)),  # across spring DST and Easter
    (BERLIN_EASTER, utc("2026-02-04", 13)),  # starts and ends mid-day
    (BERLIN, utc("2026-09-03", 19)),  # across autumn DST, starts after closing
    (BERLIN_NIGHTS, utc("2026-03-01", 0)),  # DST changes inside working hours
    (BERLIN_NIGHTS, utc("2026-09-20", 23)),
    (BusinessHours("Pacific/Auckland", start=time(8), end=time(18),
                   holidays={date(2026, 2, 6), date(2026, 4, 27)}), utc("2026-02-15", 21)),
    (BusinessHours("America/New_York", weekdays={6, 0, 1, 2, 3}, start=time(7),
                   end=time(15)), utc("2026-02-20", 17)),
    (UTC_OFFICE, utc("2026-02-02", 11)),
])
def test_a_ten_week_span_matches_a_brute_force_count_per_hour(hours, start):
    end = start + timedelta(weeks=10, hours=5)
    expected = brute_force_seconds(start, end, hours)
    assert expected > 0
    assert business_seconds_between(start, end, hours) == expected


@pytest.mark.parametrize("hours", [BERLIN_NIGHTS, BERLIN_EASTER,
                                   BusinessHours("Pacific/Auckland", start=time(1),
                                                 end=time(5))])
def test_spans_of_years_match_a_brute_force_count_per_hour(hours):
    # Every DST change of three years (kept per zone and year) is counted where it falls,
    # also when the span starts or ends next to one.
    # (Spans of whole years would hide a lost change: spring's and autumn's cancel out.)
    for start, end in ((utc("2025-01-01"), utc("2027-07-01")),
                       (utc("2025-06-01", 3), utc("2027-01-01")),
                       (utc("2025-03-30"), utc("2026-10-25", 5))):
        assert business_seconds_between(start, end, hours) == brute_force_seconds(
            start, end, hours)


def test_long_spans_are_whole_week_arithmetic(monkeypatch):
    # 2001-01-01 is a Monday; 1043 whole weeks later is a Monday too.
    start = utc("2001-01-01")
    assert business_seconds_between(start, start + timedelta(weeks=1043),
                                    UTC_OFFICE) == 1043 * 40 * HOUR

    calls = []
    real = BusinessHours.is_working_day
    monkeypatch.setattr(BusinessHours, "is_working_day",
                        lambda self, day: calls.append(day) or real(self, day))
    weeks = 20 * 52
    business_seconds_between(berlin("2001-01-01"), berlin("2001-01-01") + timedelta(weeks=weeks),
                             BERLIN)
    # Only the two partial days and the weeks with a DST change (two a year) look at days.
    assert len(calls) < weeks / 2


def test_the_local_date_decides_when_it_differs_from_the_utc_date():
    auckland = BusinessHours("Pacific/Auckland")
    # Sunday 20:00 UTC is Monday 09:00 in Auckland (NZDT, UTC+13).
    assert business_seconds_between(utc("2026-02-08", 20), utc("2026-02-08", 23),
                                    auckland) == 3 * HOUR
    assert business_seconds_between(utc("2026-02-08", 20), utc("2026-02-08", 23),
                                    UTC_OFFICE) == 0
    # A holiday is a local date: Monday 9 February off in Auckland, a Sunday in UTC.
    closed_monday = BusinessHours("Pacific/Auckland", holidays={date(2026, 2, 9)})
    assert business_seconds_between(utc("2026-02-08", 20), utc("2026-02-08", 23),
                                    closed_monday) == 0
    # Saturday 00:00 UTC is Friday 16:00 in Los Angeles (PST, UTC-8).
    los_angeles = BusinessHours("America/Los_Angeles")
    assert business_seconds_between(utc("2026-02-07", 0), utc("2026-02-07", 2),
                                    los_angeles) == 1 * HOUR
    assert add_business_seconds(utc("2026-02-07", 0), 2 * HOUR,
                                los_angeles) == utc("2026-02-09", 18)


# --- add_business_seconds -----------------------------------------------------------------


def test_adding_working_time_skips_the_weekend():
    due = add_business_seconds(berlin("2026-02-06", 16), 2 * HOUR, BERLIN)
    assert due == berlin("2026-02-09", 10)
    assert due.tzinfo is UTC


def test_adding_from_a_weekend_or_before_opening_starts_at_the_next_opening():
    assert add_business_seconds(berlin("2026-02-07", 12), HOUR, BERLIN) == berlin("2026-02-09", 10)
    assert add_business_seconds(berlin("2026-02-09", 7), HOUR, BERLIN) == berlin("2026-02-09", 10)
    assert add_business_seconds(berlin("2026-02-09", 18), HOUR, BERLIN) == berlin("2026-02-10", 10)


def test_time_that_runs_out_at_closing_is_due_at_closing():
    friday_closing = berlin("2026-02-06", 17)
    assert add_business_seconds(berlin("2026-02-06", 9), 8 * HOUR, BERLIN) == friday_closing
    assert add_business_seconds(berlin("2026-02-02", 9), 40 * HOUR, BERLIN) == friday_closing
    assert add_business_seconds(friday_closing, 1, BERLIN) == berlin("2026-02-09", 9) + timedelta(
        seconds=1)


def test_adding_zero_is_the_start_itself():
    assert add_business_seconds(berlin("2026-02-07", 12), 0, BERLIN) == berlin("2026-02-07", 12)


def test_adding_negative_time_is_refused():
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(berlin("2026-02-06", 9), -1, BERLIN)


def test_adding_working_time_skips_holidays():
    assert add_business_seconds(berlin("2026-04-02", 16), 2 * HOUR,
                                BERLIN_EASTER) == berlin("2026-04-07", 10)


def test_adding_across_the_dst_weekend_keeps_local_opening_hours():
    assert add_business_seconds(utc("2026-03-27", 15), 2 * HOUR, BERLIN) == utc("2026-03-30", 8)


def test_adding_many_weeks_of_working_time():
    # 400 hours are 50 working days: ten weeks, or two more days over Easter.
    start = berlin("2026-02-02", 9)
    assert add_business_seconds(start, 400 * HOUR, BERLIN) == berlin("2026-04-10", 17)
    assert add_business_seconds(start, 400 * HOUR, BERLIN_EASTER) == berlin("2026-04-14", 17)


INVERSE_STARTS = [utc("2026-03-20") + timedelta(hours=5 * i, minutes=7 * i) for i in range(60)]
INVERSE_AMOUNTS = [1, 30 * MINUTE, 3 * HOUR, 8 * HOUR, 8 * HOUR + 1, 41 * HOUR, 400 * HOUR + 123]


@pytest.mark.parametrize("hours", [BERLIN_EASTER, BERLIN_NIGHTS,
                                   BusinessHours("Pacific/Auckland")])
def test_adding_is_the_inverse_of_counting(hours):
    for start in INVERSE_STARTS:
        for amount in INVERSE_AMOUNTS:
            due = add_business_seconds(start, amount, hours)
            assert business_seconds_between(start, due, hours) == amount, (start, amount)
            # The earliest such instant: a moment earlier, the time is not yet used up.
            earlier = due - timedelta(microseconds=1)
            assert business_seconds_between(start, earlier, hours) < amount, (start, amount)


@pytest.mark.parametrize("hours", [BERLIN_EASTER, BERLIN_NIGHTS])
def test_counting_then_adding_lands_at_or_before_the_end(hours):
    for start in INVERSE_STARTS[:20]:
        for end in INVERSE_STARTS[20:]:
            due = add_business_seconds(start, business_seconds_between(start, end, hours), hours)
            assert due <= end
            assert business_seconds_between(due, end, hours) == 0


# --- The clock over a request's history ---------------------------------------------------


def test_the_clock_runs_from_submission_in_working_hours():
    events = [created(berlin("2026-02-06", 16))]
    assert elapsed_business_seconds(events, berlin("2026-02-09", 10), BERLIN, IDLE) == 2 * HOUR


def test_a_history_without_events_has_no_time():
    assert elapsed_business_seconds([], berlin("2026-02-09", 10), BERLIN, IDLE) == 0


def test_the_clock_does_not_run_while_waiting_for_the_requester():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "needs_info", berlin("2026-02-02", 10)),
        moved("needs_info", "submitted", berlin("2026-02-03", 10), REQUESTER),
    ]
    assert elapsed_business_seconds(events, berlin("2026-02-02", 15), BERLIN, IDLE) == 1 * HOUR
    assert elapsed_business_seconds(events, berlin("2026-02-03", 9), BERLIN, IDLE) == 1 * HOUR
    assert elapsed_business_seconds(events, berlin("2026-02-03", 12), BERLIN, IDLE) == 3 * HOUR


def test_the_clock_does_not_run_while_waitlisted():
    at = berlin("2026-02-02", 9)
    events = [
        created(at),
        moved("submitted", "waitlisted", at, None),  # same instant: order of the history decides
        moved("waitlisted", "accepted", berlin("2026-02-04", 9), None),
    ]
    assert elapsed_business_seconds(events, berlin("2026-02-03", 17), BERLIN, IDLE) == 0
    assert elapsed_business_seconds(events, berlin("2026-02-04", 11), BERLIN, IDLE) == 2 * HOUR


def test_the_idle_states_are_the_callers_choice():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "needs_info", berlin("2026-02-02", 10)),
    ]
    assert elapsed_business_seconds(events, berlin("2026-02-02", 12), BERLIN,
                                    STOPPED_STATES) == 3 * HOUR


def test_delivery_stops_the_resolution_clock():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "accepted", berlin("2026-02-02", 10)),
        moved("accepted", "in_progress", berlin("2026-02-02", 11)),
        moved("in_progress", "blocked", berlin("2026-02-02", 12)),
        moved("blocked", "in_progress", berlin("2026-02-02", 12, 30)),
        moved("in_progress", "delivered", berlin("2026-02-02", 13)),
    ]
    assert elapsed_business_seconds(events, berlin("2026-02-04", 12), BERLIN, IDLE) == 4 * HOUR


def test_a_reopen_after_delivery_resumes_the_resolution_clock():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "accepted", berlin("2026-02-02", 10)),
        moved("accepted", "in_progress", berlin("2026-02-02", 11)),
        moved("in_progress", "delivered", berlin("2026-02-02", 13)),
        moved("delivered", "in_progress", berlin("2026-02-03", 9), REQUESTER),
        moved("in_progress", "delivered", berlin("2026-02-03", 12)),
        moved("delivered", "resolved", berlin("2026-02-04", 9), REQUESTER),
    ]
    assert elapsed_business_seconds(events, berlin("2026-02-03", 8), BERLIN, IDLE) == 4 * HOUR
    assert elapsed_business_seconds(events, berlin("2026-02-03", 11), BERLIN, IDLE) == 6 * HOUR
    assert elapsed_business_seconds(events, berlin("2026-02-20", 11), BERLIN, IDLE) == 7 * HOUR


@pytest.mark.parametrize("closed", ["resolved", "declined", "duplicate", "cancelled"])
def test_closing_stops_the_clock(closed):
    events = [created(berlin("2026-02-02", 9)),
              moved("submitted", closed, berlin("2026-02-02", 12))]
    assert elapsed_business_seconds(events, berlin("2026-02-09", 12), BERLIN, IDLE) == 3 * HOUR


def test_events_after_now_are_not_counted_yet():
    events = [created(berlin("2026-02-02", 9)),
              moved("submitted", "needs_info", berlin("2026-02-02", 14))]
    assert elapsed_business_seconds(events, berlin("2026-02-02", 12), BERLIN, IDLE) == 3 * HOUR


def test_events_are_taken_in_time_order():
    events = [
        moved("needs_info", "submitted", berlin("2026-02-03", 10), REQUESTER),
        created(berlin("2026-02-02", 9)),
        moved("submitted", "needs_info", berlin("2026-02-02", 10)),
    ]
    assert elapsed_business_seconds(events, berlin("2026-02-03", 12), BERLIN, IDLE) == 3 * HOUR


def test_comments_and_edits_do_not_move_the_clock():
    events = [created(berlin("2026-02-02", 9)), comment(berlin("2026-02-02", 10), ANALYST),
              edit(berlin("2026-02-02", 11), REQUESTER)]
    assert elapsed_business_seconds(events, berlin("2026-02-02", 12), BERLIN, IDLE) == 3 * HOUR


def test_the_clock_refuses_a_naive_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        elapsed_business_seconds([created(berlin("2026-02-02", 9))], datetime(2026, 2, 2, 12),
                                 BERLIN, IDLE)


# --- First response -----------------------------------------------------------------------


def test_the_first_comment_or_transition_by_someone_else_is_the_first_response():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "waitlisted", berlin("2026-02-02", 9), None),
        comment(berlin("2026-02-02", 10), REQUESTER),
        edit(berlin("2026-02-02", 10, 30), LEAD),
        comment(berlin("2026-02-03", 11), LEAD),
        moved("waitlisted", "accepted", berlin("2026-02-03", 12), LEAD),
    ]
    assert first_response_at(events, REQUESTER) == berlin("2026-02-03", 11)


def test_a_triage_transition_is_a_first_response():
    events = [created(berlin("2026-02-02", 9)),
              moved("submitted", "needs_info", berlin("2026-02-02", 11), ANALYST)]
    assert first_response_at(events, REQUESTER) == berlin("2026-02-02", 11)


def test_the_system_and_the_requester_do_not_respond():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "waitlisted", berlin("2026-02-02", 9), None),
        comment(berlin("2026-02-02", 10), REQUESTER),
        moved("waitlisted", "cancelled", berlin("2026-02-02", 11), REQUESTER),
    ]
    assert first_response_at(events, REQUESTER) is None


def test_the_first_response_clock_stops_at_the_response():
    events = [created(berlin("2026-02-02", 9)),
              moved("submitted", "accepted", berlin("2026-02-02", 11, 30), ANALYST)]
    assert first_response_elapsed(events, REQUESTER, berlin("2026-02-02", 10),
                                  BERLIN, IDLE) == 1 * HOUR
    assert first_response_elapsed(events, REQUESTER, berlin("2026-02-09", 10),
                                  BERLIN, IDLE) == 2.5 * HOUR


def test_the_first_response_clock_is_paused_while_waitlisted():
    events = [
        created(berlin("2026-02-02", 9)),
        moved("submitted", "waitlisted", berlin("2026-02-02", 9), None),
        moved("waitlisted", "accepted", berlin("2026-02-03", 9), None),
        comment(berlin("2026-02-03", 11), LEAD),
    ]
    assert first_response_elapsed(events, REQUESTER, berlin("2026-02-05", 9),
                                  BERLIN, IDLE) == 2 * HOUR


def test_cancelling_before_any_response_stops_the_first_response_clock():
    events = [created(berlin("2026-02-02", 9)),
              moved("submitted", "cancelled", berlin("2026-02-02", 10), REQUESTER)]
    assert first_response_elapsed(events, REQUESTER, berlin("2026-02-05", 9),
                                  BERLIN, IDLE) == 1 * HOUR


# --- Targets ------------------------------------------------------------------------------


def test_targets_are_business_hours():
    target = SlaTarget(first_response_hours=4, resolution_hours=40)
    assert (target.first_response_seconds, target.resolution_seconds) == (4 * HOUR, 40 * HOUR)


@pytest.mark.parametrize("value", [0, -1, True, "8", None])
def test_targets_must_be_positive_hours(value):
    with pytest.raises(ValueError, match="positive number of business hours"):
        SlaTarget(first_response_hours=value, resolution_hours=40)
    with pytest.raises(ValueError, match="positive number of business hours"):
        SlaTarget(first_response_hours=4, resolution_hours=value)


def test_a_first_response_target_left_on_friday_is_due_on_monday_morning():
    target = SlaTarget(first_response_hours=4, resolution_hours=40)
    events = [created(berlin("2026-02-06", 15))]  # Friday afternoon
    now = berlin("2026-02-09", 10)  # Monday morning: 3 business hours later
    time_left = target.first_response_seconds - first_response_elapsed(events, REQUESTER, now,
                                                                        BERLIN, IDLE)
    assert time_left == 1 * HOUR
    due = add_business_seconds(now, time_left, BERLIN)
    assert due == berlin("2026-02-09", 11)
