"""The team's local time: the one place the settings' timezone turns instants into dates.

Instants are stored and compared in UTC; what a person reads as a date (today, a deadline's
days left, this week, a report's days) is on the wall clock of the settings' timezone
(``settings.business_hours``). ``values`` are the settings from ``settings.current()``; each
function reads them when they are not given.
"""
from datetime import UTC, datetime, time, timedelta

from . import settings


def zone(values=None):
    """Return the team's timezone, a ``ZoneInfo``."""
    return settings.business_hours(values).tzinfo


def local_now(now, values=None):
    """Return the aware instant ``now`` on the team's wall clock (the same instant)."""
    return now.astimezone(zone(values))


def local_today(now, values=None):
    """Return the team's date at the aware instant ``now``."""
    return local_now(now, values).date()


def at(day, clock=time(0), values=None):
    """Return the aware instant at which the team's wall clock reads ``clock`` on ``day``."""
    return datetime.combine(day, clock, tzinfo=zone(values))


def week_start(now, values=None):
    """Return Monday 00:00 of ``now``'s ISO week on the team's wall clock, as aware UTC."""
    tz = zone(values)
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, time(0), tzinfo=tz).astimezone(UTC)
