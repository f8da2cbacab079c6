"""The team's local time (tickets/localtime.py): dates and weeks on the settings' wall clock."""
import copy
from datetime import UTC, date, datetime, time

from tickets import localtime, settings


def values(**changes):
    result = copy.deepcopy(settings.DEFAULTS)
    result.update(changes)
    return result


LATE_SUNDAY_UTC = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def test_today_is_the_date_in_the_settings_timezone():
    assert localtime.local_today(LATE_SUNDAY_UTC, values()) == date(2026, 11, 22)
    assert localtime.local_today(LATE_SUNDAY_UTC,
                                 values(timezone="Pacific/Auckland")) == date(2026, 11, 23)


def test_local_now_is_the_same_instant_on_the_team_clock():
    local = localtime.local_now(LATE_SUNDAY_UTC, values(timezone="Pacific/Auckland"))
    assert local == LATE_SUNDAY_UTC
    assert (local.date(), local.hour) == (date(2026, 11, 23), 9)


def test_the_week_starts_on_monday_midnight_of_the_team_clock():
    berlin = values(timezone="Europe/Berlin")
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin: a new week there.
    assert localtime.week_start(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), berlin) == \
        datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert localtime.week_start(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), berlin) == \
        datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert localtime.week_start(LATE_SUNDAY_UTC, values()).tzinfo is UTC


def test_a_wall_clock_time_is_read_in_the_team_timezone_across_dst():
    berlin = values(timezone="Europe/Berlin")
    assert localtime.at(date(2026, 3, 27), time(9), berlin) == datetime(2026, 3, 27, 8,
                                                                         tzinfo=UTC)
    assert localtime.at(date(2026, 3, 30), time(9), berlin) == datetime(2026, 3, 30, 7,
                                                                        tzinfo=UTC)
