"""Local time: the one place time zones turn instants into dates and clock readings.

Instants are stored and compared in UTC. Business rules (today for a deadline's days left, this
week for a budget, a report's days, SLA business hours) run on the wall clock of the settings'
timezone, the installation's (``settings.business_hours``). What a person *reads* is on their
own wall clock: their time zone (``User.time_zone``), or the installation's when they chose
none (``person_zone``, ``Viewer``). ``values`` are the settings from ``settings.current()``;
each function reads them when they are not given.
"""
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property

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


# --- What a person reads ------------------------------------------------------------------

def known_zones():
    """Every IANA time zone name a person may choose, sorted."""
    return settings.timezones()


def is_known_zone(name):
    """Tell whether ``name`` is a time zone a person may choose."""
    return isinstance(name, str) and name in _zone_set()


@cache
def _zone_set():
    return frozenset(known_zones())


def person_zone(user, values=None):
    """Return the time zone ``user`` reads times in: their own, else the installation's.

    Costs no SQL statement for a user loaded from the database (each carries the
    installation's zone, ``User.installation_time_zone``) or when ``values`` are given."""
    for name in (getattr(user, "time_zone", None),
                 None if values else _loaded_installation_zone(user)):
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                pass  # a zone this machine no longer knows: the installation's is safer
    return zone(values)


def _loaded_installation_zone(user):
    """The installation's zone as it was read with ``user`` (its default when never set), or
    None when ``user`` is nobody or was not read from the database."""
    if user is None or "installation_time_zone" not in getattr(user, "__dict__", {}):
        return None
    return user.installation_time_zone or settings.DEFAULTS["timezone"]


class Viewer:
    """Who reads a page or a mail, for showing instants: their zone (looked up the first time
    an instant is shown, so pages without one cost nothing) and the instant ``now`` relative
    times count from. In mail (``is_relative`` False) times are written out in full: "3 days
    ago" would be wrong by the time it is read."""

    def __init__(self, user=None, now=None, values=None, is_relative=True):
        self.user = user
        self.now = now
        self.values = values
        self.is_relative = is_relative

    @cached_property
    def zone(self):
        """The reader's time zone (``person_zone``)."""
        return person_zone(self.user, self.values)

    def local(self, instant):
        """``instant`` (aware) on the reader's wall clock."""
        return instant.astimezone(self.zone)

    def today(self):
        """The reader's date at ``now``."""
        return self.local(self.now).date()


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_text(day, weekday=True, year=True):
    """``day`` written so nobody misreads it, whatever their country: "Thu 3 Dec 2026"
    (never 12/03 or 03/12); without the weekday or the year on request."""
    text = f"{day.day} {MONTHS[day.month - 1]}"
    if year:
        text += f" {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def exact_text(instant, tz):
    """``instant`` on the wall clock of ``tz``, in full: "Thu 3 Dec 2026, 14:05 EST"."""
    local = instant.astimezone(tz)
    return f"{day_text(local.date())}, {local:%H:%M} {local.tzname() or tz.key}"


def _amount(count, unit):
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def relative_text(instant, now):
    """How long before or after ``now`` the instant ``instant`` is, as people say it:
    "just now", "5 minutes ago", "3 days ago", "in 2 hours". Past a few weeks, None: a
    date says more than "14 weeks ago"."""
    seconds = (instant - now).total_seconds()
    ahead = seconds > 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in ((7 * 86400, "week"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            if unit == "week" and count > 4:
                return None
            if unit == "week" and count < 2:
                continue  # "10 days ago" reads better than "1 week ago"
            amount = _amount(count, unit)
            return f"in {amount}" if ahead else f"{amount} ago"
    return None  # not reached: 60 seconds or more is at least a minute


def as_date(value):
    """A ``date`` from a date or an ISO date string (as events record them); None otherwise."""
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None
